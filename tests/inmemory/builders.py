"""Record builders shared by the in-memory store tests (inmemory.md §9 preamble).

``tenant(n)``, ``policy(n)``, ``ovid(n)`` fill a 32-byte id with byte ``n``;
the record builders follow the §9 definitions exactly.
"""

from __future__ import annotations

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingRecord,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)

FR = DoneLedgerStatus.FAILED_RETRYABLE
FP = DoneLedgerStatus.FAILED_PERMANENT
SK = DoneLedgerStatus.SKIPPED
SC = DoneLedgerStatus.SCANNED_CLEAN
SWF = DoneLedgerStatus.SCANNED_WITH_FINDINGS


def fill32(n: int) -> bytes:
    return bytes([n]) * 32


def tenant(n: int) -> TenantId:
    return TenantId(fill32(n))


def policy(n: int) -> PolicyHash:
    return PolicyHash(fill32(n))


def ovid(n: int) -> OvidHash:
    return OvidHash(fill32(n))


def key(t: int, p: int, o: int) -> DoneLedgerKey:
    return DoneLedgerKey(tenant(t), policy(p), ovid(o))


def provenance(
    run: int = 1, shard: int = 1, epoch: int = 1, started: int = 1, finished: int = 2
) -> DoneLedgerProvenance:
    return DoneLedgerProvenance(
        RunId(run), ShardId(shard), FenceEpoch(epoch), LogicalTime(started), LogicalTime(finished)
    )


def done_record(
    t: int,
    p: int,
    o: int,
    status: DoneLedgerStatus,
    bytes_scanned: int,
    findings_count: int = 0,
    prov: DoneLedgerProvenance | None = None,
    error_code: str | None = None,
) -> DoneLedgerRecord:
    return DoneLedgerRecord(
        key(t, p, o),
        status,
        bytes_scanned,
        findings_count,
        prov if prov is not None else provenance(),
        DoneLedgerErrorCode(error_code) if error_code is not None else None,
    )


def finding_record(t: TenantId, seed: int) -> FindingRecord:
    """Stable item ``seed``, rule ``seed + 1``, norm hash ``seed + 2``, key the tenant's byte."""
    secret = key_secret_hash(TenantSecretKey(bytes(t)), NormHash.from_digest(fill32(seed + 2)))
    return FindingRecord.new(
        t, StableItemId(fill32(seed)), RuleFingerprint(fill32(seed + 1)), secret
    )


def occurrence_record(
    t: TenantId, finding: FindingRecord, version_seed: int, byte_offset: int
) -> OccurrenceRecord:
    """Object version filled with ``version_seed``, length ``version_seed + 1``."""
    return OccurrenceRecord.new(
        t, finding.finding_id, ObjectVersionId(fill32(version_seed)), byte_offset, version_seed + 1
    )


def observation_record(
    t: TenantId,
    occurrence: OccurrenceRecord,
    policy_seed: int,
    ovid_seed: int,
    run: int,
    shard: int,
    epoch: int,
    seen_at: int,
    location: Location | None = None,
) -> ObservationRecord:
    return ObservationRecord.new(
        t,
        occurrence.occurrence_id,
        policy(policy_seed),
        ovid(ovid_seed),
        RunId(run),
        ShardId(shard),
        FenceEpoch(epoch),
        LogicalTime(seen_at),
        location,
    )


def full_batch(
    t: TenantId, seed: int = 10, seen_at: int = 80, location: Location | None = None
) -> tuple[FindingsUpsertBatch, FindingRecord, OccurrenceRecord, ObservationRecord]:
    """One finding, one occurrence and one observation (run/shard/epoch 50/60/70)."""
    finding = finding_record(t, seed)
    occurrence = occurrence_record(t, finding, seed + 20, 128)
    observation = observation_record(t, occurrence, 3, 4, 50, 60, 70, seen_at, location)
    return (
        FindingsUpsertBatch((finding,), (occurrence,), (observation,)),
        finding,
        occurrence,
        observation,
    )
