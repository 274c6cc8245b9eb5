"""Findings model (contracts.md §8) and the §12.2 checklist (all 31 items).

Each §12.2 test keeps the reference test's name and cites its rules; the
extra tests cover the remaining FS-* rules and the ERR-2 / ERR-3 messages of
the findings errors. Properties (§12.2 #29-31) use the active Hypothesis
profile.
"""

from __future__ import annotations

import dataclasses

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model.identity import (
    FenceEpoch,
    FindingId,
    FindingIdInputs,
    LogicalTime,
    ObjectVersionId,
    ObservationId,
    ObservationIdInputs,
    OccurrenceId,
    OccurrenceIdInputs,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    derive_finding_id,
    derive_observation_id,
    derive_occurrence_id,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
    WriteContext,
)
from gossip_model.persistence.errors import (
    InconsistentTenant,
    ObservationIdMismatch,
    OrphanedReference,
    PersistenceInputError,
    ZeroSpanLength,
)
from tests.builders import (
    fill,
    finding_record,
    full_batch,
    observation_record,
    occurrence_record,
    tenant,
)

U64_MAX = 2**64 - 1


def derive_key(context: str, material: bytes) -> bytes:
    return blake3.blake3(material, derive_key_context=context).digest()


def tampered(obs: ObservationRecord, new_id: ObservationId) -> ObservationRecord:
    """The stored form taken as given (FS-18): same fields, another id."""
    return ObservationRecord(
        obs.tenant_id,
        new_id,
        obs.occurrence_id,
        obs.policy_hash,
        obs.ovid_hash,
        obs.run_id,
        obs.shard_id,
        obs.fence_epoch,
        obs.seen_at,
        obs.location,
    )


# ---------------------------------------------------------------------------
# §12.2 #1-2: zero span (FS-5, FS-6)
# ---------------------------------------------------------------------------


def test_occurrence_record_rejects_zero_span_length() -> None:
    """§12.2 #1, FS-6: OccurrenceRecord.new with length 0 -> ZeroSpanLength."""
    with pytest.raises(ZeroSpanLength) as info:
        occurrence_record(byte_length=0)
    assert info.value == ZeroSpanLength()
    assert isinstance(info.value, PersistenceInputError)
    assert str(info.value) == "OccurrenceRecord.byte_length must be non-zero"


def test_occurrence_record_accepts_non_zero_span_length() -> None:
    """§12.2 #2, FS-6 / FS-5: length 5 is stored."""
    o = occurrence_record(byte_offset=0, byte_length=5)
    assert o.byte_length == 5
    assert o.byte_offset == 0


def test_fs6_stored_form_also_rejects_zero_span_length() -> None:
    """FS-6 (recommendation): the stored-form constructor raises ZeroSpanLength too."""
    f = finding_record()
    with pytest.raises(ZeroSpanLength):
        OccurrenceRecord(
            f.tenant_id, OccurrenceId(fill(1)), f.finding_id, ObjectVersionId(fill(5)), 0, 0
        )


def test_fs6_no_overflow_check_on_offset_plus_length() -> None:
    """FS-6: offset + length may exceed u64; only the fields themselves are u64."""
    o = occurrence_record(byte_offset=U64_MAX, byte_length=U64_MAX)
    assert (o.byte_offset, o.byte_length) == (U64_MAX, U64_MAX)
    assert o.verify_id()


@pytest.mark.parametrize("field", ["byte_offset", "byte_length"])
@pytest.mark.parametrize("value", [-1, 2**64])
def test_fs5_span_fields_are_u64(field: str, value: int) -> None:
    """§1.2 / FS-5: byte_offset and byte_length reject out-of-range ints, naming the field."""
    f = finding_record()
    kwargs: dict[str, object] = {
        "tenant_id": f.tenant_id,
        "finding_id": f.finding_id,
        "object_version_id": ObjectVersionId(fill(5)),
        "byte_offset": 0,
        "byte_length": 1,
    }
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        OccurrenceRecord.new(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# §12.2 #3-8: batch basics and observation identity (FS-20 .. FS-22)
# ---------------------------------------------------------------------------


def test_findings_upsert_batch_reports_empty_only_when_all_slices_are_empty() -> None:
    """§12.2 #3, FS-21 / FS-20."""
    assert FindingsUpsertBatch().is_empty()
    f, o, obs = full_batch()[1:]
    assert not FindingsUpsertBatch(occurrences=(o,)).is_empty()
    assert not FindingsUpsertBatch(findings=(f,)).is_empty()
    assert not FindingsUpsertBatch(observations=(obs,)).is_empty()


def test_total_records_sums_all_layers() -> None:
    """§12.2 #4, FS-21."""
    f, o, obs = full_batch()[1:]
    assert FindingsUpsertBatch((f,), (o,), (obs,)).total_records() == 3
    assert FindingsUpsertBatch().total_records() == 0
    assert FindingsUpsertBatch((f, f), (), (obs,)).total_records() == 3


def test_fs20_batch_is_a_read_only_value() -> None:
    """FS-20: three sequences (tuples), element-wise equality, immutable."""
    f, o, obs = full_batch()[1:]
    batch = FindingsUpsertBatch([f], [o], [obs])
    assert tuple(batch.findings) == (f,)
    assert tuple(batch.occurrences) == (o,)
    assert tuple(batch.observations) == (obs,)
    assert batch == FindingsUpsertBatch((f,), (o,), (obs,))
    assert batch != FindingsUpsertBatch((f,), (o,), ())
    assert FindingsUpsertBatch() == FindingsUpsertBatch((), (), ())
    with pytest.raises((AttributeError, TypeError)):
        batch.findings = ()  # type: ignore[misc]


def test_fs20_batch_does_not_alias_caller_lists() -> None:
    """FS-20: read-only; mutating the caller's list afterwards does not change the batch."""
    f, o, obs = full_batch()[1:]
    findings = [f]
    batch = FindingsUpsertBatch(findings, [o], [obs])
    findings.append(finding_record(secret=99))
    assert batch.total_records() == 3


def test_findings_upsert_batch_validate_observation_identity_accepts_canonical() -> None:
    """§12.2 #5, FS-22."""
    f, o, obs = full_batch()[1:]
    assert FindingsUpsertBatch((f,), (o,), (obs,)).validate_observation_identity() is None


def test_findings_upsert_batch_validate_observation_identity_accepts_empty() -> None:
    """§12.2 #6, FS-22."""
    assert FindingsUpsertBatch().validate_observation_identity() is None


def test_findings_upsert_batch_validate_observation_identity_rejects_mismatch() -> None:
    """§12.2 #7, FS-22: expected = derived id, actual = tampered id."""
    _, _o, obs = full_batch()[1:]
    bad_id = ObservationId(fill(0xEE))
    bad = tampered(obs, bad_id)
    with pytest.raises(ObservationIdMismatch) as info:
        FindingsUpsertBatch(observations=(bad,)).validate_observation_identity()
    assert info.value == ObservationIdMismatch(expected=obs.observation_id, actual=bad_id)


def test_findings_upsert_batch_validate_observation_identity_rejects_one_bad_among_valid() -> None:
    """§12.2 #8, FS-22: the first bad one in order is reported."""
    _, o, good = full_batch()[1:]
    other = observation_record(occurrence=o, policy_seed=0x16)
    bad1 = tampered(other, ObservationId(fill(0xE1)))
    bad2 = tampered(good, ObservationId(fill(0xE2)))
    batch = FindingsUpsertBatch(observations=(good, bad1, bad2))
    with pytest.raises(ObservationIdMismatch) as info:
        batch.validate_observation_identity()
    assert info.value == ObservationIdMismatch(
        expected=other.observation_id, actual=ObservationId(fill(0xE1))
    )


def test_fs22_observation_identity_ignores_tenants_and_references() -> None:
    """FS-22: no tenant or reference check here (orphans with mixed tenants pass)."""
    _, _o, obs = full_batch()[1:]
    stranger = observation_record(tenant(9))
    batch = FindingsUpsertBatch(observations=(obs, stranger))
    assert batch.validate_observation_identity() is None


# ---------------------------------------------------------------------------
# §12.2 #9-16: ObservationRecord (FS-10 .. FS-17, WC-3, ID-18)
# ---------------------------------------------------------------------------


def test_observation_record_preserves_optional_location() -> None:
    """§12.2 #9, FS-15 / FS-17."""
    _, _, obs = full_batch()[1:]
    assert obs.location is None
    loc = Location("src/main.rs:10", "https://example.test/x")
    with_loc = obs.with_location(loc)
    assert with_loc.location == loc
    assert with_loc.location is not None
    assert with_loc.location.display == "src/main.rs:10"
    assert obs.location is None
    replaced = with_loc.with_location(Location("other"))
    assert replaced.location == Location("other")
    assert replaced.observation_id == obs.observation_id


def test_observation_record_from_write_context_preserves_scope() -> None:
    """§12.2 #10, FS-13 / WC-3."""
    wc = WriteContext(tenant(1), PolicyHash(fill(2)), RunId(3), ShardId(4), FenceEpoch(5))
    occ = OccurrenceId(fill(6))
    obs = ObservationRecord.from_write_context(wc, occ, OvidHash(fill(7)), LogicalTime(8))
    assert obs.write_context() == wc
    assert obs.tenant_id == tenant(1)
    assert obs.policy_hash == PolicyHash(fill(2))
    assert obs.run_id == RunId(3)
    assert obs.shard_id == ShardId(4)
    assert obs.fence_epoch == FenceEpoch(5)
    assert obs.seen_at == LogicalTime(8)
    assert obs.location is None
    assert obs == ObservationRecord.new(
        tenant(1),
        occ,
        PolicyHash(fill(2)),
        OvidHash(fill(7)),
        RunId(3),
        ShardId(4),
        FenceEpoch(5),
        LogicalTime(8),
    )


def test_fs13_from_write_context_with_location() -> None:
    """FS-13 / FS-12: the location keyword equals new(...).with_location(loc)."""
    wc = WriteContext(tenant(1), PolicyHash(fill(2)), RunId(3), ShardId(4), FenceEpoch(5))
    loc = Location("a.txt")
    obs = ObservationRecord.from_write_context(
        wc, OccurrenceId(fill(6)), OvidHash(fill(7)), LogicalTime(8), location=loc
    )
    plain = ObservationRecord.from_write_context(
        wc, OccurrenceId(fill(6)), OvidHash(fill(7)), LogicalTime(8)
    )
    assert obs == plain.with_location(loc)
    assert obs.location == loc


def test_observation_validation_methods_agree_with_stored_identity() -> None:
    """§12.2 #11, FS-16: derived id equals stored id; validate_identity passes."""
    _, _, obs = full_batch()[1:]
    assert obs.derived_observation_id() == obs.observation_id
    assert obs.validate_identity() is None
    assert obs.verify_id()


def test_observation_record_validate_identity_rejects_tampered_id() -> None:
    """§12.2 #12, FS-16 / FS-18: exact mismatch error."""
    _, _, obs = full_batch()[1:]
    bad = tampered(obs, ObservationId(fill(0xAA)))
    assert bad.derived_observation_id() == obs.observation_id
    with pytest.raises(ObservationIdMismatch) as info:
        bad.validate_identity()
    assert info.value == ObservationIdMismatch(
        expected=obs.observation_id, actual=ObservationId(fill(0xAA))
    )


def persisted_args(obs: ObservationRecord) -> tuple[object, ...]:
    return (
        obs.tenant_id,
        obs.observation_id,
        obs.occurrence_id,
        obs.policy_hash,
        obs.ovid_hash,
        obs.run_id,
        obs.shard_id,
        obs.fence_epoch,
        obs.seen_at,
    )


def test_observation_record_from_persisted_accepts_matching_id() -> None:
    """§12.2 #13, FS-14."""
    _, _, obs = full_batch()[1:]
    rebuilt = ObservationRecord.from_persisted(*persisted_args(obs))  # type: ignore[arg-type]
    assert rebuilt == obs


def test_observation_record_from_persisted_rejects_mismatched_id() -> None:
    """§12.2 #14, FS-14: expected = derived, actual = given."""
    _, _, obs = full_batch()[1:]
    args = list(persisted_args(obs))
    args[1] = ObservationId(fill(0xBB))
    with pytest.raises(ObservationIdMismatch) as info:
        ObservationRecord.from_persisted(*args)  # type: ignore[arg-type]
    assert info.value.expected == obs.observation_id
    assert info.value.actual == ObservationId(fill(0xBB))


def test_from_persisted_preserves_location_metadata() -> None:
    """§12.2 #15, FS-14."""
    _, _, obs = full_batch()[1:]
    original = obs.with_location(Location("path/to/file.py:42", "https://example.test/f"))
    rebuilt = ObservationRecord.from_persisted(
        *persisted_args(original),  # type: ignore[arg-type]
        location=original.location,
    )
    assert rebuilt == original
    assert rebuilt.location == original.location


def test_derive_observation_id_is_field_order_sensitive() -> None:
    """§12.2 #16, ID-18: swapping tenant and policy bytes changes the id."""
    occ = OccurrenceId(fill(3))
    a = derive_observation_id(
        ObservationIdInputs(tenant=TenantId(fill(1)), policy=PolicyHash(fill(2)), occurrence=occ)
    )
    b = derive_observation_id(
        ObservationIdInputs(tenant=TenantId(fill(2)), policy=PolicyHash(fill(1)), occurrence=occ)
    )
    assert a != b


def test_fs10_observation_equality_over_all_ten_fields() -> None:
    """FS-10: equality over all ten fields, location by value."""
    _, _, obs = full_batch()[1:]
    args = list(persisted_args(obs))
    replacements: list[object] = [
        tenant(0x31),
        ObservationId(fill(0x32)),
        OccurrenceId(fill(0x33)),
        PolicyHash(fill(0x34)),
        OvidHash(fill(0x35)),
        RunId(0x36),
        ShardId(0x37),
        FenceEpoch(0x38),
        LogicalTime(0x39),
    ]
    assert ObservationRecord(*args) == obs  # type: ignore[arg-type]
    assert hash(ObservationRecord(*args)) == hash(obs)  # type: ignore[arg-type]
    for index, value in enumerate(replacements):
        changed = list(args)
        changed[index] = value
        assert ObservationRecord(*changed) != obs, index  # type: ignore[arg-type]
    assert obs.with_location(Location("a")) == obs.with_location(Location("a"))
    assert obs.with_location(Location("a")) != obs.with_location(Location("b"))
    assert obs.with_location(Location("a")) != obs


def test_fs11_fs12_observation_id_ignores_provenance_fields() -> None:
    """FS-11 / FS-12: run, shard, fence, seen_at, location are provenance, not identity."""
    _, o, obs = full_batch()[1:]
    later = ObservationRecord.new(
        obs.tenant_id,
        o.occurrence_id,
        obs.policy_hash,
        obs.ovid_hash,
        RunId(99),
        ShardId(98),
        FenceEpoch(97),
        LogicalTime(96),
        location=Location("x"),
    )
    assert later.observation_id == obs.observation_id
    other_ovid = ObservationRecord.new(
        obs.tenant_id,
        o.occurrence_id,
        obs.policy_hash,
        OvidHash(fill(0x70)),
        RunId(8),
        ShardId(9),
        FenceEpoch(10),
        LogicalTime(1000),
    )
    assert other_ovid.observation_id == obs.observation_id
    assert other_ovid != obs


def test_fs12_new_argument_order_and_derivation() -> None:
    """FS-12 / ID-18: new(tenant, occurrence, policy, ...) derives from tenant||policy||occ."""
    obs = ObservationRecord.new(
        TenantId(fill(1)),
        OccurrenceId(fill(3)),
        PolicyHash(fill(4)),
        OvidHash(fill(9)),
        RunId(1),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(4),
    )
    expected = derive_key("gossip/observation/v1", fill(1) + fill(4) + fill(3))
    assert bytes(obs.observation_id) == expected
    assert bytes(obs.observation_id).hex() == (
        "5f0e5b0b724895be74ee1c1909f997bf189e915681f701bfb7edc377d3ae81c7"
    )


# ---------------------------------------------------------------------------
# §12.2 #17-22: verify_id (FS-3, FS-8, FS-16)
# ---------------------------------------------------------------------------


def test_finding_record_verify_id_with_correct_derivation() -> None:
    """§12.2 #17, FS-3 / FS-2."""
    assert finding_record().verify_id()


def test_finding_record_verify_id_with_wrong_id() -> None:
    """§12.2 #18, FS-3 / FS-1: the stored form is taken as given."""
    f = finding_record()
    bad = FindingRecord(
        f.tenant_id, FindingId(fill(0xEE)), f.stable_item_id, f.rule_fingerprint, f.secret_hash
    )
    assert bad.finding_id == FindingId(fill(0xEE))
    assert not bad.verify_id()


def test_occurrence_record_verify_id_with_correct_derivation() -> None:
    """§12.2 #19, FS-8 / FS-7."""
    assert occurrence_record().verify_id()


def test_occurrence_record_verify_id_with_wrong_id() -> None:
    """§12.2 #20, FS-8 / FS-5."""
    o = occurrence_record()
    bad = OccurrenceRecord(
        o.tenant_id,
        OccurrenceId(fill(0xEE)),
        o.finding_id,
        o.object_version_id,
        o.byte_offset,
        o.byte_length,
    )
    assert bad.occurrence_id == OccurrenceId(fill(0xEE))
    assert not bad.verify_id()


def test_observation_record_verify_id_with_correct_derivation() -> None:
    """§12.2 #21, FS-16."""
    _, _, obs = full_batch()[1:]
    assert obs.verify_id()


def test_observation_record_verify_id_with_wrong_id() -> None:
    """§12.2 #22, FS-16 / FS-18."""
    _, _, obs = full_batch()[1:]
    assert not tampered(obs, ObservationId(fill(0xEE))).verify_id()


def test_fs1_fs4_finding_equality_and_identity_fields() -> None:
    """FS-1 / FS-4: equality over all five fields; independent of version and policy."""
    f = finding_record()
    assert f == finding_record()
    assert hash(f) == hash(finding_record())
    assert finding_record(tenant(9)) != f
    assert finding_record(item=9) != f
    assert finding_record(rule=9) != f
    assert finding_record(secret=9) != f
    assert finding_record(tenant(9)).finding_id != f.finding_id
    same_finding_other_versions = {
        occurrence_record(finding=f, version_seed=v).finding_id for v in (5, 6, 7)
    }
    assert same_finding_other_versions == {f.finding_id}


def test_fs5_fs9_occurrence_equality_and_many_per_finding() -> None:
    """FS-5 / FS-9: equality over six fields; one finding, many occurrences."""
    f = finding_record()
    o = occurrence_record(finding=f, version_seed=5, byte_offset=100, byte_length=50)
    assert o == occurrence_record(finding=f, version_seed=5, byte_offset=100, byte_length=50)
    assert hash(o) == hash(
        occurrence_record(finding=f, version_seed=5, byte_offset=100, byte_length=50)
    )
    ids = {
        o.occurrence_id,
        occurrence_record(
            finding=f, version_seed=5, byte_offset=101, byte_length=50
        ).occurrence_id,
        occurrence_record(
            finding=f, version_seed=5, byte_offset=100, byte_length=51
        ).occurrence_id,
        occurrence_record(
            finding=f, version_seed=0x15, byte_offset=100, byte_length=50
        ).occurrence_id,
    }
    assert len(ids) == 4


def test_fs7_occurrence_id_does_not_depend_on_tenant() -> None:
    """FS-7: tenant_id does not enter the occurrence derivation."""
    f = finding_record()
    a = occurrence_record(finding=f)
    b = occurrence_record(tenant(0x44), f)
    assert a.occurrence_id == b.occurrence_id
    assert a != b


def test_fs4_records_hold_no_raw_secret() -> None:
    """FS-4 / RED-4: a FindingRecord renders the secret redacted."""
    f = finding_record(secret=0x5A)
    assert "SecretHash([redacted])" in repr(f)
    assert fill(0x5A).hex() not in repr(f).lower()


# ---------------------------------------------------------------------------
# §12.2 #23-28: referential integrity and tenants (FS-23, FS-24, ERR-2)
# ---------------------------------------------------------------------------


def test_validate_accepts_referentially_consistent_batch() -> None:
    """§12.2 #23, FS-24."""
    f, o, obs = full_batch()[1:]
    batch = FindingsUpsertBatch((f,), (o,), (obs,))
    assert batch.validate_referential_integrity() is None
    assert batch.validate_tenant_consistency() is None


def test_validate_rejects_orphaned_occurrence() -> None:
    """§12.2 #24, FS-24 / ERR-2."""
    f, o, _ = full_batch()[1:]
    other = finding_record(secret=0x77)
    with pytest.raises(OrphanedReference) as info:
        FindingsUpsertBatch((other,), (o,), ()).validate_referential_integrity()
    assert info.value == OrphanedReference(
        child_type="OccurrenceRecord", parent_type="FindingRecord"
    )
    assert (
        str(info.value) == "OccurrenceRecord references a FindingRecord not present in the batch"
    )
    with pytest.raises(OrphanedReference):
        FindingsUpsertBatch((), (o,), ()).validate_referential_integrity()
    assert FindingsUpsertBatch((f, other), (o,), ()).validate_referential_integrity() is None


def test_validate_rejects_orphaned_observation() -> None:
    """§12.2 #25, FS-24 / ERR-2."""
    f, _o, obs = full_batch()[1:]
    other_occ = occurrence_record(finding=f, byte_offset=999)
    with pytest.raises(OrphanedReference) as info:
        FindingsUpsertBatch((f,), (other_occ,), (obs,)).validate_referential_integrity()
    assert info.value == OrphanedReference(
        child_type="ObservationRecord", parent_type="OccurrenceRecord"
    )
    assert info.value.child_type == "ObservationRecord"
    assert info.value.parent_type == "OccurrenceRecord"
    assert str(info.value) == (
        "ObservationRecord references a OccurrenceRecord not present in the batch"
    )


def test_fs24_occurrence_orphans_are_reported_before_observation_orphans() -> None:
    """FS-24: occurrences are checked before observations."""
    f, o, obs = full_batch()[1:]
    stray_obs = observation_record(occurrence=occurrence_record(finding=f, byte_offset=5))
    stray_occ = occurrence_record(finding=finding_record(secret=0x66))
    batch = FindingsUpsertBatch((f,), (o, stray_occ), (obs, stray_obs))
    with pytest.raises(OrphanedReference) as info:
        batch.validate_referential_integrity()
    assert info.value == OrphanedReference("OccurrenceRecord", "FindingRecord")


def test_validate_accepts_empty_batch() -> None:
    """§12.2 #26, FS-24 / FS-23 / FS-20."""
    batch = FindingsUpsertBatch()
    assert batch.validate_referential_integrity() is None
    assert batch.validate_tenant_consistency() is None


def test_validate_rejects_mixed_tenants_in_findings() -> None:
    """§12.2 #27, FS-23."""
    batch = FindingsUpsertBatch((finding_record(tenant(1)), finding_record(tenant(2))), (), ())
    with pytest.raises(InconsistentTenant) as info:
        batch.validate_tenant_consistency()
    assert info.value == InconsistentTenant()
    with pytest.raises(InconsistentTenant):
        batch.validate_referential_integrity()
    assert str(info.value) == "records in the batch belong to different tenants"


def test_validate_rejects_mixed_tenants_across_layers() -> None:
    """§12.2 #28, FS-24 / FS-23: the tenant check precedes the reference checks."""
    f = finding_record(tenant(1))
    o = occurrence_record(tenant(2), finding_record(tenant(2), secret=0x55))  # orphaned
    batch = FindingsUpsertBatch((f,), (o,), ())
    with pytest.raises(InconsistentTenant):
        batch.validate_referential_integrity()
    with pytest.raises(InconsistentTenant):
        batch.validate_tenant_consistency()


@pytest.mark.parametrize("layer", ["occurrences", "observations"])
def test_fs23_expected_tenant_falls_back_to_first_non_empty_layer(layer: str) -> None:
    """FS-23: expected tenant from first finding, else occurrence, else observation."""
    _, o, obs = full_batch()[1:]
    o2 = occurrence_record(tenant(3))
    obs2 = observation_record(tenant(3), o2)
    if layer == "occurrences":
        ok = FindingsUpsertBatch((), (o, occurrence_record(byte_offset=1)), (obs,))
        bad = FindingsUpsertBatch((), (o, o2), ())
    else:
        ok = FindingsUpsertBatch((), (), (obs, observation_record(occurrence=o, policy_seed=0x26)))
        bad = FindingsUpsertBatch((), (), (obs, obs2))
    assert ok.validate_tenant_consistency() is None
    with pytest.raises(InconsistentTenant):
        bad.validate_tenant_consistency()


def test_fs23_observation_tenant_checked_against_finding_tenant() -> None:
    """FS-23: every layer is compared with the first finding's tenant."""
    f, o, obs = full_batch()[1:]
    foreign = observation_record(tenant(0x42), o)
    with pytest.raises(InconsistentTenant):
        FindingsUpsertBatch((f,), (o,), (obs, foreign)).validate_tenant_consistency()


# ---------------------------------------------------------------------------
# §12.2 #29-31: derivation properties (FS-2, FS-7, FS-12, FS-16)
# ---------------------------------------------------------------------------

bytes32 = st.binary(min_size=32, max_size=32)
u64s = st.integers(min_value=0, max_value=U64_MAX)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(t=bytes32, item=bytes32, rule=bytes32, sec=bytes32)
def test_finding_record_id_matches_manual_derivation(
    t: bytes, item: bytes, rule: bytes, sec: bytes
) -> None:
    """§12.2 #29, FS-2: new() id == derive_finding_id == the ID-16 formula."""
    f = FindingRecord.new(
        TenantId(t), StableItemId(item), RuleFingerprint(rule), SecretHash._from_raw(sec)
    )
    manual = derive_finding_id(
        FindingIdInputs(
            tenant=TenantId(t),
            item=StableItemId(item),
            rule=RuleFingerprint(rule),
            secret=SecretHash._from_raw(sec),
        )
    )
    assert f.finding_id == manual
    assert bytes(manual) == derive_key("gossip/finding/v1", t + item + rule + sec)
    assert f.verify_id()


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    t=bytes32,
    fid=bytes32,
    version=bytes32,
    offset=u64s,
    length=st.integers(min_value=1, max_value=U64_MAX),
)
def test_occurrence_record_id_matches_manual_derivation(
    t: bytes, fid: bytes, version: bytes, offset: int, length: int
) -> None:
    """§12.2 #30, FS-7: new() id == derive_occurrence_id (length >= 1)."""
    o = OccurrenceRecord.new(TenantId(t), FindingId(fid), ObjectVersionId(version), offset, length)
    manual = derive_occurrence_id(
        OccurrenceIdInputs(
            finding=FindingId(fid),
            version=ObjectVersionId(version),
            byte_offset=offset,
            byte_length=length,
        )
    )
    assert o.occurrence_id == manual
    assert o.verify_id()


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    t=bytes32,
    occ=bytes32,
    pol=bytes32,
    ov=bytes32,
    run=u64s,
    shard=u64s,
    fence=u64s,
    seen=u64s,
)
def test_observation_record_id_matches_manual_derivation(
    t: bytes, occ: bytes, pol: bytes, ov: bytes, run: int, shard: int, fence: int, seen: int
) -> None:
    """§12.2 #31, FS-12 / FS-16: new() id == derive_observation_id; validate_identity ok."""
    obs = ObservationRecord.new(
        TenantId(t),
        OccurrenceId(occ),
        PolicyHash(pol),
        OvidHash(ov),
        RunId(run),
        ShardId(shard),
        FenceEpoch(fence),
        LogicalTime(seen),
    )
    manual = derive_observation_id(
        ObservationIdInputs(
            tenant=TenantId(t), policy=PolicyHash(pol), occurrence=OccurrenceId(occ)
        )
    )
    assert obs.observation_id == manual
    assert obs.validate_identity() is None
    assert obs.verify_id()


# ---------------------------------------------------------------------------
# FS-31 / CM-1: findings receipt; immutability of records
# ---------------------------------------------------------------------------


def test_fs31_findings_receipt_value_type() -> None:
    """FS-31 / CM-1: three u64 counts, value equality, immutable."""
    r = FindingsCommitReceipt(finding_count=1, occurrence_count=2, observation_count=3)
    assert (r.finding_count, r.occurrence_count, r.observation_count) == (1, 2, 3)
    assert r == FindingsCommitReceipt(1, 2, 3)
    assert hash(r) == hash(FindingsCommitReceipt(1, 2, 3))
    assert r != FindingsCommitReceipt(1, 2, 4)
    with pytest.raises((AttributeError, TypeError)):
        r.finding_count = 9  # type: ignore[misc]
    with pytest.raises(ValueError, match="observation_count"):
        FindingsCommitReceipt(0, 0, 2**64)


@pytest.mark.parametrize("make", [finding_record, occurrence_record, observation_record])
def test_fs_records_are_immutable(make: object) -> None:
    """FS-1 / FS-5 / FS-10 and API conventions: records are frozen."""
    rec = make()  # type: ignore[operator]
    with pytest.raises((AttributeError, TypeError)):
        rec.tenant_id = tenant(0x99)
    if dataclasses.is_dataclass(rec):
        with pytest.raises(dataclasses.FrozenInstanceError):
            rec.tenant_id = tenant(0x99)
    assert rec.tenant_id == tenant(1)
