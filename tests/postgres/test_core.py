"""PostgreSQL-only edges of the store core (DT-9, PG-1..PG-3, DBF-3..DBF-5, DBL-7).

The behaviours both database backends share run once per backend in
``tests/db/test_store_core.py``; this module keeps what only PostgreSQL has:

* ``str()`` / ``repr()`` of a driver error whose DETAIL quotes a key leak none
  of the batch's 32-byte values (CONF-R1..R3, DBE-2).
* Corrupt rows behind dropped constraints (DBL-7, ENC-1, ENC-5), reconnection
  and connect failures (PG-2), ``prepare_threshold`` (PG-3), conninfo checks.
* The defence-in-depth mappings of DBF-3 / DBF-4 / DBF-5 / DBF-7 that the
  in-memory replay (DBF-8) normally pre-empts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg
import pytest

from gossip_model.db.errors import BatchTooLarge, CorruptRow, DatabaseBackendError
from gossip_model.identity import FindingId, OvidHash
from gossip_model.inmemory import (
    FindingConflict,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.inmemory import findings as inmemory_findings
from gossip_model.persistence import FindingRecord, FindingsCommitReceipt, FindingsUpsertBatch
from gossip_model.persistence.conformance import find_leak
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres.connection import PgConnection, normalise_conninfo
from gossip_model.postgres.findings import build_plan, explain_violation, write_plan
from tests.builders import FP, SWF, fill, full_batch, ovid, policy, tenant, valid_done_record

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]
DONE = InMemoryStoreKind.DONE_LEDGER
TENANT, POLICY = tenant(), policy()


# --- redaction (CONF-R1..R3 over database errors) ----------------------------------------------


def values_of(batch: FindingsUpsertBatch) -> set[bytes]:
    found: set[bytes] = set()
    for record in (*batch.findings, *batch.occurrences, *batch.observations):
        for value in dataclasses.astuple(record):
            raw = getattr(value, "raw", value)
            if isinstance(raw, bytes) and len(raw) == 32:
                found.add(raw)
    return found


def assert_no_leak(error: BaseException, values: set[bytes]) -> None:
    for rendering in (str(error), repr(error)):
        for value in values:
            assert find_leak(rendering, value) is None, (type(error).__name__, rendering)
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def tampered_finding(record: FindingRecord, byte: int) -> FindingRecord:
    return dataclasses.replace(record, finding_id=FindingId(fill(byte)))


def test_database_errors_render_without_batch_values(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    _, f, o, b = full_batch(TENANT, seed=0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,))).wait(1)
    # A row holding b's natural key under another id: 23505 on observations_natural_unique,
    # whose DETAIL line quotes the key; only code, table and constraint may surface.
    raw.execute(
        "INSERT INTO observations VALUES (%s, %s, %s, %s, %s, 0, 0, 0, 0, NULL, NULL)",
        (TENANT.raw, fill(0xEE), o.occurrence_id.raw, b.policy_hash.raw, b.ovid_hash.raw),
    )
    full = FindingsUpsertBatch((f,), (o,), (b,))
    with pytest.raises(DatabaseBackendError) as excinfo:
        sink.upsert_batch(full).wait(1)
    error = excinfo.value
    assert (error.code, error.table, error.constraint) == (
        "23505",
        "observations",
        "observations_natural_unique",
    )
    assert str(error) == (
        "findings database upsert_batch failed "
        "(code 23505, table observations, constraint observations_natural_unique)"
    )
    assert_no_leak(error, values_of(full))
    errors: list[BaseException] = [error]
    conflict = FindingsUpsertBatch((tampered_finding(f, 0xAB),))
    with pytest.raises(FindingConflict) as finding_conflict:
        sink.upsert_batch(conflict).wait(1)
    errors.append(finding_conflict.value)
    with pytest.raises(BatchTooLarge) as too_large:
        sink.upsert_batch(FindingsUpsertBatch((f,) * 10_001))
    errors.append(too_large.value)
    for err in errors:
        assert_no_leak(err, values_of(full) | values_of(conflict))


# --- corrupt rows (DBL-7, ENC-1, ENC-5) ----------------------------------------------------------


def test_corrupt_done_ledger_rows(ledger: PostgresDoneLedger, raw: Conn) -> None:
    ledger.batch_upsert([valid_done_record(1, FP)]).wait(1)
    raw.execute("UPDATE done_ledger_entries SET error_code = 'BAD*CODE'")
    for read in (
        ledger.snapshot,
        lambda: ledger.batch_get(TENANT, POLICY, [ovid(1)]),
        lambda: ledger.get_record(valid_done_record(1, SWF).key),
    ):
        with pytest.raises(CorruptRow) as excinfo:
            read()
        assert excinfo.value == CorruptRow(DONE, "done_ledger_entries", "error_code")
    raw.execute(
        "ALTER TABLE done_ledger_entries DROP CONSTRAINT done_ledger_entries_ovid_hash_check"
    )
    raw.execute("UPDATE done_ledger_entries SET ovid_hash = %s", (b"\x01" * 31,))
    with pytest.raises(CorruptRow) as excinfo:
        ledger.list_done_hashes(TENANT, POLICY)
    assert excinfo.value.column == "ovid_hash"
    assert ledger.count_done_hashes(TENANT, POLICY) == 1


def test_corrupt_findings_rows_fail_reads_and_writes(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    full = full_batch(TENANT, seed=0x20)[0]
    sink.upsert_batch(full).wait(1)
    raw.execute("ALTER TABLE findings DROP CONSTRAINT findings_secret_hash_len_ck")
    raw.execute("UPDATE findings SET secret_hash = %s", (b"\x01" * 31,))
    with pytest.raises(CorruptRow) as excinfo:
        sink.findings_snapshot()
    assert (excinfo.value.table, excinfo.value.column) == ("findings", "secret_hash")
    with pytest.raises(CorruptRow):
        sink.upsert_batch(full).wait(1)  # DBF-8 reads the stored row first
    assert sink.occurrences_snapshot() == list(full.occurrences)


# --- reconnection, close, poisoning (PG-2, FC-5) ------------------------------------------------


def test_reconnects_after_the_server_drops_the_connection(
    ledger: PostgresDoneLedger, raw: Conn
) -> None:
    ledger.batch_upsert([valid_done_record(1, SWF)]).wait(1)
    pid = ledger._core.durable._conn.info.backend_pid  # type: ignore[union-attr]
    raw.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseBackendError) as excinfo:
        ledger.snapshot()  # the first use discovers the dead socket
    assert excinfo.value.operation == "snapshot"
    assert ledger.snapshot() == [valid_done_record(1, SWF)], "the next use reconnects"
    ledger.close()
    assert not ledger._core.durable.is_open
    assert ledger.count_done_hashes(TENANT, POLICY) == 1
    assert repr(ledger._core.durable) == "PgConnection(store=DONE_LEDGER, open=True)"


def test_connect_failure_on_reconnect_is_stored_and_retried(
    ledger: PostgresDoneLedger, pg_conninfo: str
) -> None:
    holder: PgConnection = ledger._core.durable
    holder.close()
    good = holder.conninfo
    holder.conninfo = psycopg.conninfo.make_conninfo(good, dbname="no_such_database_here")
    handle = ledger.batch_upsert([valid_done_record(1, SWF)])
    with pytest.raises(DatabaseBackendError) as excinfo:
        handle.wait(1)
    assert excinfo.value.operation == "batch_upsert"
    holder.conninfo = good
    assert ledger.batch_upsert([valid_done_record(1, SWF)]).wait(1).record_count == 1


def test_findings_sink_lifecycle_and_prepare_threshold(pg_conninfo: str) -> None:
    """PG-3: ``prepare_threshold=None`` (transaction poolers) works the same."""
    with PostgresFindingsSink(pg_conninfo, prepare_threshold=None) as sink:
        full = full_batch(TENANT, seed=0x20)[0]
        for _ in range(7):
            assert sink.upsert_batch(full).wait(1) == FindingsCommitReceipt(1, 1, 1)
        assert repr(sink) == "PostgresFindingsSink(pending_ops=0, auto_complete=True)"
        assert sink._core.durable.prepare_threshold is None
    assert not sink._core.durable.is_open


# --- argument checks (TH-6) and conninfo (PG-1, PG-2) --------------------------------------------


def test_constructor_argument_checks() -> None:
    """TH-6 / PG-1: the PostgreSQL constructors' own arguments; a malformed conninfo is
    refused without echoing it (it may hold a password)."""
    bad: Any = "x"
    calls = [
        lambda: PostgresDoneLedger(bad, auto_complete=bad),
        lambda: PostgresFindingsSink(bad, auto_complete=bad),
        lambda: normalise_conninfo(bad.encode()),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
    with pytest.raises(ValueError, match="not a valid") as excinfo:
        PostgresDoneLedger("host=x password=hunter2 = =")
    assert "hunter2" not in str(excinfo.value)


def test_conninfo_gets_a_connect_timeout_unless_it_has_one() -> None:
    assert "connect_timeout=10" in normalise_conninfo("host=/tmp dbname=x")
    assert normalise_conninfo("host=/tmp connect_timeout=3") == "host=/tmp connect_timeout=3"
    uri = normalise_conninfo("postgresql://u@localhost/db")
    assert "connect_timeout=10" in uri
    assert "dbname=db" in uri


# --- defence in depth: constraint mappings the replay normally pre-empts ----------------------


@pytest.fixture
def no_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bypass the DBF-8 in-memory replay so the database constraints have to speak."""

    def accept(state: Any, batch: FindingsUpsertBatch) -> FindingsCommitReceipt:
        return FindingsCommitReceipt(0, 0, 0)

    monkeypatch.setattr(inmemory_findings, "apply_findings_batch", accept)


@pytest.mark.usefixtures("no_replay")
def test_foreign_keys_map_to_missing_parent_errors(sink: PostgresFindingsSink) -> None:
    """DBF-4: 23503 names the first record in input order whose parent is absent."""
    _, f, o, b = full_batch(TENANT, seed=0x20)
    _, _, o2, b2 = full_batch(TENANT, seed=0x40)
    with pytest.raises(MissingFinding) as missing_finding:
        sink.upsert_batch(FindingsUpsertBatch((f,), (o, o2))).wait(1)
    assert missing_finding.value == MissingFinding(TENANT, o2.finding_id, o2.occurrence_id)
    with pytest.raises(MissingOccurrence) as missing_occurrence:
        sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (b, b2))).wait(1)
    assert missing_occurrence.value == MissingOccurrence(
        TENANT, o2.occurrence_id, b2.observation_id
    )
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)


@pytest.mark.usefixtures("no_replay")
def test_late_conflicts_are_caught_by_the_sql_checks(sink: PostgresFindingsSink) -> None:
    """DBF-3 (DO NOTHING + comparison) and DBF-5 (identity WHERE) without the replay."""
    _, f, o, b = full_batch(TENANT, seed=0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (b,))).wait(1)
    other_f = dataclasses.replace(
        f, stable_item_id=full_batch(TENANT, seed=0x40)[1].stable_item_id
    )
    with pytest.raises(FindingConflict) as finding_conflict:
        sink.upsert_batch(FindingsUpsertBatch((other_f,))).wait(1)
    assert finding_conflict.value == FindingConflict(TENANT, f.finding_id)
    other_o = dataclasses.replace(o, byte_length=99)
    with pytest.raises(OccurrenceConflict) as occurrence_conflict:
        sink.upsert_batch(FindingsUpsertBatch((), (other_o,))).wait(1)
    assert occurrence_conflict.value == OccurrenceConflict(TENANT, o.occurrence_id)
    other_b = dataclasses.replace(b, ovid_hash=OvidHash(bytes(32)))
    with pytest.raises(ObservationConflict) as observation_conflict:
        sink.upsert_batch(FindingsUpsertBatch((), (), (other_b,))).wait(1)
    assert observation_conflict.value == ObservationConflict(TENANT, b.observation_id)
    assert sink.observations_snapshot() == [b]


def test_rows_a_concurrent_writer_inserted_identically_are_accepted(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    """DBF-3: fewer rows inserted than sent, but the comparison finds no difference."""
    full = full_batch(TENANT, seed=0x20)[0]
    sink.upsert_batch(full).wait(1)
    plan = build_plan(full, {}, {})  # as if the DBF-8 read had seen nothing stored
    assert (len(plan.findings), len(plan.occurrences), len(plan.rounds)) == (1, 1, 1)
    with raw.transaction():
        write_plan(raw, plan)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


def test_violation_without_a_culprit_stays_a_database_error(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    """DBF-4 / DBF-7: when the lookup after ROLLBACK finds nobody, no integrity error is made
    up (``apply_batch`` then keeps ``DatabaseBackendError``)."""
    full = full_batch(TENANT, seed=0x20)[0]
    sink.upsert_batch(full).wait(1)
    plan = build_plan(full, {}, {})
    for constraint in (
        "occurrences_finding_fk",
        "observations_occurrence_fk",
        "findings_natural_unique",
        "occurrences_natural_unique",
        "observations_natural_unique",
    ):
        state = "23503" if constraint.endswith("_fk") else "23505"
        assert explain_violation(raw, full, plan, state, constraint) is None, constraint
    assert explain_violation(raw, full, None, "23505", "findings_natural_unique") is None
