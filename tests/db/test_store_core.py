"""DT-9 / FC-1..FC-6: the store core's behaviour over both database backends, once.

Every test here runs on SQLite and on PostgreSQL through the ``backend``
fixture (``conftest.py``): delayed writes that send no SQL until released,
release orders and data dependencies, commit faults in release order, empty
and invalid batches that need no SQL, waits, clones, poisoning, reprs,
argument checks (TH-6), encoding limits (ENC-2..ENC-6), the DBE-1 / DBE-3
error contracts and the DBF-1 / DBF-7 checks. What only one backend has (its
SQL text, connection handling, constructor arguments, the ways to corrupt its
rows) stays in ``tests/sqlite/test_core.py`` and ``tests/postgres/test_core.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Any

import pytest

from gossip_model.db import errors as db_errors
from gossip_model.db.errors import (
    BatchTooLarge,
    ChecksumMismatch,
    CorruptedHistoryRecord,
    CorruptRow,
    DatabaseBackendError,
    SchemaMigrationError,
    ValueOutOfRange,
)
from gossip_model.identity import (
    FenceEpoch,
    FindingId,
    LogicalTime,
    ObservationId,
    OccurrenceId,
    OvidHash,
    StableItemId,
    TenantId,
)
from gossip_model.inmemory import (
    BatchValidation,
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryPersistenceError,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
    Poisoned,
    UnknownOperation,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    OccurrenceRecord,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.errors import InconsistentTenant, MissingErrorCode
from tests.builders import (
    FR,
    I31,
    I63,
    SWF,
    done_record,
    fill,
    finding_record,
    full_batch,
    observation_record,
    occurrence_record,
    ovid,
    policy,
    tenant,
    valid_done_record,
)

from .conftest import Backend, Store

JOIN = 10.0
"""Seconds: upper bound for every blocking wait and thread join in this module."""

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS
OLDEST = CompletionOrder.OLDEST_FIRST
NEWEST = CompletionOrder.NEWEST_FIRST
T = tenant(1)


# --- delayed writes, releases, faults (FC-2, FC-3, FC-4, FC-6) --------------------------------


def test_delayed_write_sends_no_sql_until_released(backend: Backend, ledger: Store) -> None:
    """FC-2 / ST-23: a delayed op keeps its payload in memory: no SQL, no row, reads do not
    see it, a timed-out wait changes nothing; a release applies exactly that op."""
    ledger.set_auto_complete(False)
    counter = backend.count_sql(ledger)
    first = ledger.batch_upsert([done_record(o=1)])
    second = ledger.batch_upsert([done_record(o=2), done_record(o=2, bytes_scanned=99)])
    assert counter.count == 0
    assert backend.rows("done_ledger_entries") == 0
    assert ledger.pending_ids() == [first.op_id, second.op_id]
    assert ledger.snapshot() == []
    with pytest.raises(TimeoutError):
        second.wait(0.01)
    assert ledger.pending_count() == 2, "a timed-out wait changes nothing (ST-23)"
    before = counter.count
    assert ledger.release_next(NEWEST) == second.op_id
    assert counter.count > before, "the release sends the write"
    assert second.wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)
    assert ledger.batch_get(T, policy(2), [ovid(1), ovid(2)]) == [
        None,
        done_record(o=2, bytes_scanned=99),
    ]
    assert ledger.release_specific(first.op_id) is True
    assert ledger.release_specific(first.op_id) is False
    assert first.wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)
    assert backend.rows("done_ledger_entries") == 2
    assert ledger.snapshot() == [done_record(o=1), done_record(o=2, bytes_scanned=99)]


def test_auto_complete_commits_before_submit_returns(backend: Backend, ledger: Store) -> None:
    """FC-6: in auto-complete mode the transaction has committed when the call returns:
    another connection sees the row before anyone waits."""
    handle = ledger.batch_upsert([done_record(o=1)])
    assert backend.rows("done_ledger_entries") == 1
    assert ledger.get_record(done_record(o=1).key) == done_record(o=1)
    assert handle.wait(0) == DoneLedgerCommitReceipt(1, 1, 0)


def test_commit_faults_hit_ops_in_release_order(backend: Backend, ledger: Store) -> None:
    """DT-9 / FC-4 / ST-10(b): with NEWEST_FIRST the newest queued op takes the armed fault,
    without sending any SQL; the older ops then commit."""
    ledger.set_auto_complete(False)
    handles = [ledger.batch_upsert([done_record(o=n)]) for n in range(3)]
    ledger.fail_next_commits(1)
    counter = backend.count_sql(ledger)
    assert ledger.release_next(NEWEST) == handles[2].op_id
    assert counter.count == 0
    with pytest.raises(InjectedCommitFailure) as info:
        handles[2].wait(JOIN)
    assert info.value == InjectedCommitFailure(DL)
    assert ledger.release_all(NEWEST) == 2
    assert counter.count > 0
    assert [h.wait(JOIN) for h in handles[:2]] == [DoneLedgerCommitReceipt(1, 1, 0)] * 2
    assert ledger.snapshot() == [done_record(o=0), done_record(o=1)]


@pytest.mark.parametrize("kind", ["done-ledger", "findings"])
def test_commit_fault_empty_and_invalid_batches_send_no_sql(backend: Backend, kind: str) -> None:
    """FC-4, DBL-2 steps 2 and 5, DBF-2: a commit fault, an empty batch and (ledger) a batch
    failing validation are decided before any SQL; the faulted payload commits on retry."""
    store: Store = backend.ledger() if kind == "done-ledger" else backend.sink()
    submit = store.batch_upsert if kind == "done-ledger" else store.upsert_batch
    payload: Any = [done_record(o=1)] if kind == "done-ledger" else full_batch(T, seed=0x20)[0]
    empty: Any = [] if kind == "done-ledger" else FindingsUpsertBatch()
    counter = backend.count_sql(store)
    store.pending_count()  # no SQL (and on PostgreSQL nothing connects yet)
    assert counter.count == 0
    store.fail_next_commits(1)
    with pytest.raises(InjectedCommitFailure):
        submit(payload).wait(JOIN)
    assert submit(empty).wait(JOIN) in (
        DoneLedgerCommitReceipt(0, 0, 0),
        FindingsCommitReceipt(0, 0, 0),
    )
    if kind == "done-ledger":
        invalid = done_record(o=3, status=FR, bytes_scanned=1)  # failure without an error code
        with pytest.raises(BatchValidation) as info:
            submit([done_record(o=1), invalid]).wait(JOIN)
        assert info.value == BatchValidation(MissingErrorCode(FR))
        assert store.batch_get(T, policy(2), []) == []
    assert counter.count == 0, "no statement for a commit fault, an empty or invalid batch"
    assert submit(payload).wait(JOIN) in (
        DoneLedgerCommitReceipt(1, 1, 0),
        FindingsCommitReceipt(1, 1, 1),
    )
    assert counter.count > 0, "the counter sees a real write"


def test_newest_first_applies_an_observation_before_its_parents(sink: Store) -> None:
    """FC-3 / ST-16: NEWEST_FIRST applies the observation-only batch first: it fails with
    MissingOccurrence, its parents commit; submitted again, it commits."""
    _, f, o, b = full_batch(T, seed=0x20)
    sink.set_auto_complete(False)
    parents = sink.upsert_batch(FindingsUpsertBatch((f,), (o,)))
    child = sink.upsert_batch(FindingsUpsertBatch(observations=(b,)))
    assert sink.release_all(NEWEST) == 2
    with pytest.raises(MissingOccurrence):
        child.wait(JOIN)
    assert parents.wait(JOIN) == FindingsCommitReceipt(1, 1, 0)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 0)
    again = sink.upsert_batch(FindingsUpsertBatch(observations=(b,)))
    assert sink.release_all(OLDEST) == 1
    assert again.wait(JOIN) == FindingsCommitReceipt(0, 0, 1)
    assert sink.observations_snapshot() == [b]


def test_waiter_blocks_until_another_thread_releases(ledger: Store) -> None:
    """ST-20: wait sleeps on the core's condition and a release through a clone wakes it;
    a consumed op id is then unknown."""
    ledger.delay_next_writes(1)
    handle = ledger.batch_upsert([done_record(o=5)])
    results: list[Any] = []
    waiter = threading.Thread(target=lambda: results.append(handle.wait(JOIN)), daemon=True)
    waiter.start()
    waiter.join(0.05)
    assert waiter.is_alive()
    assert ledger.clone().release_next(OLDEST) == handle.op_id
    waiter.join(JOIN)
    assert not waiter.is_alive()
    assert results == [DoneLedgerCommitReceipt(1, 1, 0)]
    with pytest.raises(UnknownOperation):
        handle.wait(0)


def test_clones_share_connection_queue_faults_and_ids(ledger: Store) -> None:
    """ST-3 / FC-6: clones (``clone()`` or ``copy.copy``) share one core: one connection, one
    pending queue, one set of fault counters, one id sequence; deepcopy is refused."""
    twin = copy.copy(ledger)
    assert twin._core.durable is ledger._core.durable
    twin.fail_next_submissions(1)
    with pytest.raises(Exception, match="submission failed via fault injection"):
        ledger.batch_upsert([done_record(o=1)])
    assert twin.batch_upsert([done_record(o=1)]).op_id == PendingWriteId(1)
    clone = ledger.clone()
    clone.set_auto_complete(False)
    handle = clone.batch_upsert([done_record(o=2)])
    assert ledger.pending_ids() == [handle.op_id]
    assert ledger.release_next(OLDEST) == handle.op_id
    assert (
        ledger.snapshot()
        == twin.snapshot()
        == clone.snapshot()
        == [done_record(o=1), done_record(o=2)]
    )
    with pytest.raises(TypeError, match="clone"):
        copy.deepcopy(ledger)


def test_bug_in_apply_poisons_the_core_and_rolls_back(
    backend: Backend, ledger: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TH-3 / FC-5: a non-persistence exception in apply propagates from the submitting call,
    leaves no row and no open transaction, and poisons the core. ``close()`` still closes
    the connection on both backends (``InMemoryStoreCore.close_durable``: a poisoned store
    must not leak its connection), and a second ``close()`` is harmless."""
    backend.break_apply(monkeypatch)
    with pytest.raises(RuntimeError, match="bug"):
        ledger.batch_upsert([done_record(o=1)])
    assert not backend.in_transaction(ledger)
    assert backend.rows("done_ledger_entries") == 0
    with pytest.raises(Poisoned):
        ledger.snapshot()
    assert repr(ledger) == f"{type(ledger).__name__}(<poisoned>)"
    assert not backend.is_closed(ledger)
    ledger.close()
    assert backend.is_closed(ledger)
    ledger.close()
    with pytest.raises(Poisoned):
        ledger.snapshot()


def test_reprs(backend: Backend, ledger: Store, sink: Store) -> None:
    """TH-5: counts and the auto-complete flag, never a conninfo; handles show their op id."""
    ledger.set_auto_complete(False)
    handle = ledger.batch_upsert([done_record(o=1)])
    extra = backend.describe()
    assert repr(ledger) == (f"{type(ledger).__name__}({extra}pending_ops=1, auto_complete=False)")
    assert repr(handle) == f"{type(handle).__name__}(op_id=PendingWriteId(1))"
    assert type(handle).__name__ == f"{type(ledger).__name__}Handle"
    assert repr(sink) == f"{type(sink).__name__}({extra}pending_ops=0, auto_complete=True)"


# --- argument checks (TH-6) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.batch_upsert(done_record(o=1)), "single DoneLedgerRecord"),
        (
            lambda s: s.batch_upsert([done_record(o=1), "x"]),
            r"records\[1\] must be DoneLedgerRecord",
        ),
        (lambda s: s.batch_get("t", policy(2), []), "tenant_id must be TenantId"),
        (lambda s: s.batch_get(T, "p", []), "policy_hash must be PolicyHash"),
        (lambda s: s.batch_get(T, policy(2), [b"x"]), r"ovid_hashes\[0\]"),
        (lambda s: s.get_record("k"), "key must be DoneLedgerKey"),
        (lambda s: s.list_done_hashes("t", policy(2)), "tenant_id must be TenantId"),
        (lambda s: s.list_done_hashes(T, "p"), "policy_hash must be PolicyHash"),
        (lambda s: s.count_done_hashes("t", policy(2)), "tenant_id must be TenantId"),
        (lambda s: s.count_done_hashes(T, "p"), "policy_hash must be PolicyHash"),
    ],
)
def test_ledger_argument_checks_run_before_the_lock(
    ledger: Store, call: Any, message: str
) -> None:
    """TH-6: a TypeError naming the argument, no op id consumed, the core stays usable."""
    with pytest.raises(TypeError, match=message):
        call(ledger)
    assert ledger.batch_upsert([]).op_id == PendingWriteId(1)
    assert ledger.pending_count() == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.upsert_batch([]), "batch must be FindingsUpsertBatch"),
        (lambda s: s.get_finding(T, "f"), "finding_id must be FindingId"),
        (lambda s: s.get_finding("t", "f"), "tenant_id must be TenantId"),
        (lambda s: s.get_occurrence("t", None), "tenant_id must be TenantId"),
        (lambda s: s.get_occurrence(T, "o"), "occurrence_id must be OccurrenceId"),
        (lambda s: s.get_observation(T, 1), "observation_id must be ObservationId"),
    ],
)
def test_sink_argument_checks_run_before_the_lock(sink: Store, call: Any, message: str) -> None:
    """TH-6 for the findings sink."""
    with pytest.raises(TypeError, match=message):
        call(sink)
    assert sink.upsert_batch(FindingsUpsertBatch()).op_id == PendingWriteId(1)


def test_pre_submit_checks_run_before_the_lock(sink: Store) -> None:
    """DBF-1: FS-3 (one tenant per batch) raises from ``upsert_batch`` itself, as the
    in-memory ``BatchValidation``, and consumes no op id."""
    f = finding_record(T, 0x20)
    other = dataclasses.replace(f, tenant_id=TenantId(fill(9)))
    with pytest.raises(BatchValidation) as info:
        sink.upsert_batch(FindingsUpsertBatch((f, other)))
    assert type(info.value) is BatchValidation
    assert info.value == BatchValidation(InconsistentTenant())
    assert sink.upsert_batch(FindingsUpsertBatch()).op_id == PendingWriteId(1)


def test_reads_of_absent_keys(sink: Store, ledger: Store) -> None:
    """DBL-8 / DBF-9: absent keys read as ``None`` (one per requested hash) or empty lists."""
    zero = bytes(32)
    assert sink.get_finding(T, FindingId(zero)) is None
    assert sink.get_occurrence(T, OccurrenceId(zero)) is None
    assert sink.get_observation(T, ObservationId(zero)) is None
    assert ledger.get_record(done_record(o=9).key) is None
    assert ledger.list_done_hashes(TenantId(zero), policy(2)) == []
    assert ledger.count_done_hashes(TenantId(zero), policy(2)) == 0
    assert ledger.batch_get(T, policy(2), [OvidHash(zero)] * 2) == [None, None]


# --- encoding limits (ENC-2..ENC-6) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "limit"),
    [
        ({"bytes_scanned": 2**63}, "bytes_scanned", I63),
        ({"findings_count": 2**31}, "findings_count", I31),
    ],
)
def test_done_ledger_values_out_of_range(
    ledger: Store, changes: dict[str, int], field: str, limit: int
) -> None:
    """ENC-2 / ENC-3 / ENC-6: stored by apply, raised by wait, naming the field and the
    position of the key's first record in the batch; nothing is written."""
    bad = dataclasses.replace(valid_done_record(5, SWF), **changes)
    handle = ledger.batch_upsert(
        [done_record(o=1), valid_done_record(5, SWF), done_record(o=2), bad]
    )
    with pytest.raises(ValueOutOfRange) as info:
        handle.wait(JOIN)
    value = next(iter(changes.values()))
    assert info.value == ValueOutOfRange(DL, field, 1, value, limit), "first record of key"
    assert f"{field} of record 1 is {value}, above the database limit {limit}" == str(info.value)
    assert ledger.snapshot() == []


@pytest.mark.parametrize("field", ["fence_epoch", "started_at", "finished_at"])
def test_done_ledger_provenance_out_of_range(ledger: Store, field: str) -> None:
    """ENC-2: provenance values beyond a signed 64-bit column."""
    record = done_record(o=1)
    provenance = dataclasses.replace(
        record.provenance,
        **{field: (FenceEpoch if field == "fence_epoch" else LogicalTime)(2**63)},
    )
    if field == "started_at":
        provenance = dataclasses.replace(provenance, finished_at=LogicalTime(2**63))
    handle = ledger.batch_upsert([dataclasses.replace(record, provenance=provenance)])
    with pytest.raises(ValueOutOfRange) as info:
        handle.wait(JOIN)
    assert (info.value.field, info.value.position) in {(field, 0), ("fence_epoch", 0)}
    assert ledger.snapshot() == []


def respan(o: OccurrenceRecord, offset: int) -> OccurrenceRecord:
    return OccurrenceRecord.new(o.tenant_id, o.finding_id, o.object_version_id, offset, 7)


def test_findings_values_out_of_range(sink: Store) -> None:
    """ENC-2 / ENC-4 / ENC-6: epochs, offsets, offset + length and times beyond the columns,
    named by field and position within their layer; nothing is written."""
    _, f, o, b = full_batch(T, seed=0x20)
    late_epoch = dataclasses.replace(b, fence_epoch=FenceEpoch(2**63))
    with pytest.raises(ValueOutOfRange) as info:
        sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (late_epoch,))).wait(JOIN)
    assert info.value == ValueOutOfRange(F, "fence_epoch", 0, 2**63, I63)
    for bad_occurrence, field in (
        (respan(o, 2**63), "byte_offset"),
        (respan(o, 2**63 - 2), "byte_offset + byte_length"),
    ):
        handle = sink.upsert_batch(FindingsUpsertBatch((f,), (o, bad_occurrence)))
        with pytest.raises(ValueOutOfRange, match=f"{field.replace('+', '[+]')} of record 1"):
            handle.wait(JOIN)
    late = dataclasses.replace(b, seen_at=LogicalTime(2**63))
    with pytest.raises(ValueOutOfRange) as info:
        sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (b, late))).wait(JOIN)
    assert (info.value.field, info.value.position) == ("seen_at", 1)
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)


def test_precedence_of_a_missing_parent_and_a_value_out_of_range(
    backend: Backend, sink: Store
) -> None:
    """ENC-6 with DBF-8 / SQ-7: one batch with an orphan observation and an occurrence
    beyond the columns. PostgreSQL replays the in-memory checks before encoding (DBF-8), so
    the in-memory error wins; SQLite encodes before its transaction and finds missing
    parents row by row inside it (SQ-7), so the encoding error wins. Nothing is written."""
    _, f, o, b = full_batch(T, seed=0x20)
    expected = ValueOutOfRange if backend.is_sqlite else MissingOccurrence
    with pytest.raises(expected):
        sink.upsert_batch(FindingsUpsertBatch((f,), (respan(o, 2**63),), (b,))).wait(JOIN)
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)


# --- errors (DBE-1, DBE-3, DBF-7) ------------------------------------------------------------


def test_dbe1_database_errors_module_hierarchy_equality_and_messages() -> None:
    """DBE-1: the database exceptions live in ``gossip_model.db.errors``; all but the
    migration errors are ``InMemoryPersistenceError``s; they compare by type and fields and
    carry the table's messages. (No store: this runs once.)"""
    stored = [
        (
            BatchTooLarge(F, "upsert_batch", 10001, 10000),
            "upsert_batch batch of 10001 records exceeds the limit of 10000",
        ),
        (
            ValueOutOfRange(DL, "bytes_scanned", 1, 2**63, I63),
            f"bytes_scanned of record 1 is {2**63}, above the database limit {I63}",
        ),
        (
            DatabaseBackendError(F, "upsert_batch", "SQLITE_BUSY", "findings", None),
            "findings database upsert_batch failed "
            "(code SQLITE_BUSY, table findings, constraint None)",
        ),
        (
            CorruptRow(DL, "done_ledger_entries", "status"),
            "stored done_ledger_entries row is invalid at column status",
        ),
    ]
    migration = [
        SchemaMigrationError("sqlite", "0001_findings_schema", "apply"),
        ChecksumMismatch("sqlite", "0001_findings_schema", "checksum"),
        CorruptedHistoryRecord("sqlite", "0001_findings_schema", "checksum"),
    ]
    for error, message in stored:
        assert type(error).__module__ == "gossip_model.db.errors"
        assert getattr(db_errors, type(error).__name__) is type(error)
        assert isinstance(error, InMemoryPersistenceError)
        assert str(error) == message
    for migration_error in migration:
        assert type(migration_error).__module__ == "gossip_model.db.errors"
        assert isinstance(migration_error, SchemaMigrationError)
        assert not isinstance(migration_error, InMemoryPersistenceError)
    assert str(migration[0]) == "sqlite migration 0001_findings_schema failed at apply"
    assert BatchTooLarge(F, "upsert_batch", 5, 4) == BatchTooLarge(F, "upsert_batch", 5, 4)
    assert BatchTooLarge(F, "upsert_batch", 5, 4) != BatchTooLarge(DL, "upsert_batch", 5, 4)
    assert migration[1] != migration[2]  # same fields, different type
    assert migration[1] == ChecksumMismatch("sqlite", "0001_findings_schema", "checksum")


def test_dbe1_a_stored_database_error_is_the_ops_result(ledger: Store) -> None:
    """DBE-1: wait() raises the stored database error; the core is not poisoned."""
    with pytest.raises(ValueOutOfRange):
        ledger.batch_upsert([done_record(o=3, bytes_scanned=2**63)]).wait(JOIN)
    assert ledger._core.poisoned is False
    assert ledger.batch_upsert([done_record(o=1)]).wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except InMemoryPersistenceError as error:
        return error


def test_dbe3_integrity_outcomes_are_the_in_memory_exceptions(ledger: Store, sink: Store) -> None:
    """DBE-3: FindingConflict, OccurrenceConflict, ObservationConflict, MissingFinding,
    MissingOccurrence and BatchValidation come out of the database stores as the in-memory
    classes, with the same fields and ERR-4 messages, from the same call."""
    t = tenant(4)
    full, finding, occurrence, observation = full_batch(t)
    forged_finding = FindingRecord(
        t,
        finding.finding_id,
        StableItemId(fill(0x99)),
        finding.rule_fingerprint,
        finding.secret_hash,
    )
    forged_occurrence = OccurrenceRecord(
        t,
        occurrence.occurrence_id,
        finding.finding_id,
        occurrence.object_version_id,
        999,
        occurrence.byte_length,
    )
    clash = observation_record(t, occurrence, 3, 41, 1, 1, 1, 10)
    orphan_occurrence = occurrence_record(t, finding_record(t, 40), 7, 0)
    orphan_observation = observation_record(t, orphan_occurrence, 3, 4, 1, 1, 1, 1)
    cases = [
        (
            FindingsUpsertBatch((forged_finding,)),
            FindingConflict(t, finding.finding_id),
            f"finding conflict for tenant {t!r}, finding {finding.finding_id!r}",
        ),
        (
            FindingsUpsertBatch(occurrences=(forged_occurrence,)),
            OccurrenceConflict(t, occurrence.occurrence_id),
            f"occurrence conflict for tenant {t!r}, occurrence {occurrence.occurrence_id!r}",
        ),
        (
            FindingsUpsertBatch(observations=(clash,)),
            ObservationConflict(t, observation.observation_id),
            f"observation conflict for tenant {t!r}, observation {observation.observation_id!r}",
        ),
        (
            FindingsUpsertBatch(occurrences=(orphan_occurrence,)),
            MissingFinding(t, orphan_occurrence.finding_id, orphan_occurrence.occurrence_id),
            f"occurrence {orphan_occurrence.occurrence_id!r} for tenant {t!r} references "
            f"missing finding {orphan_occurrence.finding_id!r}",
        ),
        (
            FindingsUpsertBatch(observations=(orphan_observation,)),
            MissingOccurrence(
                t, orphan_occurrence.occurrence_id, orphan_observation.observation_id
            ),
            f"observation {orphan_observation.observation_id!r} for tenant {t!r} references "
            f"missing occurrence {orphan_occurrence.occurrence_id!r}",
        ),
    ]
    reference = InMemoryFindingsSink()
    for store in (reference, sink):
        assert store.upsert_batch(full).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    for bad, expected, message in cases:
        handles = [reference.upsert_batch(bad), sink.upsert_batch(bad)]  # accepted by both
        want, got = (_outcome(lambda h=h: h.wait(JOIN)) for h in handles)
        assert want == expected
        assert type(got) is type(expected)
        assert got == expected
        assert str(got) == message == str(want)
    assert sink.durable_counts() == reference.durable_counts()
    # BatchValidation: from upsert_batch itself for the sink, from wait() for the ledger.
    mixed = FindingsUpsertBatch((finding, finding_record(tenant(5), 10)))
    for store in (reference, sink):
        with pytest.raises(BatchValidation) as info:
            store.upsert_batch(mixed)
        assert type(info.value) is BatchValidation
        assert info.value == BatchValidation(InconsistentTenant())
    invalid = done_record(o=3, status=FR, bytes_scanned=1)
    for done_store in (InMemoryDoneLedger(), ledger):
        handle = done_store.batch_upsert([invalid])
        with pytest.raises(BatchValidation) as validation:
            handle.wait(JOIN)
        assert type(validation.value) is BatchValidation
        assert validation.value == BatchValidation(MissingErrorCode(FR))
        assert str(validation.value) == str(MissingErrorCode(FR))


def tampered_finding(record: FindingRecord, byte: int) -> FindingRecord:
    return dataclasses.replace(record, finding_id=FindingId(fill(byte)))


def tampered_occurrence(record: OccurrenceRecord, byte: int) -> OccurrenceRecord:
    return dataclasses.replace(record, occurrence_id=OccurrenceId(fill(byte)))


def test_natural_key_violations_map_to_conflicts(sink: Store) -> None:
    """DBF-7 (open point, recommended choice): a natural key held under another id, stored
    or earlier in the same batch, is a conflict naming the id being written."""
    _, f, o, _ = full_batch(T, seed=0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,))).wait(JOIN)
    stored_twin = tampered_finding(f, 0xA1)
    with pytest.raises(FindingConflict) as info:
        sink.upsert_batch(FindingsUpsertBatch((stored_twin,))).wait(JOIN)
    assert info.value == FindingConflict(T, stored_twin.finding_id)
    g = finding_record(T, 0x40)
    first, second = tampered_finding(g, 0xB1), tampered_finding(g, 0xB2)
    with pytest.raises(FindingConflict) as info:
        sink.upsert_batch(FindingsUpsertBatch((first, second))).wait(JOIN)
    assert info.value == FindingConflict(T, second.finding_id), "in-batch twin"
    occurrence_twin = tampered_occurrence(o, 0xC1)
    with pytest.raises(OccurrenceConflict) as occurrence_conflict:
        sink.upsert_batch(FindingsUpsertBatch((), (occurrence_twin,))).wait(JOIN)
    assert occurrence_conflict.value == OccurrenceConflict(T, occurrence_twin.occurrence_id)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 0)
