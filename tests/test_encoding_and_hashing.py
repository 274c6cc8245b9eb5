"""Canonical encoding helpers, the streaming hasher and small contract corners.

Rules: CB-1, CB-3, CB-9, §1.4 (streaming derive-key), ID-3, ID-4, ID-9, DL-4,
DL-21, DL-43 (fold), FS-20, CM-2/CM-3, CONF-1. Expected values are computed
here from the rule text with ``struct`` and ``blake3``, never copied from the
implementation.
"""

from __future__ import annotations

import operator
import struct

import blake3
import pytest

from gossip_model.identity import (
    DomainHasher,
    LogicalTime,
    RunId,
    TenantId,
    TenantSecretKey,
    check_bytes,
    encode_u8,
    encode_u32,
    encode_u64,
    encode_var_bytes,
)
from gossip_model.persistence import (
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingsUpsertBatch,
    ReadyCommitHandle,
    fold_records,
)
from gossip_model.persistence.conformance import DurableFindingsCounts, sample_fixture
from tests.builders import fill, key


@pytest.mark.parametrize(
    ("encode", "value", "expected"),
    [
        (encode_u8, 0xAB, b"\xab"),
        (encode_u32, 0x01020304, struct.pack("<I", 0x01020304)),
        (encode_u64, 2**64 - 1, b"\xff" * 8),
        (encode_u64, 1, b"\x01" + b"\x00" * 7),
    ],
)
def test_cb1_fixed_width_integers_are_little_endian(encode, value, expected) -> None:  # type: ignore[no-untyped-def]
    assert encode(value) == expected


@pytest.mark.parametrize(
    ("encode", "value"), [(encode_u8, 256), (encode_u32, 2**32), (encode_u64, -1)]
)
def test_cb1_out_of_range_integers_are_rejected(encode, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="encode_u"):
        encode(value)


def test_cb3_variable_bytes_carry_a_u32_length_prefix() -> None:
    assert encode_var_bytes(b"AB") == bytes.fromhex("020000004142")
    assert encode_var_bytes(b"") == b"\x00\x00\x00\x00"


def test_cb3_length_above_u32_is_a_hard_failure() -> None:
    class Huge(bytes):
        def __len__(self) -> int:
            return 2**32

    with pytest.raises(ValueError, match="too long for a u32 prefix"):
        encode_var_bytes(Huge(b"x"))


def test_domain_hasher_streaming_matches_one_shot_derive_key() -> None:
    """§1.4: several ``update`` calls equal the one-shot derive-key digest (ID-8)."""
    context = "gossip/test-stream/v1"
    streamed = DomainHasher(context).update(b"abc").update(b"").update(b"def").finalize_32()
    assert streamed == blake3.blake3(b"abcdef", derive_key_context=context).digest()


def test_id9_finalize_64_golden_vector() -> None:
    """ID-9 / §2.9: the first 8 output bytes as a little-endian u64."""
    hasher = DomainHasher("gossip/golden-64/v1").update(b"deterministic golden vector")
    assert hasher.finalize_64() == 0x86659F9498143183


def test_cb9_tenant_secret_key_has_no_byte_conversion_and_is_immutable() -> None:
    """CB-9/ID-3: no ``bytes(key)``, no hashing, no mutation; equality only with keys."""
    key = TenantSecretKey(fill(0x42))
    with pytest.raises(TypeError):
        bytes(key)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        hash(key)
    with pytest.raises(AttributeError, match="immutable"):
        key._raw = fill(0x00)
    assert (key == fill(0x42)) is False
    assert key != TenantSecretKey(fill(0x43))


def test_check_bytes_names_the_owner_and_never_the_content() -> None:
    with pytest.raises(TypeError, match=r"^TenantId: raw must be bytes, got str; pass exactly 32"):
        check_bytes("TenantId", "raw", "not bytes", 32)
    with pytest.raises(ValueError, match="exactly 32 bytes, got 3"):
        TenantId(b"abc")


def test_id4_64_bit_ids_act_as_indexes() -> None:
    assert operator.index(RunId(7)) == 7
    assert [10, 11, 12][RunId(2)] == 12


def test_dl4_canonical_digest_is_plain_blake3_of_the_96_bytes() -> None:
    # The expected side spells the bytes out: it must not share the builder it checks.
    expected = blake3.blake3(b"\x01" * 32 + b"\x02" * 32 + b"\x03" * 32).digest()
    assert key(1, 2, 3).canonical_digest() == expected


def test_dl21_provenance_reports_its_ordering() -> None:
    def prov(started: int, finished: int) -> DoneLedgerProvenance:
        fx = sample_fixture(1).scanned_record.provenance
        return DoneLedgerProvenance(
            fx.run_id, fx.shard_id, fx.fence_epoch, LogicalTime(started), LogicalTime(finished)
        )

    assert prov(5, 5).is_ordered()
    assert not prov(6, 5).is_ordered()


def test_dl43_fold_records_merges_duplicates_in_input_order() -> None:
    fx = sample_fixture(3)
    other = sample_fixture(4).scanned_record
    folded = fold_records([fx.failed_record, other, fx.scanned_record])
    assert list(folded) == [fx.key, other.key]
    assert folded[fx.key] == fx.failed_record.merge(fx.scanned_record)
    assert folded[fx.key].status is DoneLedgerStatus.SCANNED_WITH_FINDINGS
    assert folded[fx.key].bytes_scanned == 4096


def test_dl34_merge_rejects_a_non_record() -> None:
    with pytest.raises(
        TypeError, match=r"^DoneLedgerRecord\.merge: incoming must be DoneLedgerRecord"
    ):
        sample_fixture(5).scanned_record.merge("record")  # type: ignore[arg-type]


def test_fs20_batch_layers_must_be_sequences_of_the_right_record() -> None:
    fx = sample_fixture(6)
    with pytest.raises(TypeError, match=r"^FindingsUpsertBatch: findings must be a sequence"):
        FindingsUpsertBatch(findings="abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"occurrences\[1\] must be OccurrenceRecord"):
        FindingsUpsertBatch(occurrences=[fx.occurrence, fx.finding])  # type: ignore[list-item]
    assert FindingsUpsertBatch(findings=[fx.finding]).findings == (fx.finding,)


def test_cm3_ready_handle_err_requires_an_exception_and_renders_its_state() -> None:
    with pytest.raises(TypeError, match=r"^ReadyCommitHandle\.err: error must be an exception"):
        ReadyCommitHandle.err("boom")  # type: ignore[arg-type]
    handle = ReadyCommitHandle.err(ValueError("boom"))
    assert repr(handle) == "ReadyCommitHandle(err)"
    with pytest.raises(ValueError, match="boom"):
        handle.wait()
    assert repr(handle) == "ReadyCommitHandle(consumed)"
    assert repr(ReadyCommitHandle.ok(1)) == "ReadyCommitHandle(ok)"


def test_conf1_saturating_sub_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="base must be DurableFindingsCounts"):
        DurableFindingsCounts(1, 1, 1).saturating_sub((0, 0, 0))  # type: ignore[arg-type]


def test_dl30_record_equality_ignores_cached_merge_keys() -> None:
    """DL-30: equality over the six fields only; cached derived values never matter."""
    fx = sample_fixture(8)
    rebuilt = DoneLedgerRecord(
        *[
            getattr(fx.scanned_record, f)
            for f in (
                "key",
                "status",
                "bytes_scanned",
                "findings_count",
                "provenance",
                "error_code",
            )
        ]
    )
    merged = fx.scanned_record.merge(fx.scanned_record)
    assert rebuilt == fx.scanned_record == merged
    assert hash(rebuilt) == hash(merged)
