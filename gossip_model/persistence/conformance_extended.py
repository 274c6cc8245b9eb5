"""The extended conformance battery (issue 10 item 3): what ``run_conformance`` leaves unchecked.

``run_extended_conformance(done_ledger=None, findings_sink=None)`` runs, for
whichever store is given, single-client checks that compare every stored
value with the reference rules, not just counts and statuses. Nothing is
ever replaced by the reference store: a missing side is simply not checked.
Three groups, each used only when the store offers what it needs:

* ``DoneLedger`` protocol only (``batch_upsert``, ``batch_get``,
  ``list_done_hashes``, ``count_done_hashes``):
  - ``merge-parity``: for record pairs on one key (status downgrade attempt,
    later/earlier ``finished_at``, bytes, findings counts, error-code
    tie-break) written in both orders and in one batch, the stored record
    equals ``a.merge(b)`` field for field (DL-34): catches provenance or
    bytes last-writer-wins, mixed or losing provenance, status downgrades;
  - ``receipts``: in-batch duplicates count once and a replay returns the
    same receipt and changes nothing (DL-50, DL-43): catches raw counting
    and replay double-counting;
  - ``batch-get-positional``: ``[absent, b, a, b, absent]`` answered
    position by position, and ``[]`` gives ``[]`` (DL-40);
  - ``terminal-listing``: a key that stayed ``FAILED_RETRYABLE`` is not
    listed, one upgraded from it is, every key once, and
    ``count_done_hashes`` is ``None`` or the listing's length (DL-41, DL-42);
  - ``atomic-batch``: a batch whose LAST record is invalid leaves none of
    its records (DL-43, DL-6), and ``started_at == finished_at`` is accepted
    (DL-21).
* done ledger with the control surface (``delay_next_writes``,
  ``release_*``, ``fail_next_*``, ``pending_*``):
  ``pending-invisible`` (FC-2, ST-6), ``release-order`` (ST-14: NEWEST_FIRST
  takes the newest op), ``release-all`` (ST-16: every released op applied,
  commit faults hit in release order, ST-10), ``submission-fault`` (ST-6
  step 2: nothing applied, no op id consumed) and ``commit-fault`` (ST-9:
  nothing applied, the payload can be resubmitted).
* findings sink with ``durable_counts()`` (``FindingsConformanceProbe``):
  ``receipts`` (FS-31 distinct keys; replay same receipt, no new rows) and
  ``atomic-batch`` (a new finding beside an orphan occurrence, or an
  occurrence beside an orphan observation, fails and leaves nothing,
  FS-30 items 2 and 4); with ``get_observation`` also ``observation-merge``
  (BE-5 parity incl. "a location is never lost") and ``observation-conflict``
  (an ``ovid_hash`` change is a conflict, nothing stored changes); with the
  controls ``release-order`` (ST-16's example: NEWEST_FIRST applies an
  observation-only batch before its parent's batch, which then fails).

What it does NOT check: concurrency (several clients at once;
linearizability is the simulation's and ``stress``'s job), durability across
restarts or crashes, performance, database schemas and migrations, the
exact exception types inside failures (any exception counts as a refusal,
as in CONF-7), ``wait(timeout)`` semantics beyond "a receipt arrives", and
bugs that need long random programs to show (the state machines and the
stormy sweep look for those).

Choices: each check uses its own tenant (``b"X" + case byte``), so it shares
a store with ``run_conformance`` and the other checks; a check that needs a
capability the store lacks is skipped and named in
``ExtendedConformanceReport.skipped`` with the missing methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence.conformance_types import (
    DoneLedgerGet,
    DoneLedgerInvariant,
    DoneLedgerSubmit,
    DoneLedgerWait,
    FindingsInvariant,
    FindingsSubmit,
    FindingsWait,
    PersistenceConformanceError,
    Probe,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.done_ledger import (
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.location import Location

DEFAULT_WAIT_TIMEOUT = 5.0

CONTROLS = (
    "delay_next_writes",
    "fail_next_submissions",
    "fail_next_commits",
    "release_next",
    "release_all",
    "pending_count",
)
"""The control methods the controlled checks use (a subset of the in-memory surface)."""

SC = DoneLedgerStatus.SCANNED_CLEAN
SWF = DoneLedgerStatus.SCANNED_WITH_FINDINGS
FR = DoneLedgerStatus.FAILED_RETRYABLE
FP = DoneLedgerStatus.FAILED_PERMANENT
SK = DoneLedgerStatus.SKIPPED


# --- builders: every value derived from a case byte and a small index --------------------


def _id32(case: int, index: int, tag: int) -> bytes:
    return b"X" + bytes([case, index, tag]) + bytes(28)


def _tenant(case: int) -> TenantId:
    return TenantId(_id32(case, 0, 0))


def _policy(case: int, index: int = 0) -> PolicyHash:
    return PolicyHash(_id32(case, index, 1))


def _key(case: int, index: int) -> DoneLedgerKey:
    return DoneLedgerKey(_tenant(case), _policy(case), OvidHash(_id32(case, index, 2)))


def _record(
    case: int,
    index: int,
    status: DoneLedgerStatus,
    *,
    bytes_scanned: int = 100,
    findings: int = 0,
    run: int = 1,
    started: int = 10,
    finished: int = 20,
    code: str | None = None,
) -> DoneLedgerRecord:
    if code is None and not status.is_scanned():
        code = "TIMEOUT"
    if status is SWF and findings == 0:
        findings = 1
    provenance = DoneLedgerProvenance(
        RunId(run), ShardId(run + 1), FenceEpoch(1), LogicalTime(started), LogicalTime(finished)
    )
    return DoneLedgerRecord(
        _key(case, index),
        status,
        bytes_scanned,
        findings,
        provenance,
        DoneLedgerErrorCode(code) if code is not None else None,
    )


def _finding(case: int, index: int) -> FindingRecord:
    tenant = _tenant(case)
    secret = key_secret_hash(
        TenantSecretKey(_id32(case, index, 3)), NormHash.from_digest(_id32(case, index, 4))
    )
    return FindingRecord.new(
        tenant, StableItemId(_id32(case, index, 5)), RuleFingerprint(_id32(case, index, 6)), secret
    )


def _occurrence(case: int, finding: FindingRecord, index: int) -> OccurrenceRecord:
    version = ObjectVersionId(_id32(case, index, 7))
    return OccurrenceRecord.new(_tenant(case), finding.finding_id, version, 64 * index, 16)


def _observation(
    case: int,
    occurrence: OccurrenceRecord,
    *,
    seen: int,
    run: int = 5,
    location: Location | None = None,
    ovid_index: int = 0,
) -> ObservationRecord:
    return ObservationRecord.new(
        _tenant(case),
        occurrence.occurrence_id,
        _policy(case),
        OvidHash(_id32(case, ovid_index, 8)),
        RunId(run),
        ShardId(run + 1),
        FenceEpoch(2),
        LogicalTime(seen),
        location,
    )


# --- steps ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stores:
    done_ledger: Any
    findings_sink: Any
    wait_timeout: float


def _submit_done(
    s: _Stores, case: str, records: Sequence[DoneLedgerRecord]
) -> DoneLedgerCommitReceipt:
    try:
        handle = s.done_ledger.batch_upsert(list(records))
    except Exception as error:
        raise DoneLedgerSubmit(case, error) from error
    try:
        receipt: DoneLedgerCommitReceipt = handle.wait(timeout=s.wait_timeout)
    except Exception as error:
        raise DoneLedgerWait(case, error) from error
    return receipt


def _refused_done(s: _Stores, case: str, records: Sequence[DoneLedgerRecord]) -> None:
    """The write must fail at submit or at wait (any exception counts)."""
    try:
        handle = s.done_ledger.batch_upsert(list(records))
        handle.wait(timeout=s.wait_timeout)
    except Exception:
        return
    raise DoneLedgerInvariant(case, "an invalid batch was durably accepted")


def _get(s: _Stores, case: str, keys: Sequence[DoneLedgerKey]) -> list[DoneLedgerRecord | None]:
    first = keys[0]
    try:
        rows = list(
            s.done_ledger.batch_get(
                first.tenant_id, first.policy_hash, [k.ovid_hash for k in keys]
            )
        )
    except Exception as error:
        raise DoneLedgerGet(case, error) from error
    if len(rows) != len(keys):
        raise DoneLedgerInvariant(case, f"batch_get gave {len(rows)} answers for {len(keys)}")
    return rows


def _expect_rows(
    s: _Stores, case: str, expected: dict[DoneLedgerKey, DoneLedgerRecord | None]
) -> None:
    keys = list(expected)
    for key, actual in zip(keys, _get(s, case, keys), strict=True):
        want = expected[key]
        if actual != want:
            raise DoneLedgerInvariant(case, _difference("stored record", want, actual))


def _difference(what: str, expected: Any, actual: Any) -> str:
    """Name the first differing field, then show both values in full."""
    if expected is not None and actual is not None and type(expected) is type(actual):
        for name in getattr(expected, "__slots__", ()):
            want, got = getattr(expected, name, None), getattr(actual, name, None)
            if want != got:
                return f"{what}: field {name} expected {want!r}, got {got!r} (full: {actual!r})"
    return f"{what}: expected {expected!r}, got {actual!r}"


def _submit_findings(s: _Stores, case: str, batch: FindingsUpsertBatch) -> FindingsCommitReceipt:
    try:
        handle = s.findings_sink.upsert_batch(batch)
    except Exception as error:
        raise FindingsSubmit(case, error) from error
    try:
        receipt: FindingsCommitReceipt = handle.wait(timeout=s.wait_timeout)
    except Exception as error:
        raise FindingsWait(case, error) from error
    return receipt


def _refused_findings(s: _Stores, case: str, batch: FindingsUpsertBatch) -> None:
    try:
        handle = s.findings_sink.upsert_batch(batch)
        handle.wait(timeout=s.wait_timeout)
    except Exception:
        return
    raise FindingsInvariant(case, "an invalid batch was durably accepted")


def _counts(s: _Stores, case: str) -> DurableFindingsCounts:
    try:
        counts = s.findings_sink.durable_counts()
    except Exception as error:
        raise Probe(case, error) from error
    if not isinstance(counts, DurableFindingsCounts):
        raise Probe(case, TypeError(f"durable_counts returned {type(counts).__name__}"))
    return counts


def _observation_of(s: _Stores, case: str, record: ObservationRecord) -> Any:
    try:
        return s.findings_sink.get_observation(record.tenant_id, record.observation_id)
    except Exception as error:
        raise Probe(case, error) from error


def _release_all(s: _Stores, store: Any, order: Any) -> int:
    released: int = store.release_all(order)
    return released


# --- done-ledger checks ---------------------------------------------------------------------


def _merge_pairs(case: int) -> list[tuple[str, DoneLedgerRecord, DoneLedgerRecord]]:
    """Pairs on one key each; index = 10 * pair number + slot."""

    def pair(n: int, a: dict[str, Any], b: dict[str, Any]) -> tuple[DoneLedgerRecord, ...]:
        return (_record(case, n, **a), _record(case, n, **b))

    specs: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("status-downgrade", {"status": SC, "bytes_scanned": 300}, {"status": FR, "finished": 90}),
        (
            "later-finished-first",
            {"status": FP, "run": 7, "finished": 95},
            {"status": FP, "run": 3},
        ),
        (
            "bytes-larger-first",
            {"status": SC, "bytes_scanned": 9_000},
            {"status": SC, "finished": 30},
        ),
        (
            "findings-count",
            {"status": SWF, "findings": 9},
            {"status": SWF, "findings": 2, "finished": 40},
        ),
        ("code-tie-break", {"status": FR, "code": "ZETA"}, {"status": FR, "code": "ALPHA"}),
        (
            "skip-after-scan",
            {"status": SWF, "findings": 3, "run": 9},
            {"status": SK, "started": 50, "finished": 60},
        ),
    ]
    pairs = []
    for n, (label, a, b) in enumerate(specs):
        first, second = pair(n, a, b)
        pairs.append((label, first, second))
    return pairs


def _check_merge_parity(s: _Stores) -> None:
    """DL-34: stored == a.merge(b) whatever the order, across writes and in one batch."""
    name = "extended/done-ledger/merge-parity"
    for offset, mode in ((0, "a-then-b"), (100, "b-then-a"), (200, "one-batch")):
        for label, a, b in _merge_pairs(0x01 + offset // 100):
            case = f"{name}:{label}:{mode}"
            expected = a.merge(b)
            if mode == "a-then-b":
                _submit_done(s, case, [a])
                _submit_done(s, case, [b])
            elif mode == "b-then-a":
                _submit_done(s, case, [b])
                _submit_done(s, case, [a])
            else:
                _submit_done(s, case, [a, b])
            _expect_rows(s, case, {a.key: expected})


def _check_receipts(s: _Stores) -> None:
    """DL-50 / DL-43: duplicates count once; a replay returns the same receipt, no change."""
    name = "extended/done-ledger/receipts"
    c = 0x04
    batch = [
        _record(c, 1, SWF, findings=4),
        _record(c, 1, SWF, findings=6, finished=30),
        _record(c, 2, SC),
        _record(c, 3, FR),
        _record(c, 2, SC, bytes_scanned=5),
    ]
    expected = DoneLedgerCommitReceipt(3, 2, 6)
    first = _submit_done(s, f"{name}:first", batch)
    if first != expected:
        raise DoneLedgerInvariant(f"{name}:first", _difference("receipt", expected, first))
    keys = [_key(c, 1), _key(c, 2), _key(c, 3)]
    before = _get(s, f"{name}:first", keys)
    replay = _submit_done(s, f"{name}:replay", batch)
    if replay != expected:
        raise DoneLedgerInvariant(
            f"{name}:replay", _difference("replay receipt", expected, replay)
        )
    after = _get(s, f"{name}:replay", keys)
    if after != before:
        raise DoneLedgerInvariant(f"{name}:replay", _difference("replayed rows", before, after))


def _check_batch_get_positional(s: _Stores) -> None:
    """DL-40: every position answered, duplicates included; ``[]`` gives ``[]``."""
    name = "extended/done-ledger/batch-get-positional"
    c = 0x05
    a, b = _record(c, 1, SC), _record(c, 2, FP)
    _submit_done(s, f"{name}:submit", [b, a])
    keys = [_key(c, 9), b.key, a.key, b.key, _key(c, 8)]
    rows = _get(s, f"{name}:fetch", keys)
    if rows != [None, b, a, b, None]:
        shape = [None if r is None else r.key.ovid_hash for r in rows]
        raise DoneLedgerInvariant(
            f"{name}:fetch",
            f"expected [None, b, a, b, None] for [absent, b, a, b, absent], got hashes {shape}",
        )
    try:
        empty = list(s.done_ledger.batch_get(_tenant(c), _policy(c), []))
    except Exception as error:
        raise DoneLedgerGet(f"{name}:empty", error) from error
    if empty:
        raise DoneLedgerInvariant(f"{name}:empty", f"batch_get([]) gave {empty!r}")


def _check_terminal_listing(s: _Stores) -> None:
    """DL-41 / DL-42: retryable keys unlisted, upgraded ones listed once, count consistent."""
    name = "extended/done-ledger/terminal-listing"
    c = 0x06
    _submit_done(s, f"{name}:submit", [_record(c, 1, FR), _record(c, 2, FR), _record(c, 3, SK)])
    _submit_done(s, f"{name}:upgrade", [_record(c, 2, SC, finished=50), _record(c, 1, FR, run=4)])
    _submit_done(s, f"{name}:replay", [_record(c, 3, SK), _record(c, 2, SC, finished=50)])
    try:
        listed = list(s.done_ledger.list_done_hashes(_tenant(c), _policy(c)))
        count = s.done_ledger.count_done_hashes(_tenant(c), _policy(c))
    except Exception as error:
        raise DoneLedgerGet(f"{name}:list", error) from error
    expected = {_key(c, 2).ovid_hash, _key(c, 3).ovid_hash}
    if len(listed) != len(expected) or set(listed) != expected:
        retryable = _key(c, 1).ovid_hash in listed
        raise DoneLedgerInvariant(
            f"{name}:list",
            f"expected the 2 terminal hashes once each, got {len(listed)} entries"
            + (" including the FAILED_RETRYABLE key" if retryable else ""),
        )
    if count is not None and count != len(listed):
        raise DoneLedgerInvariant(
            f"{name}:count", f"count_done_hashes gave {count}, list_done_hashes {len(listed)}"
        )


def _check_atomic_batch(s: _Stores) -> None:
    """DL-43 / DL-6: an invalid LAST record rejects the batch; DL-21: equal times are valid."""
    name = "extended/done-ledger/atomic-batch"
    c = 0x07
    valid = [_record(c, 1, SC), _record(c, 2, SK)]
    invalid = _record(c, 3, FP, started=30, finished=20)  # ProvenanceOrdering
    _refused_done(s, f"{name}:invalid-last", [*valid, invalid])
    _expect_rows(s, f"{name}:invalid-last", {valid[0].key: None, valid[1].key: None})
    instant = _record(c, 4, SC, started=25, finished=25)
    _submit_done(s, f"{name}:equal-times", [instant])
    _expect_rows(s, f"{name}:equal-times", {instant.key: instant})


# --- done ledger with controls ---------------------------------------------------------------


def _check_pending_invisible(s: _Stores) -> None:
    """FC-2 / ST-6: a delayed write is invisible until released, then durable."""
    name = "extended/done-ledger/pending-invisible"
    ledger, c = s.done_ledger, 0x08
    record = _record(c, 1, SC)
    ledger.delay_next_writes(1)
    try:
        handle = ledger.batch_upsert([record])
    except Exception as error:
        raise DoneLedgerSubmit(f"{name}:submit", error) from error
    try:
        _expect_rows(s, f"{name}:before-release", {record.key: None})
        pending = ledger.pending_count()
        if pending != 1:
            raise DoneLedgerInvariant(f"{name}:before-release", f"pending_count() is {pending}")
    finally:
        released = _release_all(s, ledger, _order("OLDEST_FIRST"))
    if released != 1:
        raise DoneLedgerInvariant(f"{name}:release", f"release_all released {released}, not 1")
    handle.wait(timeout=s.wait_timeout)
    _expect_rows(s, f"{name}:after-release", {record.key: record})


def _order(name: str) -> Any:
    from gossip_model.core.errors import CompletionOrder

    return CompletionOrder[name]


def _check_release_order(s: _Stores) -> None:
    """ST-14: NEWEST_FIRST applies the newest pending op; OLDEST_FIRST the oldest."""
    name = "extended/done-ledger/release-order"
    ledger, c = s.done_ledger, 0x09
    old, new = _record(c, 1, FP, finished=90), _record(c, 1, FP, run=5, finished=40)
    ledger.delay_next_writes(2)
    try:
        first = ledger.batch_upsert([old])
        second = ledger.batch_upsert([new])
    except Exception as error:
        _release_all(s, ledger, _order("OLDEST_FIRST"))
        raise DoneLedgerSubmit(f"{name}:submit", error) from error
    try:
        released = ledger.release_next(_order("NEWEST_FIRST"))
        if released != second.op_id:
            raise DoneLedgerInvariant(
                f"{name}:newest-first",
                f"release_next(NEWEST_FIRST) released {released!r}, expected the newest op "
                f"{second.op_id!r} (the oldest is {first.op_id!r})",
            )
        _expect_rows(s, f"{name}:newest-first", {new.key: new})
    finally:
        _release_all(s, ledger, _order("OLDEST_FIRST"))
    first.wait(timeout=s.wait_timeout)
    second.wait(timeout=s.wait_timeout)
    _expect_rows(s, f"{name}:both", {old.key: new.merge(old)})


def _check_release_all(s: _Stores) -> None:
    """ST-16 / ST-10: release_all applies every op; a commit fault hits the first released."""
    name = "extended/done-ledger/release-all"
    ledger, c = s.done_ledger, 0x0A
    records = [_record(c, i, SC, bytes_scanned=10 * i) for i in (1, 2, 3)]
    ledger.delay_next_writes(3)
    handles = [ledger.batch_upsert([r]) for r in records]
    ledger.fail_next_commits(1)
    released = _release_all(s, ledger, _order("NEWEST_FIRST"))
    if released != 3:
        raise DoneLedgerInvariant(f"{name}:release", f"release_all released {released}, not 3")
    try:
        handles[2].wait(timeout=s.wait_timeout)
    except Exception as error:
        if type(error).__name__ != "InjectedCommitFailure":
            raise DoneLedgerWait(f"{name}:newest-fails", error) from error
    else:
        raise DoneLedgerInvariant(
            f"{name}:newest-fails",
            "fail_next_commits(1) before release_all(NEWEST_FIRST) must fail the NEWEST op",
        )
    for handle in handles[:2]:
        try:
            handle.wait(timeout=s.wait_timeout)
        except Exception as error:
            raise DoneLedgerWait(f"{name}:others-commit", error) from error
    _expect_rows(
        s,
        f"{name}:durable",
        {records[0].key: records[0], records[1].key: records[1], records[2].key: None},
    )


def _check_submission_fault(s: _Stores) -> None:
    """ST-6 step 2 / ST-8: an injected submission failure applies nothing, consumes no id."""
    name = "extended/done-ledger/submission-fault"
    ledger, c = s.done_ledger, 0x0B
    before = ledger.batch_upsert([])
    before.wait(timeout=s.wait_timeout)
    record = _record(c, 1, SC)
    ledger.fail_next_submissions(1)
    try:
        ledger.batch_upsert([record])
    except Exception as error:
        if type(error).__name__ != "InjectedSubmissionFailure":
            raise DoneLedgerSubmit(f"{name}:fault", error) from error
    else:
        raise DoneLedgerInvariant(f"{name}:fault", "the armed submission failure did not fire")
    _expect_rows(s, f"{name}:not-applied", {record.key: None})
    after = ledger.batch_upsert([])
    after.wait(timeout=s.wait_timeout)
    if int(after.op_id) != int(before.op_id) + 1:
        raise DoneLedgerInvariant(
            f"{name}:op-ids",
            f"the rejected submission consumed an op id: {before.op_id!r} then {after.op_id!r}",
        )


def _check_commit_fault(s: _Stores) -> None:
    """ST-9 / ST-11: an injected commit failure leaves storage untouched; a resubmit works."""
    name = "extended/done-ledger/commit-fault"
    ledger, c = s.done_ledger, 0x0C
    record = _record(c, 1, SWF, findings=2)
    ledger.fail_next_commits(1)
    handle = ledger.batch_upsert([record])
    try:
        handle.wait(timeout=s.wait_timeout)
    except Exception as error:
        if type(error).__name__ != "InjectedCommitFailure":
            raise DoneLedgerWait(f"{name}:fault", error) from error
    else:
        raise DoneLedgerInvariant(f"{name}:fault", "the armed commit failure did not fire")
    _expect_rows(s, f"{name}:not-applied", {record.key: None})
    _submit_done(s, f"{name}:resubmit", [record])
    _expect_rows(s, f"{name}:resubmit", {record.key: record})


# --- findings checks ------------------------------------------------------------------------


def _check_findings_receipts(s: _Stores) -> None:
    """FS-31: distinct keys per layer; a replay gives the same receipt and adds no row."""
    name = "extended/findings/receipts"
    c = 0x21
    finding = _finding(c, 1)
    occurrence = _occurrence(c, finding, 1)
    early = _observation(c, occurrence, seen=10)
    late = _observation(c, occurrence, seen=20, run=6)
    batch = FindingsUpsertBatch((finding, finding), (occurrence, occurrence), (early, late, early))
    before = _counts(s, f"{name}:probe")
    expected = FindingsCommitReceipt(1, 1, 1)
    first = _submit_findings(s, f"{name}:first", batch)
    if first != expected:
        raise FindingsInvariant(f"{name}:first", _difference("receipt", expected, first))
    after_first = _counts(s, f"{name}:probe")
    if after_first.saturating_sub(before) != DurableFindingsCounts(1, 1, 1):
        raise FindingsInvariant(f"{name}:first", f"counts went {before} -> {after_first}")
    replay = _submit_findings(s, f"{name}:replay", batch)
    if replay != expected:
        raise FindingsInvariant(f"{name}:replay", _difference("replay receipt", expected, replay))
    if _counts(s, f"{name}:probe") != after_first:
        raise FindingsInvariant(f"{name}:replay", "a replay changed the durable counts")


def _check_findings_atomic(s: _Stores) -> None:
    """FS-30 items 2 and 4: an orphan beside a valid parent fails the batch, leaving nothing."""
    name = "extended/findings/atomic-batch"
    c = 0x22
    present, absent = _finding(c, 1), _finding(c, 2)
    orphan = _occurrence(c, absent, 1)
    cases = {
        "orphan-occurrence": FindingsUpsertBatch((present,), (orphan,)),
        "orphan-observation": FindingsUpsertBatch(
            (present,),
            (_occurrence(c, present, 2),),
            (_observation(c, orphan, seen=5),),
        ),
    }
    for label, batch in cases.items():
        before = _counts(s, f"{name}:{label}")
        _refused_findings(s, f"{name}:{label}", batch)
        after = _counts(s, f"{name}:{label}")
        if after != before:
            raise FindingsInvariant(
                f"{name}:{label}", f"a rejected batch changed durable counts: {before} -> {after}"
            )


def _check_observation_merge(s: _Stores) -> None:
    """BE-5: the stored observation equals the reference merge; a location is never lost."""
    from gossip_model.backend.findings import merge_observation

    name = "extended/findings/observation-merge"
    c = 0x23
    finding = _finding(c, 1)
    occurrence = _occurrence(c, finding, 1)
    where = Location("src/app/config.py", "https://example.invalid/config.py")
    first = _observation(c, occurrence, seen=10, location=where)
    later = _observation(c, occurrence, seen=20, run=8)
    earlier = _observation(c, occurrence, seen=5, run=9, location=Location("other/place.txt"))
    _submit_findings(s, f"{name}:first", FindingsUpsertBatch((finding,), (occurrence,), (first,)))
    expected = first
    for label, incoming in (("later-without-location", later), ("earlier", earlier)):
        _submit_findings(s, f"{name}:{label}", FindingsUpsertBatch(observations=(incoming,)))
        expected = merge_observation(expected, incoming)
        stored = _observation_of(s, f"{name}:{label}", incoming)
        if stored != expected:
            raise FindingsInvariant(
                f"{name}:{label}", _difference("stored observation", expected, stored)
            )


def _check_observation_conflict(s: _Stores) -> None:
    """BE-5: the same observation key with another ``ovid_hash`` is refused, nothing changes."""
    name = "extended/findings/observation-conflict"
    c = 0x24
    finding = _finding(c, 1)
    occurrence = _occurrence(c, finding, 1)
    stored = _observation(c, occurrence, seen=10)
    moved = _observation(c, occurrence, seen=30, ovid_index=1)
    _submit_findings(s, f"{name}:first", FindingsUpsertBatch((finding,), (occurrence,), (stored,)))
    _refused_findings(s, f"{name}:conflict", FindingsUpsertBatch(observations=(moved,)))
    after = _observation_of(s, f"{name}:conflict", stored)
    if after != stored:
        raise FindingsInvariant(f"{name}:conflict", _difference("observation", stored, after))


def _check_findings_release_order(s: _Stores) -> None:
    """ST-16: NEWEST_FIRST applies a child batch before its parent's batch, which fails."""
    name = "extended/findings/release-order"
    sink, c = s.findings_sink, 0x25
    finding = _finding(c, 1)
    occurrence = _occurrence(c, finding, 1)
    observation = _observation(c, occurrence, seen=7)
    sink.delay_next_writes(2)
    parent = sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,)))
    child = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    released = _release_all(s, sink, _order("NEWEST_FIRST"))
    if released != 2:
        raise FindingsInvariant(f"{name}:release", f"release_all released {released}, not 2")
    parent.wait(timeout=s.wait_timeout)
    try:
        child.wait(timeout=s.wait_timeout)
    except Exception:
        pass
    else:
        raise FindingsInvariant(
            f"{name}:child-first",
            "release_all(NEWEST_FIRST) must apply the observation batch before its parent's "
            "batch, so it fails with MissingOccurrence; it succeeded (release order ignored?)",
        )


# --- cases and the runner -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtendedCase:
    """One extended check: its name, the store it needs and the methods it uses."""

    name: str
    store: str  # "done_ledger" or "findings_sink"
    needs: tuple[str, ...]
    check: Callable[[_Stores], None]

    def missing(self, store: object) -> tuple[str, ...]:
        """The methods of ``needs`` that ``store`` lacks (empty: the case can run)."""
        return tuple(n for n in self.needs if not callable(getattr(store, n, None)))

    def run(
        self,
        done_ledger: object = None,
        findings_sink: object = None,
        *,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        """Run the check; ``PersistenceConformanceError`` on failure."""
        self.check(_Stores(done_ledger, findings_sink, wait_timeout))

    def __str__(self) -> str:
        return self.name


_LEDGER = ("batch_upsert", "batch_get", "list_done_hashes", "count_done_hashes")
_SINK = ("upsert_batch", "durable_counts")

_CASES = (
    ExtendedCase("extended/done-ledger/merge-parity", "done_ledger", _LEDGER, _check_merge_parity),
    ExtendedCase("extended/done-ledger/receipts", "done_ledger", _LEDGER, _check_receipts),
    ExtendedCase(
        "extended/done-ledger/batch-get-positional",
        "done_ledger",
        _LEDGER,
        _check_batch_get_positional,
    ),
    ExtendedCase(
        "extended/done-ledger/terminal-listing", "done_ledger", _LEDGER, _check_terminal_listing
    ),
    ExtendedCase("extended/done-ledger/atomic-batch", "done_ledger", _LEDGER, _check_atomic_batch),
    ExtendedCase(
        "extended/done-ledger/pending-invisible",
        "done_ledger",
        _LEDGER + CONTROLS,
        _check_pending_invisible,
    ),
    ExtendedCase(
        "extended/done-ledger/release-order",
        "done_ledger",
        _LEDGER + CONTROLS,
        _check_release_order,
    ),
    ExtendedCase(
        "extended/done-ledger/release-all", "done_ledger", _LEDGER + CONTROLS, _check_release_all
    ),
    ExtendedCase(
        "extended/done-ledger/submission-fault",
        "done_ledger",
        _LEDGER + CONTROLS,
        _check_submission_fault,
    ),
    ExtendedCase(
        "extended/done-ledger/commit-fault", "done_ledger", _LEDGER + CONTROLS, _check_commit_fault
    ),
    ExtendedCase("extended/findings/receipts", "findings_sink", _SINK, _check_findings_receipts),
    ExtendedCase("extended/findings/atomic-batch", "findings_sink", _SINK, _check_findings_atomic),
    ExtendedCase(
        "extended/findings/observation-merge",
        "findings_sink",
        (*_SINK, "get_observation"),
        _check_observation_merge,
    ),
    ExtendedCase(
        "extended/findings/observation-conflict",
        "findings_sink",
        (*_SINK, "get_observation"),
        _check_observation_conflict,
    ),
    ExtendedCase(
        "extended/findings/release-order",
        "findings_sink",
        _SINK + CONTROLS,
        _check_findings_release_order,
    ),
)


def extended_conformance_cases() -> tuple[ExtendedCase, ...]:
    """Every extended check, for ``pytest.mark.parametrize`` (the plugin collects these)."""
    return _CASES


@dataclass(slots=True)
class ExtendedConformanceReport:
    """Which extended checks passed and which were skipped (and why)."""

    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def total_checks(self) -> int:
        return len(self.passed)

    def __str__(self) -> str:
        return f"extended conformance: {len(self.passed)} passed, {len(self.skipped)} skipped"


def run_extended_conformance(
    done_ledger: object = None,
    findings_sink: object = None,
    *,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
) -> ExtendedConformanceReport:
    """Run the extended battery for whichever store is given (module docstring).

    A store that is ``None`` is not checked (and never replaced by the
    reference). A check needing a method the store lacks is skipped and
    recorded with the missing names. The first failure raises a
    ``PersistenceConformanceError`` whose ``case`` names the check and phase.
    Stores must start with auto-complete on and no armed fault counters.
    """
    if done_ledger is None and findings_sink is None:
        raise TypeError(
            "run_extended_conformance: give done_ledger=..., findings_sink=... or both"
        )
    report = ExtendedConformanceReport()
    stores = {"done_ledger": done_ledger, "findings_sink": findings_sink}
    for case in _CASES:
        store = stores[case.store]
        if store is None:
            continue
        missing = case.missing(store)
        if missing:
            report.skipped[case.name] = f"{type(store).__name__} lacks {', '.join(missing)}"
            continue
        case.run(done_ledger, findings_sink, wait_timeout=wait_timeout)
        report.passed.append(case.name)
    return report


__all__ = [
    "CONTROLS",
    "ExtendedCase",
    "ExtendedConformanceReport",
    "PersistenceConformanceError",
    "extended_conformance_cases",
    "run_extended_conformance",
]
