"""The one module of test builders (issue 11 item 4).

One style throughout: a builder is named after what it returns
(``done_record``, ``finding_record``, ``occurrence_record``,
``observation_record``, ``full_batch``), every argument has a default, and the
defaults follow inmemory.md §9's preamble: tenant 1, policy 2, ovid 3;
run/shard/epoch 1, started 1, finished 2; a findings chain with
run/shard/epoch 50/60/70, seen at 80. Ids are 32 bytes of one repeated byte,
``fill(n)``; ``tenant(n)``, ``policy(n)``, ``ovid(n)`` wrap it. Ids, keys and
provenances are immutable and cached: building 10,000 records does not
re-validate the same 32 bytes 30,000 times.
:func:`done_record` builds exactly what it is given (invalid records on
purpose included); :func:`valid_done_record` derives the findings count and
error code its status needs (DL-21). For more than 256 distinct ids,
:func:`wide_ovid` and :func:`numbered_records` use an integer's big-endian bytes.

The history builders of the linearizability checker tests (``op``, ``write``,
``receipt``, ``hist``) are here too.

Test modules keep no record builders or byte fills of their own: where a test
needs another value, it passes it (a keyword argument here, if none fits yet),
so that what a test asserts never hangs on a default chosen elsewhere.
Hypothesis strategies (plural names: ``done_records``) and golden expected
values (bytes spelled out) are not builders and stay where they are used.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.linearizability import Failed, History, Maybe, Operation, Raised, Returned
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
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
    fold_records,
)

FR = DoneLedgerStatus.FAILED_RETRYABLE
FP = DoneLedgerStatus.FAILED_PERMANENT
SK = DoneLedgerStatus.SKIPPED
SC = DoneLedgerStatus.SCANNED_CLEAN
SWF = DoneLedgerStatus.SCANNED_WITH_FINDINGS

I63 = 2**63 - 1
"""The largest value of a signed 64-bit database column (ENC-2)."""
I31 = 2**31 - 1
"""The largest value of a signed 32-bit database column (ENC-3)."""


# --- ids -------------------------------------------------------------------------------------


@functools.cache
def fill(n: int) -> bytes:
    """``32x0xNN``: 32 bytes each equal to ``n`` (0..255), the raw form of every test id."""
    return bytes([n]) * 32


@functools.cache
def tenant(n: int = 1) -> TenantId:
    return TenantId(fill(n))


@functools.cache
def policy(n: int = 2) -> PolicyHash:
    return PolicyHash(fill(n))


@functools.cache
def ovid(n: int = 3) -> OvidHash:
    return OvidHash(fill(n))


def wide_ovid(n: int) -> OvidHash:
    """An ovid hash for any ``n >= 0`` (its 32-byte big-endian form), for long key ranges."""
    return OvidHash(n.to_bytes(32, "big"))


@functools.cache
def key(t: int = 1, p: int = 2, o: int = 3) -> DoneLedgerKey:
    return DoneLedgerKey(tenant(t), policy(p), ovid(o))


# --- done ledger -----------------------------------------------------------------------------


@functools.cache
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
    """A done-ledger record exactly as given: nothing is made valid behind the caller's back
    (``done_record(status=FR)`` lacks its error code, on purpose)."""
    return DoneLedgerRecord(
        key(t, p, o),
        status,
        bytes_scanned,
        findings_count,
        prov if prov is not None else provenance(),
        DoneLedgerErrorCode(error_code) if error_code is not None else None,
    )


def valid_done_record(
    o: int = 3,
    status: DoneLedgerStatus = SC,
    *,
    t: int = 1,
    p: int = 2,
    ovid_hash: OvidHash | None = None,
    bytes_scanned: int = 10,
    findings_count: int | None = None,
    run: int = 1,
    started: int = 1,
    finished: int = 2,
    error_code: str = "E_TEST",
) -> DoneLedgerRecord:
    """:func:`done_record` made valid for ``status`` (DL-21): findings count 0 when clean (1
    by default with findings), ``error_code`` for the failed and skipped statuses only.
    ``ovid_hash`` replaces ``ovid(o)`` (for more than 256 keys: :func:`wide_ovid`). The
    provenance is always valid in kind but not in order: ``started > finished`` is passed
    through, for tests of DL-21's ordering rule."""
    if status is SC:
        count = 0
    elif findings_count is not None:
        count = findings_count
    else:
        count = 1 if status is SWF else 0
    return DoneLedgerRecord(
        DoneLedgerKey(tenant(t), policy(p), ovid(o) if ovid_hash is None else ovid_hash),
        status,
        bytes_scanned,
        count,
        provenance(run=run, started=started, finished=finished),
        None if status.is_scanned() else DoneLedgerErrorCode(error_code),
    )


# --- findings --------------------------------------------------------------------------------


def finding_record(
    t: TenantId | None = None,
    seed: int = 10,
    *,
    item: int | None = None,
    rule: int | None = None,
    secret: int | bytes | None = None,
) -> FindingRecord:
    """Stable item ``seed``, rule ``seed + 1``, norm hash ``seed + 2``, key the tenant's byte.

    ``item`` and ``rule`` replace the item's and rule's fill; ``secret`` gives the secret
    hash's raw bytes (an int ``n``: ``fill(n)``) without key derivation, for tests that look
    for those bytes in a rendering (RED-4, RED-5)."""
    t = tenant() if t is None else t
    secret_hash = (
        key_secret_hash(TenantSecretKey(bytes(t)), NormHash.from_digest(fill(seed + 2)))
        if secret is None
        else SecretHash._from_raw(fill(secret) if isinstance(secret, int) else secret)
    )
    return FindingRecord.new(
        t,
        StableItemId(fill(seed if item is None else item)),
        RuleFingerprint(fill(seed + 1 if rule is None else rule)),
        secret_hash,
    )


def occurrence_record(
    t: TenantId | None = None,
    finding: FindingRecord | None = None,
    version_seed: int = 30,
    byte_offset: int = 128,
    *,
    byte_length: int | None = None,
) -> OccurrenceRecord:
    """Object version filled with ``version_seed``, length ``version_seed + 1`` unless
    ``byte_length`` is given (0 on purpose included: FS-6)."""
    t = tenant() if t is None else t
    finding = finding_record(t) if finding is None else finding
    length = version_seed + 1 if byte_length is None else byte_length
    return OccurrenceRecord.new(
        t, finding.finding_id, ObjectVersionId(fill(version_seed)), byte_offset, length
    )


def observation_record(
    t: TenantId | None = None,
    occurrence: OccurrenceRecord | None = None,
    policy_seed: int = 3,
    ovid_seed: int = 4,
    run: int = 50,
    shard: int = 60,
    epoch: int = 70,
    seen_at: int = 80,
    location: Location | None = None,
) -> ObservationRecord:
    t = tenant() if t is None else t
    occurrence = occurrence_record(t) if occurrence is None else occurrence
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
    t: TenantId | None = None,
    seed: int = 10,
    seen_at: int = 80,
    location: Location | None = None,
) -> tuple[FindingsUpsertBatch, FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A batch of one finding (``seed``), one occurrence of it (version ``seed + 20``, offset
    128) and one observation of that (policy 3, ovid 4, run/shard/epoch 50/60/70), and the
    three records."""
    t = tenant() if t is None else t
    finding = finding_record(t, seed)
    occurrence = occurrence_record(t, finding, seed + 20, 128)
    observation = observation_record(t, occurrence, seen_at=seen_at, location=location)
    return (
        FindingsUpsertBatch((finding,), (occurrence,), (observation,)),
        finding,
        occurrence,
        observation,
    )


def numbered_records(
    n: int, t: TenantId | None = None
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A finding, occurrence and observation for any ``n >= 0`` (ids from ``n``'s 30-byte
    big-endian form, so 10,000 of them are distinct)."""
    t = tenant() if t is None else t
    raw = n.to_bytes(30, "big")
    finding = FindingRecord.new(
        t,
        StableItemId(b"\x01\x00" + raw),
        RuleFingerprint(b"\x02\x00" + raw),
        key_secret_hash(TenantSecretKey(t.raw), NormHash.from_digest(b"\x03\x00" + raw)),
    )
    occurrence = OccurrenceRecord.new(
        t, finding.finding_id, ObjectVersionId(b"\x04\x00" + raw), n, 7
    )
    observation = ObservationRecord.new(
        t,
        occurrence.occurrence_id,
        policy(3),
        OvidHash(b"\x05\x00" + raw),
        RunId(n),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(n),
    )
    return finding, occurrence, observation


# --- histories for the linearizability checkers ----------------------------------------------

_OPERATION_IDS = itertools.count()


def op(
    client: int,
    kind: str,
    args: tuple[Any, ...],
    invoke: int,
    respond: int | None,
    outcome: object,
) -> Operation:
    """An operation with explicit logical times; a bare ``outcome`` means ``Returned(value)``."""
    if not isinstance(outcome, Returned | Raised | Failed | Maybe):
        outcome = Returned(outcome)
    return Operation(next(_OPERATION_IDS), client, kind, args, invoke, respond, outcome)


def receipt(*records: DoneLedgerRecord) -> DoneLedgerCommitReceipt:
    return DoneLedgerCommitReceipt.for_folded(fold_records(records).values())


def write(client: int, invoke: int, respond: int | None, *records: DoneLedgerRecord) -> Operation:
    """A successful ``batch_upsert`` (``respond=None``: a maybe write)."""
    outcome: object = Maybe("timeout") if respond is None else receipt(*records)
    return op(client, "batch_upsert", (tuple(records),), invoke, respond, outcome)


def hist(*ops: Operation) -> History:
    return History(ops)
