"""The one module of test-record builders (issue 11 item 4).

One style throughout: a builder is named after what it returns
(``done_record``, ``finding``, ``occurrence``, ``observation``, ``chain``,
``batch``), every argument has a default, and the defaults build a valid record
inside every database limit. Ids are 32 bytes of one repeated byte:
``fill(n)``; ``tenant(n)``, ``policy(n)``, ``ovid(n)`` wrap it. The defaults
follow inmemory.md §9's preamble (tenant 1, policy 2, run/shard/epoch 1,
started 1, finished 2; findings chains with run/shard/epoch 50/60/70, seen at 80).

For ids that must range over more than 256 values, :func:`wide_ovid` and
:func:`numbered_chain` use an integer's big-endian bytes instead.
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

I63 = 2**63 - 1
"""The largest value a signed 64-bit database column holds (ENC-2)."""
I31 = 2**31 - 1
"""The largest value a signed 32-bit database column holds (ENC-3)."""


def fill(n: int) -> bytes:
    """32 bytes of the byte ``n`` (0..255): the raw form of every test id."""
    return bytes([n]) * 32


def tenant(n: int = 1) -> TenantId:
    return TenantId(fill(n))


def policy(n: int = 2) -> PolicyHash:
    return PolicyHash(fill(n))


def ovid(n: int = 3) -> OvidHash:
    return OvidHash(fill(n))


def wide_ovid(n: int) -> OvidHash:
    """An ovid hash for any ``n >= 0`` (its 32-byte big-endian form), for long key ranges."""
    return OvidHash(n.to_bytes(32, "big"))


def key(t: int = 1, p: int = 2, o: int = 3) -> DoneLedgerKey:
    return DoneLedgerKey(tenant(t), policy(p), ovid(o))


def provenance(
    run: int = 1, shard: int = 1, epoch: int = 1, started: int = 1, finished: int = 2
) -> DoneLedgerProvenance:
    return DoneLedgerProvenance(
        RunId(run), ShardId(shard), FenceEpoch(epoch), LogicalTime(started), LogicalTime(finished)
    )


def done_record(
    t: int = 1,
    p: int = 2,
    o: int = 3,
    status: DoneLedgerStatus = SC,
    bytes_scanned: int = 10,
    findings_count: int = 0,
    prov: DoneLedgerProvenance | None = None,
    error_code: str | None = None,
) -> DoneLedgerRecord:
    """A done-ledger record exactly as given: no field is made valid behind the caller's back
    (``done_record(status=FR)`` lacks its error code on purpose, DL-21); see :func:`valid_done`."""
    return DoneLedgerRecord(
        key(t, p, o),
        status,
        bytes_scanned,
        findings_count,
        prov if prov is not None else provenance(),
        DoneLedgerErrorCode(error_code) if error_code is not None else None,
    )


def valid_done(
    o: int = 3,
    status: DoneLedgerStatus = SC,
    *,
    t: int = 1,
    p: int = 2,
    bytes_scanned: int = 10,
    run: int = 1,
    finished: int = 2,
) -> DoneLedgerRecord:
    """:func:`done_record` made valid for ``status`` (DL-21): findings count 1 with findings,
    error code ``E_TEST`` for the failed and skipped statuses."""
    return done_record(
        t,
        p,
        o,
        status,
        bytes_scanned,
        1 if status is SWF else 0,
        provenance(run=run, finished=finished),
        None if status.is_scanned() else "E_TEST",
    )


def finding(t: TenantId | None = None, seed: int = 10) -> FindingRecord:
    """Stable item ``seed``, rule ``seed + 1``, norm hash ``seed + 2``, key the tenant's byte."""
    t = tenant() if t is None else t
    secret = key_secret_hash(TenantSecretKey(bytes(t)), NormHash.from_digest(fill(seed + 2)))
    return FindingRecord.new(t, StableItemId(fill(seed)), RuleFingerprint(fill(seed + 1)), secret)


def occurrence(
    t: TenantId | None = None,
    parent: FindingRecord | None = None,
    version_seed: int = 30,
    byte_offset: int = 128,
) -> OccurrenceRecord:
    """Object version filled with ``version_seed``, length ``version_seed + 1``."""
    t = tenant() if t is None else t
    parent = finding(t) if parent is None else parent
    return OccurrenceRecord.new(
        t, parent.finding_id, ObjectVersionId(fill(version_seed)), byte_offset, version_seed + 1
    )


def observation(
    t: TenantId | None = None,
    parent: OccurrenceRecord | None = None,
    policy_seed: int = 3,
    ovid_seed: int = 4,
    run: int = 50,
    shard: int = 60,
    epoch: int = 70,
    seen_at: int = 80,
    location: Location | None = None,
) -> ObservationRecord:
    t = tenant() if t is None else t
    parent = occurrence(t) if parent is None else parent
    return ObservationRecord.new(
        t,
        parent.occurrence_id,
        policy(policy_seed),
        ovid(ovid_seed),
        RunId(run),
        ShardId(shard),
        FenceEpoch(epoch),
        LogicalTime(seen_at),
        location,
    )


def chain(
    t: TenantId | None = None,
    seed: int = 10,
    seen_at: int = 80,
    location: Location | None = None,
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A finding (``seed``), one occurrence of it (version ``seed + 20``, offset 128) and one
    observation of that (policy 3, ovid 4, run/shard/epoch 50/60/70)."""
    t = tenant() if t is None else t
    f = finding(t, seed)
    o = occurrence(t, f, seed + 20, 128)
    return f, o, observation(t, o, seen_at=seen_at, location=location)


def batch(
    t: TenantId | None = None,
    seed: int = 10,
    seen_at: int = 80,
    location: Location | None = None,
) -> FindingsUpsertBatch:
    """The :func:`chain` of the same arguments as one batch."""
    f, o, b = chain(t, seed, seen_at, location)
    return FindingsUpsertBatch((f,), (o,), (b,))


def numbered_chain(
    n: int, t: TenantId | None = None
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """Like :func:`chain` for any ``n >= 0`` (ids from ``n``'s 30-byte big-endian form, so
    10,000 chains are distinct)."""
    t = tenant() if t is None else t
    raw = n.to_bytes(30, "big")
    f = FindingRecord.new(
        t,
        StableItemId(b"\x01\x00" + raw),
        RuleFingerprint(b"\x02\x00" + raw),
        key_secret_hash(TenantSecretKey(t.raw), NormHash.from_digest(b"\x03\x00" + raw)),
    )
    o = OccurrenceRecord.new(t, f.finding_id, ObjectVersionId(b"\x04\x00" + raw), n, 7)
    b = ObservationRecord.new(
        t,
        o.occurrence_id,
        policy(3),
        OvidHash(b"\x05\x00" + raw),
        RunId(n),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(n),
    )
    return f, o, b
