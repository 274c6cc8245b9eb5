"""Findings records and batches the machine builds (FSM-3, FSM-6), as pure functions.

Shared by the contract rules of :mod:`rules.findings` and the depth scenarios
of :mod:`rules.depth`. :class:`Lineage` remembers each built child's parent
record (FSM-1 ``parents``), so a batch can carry a record's ancestry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gossip_model.identity import (
    FenceEpoch,
    FindingId,
    LogicalTime,
    ObjectVersionId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)

from ._findings_model import ObservationKey, OccurrenceKey, observation_key, occurrence_key
from .strategies import FS_ITEMS, FS_OVIDS, other_tenant

UNKNOWN_FINDING = FindingId(b"\xee" * 32)
"""FSM-6 ``batch_orphan_occurrence``: a finding id no rule ever builds."""
UNKNOWN_OCCURRENCE = OccurrenceId(b"\xef" * 32)
"""FSM-6 ``batch_orphan_observation``: an occurrence id no rule ever builds."""
BAD_OBSERVATION_ID = ObservationId(b"\xed" * 32)
"""FSM-6 ``batch_bad_observation_id``: never the derived id of any observation."""


@dataclass(slots=True)
class Lineage:
    """Parent records of the occurrences and observations built so far (FSM-1)."""

    finding_of: dict[OccurrenceKey, FindingRecord] = field(default_factory=dict)
    occurrence_of: dict[ObservationKey, OccurrenceRecord] = field(default_factory=dict)

    def add(
        self, f: FindingRecord, o: OccurrenceRecord, b: ObservationRecord | None = None
    ) -> None:
        self.finding_of[occurrence_key(o)] = f
        if b is not None:
            self.occurrence_of[observation_key(b)] = o

    def add_observation(self, b: ObservationRecord, o: OccurrenceRecord) -> None:
        self.occurrence_of[observation_key(b)] = o

    def parents(self, b: ObservationRecord) -> tuple[FindingRecord, OccurrenceRecord]:
        """The finding and occurrence above observation ``b``."""
        o = self.occurrence_of[observation_key(b)]
        return self.finding_of[occurrence_key(o)], o


def chain_records(
    *,
    tenant: TenantId,
    item: StableItemId,
    rule_fp: RuleFingerprint,
    secret: SecretHash,
    version: ObjectVersionId,
    offset: int,
    length: int,
    policy: PolicyHash,
    ovid: OvidHash,
    seen_at: int,
    location: Location | None,
    run: int = 1,
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A finding, its occurrence and its observation (run = shard = fence = ``run``)."""
    f = FindingRecord.new(tenant, item, rule_fp, secret)
    o = OccurrenceRecord.new(tenant, f.finding_id, version, offset, length)
    b = observation(o, policy=policy, ovid=ovid, run=run, seen_at=seen_at, location=location)
    return f, o, b


def observation(
    parent: OccurrenceRecord,
    *,
    policy: PolicyHash,
    ovid: OvidHash,
    run: int,
    seen_at: int,
    location: Location | None,
    shard: int | None = None,
    fence: int | None = None,
) -> ObservationRecord:
    """``ObservationRecord.new`` under ``parent``; shard and fence default to ``run``."""
    return ObservationRecord.new(
        parent.tenant_id,
        parent.occurrence_id,
        policy,
        ovid,
        RunId(run),
        ShardId(run if shard is None else shard),
        FenceEpoch(run if fence is None else fence),
        LogicalTime(seen_at),
        location,
    )


def full_chain(f: FindingRecord, o: OccurrenceRecord, b: ObservationRecord) -> FindingsUpsertBatch:
    return FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(b,))


def resend(
    base: ObservationRecord, delta: int, run: int, location: Location | None
) -> ObservationRecord:
    """Same identity as ``base`` (same id), ``seen_at`` moved by ``delta`` (FSM-9)."""
    return ObservationRecord.new(
        base.tenant_id,
        base.occurrence_id,
        base.policy_hash,
        base.ovid_hash,
        RunId(run),
        ShardId(run),
        FenceEpoch(run),
        LogicalTime(max(0, int(base.seen_at) + delta)),
        location,
    )


def _rotated(pool: tuple[object, ...], value: object, step: int) -> int:
    """Index of the pool entry ``step`` places after ``value`` (a guaranteed different one)."""
    return (pool.index(value) + step) % len(pool)


def finding_twin(base: FindingRecord, step: int, together: bool) -> FindingsUpsertBatch:
    """A stored-form twin (same tenant and id, other item): ``FindingConflict``."""
    twin = FindingRecord(
        base.tenant_id,
        base.finding_id,
        FS_ITEMS[_rotated(FS_ITEMS, base.stable_item_id, step)],
        base.rule_fingerprint,
        base.secret_hash,
    )
    return FindingsUpsertBatch(findings=(base, twin) if together else (twin,))


def occurrence_twin(
    base: OccurrenceRecord, parent: FindingRecord, step: int, together: bool
) -> FindingsUpsertBatch:
    """A stored-form twin (other offset) plus the parent: ``OccurrenceConflict``."""
    twin = OccurrenceRecord(
        base.tenant_id,
        base.occurrence_id,
        base.finding_id,
        base.object_version_id,
        (base.byte_offset + step) % 4,
        base.byte_length,
    )
    return FindingsUpsertBatch(
        findings=(parent,), occurrences=(base, twin) if together else (twin,)
    )


def observation_twin(
    base: ObservationRecord, lineage: Lineage, step: int, together: bool
) -> FindingsUpsertBatch:
    """Same id, another ovid hash, plus base's ancestry: ``ObservationConflict``."""
    f, o = lineage.parents(base)
    other = ObservationRecord.new(
        base.tenant_id,
        base.occurrence_id,
        base.policy_hash,
        FS_OVIDS[_rotated(FS_OVIDS, base.ovid_hash, step)],
        base.run_id,
        base.shard_id,
        base.fence_epoch,
        base.seen_at,
        base.location,
    )
    return FindingsUpsertBatch(
        findings=(f,), occurrences=(o,), observations=(base, other) if together else (other,)
    )


def orphan_occurrence(
    f: FindingRecord, cross_tenant: bool, version: ObjectVersionId, offset: int, length: int
) -> FindingsUpsertBatch:
    """``MissingFinding``: ``f``'s id under the other tenant, or an unknown finding id
    next to ``f`` itself (the batch then holds *a* finding, just not the parent)."""
    if cross_tenant:
        o = OccurrenceRecord.new(other_tenant(f.tenant_id), f.finding_id, version, offset, length)
        return FindingsUpsertBatch(occurrences=(o,))
    o = OccurrenceRecord.new(f.tenant_id, UNKNOWN_FINDING, version, offset, length)
    return FindingsUpsertBatch(findings=(f,), occurrences=(o,))


def orphan_observation(
    o: OccurrenceRecord, cross_tenant: bool, policy: PolicyHash, ovid: OvidHash
) -> FindingsUpsertBatch:
    """``MissingOccurrence``: ``o``'s id under the other tenant, or an unknown one."""
    if cross_tenant:
        tenant, parent = other_tenant(o.tenant_id), o.occurrence_id
    else:
        tenant, parent = o.tenant_id, UNKNOWN_OCCURRENCE
    b = ObservationRecord.new(
        tenant, parent, policy, ovid, RunId(1), ShardId(1), FenceEpoch(1), LogicalTime(1)
    )
    return FindingsUpsertBatch(observations=(b,))


def mixed_tenant(
    f: FindingRecord, item: StableItemId, rule_fp: RuleFingerprint, secret: SecretHash
) -> FindingsUpsertBatch:
    """``f`` plus a finding of the other tenant: ``BatchValidation(InconsistentTenant())``
    before submission (FS-3)."""
    other = FindingRecord.new(other_tenant(f.tenant_id), item, rule_fp, secret)
    return FindingsUpsertBatch(findings=(f, other))


def bad_observation_id(b: ObservationRecord) -> FindingsUpsertBatch:
    """``b`` rebuilt with the stored-form constructor and :data:`BAD_OBSERVATION_ID`:
    ``BatchValidation(ObservationIdMismatch(...))`` before submission (FS-2)."""
    bad = ObservationRecord(
        tenant_id=b.tenant_id,
        observation_id=BAD_OBSERVATION_ID,
        occurrence_id=b.occurrence_id,
        policy_hash=b.policy_hash,
        ovid_hash=b.ovid_hash,
        run_id=b.run_id,
        shard_id=b.shard_id,
        fence_epoch=b.fence_epoch,
        seen_at=b.seen_at,
        location=b.location,
    )
    return FindingsUpsertBatch(observations=(bad,))


__all__ = [
    "bad_observation_id",
    "mixed_tenant",
    "BAD_OBSERVATION_ID",
    "UNKNOWN_FINDING",
    "UNKNOWN_OCCURRENCE",
    "Lineage",
    "chain_records",
    "finding_twin",
    "full_chain",
    "observation",
    "observation_twin",
    "occurrence_twin",
    "orphan_occurrence",
    "orphan_observation",
    "resend",
]
