"""DT-9 / FC-1..FC-6: the generic core's controls over the SQLite backend.

Delayed completion, release orders, commit faults in release order (proved to
send no SQL with a ``set_trace_callback`` statement counter), wait timeouts,
clones, poisoning, argument checks, and the reveal test: no database error's
``str``/``repr`` contains a batch's 32-byte values in hex.
"""

from __future__ import annotations

import copy
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
from gossip_model.identity import FenceEpoch, LogicalTime, OvidHash, StableItemId
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
from gossip_model.sqlite import (
    SqliteDoneLedger,
    SqliteDoneLedgerHandle,
    SqliteFindingsHandle,
    SqliteFindingsSink,
)
from tests.inmemory.builders import (
    FR,
    SC,
    SWF,
    done_record,
    fill32,
    finding_record,
    full_batch,
    observation_record,
    occurrence_record,
    policy,
    tenant,
)

from .conftest import JOIN, StatementCounter, connection_of

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS
OLDEST = CompletionOrder.OLDEST_FIRST
NEWEST = CompletionOrder.NEWEST_FIRST


def rec(o: int = 1, status: Any = SC, nbytes: int = 10) -> Any:
    return done_record(1, 2, o, status, nbytes, 1 if status is SWF else 0)


def test_delayed_write_sends_no_sql_until_released(ledger: SqliteDoneLedger) -> None:
    """FC-2: a delayed op keeps its payload in memory; reads never see it."""
    ledger.set_auto_complete(False)
    counter = StatementCounter(connection_of(ledger))
    handle = ledger.batch_upsert([rec(1)])
    assert isinstance(handle, SqliteDoneLedgerHandle)
    assert counter.count == 0
    assert ledger.pending_ids() == [handle.op_id]
    assert ledger.snapshot() == []
    with pytest.raises(TimeoutError):
        handle.wait(0.01)
    assert ledger.release_specific(handle.op_id) is True
    assert any("INSERT INTO done_ledger_entries" in s for s in counter.statements)
    assert handle.wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)
    assert ledger.snapshot() == [rec(1)]


def test_auto_complete_commits_before_submit_returns(ledger: SqliteDoneLedger) -> None:
    """FC-6: in auto-complete mode the transaction has committed when the call returns."""
    counter = StatementCounter(connection_of(ledger))
    ledger.batch_upsert([rec(1)])
    assert counter.statements[0] == "BEGIN IMMEDIATE"
    assert counter.statements[-1] == "COMMIT"
    assert ledger.get_record(rec(1).key) == rec(1)


def test_commit_fault_in_release_order_sends_no_sql(ledger: SqliteDoneLedger) -> None:
    """DT-9 / FC-4 / ST-10(b): with NEWEST_FIRST the newest op fails, without any SQL."""
    ledger.set_auto_complete(False)
    oldest = ledger.batch_upsert([rec(1)])
    newest = ledger.batch_upsert([rec(2)])
    ledger.fail_next_commits(1)
    counter = StatementCounter(connection_of(ledger))
    assert ledger.release_next(NEWEST) == newest.op_id
    assert counter.count == 0
    with pytest.raises(InjectedCommitFailure) as info:
        newest.wait(JOIN)
    assert info.value == InjectedCommitFailure(DL)
    assert ledger.release_next(NEWEST) == oldest.op_id
    assert counter.count == 2 + 1  # BEGIN IMMEDIATE, the upsert, COMMIT
    assert oldest.wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)
    assert ledger.snapshot() == [rec(1)]


def test_commit_fault_on_findings_sends_no_sql(sink: SqliteFindingsSink) -> None:
    batch = full_batch(tenant(4))[0]
    sink.fail_next_commits(1)
    counter = StatementCounter(connection_of(sink))
    with pytest.raises(InjectedCommitFailure):
        sink.upsert_batch(batch).wait(JOIN)
    assert counter.statements == []
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)


def test_validation_failure_and_empty_batch_send_no_sql(ledger: SqliteDoneLedger) -> None:
    """DBL-2 steps 2 and 5: validation precedes SQL; an empty batch needs none."""
    counter = StatementCounter(connection_of(ledger))
    invalid = done_record(1, 2, 3, FR, 1)  # failure without an error code
    with pytest.raises(BatchValidation) as info:
        ledger.batch_upsert([rec(1), invalid]).wait(JOIN)
    assert info.value == BatchValidation(MissingErrorCode(FR))
    assert ledger.batch_upsert([]).wait(JOIN) == DoneLedgerCommitReceipt(0, 0, 0)
    sink = SqliteFindingsSink()
    sink_counter = StatementCounter(connection_of(sink))
    assert sink.upsert_batch(FindingsUpsertBatch()).wait(JOIN) == FindingsCommitReceipt(0, 0, 0)
    assert counter.statements == []
    assert sink_counter.statements == []
    connection_of(sink).close()


def test_release_all_orders_and_data_dependencies(sink: SqliteFindingsSink) -> None:
    """FC-3 / ST-16: NEWEST_FIRST applies an observation-only batch before its parents."""
    _batch, finding, occurrence, observation = full_batch(tenant(4))
    sink.set_auto_complete(False)
    parents = sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,)))
    child = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    assert isinstance(child, SqliteFindingsHandle)
    assert sink.release_all(NEWEST) == 2
    with pytest.raises(MissingOccurrence):
        child.wait(JOIN)
    assert parents.wait(JOIN) == FindingsCommitReceipt(1, 1, 0)
    again = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    assert sink.release_all(OLDEST) == 1
    assert again.wait(JOIN) == FindingsCommitReceipt(0, 0, 1)
    assert sink.observations_snapshot() == [observation]


def test_waiter_blocks_until_another_thread_releases(ledger: SqliteDoneLedger) -> None:
    """ST-20 over SQLite: wait sleeps on the core's condition, a release wakes it."""
    ledger.delay_next_writes(1)
    handle = ledger.batch_upsert([rec(5)])
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


def test_clones_share_connection_counters_and_ids(ledger: SqliteDoneLedger) -> None:
    """ST-3 / FC-6: clones share one core, hence one connection and one id sequence."""
    twin = copy.copy(ledger)
    assert connection_of(twin) is connection_of(ledger)
    twin.fail_next_submissions(1)
    with pytest.raises(Exception, match="submission failed via fault injection"):
        ledger.batch_upsert([rec(1)])
    assert twin.batch_upsert([rec(1)]).op_id == PendingWriteId(1)
    assert ledger.snapshot() == twin.snapshot() == [rec(1)]
    with pytest.raises(TypeError, match="clone"):
        copy.deepcopy(ledger)
    other = SqliteDoneLedger()
    assert other.snapshot() == []  # SQ-8: separately built :memory: stores share nothing
    connection_of(other).close()


def test_bug_in_apply_poisons_the_core_and_rolls_back(
    ledger: SqliteDoneLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TH-3 / FC-5: a non-persistence exception mid-transaction rolls back, then poisons."""
    import gossip_model.sqlite.done_ledger as module

    def broken(tx: Any, rows: Any) -> None:
        tx.executemany(module.TABLE, module.UPSERT_SQL, rows)
        raise RuntimeError("bug")

    monkeypatch.setattr(module, "_upsert", broken)
    with pytest.raises(RuntimeError, match="bug"):
        ledger.batch_upsert([rec(1)])
    assert not connection_of(ledger).in_transaction
    assert connection_of(ledger).execute(
        "SELECT count(*) FROM done_ledger_entries"
    ).fetchone() == (0,)
    with pytest.raises(Poisoned):
        ledger.snapshot()
    assert repr(ledger) == "SqliteDoneLedger(<poisoned>)"


def test_reprs(ledger: SqliteDoneLedger, sink: SqliteFindingsSink) -> None:
    ledger.set_auto_complete(False)
    handle = ledger.batch_upsert([rec(1)])
    assert repr(ledger) == (
        "SqliteDoneLedger(database=':memory:', pending_ops=1, auto_complete=False)"
    )
    assert repr(handle) == "SqliteDoneLedgerHandle(op_id=PendingWriteId(1))"
    assert repr(sink) == (
        "SqliteFindingsSink(database=':memory:', pending_ops=0, auto_complete=True)"
    )
    assert repr(ledger._core.durable) == "SqliteDatabase(kind=DONE_LEDGER, database=':memory:')"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.batch_upsert(rec(1)), "single DoneLedgerRecord"),
        (lambda s: s.batch_upsert([rec(1), "x"]), r"records\[1\] must be DoneLedgerRecord"),
        (lambda s: s.batch_get("t", policy(2), []), "tenant_id must be TenantId"),
        (lambda s: s.batch_get(tenant(1), "p", []), "policy_hash must be PolicyHash"),
        (lambda s: s.batch_get(tenant(1), policy(2), [b"x"]), r"ovid_hashes\[0\]"),
        (lambda s: s.get_record("k"), "key must be DoneLedgerKey"),
        (lambda s: s.list_done_hashes(tenant(1), "p"), "policy_hash must be PolicyHash"),
        (lambda s: s.count_done_hashes("t", policy(2)), "tenant_id must be TenantId"),
    ],
)
def test_ledger_argument_checks_run_before_the_lock(
    ledger: SqliteDoneLedger, call: Any, message: str
) -> None:
    """TH-6: TypeError, no op id consumed, the core stays usable."""
    with pytest.raises(TypeError, match=message):
        call(ledger)
    assert ledger.batch_upsert([]).op_id == PendingWriteId(1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.upsert_batch([]), "batch must be FindingsUpsertBatch"),
        (lambda s: s.get_finding(tenant(1), "f"), "finding_id must be FindingId"),
        (lambda s: s.get_occurrence("t", None), "tenant_id must be TenantId"),
        (lambda s: s.get_observation(tenant(1), 1), "observation_id must be ObservationId"),
    ],
)
def test_sink_argument_checks_run_before_the_lock(
    sink: SqliteFindingsSink, call: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        call(sink)
    assert sink.upsert_batch(FindingsUpsertBatch()).op_id == PendingWriteId(1)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"database": 3}, TypeError),
        ({"timeout": "5"}, TypeError),
        ({"timeout": True}, TypeError),
        ({"timeout": -1}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"synchronous": 2}, TypeError),
        ({"synchronous": "FAST"}, ValueError),
        ({"migrate": 1}, TypeError),
        ({"auto_complete": None}, TypeError),
    ],
)
@pytest.mark.parametrize("factory", [SqliteDoneLedger, SqliteFindingsSink])
def test_constructor_argument_checks(factory: Any, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        factory(**kwargs)


# --- the reveal test (DT-9, CONF-R1..R3) --------------------------------------------------


def revealing_errors(db_path: str) -> tuple[list[Exception], list[bytes]]:
    """Provoke every database error with a batch, and return the errors and its values."""
    batch, finding, occurrence, observation = full_batch(tenant(0xAB))
    values = [
        bytes(v)
        for v in (
            tenant(0xAB),
            finding.finding_id,
            finding.stable_item_id,
            finding.rule_fingerprint,
            finding.secret_hash,
            occurrence.occurrence_id,
            occurrence.object_version_id,
            observation.observation_id,
            observation.policy_hash,
            observation.ovid_hash,
        )
    ]
    errors: list[Exception] = []
    sink = SqliteFindingsSink(db_path, timeout=0.01)
    sink.upsert_batch(batch).wait(JOIN)
    connection = connection_of(sink)
    # A natural-key clash under another id: the driver text names the key columns.
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("UPDATE findings SET finding_id = zeroblob(32)")
    connection.execute("PRAGMA foreign_keys=ON")
    try:
        sink.upsert_batch(FindingsUpsertBatch((finding,))).wait(JOIN)
    except Exception as error:
        errors.append(error)
    blocker = SqliteFindingsSink(db_path)
    connection_of(blocker).execute("BEGIN IMMEDIATE")
    try:
        sink.upsert_batch(batch).wait(JOIN)
    except DatabaseBackendError as error:
        errors.append(error)
    connection_of(blocker).execute("ROLLBACK")
    connection_of(blocker).close()
    huge = OccurrenceRecord.new(
        tenant(0xAB), finding.finding_id, occurrence.object_version_id, 2**63, 1
    )
    try:
        sink.upsert_batch(FindingsUpsertBatch((finding,), (huge,))).wait(JOIN)
    except ValueOutOfRange as error:
        errors.append(error)
    connection.execute("PRAGMA ignore_check_constraints=ON")
    connection.execute("UPDATE occurrences SET byte_length = 0")
    try:
        sink.occurrences_snapshot()
    except CorruptRow as error:
        errors.append(error)
    errors.append(BatchTooLarge(F, "upsert_batch", 10_001, 10_000))
    errors.append(ChecksumMismatch("sqlite", "0001_findings_schema", "checksum"))
    connection.close()
    return errors, values


def test_database_errors_never_reveal_batch_values(db_path: str) -> None:
    errors, values = revealing_errors(db_path)
    kinds = {type(error).__name__ for error in errors}
    assert kinds >= {"DatabaseBackendError", "ValueOutOfRange", "CorruptRow", "FindingConflict"}
    for error in errors:
        for rendering in (str(error), repr(error)):
            lowered = rendering.lower()
            for value in values:
                assert value.hex() not in lowered, f"{type(error).__name__} reveals a value"
                assert value.hex()[:16] not in lowered
        assert error.__suppress_context__ or error.__cause__ is None


def test_value_out_of_range_names_field_and_position(ledger: SqliteDoneLedger) -> None:
    """ENC-2, ENC-3, ENC-6: stored by apply, raised by wait, nothing written."""
    big = done_record(1, 2, 3, SC, 2**63)
    with pytest.raises(ValueOutOfRange) as info:
        ledger.batch_upsert([rec(1), big]).wait(JOIN)
    assert info.value == ValueOutOfRange(DL, "bytes_scanned", 1, 2**63, 2**63 - 1)
    many = done_record(1, 2, 3, SWF, 1, 2**31)
    with pytest.raises(ValueOutOfRange, match="findings_count of record 0"):
        ledger.batch_upsert([many]).wait(JOIN)
    assert ledger.snapshot() == []


def test_findings_values_out_of_range(sink: SqliteFindingsSink) -> None:
    _batch, finding, occurrence, observation = full_batch(tenant(4))
    late = observation.__class__.new(
        tenant(4),
        observation.occurrence_id,
        observation.policy_hash,
        OvidHash(bytes(observation.ovid_hash)),
        observation.run_id,
        observation.shard_id,
        FenceEpoch(2**63),
        LogicalTime(1),
    )
    with pytest.raises(ValueOutOfRange) as info:
        sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,), (late,))).wait(JOIN)
    assert info.value == ValueOutOfRange(F, "fence_epoch", 0, 2**63, 2**63 - 1)
    span = OccurrenceRecord.new(
        tenant(4), finding.finding_id, occurrence.object_version_id, 2**63 - 2, 1
    )
    with pytest.raises(ValueOutOfRange, match="byte_offset \\+ byte_length of record 1"):
        sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence, span))).wait(JOIN)
    assert sink.durable_counts().findings == 0


# --- errors (DBE-1, DBE-3) ------------------------------------------------------------------


def test_dbe1_database_errors_module_hierarchy_equality_and_messages(
    ledger: SqliteDoneLedger,
) -> None:
    """DBE-1: the new exceptions live in ``gossip_model.db.errors``; all but the migration
    errors are ``InMemoryPersistenceError``s (stored as the op's result, no poisoning);
    they compare by type and fields and carry the table's messages."""
    stored = [
        (
            BatchTooLarge(F, "upsert_batch", 10001, 10000),
            "upsert_batch batch of 10001 records exceeds the limit of 10000",
        ),
        (
            ValueOutOfRange(DL, "bytes_scanned", 1, 2**63, 2**63 - 1),
            f"bytes_scanned of record 1 is {2**63}, above the database limit {2**63 - 1}",
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
    # Equality by type and fields.
    assert BatchTooLarge(F, "upsert_batch", 5, 4) == BatchTooLarge(F, "upsert_batch", 5, 4)
    assert BatchTooLarge(F, "upsert_batch", 5, 4) != BatchTooLarge(DL, "upsert_batch", 5, 4)
    assert migration[1] != migration[2]  # same fields, different type
    assert migration[1] == ChecksumMismatch("sqlite", "0001_findings_schema", "checksum")
    # A stored database error is the op's result: wait() raises it, nothing poisons.
    with pytest.raises(ValueOutOfRange):
        ledger.batch_upsert([done_record(1, 2, 3, SC, 2**63)]).wait(JOIN)
    assert ledger._core.poisoned is False
    assert ledger.batch_upsert([rec(1)]).wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except InMemoryPersistenceError as error:
        return error


def test_dbe3_integrity_outcomes_are_the_in_memory_exceptions(
    ledger: SqliteDoneLedger, sink: SqliteFindingsSink
) -> None:
    """DBE-3: FindingConflict, OccurrenceConflict, ObservationConflict, MissingFinding,
    MissingOccurrence and BatchValidation come out of the SQLite stores as the in-memory
    classes, with the same fields and ERR-4 messages, from the same call."""
    t = tenant(4)
    batch, finding, occurrence, observation = full_batch(t)
    forged_finding = FindingRecord(
        t,
        finding.finding_id,
        StableItemId(fill32(0x99)),
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
        assert store.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
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
    invalid = done_record(1, 2, 3, FR, 1)
    for done_store in (InMemoryDoneLedger(), ledger):
        handle = done_store.batch_upsert([invalid])
        with pytest.raises(BatchValidation) as info:
            handle.wait(JOIN)
        assert type(info.value) is BatchValidation
        assert info.value == BatchValidation(MissingErrorCode(FR))
        assert str(info.value) == str(MissingErrorCode(FR))


# --- findings apply, row by row (SQ-7) -----------------------------------------------------


def _kinds(statements: list[str]) -> list[str]:
    """``BEGIN IMMEDIATE`` / ``COMMIT`` / ``ROLLBACK`` as is; else the verb and the table."""
    kinds = []
    for statement in statements:
        words = statement.split()
        if words[0] in ("INSERT", "DELETE"):
            kinds.append(f"{words[0]} {words[2]}")
        elif words[0] == "SELECT":
            kinds.append(f"SELECT {words[words.index('FROM') + 1]}")
        else:
            kinds.append(statement.strip())
    return kinds


def test_sq7_findings_apply_row_by_row_in_one_immediate_transaction(
    sink: SqliteFindingsSink,
) -> None:
    """SQ-7: one ``BEGIN IMMEDIATE``; one statement per record, layer by layer in input
    order; findings and occurrences ``ON CONFLICT ... DO NOTHING`` and, when nothing was
    inserted, compared with the stored row; one merge upsert per observation, a refused
    one being ``ObservationConflict``; foreign-key failures name the record being written;
    any error rolls the whole batch back."""
    t = tenant(6)
    _, f1, o1, b1 = full_batch(t, seed=10)
    _, f2, o2, b2 = full_batch(t, seed=40)
    batch = FindingsUpsertBatch((f1, f2), (o1, o2), (b1, b2))
    counter = StatementCounter(connection_of(sink))
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(2, 2, 2)
    writes = [k for k in _kinds(counter.statements) if not k.startswith("SELECT")]
    assert writes == [
        "BEGIN IMMEDIATE",
        "INSERT findings",
        "INSERT findings",
        "INSERT occurrences",
        "INSERT occurrences",
        "INSERT observations",
        "INSERT observations",
        "COMMIT",
    ]
    flat = [" ".join(s.split()) for s in counter.statements]
    inserts = [s for s in flat if s.startswith("INSERT")]
    assert all(s.endswith("ON CONFLICT (tenant_id, finding_id) DO NOTHING") for s in inserts[:2])
    assert all(
        s.endswith("ON CONFLICT (tenant_id, occurrence_id) DO NOTHING") for s in inserts[2:4]
    )
    assert all("ON CONFLICT (tenant_id, observation_id) DO UPDATE" in s for s in inserts[4:])
    # A replay inserts nothing: each finding and occurrence is compared with its stored row.
    counter.statements.clear()
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(2, 2, 2)
    kinds = _kinds(counter.statements)
    assert kinds.count("SELECT findings") >= 2
    assert kinds.count("SELECT occurrences") >= 2
    assert kinds[0] == "BEGIN IMMEDIATE"
    assert kinds[-1] == "COMMIT"
    assert kinds.count("BEGIN IMMEDIATE") == 1
    assert sink.durable_counts().observations == 2
    # A stored finding with other content: FindingConflict, rolled back, nothing written.
    forged = FindingRecord(
        t, f1.finding_id, StableItemId(fill32(0x99)), f1.rule_fingerprint, f1.secret_hash
    )
    f3 = finding_record(t, 70)
    counter.statements.clear()
    with pytest.raises(FindingConflict):
        sink.upsert_batch(FindingsUpsertBatch((f3, forged))).wait(JOIN)
    assert _kinds(counter.statements)[-1] == "ROLLBACK"
    assert "COMMIT" not in _kinds(counter.statements)
    assert sink.get_finding(t, f3.finding_id) is None
    # A refused observation upsert (identity differs: ovid 41) is ObservationConflict.
    clash = observation_record(t, o1, 3, 41, 9, 9, 9, 999)
    assert clash.observation_id == b1.observation_id
    with pytest.raises(ObservationConflict) as conflict:
        sink.upsert_batch(FindingsUpsertBatch((f3,), observations=(clash,))).wait(JOIN)
    assert conflict.value == ObservationConflict(t, b1.observation_id)
    assert sink.get_observation(t, b1.observation_id) == b1
    assert sink.get_finding(t, f3.finding_id) is None
    # Missing parents name the first record in input order whose parent is absent.
    orphan_a = occurrence_record(t, finding_record(t, 90), 7, 0)
    orphan_b = occurrence_record(t, finding_record(t, 91), 8, 0)
    with pytest.raises(MissingFinding) as missing:
        sink.upsert_batch(FindingsUpsertBatch((f3,), (o1, orphan_a, orphan_b))).wait(JOIN)
    assert missing.value == MissingFinding(t, orphan_a.finding_id, orphan_a.occurrence_id)
    lost = observation_record(t, orphan_b, 3, 4, 1, 1, 1, 1)
    with pytest.raises(MissingOccurrence) as missing_occurrence:
        sink.upsert_batch(FindingsUpsertBatch(observations=(b2, lost))).wait(JOIN)
    assert missing_occurrence.value == MissingOccurrence(
        t, orphan_b.occurrence_id, lost.observation_id
    )
    assert sink.durable_counts() == DurableFindingsCounts(2, 2, 2)
    assert sink.get_finding(t, f3.finding_id) is None
