"""Small record builders for the PostgreSQL tests (valid, inside the database limits)."""

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

from .strategies import fill, finding

TENANT = TenantId(fill(1))
POLICY = PolicyHash(fill(3))


def ovid(n: int) -> OvidHash:
    return OvidHash(n.to_bytes(32, "big"))


def done(
    n: int,
    status: DoneLedgerStatus = DoneLedgerStatus.SCANNED_WITH_FINDINGS,
    *,
    bytes_scanned: int = 10,
    count: int = 1,
    run: int = 1,
    finished: int = 2,
) -> DoneLedgerRecord:
    """Record for ovid ``n`` of (TENANT, POLICY); codes and counts made valid for ``status``."""
    scanned = status.is_scanned()
    if status is DoneLedgerStatus.SCANNED_CLEAN:
        count = 0
    return DoneLedgerRecord(
        DoneLedgerKey(TENANT, POLICY, ovid(n)),
        status,
        bytes_scanned,
        count,
        DoneLedgerProvenance(
            RunId(run), ShardId(1), FenceEpoch(1), LogicalTime(1), LogicalTime(finished)
        ),
        None if scanned else DoneLedgerErrorCode("E_TEST"),
    )


def chain(
    seed: int, *, seen: int = 5, run: int = 1, location: Location | None = None
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A finding, one occurrence of it and one observation of that, in TENANT."""
    f = finding(TENANT, seed)
    o = OccurrenceRecord.new(TENANT, f.finding_id, ObjectVersionId(fill(seed + 3)), seed, 7)
    b = ObservationRecord.new(
        TENANT,
        o.occurrence_id,
        POLICY,
        OvidHash(fill(seed + 4)),
        RunId(run),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(seen),
        location,
    )
    return f, o, b


def chain_batch(seed: int, **kwargs: object) -> FindingsUpsertBatch:
    f, o, b = chain(seed, **kwargs)  # type: ignore[arg-type]
    return FindingsUpsertBatch((f,), (o,), (b,))


def numbered_chain(n: int) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """Like :func:`chain` for any ``n >= 0`` (ids from ``n``'s 32-byte big-endian form)."""
    raw = n.to_bytes(30, "big")
    f = FindingRecord.new(
        TENANT,
        StableItemId(b"\x01\x00" + raw),
        RuleFingerprint(b"\x02\x00" + raw),
        key_secret_hash(TenantSecretKey(TENANT.raw), NormHash.from_digest(b"\x03\x00" + raw)),
    )
    o = OccurrenceRecord.new(TENANT, f.finding_id, ObjectVersionId(b"\x04\x00" + raw), n, 7)
    b = ObservationRecord.new(
        TENANT,
        o.occurrence_id,
        POLICY,
        OvidHash(b"\x05\x00" + raw),
        RunId(n),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(n),
    )
    return f, o, b
