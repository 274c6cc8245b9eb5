"""SQLite-only edges of the store core (DT-9, SQ-5, SQ-7, SQ-8, CONF-R1..R3).

The behaviours both database backends share run once per backend in
``tests/db/test_store_core.py``; this module keeps what only SQLite has: the
statements of one ``BEGIN IMMEDIATE`` transaction (seen with a
``set_trace_callback`` statement counter), private ``:memory:`` databases, the
constructor arguments, SQLite's ways of provoking every database error for the
reveal test (no error's ``str``/``repr`` contains a batch's 32-byte values in
hex), and the row-by-row findings apply.
"""

from __future__ import annotations

from typing import Any

import pytest

from gossip_model.db.errors import (
    BatchTooLarge,
    ChecksumMismatch,
    CorruptRow,
    DatabaseBackendError,
    ValueOutOfRange,
)
from gossip_model.identity import StableItemId
from gossip_model.inmemory import (
    CompletionOrder,
    FindingConflict,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    OccurrenceRecord,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from tests.builders import (
    done_record,
    fill,
    finding_record,
    full_batch,
    observation_record,
    occurrence_record,
    tenant,
)

from .conftest import JOIN, StatementCounter, connection_of

F = InMemoryStoreKind.FINDINGS
NEWEST = CompletionOrder.NEWEST_FIRST


def test_one_batch_is_one_immediate_transaction_of_three_statements(
    ledger: SqliteDoneLedger,
) -> None:
    """SQ-5 / FC-6: auto-complete runs ``BEGIN IMMEDIATE``, the one upsert, ``COMMIT`` before
    the call returns; a delayed op sends exactly those three when released."""
    counter = StatementCounter(connection_of(ledger))
    ledger.batch_upsert([done_record(o=1)])
    assert counter.statements[0] == "BEGIN IMMEDIATE"
    assert "INSERT INTO done_ledger_entries" in counter.statements[1]
    assert counter.statements[-1] == "COMMIT"
    assert counter.count == 2 + 1
    ledger.set_auto_complete(False)
    handle = ledger.batch_upsert([done_record(o=2)])
    counter.statements.clear()
    assert ledger.release_next(NEWEST) == handle.op_id
    assert counter.count == 2 + 1
    assert handle.wait(JOIN) == DoneLedgerCommitReceipt(1, 1, 0)


def test_memory_stores_are_private(ledger: SqliteDoneLedger, sink: SqliteFindingsSink) -> None:
    """SQ-8: separately built ``:memory:`` stores share nothing; the reprs say ``:memory:``."""
    ledger.batch_upsert([done_record(o=1)]).wait(JOIN)
    other = SqliteDoneLedger()
    assert other.snapshot() == []
    connection_of(other).close()
    assert repr(ledger) == (
        "SqliteDoneLedger(database=':memory:', pending_ops=0, auto_complete=True)"
    )
    assert repr(sink) == (
        "SqliteFindingsSink(database=':memory:', pending_ops=0, auto_complete=True)"
    )
    assert repr(ledger._core.durable) == "SqliteDatabase(kind=DONE_LEDGER, database=':memory:')"


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
    """TH-6: the SQLite constructor's own arguments."""
    with pytest.raises(error):
        factory(**kwargs)


# --- the reveal test (DT-9, CONF-R1..R3) --------------------------------------------------


def revealing_errors(db_path: str) -> tuple[list[Exception], list[bytes]]:
    """Provoke every database error with a batch, and return the errors and its values."""
    full, f, o, b = full_batch(tenant(0xAB))
    values = [
        bytes(v)
        for v in (
            tenant(0xAB),
            f.finding_id,
            f.stable_item_id,
            f.rule_fingerprint,
            f.secret_hash,
            o.occurrence_id,
            o.object_version_id,
            b.observation_id,
            b.policy_hash,
            b.ovid_hash,
        )
    ]
    errors: list[Exception] = []
    sink = SqliteFindingsSink(db_path, timeout=0.01)
    sink.upsert_batch(full).wait(JOIN)
    connection = connection_of(sink)
    # A natural-key clash under another id: the driver text names the key columns.
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("UPDATE findings SET finding_id = zeroblob(32)")
    connection.execute("PRAGMA foreign_keys=ON")
    try:
        sink.upsert_batch(FindingsUpsertBatch((f,))).wait(JOIN)
    except Exception as error:
        errors.append(error)
    blocker = SqliteFindingsSink(db_path)
    connection_of(blocker).execute("BEGIN IMMEDIATE")
    try:
        sink.upsert_batch(full).wait(JOIN)
    except DatabaseBackendError as error:
        errors.append(error)
    connection_of(blocker).execute("ROLLBACK")
    connection_of(blocker).close()
    huge = OccurrenceRecord.new(tenant(0xAB), f.finding_id, o.object_version_id, 2**63, 1)
    try:
        sink.upsert_batch(FindingsUpsertBatch((f,), (huge,))).wait(JOIN)
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
        t, f1.finding_id, StableItemId(fill(0x99)), f1.rule_fingerprint, f1.secret_hash
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
