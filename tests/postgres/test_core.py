"""DT-9 and FC-*: the store core's behaviour over PostgreSQL, plus the backend's edges.

* The core tests of ``inmemory.md`` §9 on the database stores: delayed writes,
  release orders (``NEWEST_FIRST`` applies a child before its parent),
  commit faults in release order, wait timeout (FC-2, FC-3, FC-6).
* A commit fault sends no SQL (FC-4) and an empty batch neither (DBL-2,
  DBF-2): a statement-counting connection wrapper proves it.
* ``str()`` / ``repr()`` of every database error leak none of the batch's
  32-byte values (CONF-R1..R3, DBE-2).
* Encoding limits (ENC-2..ENC-6), corrupt rows (DBL-7), reconnection (PG-2),
  poisoning, argument checks (TH-6), and the defence-in-depth mappings of
  DBF-3 / DBF-4 / DBF-5 / DBF-7 that the in-memory replay normally pre-empts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from gossip_model.db.errors import (
    BatchTooLarge,
    CorruptRow,
    DatabaseBackendError,
    ValueOutOfRange,
)
from gossip_model.identity import (
    FenceEpoch,
    FindingId,
    LogicalTime,
    ObservationId,
    OccurrenceId,
    OvidHash,
    TenantId,
)
from gossip_model.inmemory import (
    BatchValidation,
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
    Poisoned,
)
from gossip_model.inmemory import findings as inmemory_findings
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerStatus,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    OccurrenceRecord,
)
from gossip_model.persistence.conformance import find_leak
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres import done_ledger as pg_done_ledger
from gossip_model.postgres.connection import PgConnection, normalise_conninfo
from gossip_model.postgres.findings import build_plan, explain_violation, write_plan

from .records import POLICY, TENANT, chain, chain_batch, done, ovid

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]
DONE = InMemoryStoreKind.DONE_LEDGER
OLDEST, NEWEST = CompletionOrder.OLDEST_FIRST, CompletionOrder.NEWEST_FIRST


class CountingConnection:
    """DT-9: counts every statement, transaction and cursor the store asks for."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn
        self.statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self._conn.execute(*args, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self._conn.cursor(*args, **kwargs)

    def transaction(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self._conn.transaction(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def counting(store: PostgresDoneLedger | PostgresFindingsSink) -> Iterator[CountingConnection]:
    """Swap the store's connection for a counting wrapper (through the PG-2 reconnect path)."""
    holder: PgConnection = store._core.durable
    made: list[CountingConnection] = []

    def connect(info: str) -> Any:
        made.append(CountingConnection(psycopg.connect(info, autocommit=True)))
        return made[-1]

    holder.close()
    holder.connect = connect
    store.pending_count()  # no SQL: nothing connects yet
    assert made == []
    return iter(made)


def wrapped(store: PostgresDoneLedger | PostgresFindingsSink) -> CountingConnection:
    made = counting(store)
    if isinstance(store, PostgresDoneLedger):
        store.snapshot()
    else:
        store.durable_counts()
    return next(made)


# --- core behaviour over the database (DT-9) ----------------------------------------------------


def test_delayed_done_ledger_writes_reach_the_database_only_when_released(
    pg_conninfo: str, raw: Conn
) -> None:
    with PostgresDoneLedger(pg_conninfo, auto_complete=False) as ledger:
        first = ledger.batch_upsert([done(1)])
        second = ledger.batch_upsert([done(2), done(2, bytes_scanned=99)])
        assert raw.execute("SELECT count(*) FROM done_ledger_entries").fetchone() == (0,)
        assert ledger.snapshot() == []
        assert ledger.pending_ids() == [first.op_id, second.op_id]
        with pytest.raises(TimeoutError):
            second.wait(timeout=0.05)
        assert ledger.pending_count() == 2, "a timed-out wait changes nothing (ST-23)"
        assert ledger.release_next(NEWEST) == second.op_id
        assert second.wait(1) == DoneLedgerCommitReceipt(1, 1, 1)
        assert ledger.batch_get(TENANT, POLICY, [ovid(1), ovid(2)]) == [
            None,
            done(2, bytes_scanned=99),
        ]
        assert ledger.release_specific(first.op_id) is True
        assert ledger.release_specific(first.op_id) is False
        assert first.wait(1) == DoneLedgerCommitReceipt(1, 1, 1)
        assert raw.execute("SELECT count(*) FROM done_ledger_entries").fetchone() == (2,)


def test_newest_first_applies_an_observation_before_its_parent(pg_conninfo: str) -> None:
    """FC-3 / ST-16: the observation-only batch applied first fails with MissingOccurrence."""
    f, o, b = chain(0x20)
    with PostgresFindingsSink(pg_conninfo) as sink:
        sink.delay_next_writes(2)
        parents = sink.upsert_batch(FindingsUpsertBatch((f,), (o,)))
        child = sink.upsert_batch(FindingsUpsertBatch(observations=(b,)))
        assert sink.release_all(NEWEST) == 2
        with pytest.raises(MissingOccurrence):
            child.wait(1)
        assert parents.wait(1) == FindingsCommitReceipt(1, 1, 0)
        assert sink.durable_counts() == DurableFindingsCounts(1, 1, 0)


def test_commit_faults_hit_ops_in_release_order(ledger: PostgresDoneLedger) -> None:
    """ST-10 / FC-4: with NEWEST_FIRST the newest queued op takes the armed fault."""
    ledger.set_auto_complete(False)
    handles = [ledger.batch_upsert([done(n)]) for n in range(3)]
    ledger.fail_next_commits(1)
    assert ledger.release_all(NEWEST) == 3
    with pytest.raises(InjectedCommitFailure):
        handles[2].wait(1)
    assert [h.wait(1).record_count for h in handles[:2]] == [1, 1]
    assert [r.key.ovid_hash for r in ledger.snapshot()] == [ovid(0), ovid(1)]


@pytest.mark.parametrize("kind", ["done-ledger", "findings"])
def test_commit_fault_and_empty_batch_send_no_sql(
    ledger: PostgresDoneLedger, sink: PostgresFindingsSink, kind: str
) -> None:
    store: Any = ledger if kind == "done-ledger" else sink
    submit = store.batch_upsert if kind == "done-ledger" else store.upsert_batch
    payload: Any = [done(1)] if kind == "done-ledger" else chain_batch(0x20)
    empty: Any = [] if kind == "done-ledger" else FindingsUpsertBatch()
    conn = wrapped(store)
    before = conn.statements
    submit(payload).wait(1)
    assert conn.statements > before, "the wrapper sees a real write"
    before = conn.statements
    store.fail_next_commits(1)
    with pytest.raises(InjectedCommitFailure):
        submit(payload).wait(1)
    assert submit(empty).wait(1) in (
        DoneLedgerCommitReceipt(0, 0, 0),
        FindingsCommitReceipt(0, 0, 0),
    )
    if kind == "done-ledger":
        assert store.batch_get(TENANT, POLICY, []) == []
    assert conn.statements == before, "no statement for a commit fault or an empty batch"


def test_clones_share_connection_data_and_queue(ledger: PostgresDoneLedger) -> None:
    clone = ledger.clone()
    clone.set_auto_complete(False)
    handle = clone.batch_upsert([done(1)])
    assert ledger.pending_ids() == [handle.op_id]
    assert ledger.release_next(OLDEST) == handle.op_id
    assert clone.snapshot() == ledger.snapshot() == [done(1)]
    assert clone._core.durable is ledger._core.durable
    assert repr(ledger) == "PostgresDoneLedger(pending_ops=0, auto_complete=False)"
    assert repr(handle) == f"PostgresDoneLedgerHandle(op_id={handle.op_id!r})"


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
    return dataclasses.replace(record, finding_id=FindingId(bytes([byte]) * 32))


def tampered_occurrence(record: OccurrenceRecord, byte: int) -> OccurrenceRecord:
    return dataclasses.replace(record, occurrence_id=OccurrenceId(bytes([byte]) * 32))


def test_database_errors_render_without_batch_values(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    f, o, b = chain(0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,))).wait(1)
    # A row holding b's natural key under another id: 23505 on observations_natural_unique,
    # whose DETAIL line quotes the key; only code, table and constraint may surface.
    raw.execute(
        "INSERT INTO observations VALUES (%s, %s, %s, %s, %s, 0, 0, 0, 0, NULL, NULL)",
        (TENANT.raw, b"\xee" * 32, o.occurrence_id.raw, POLICY.raw, b.ovid_hash.raw),
    )
    batch = FindingsUpsertBatch((f,), (o,), (b,))
    with pytest.raises(DatabaseBackendError) as excinfo:
        sink.upsert_batch(batch).wait(1)
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
    assert_no_leak(error, values_of(batch))
    errors: list[BaseException] = [error]
    conflict = FindingsUpsertBatch((tampered_finding(f, 0xAB),))
    with pytest.raises(FindingConflict) as finding_conflict:
        sink.upsert_batch(conflict).wait(1)
    errors.append(finding_conflict.value)
    with pytest.raises(BatchTooLarge) as too_large:
        sink.upsert_batch(FindingsUpsertBatch((f,) * 10_001))
    errors.append(too_large.value)
    for err in errors:
        assert_no_leak(err, values_of(batch) | values_of(conflict))


# --- encoding limits (ENC-2..ENC-6) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "limit"),
    [
        ({"bytes_scanned": 2**63}, "bytes_scanned", 2**63 - 1),
        ({"findings_count": 2**31}, "findings_count", 2**31 - 1),
    ],
)
def test_done_ledger_values_out_of_range(
    ledger: PostgresDoneLedger, changes: dict[str, int], field: str, limit: int
) -> None:
    bad = dataclasses.replace(done(5), **changes)
    handle = ledger.batch_upsert([done(1), done(5), done(2), bad])
    with pytest.raises(ValueOutOfRange) as excinfo:
        handle.wait(1)
    value = next(iter(changes.values()))
    assert excinfo.value == ValueOutOfRange(DONE, field, 1, value, limit), "first record of key"
    assert ledger.snapshot() == []


@pytest.mark.parametrize("field", ["fence_epoch", "started_at", "finished_at"])
def test_done_ledger_provenance_out_of_range(ledger: PostgresDoneLedger, field: str) -> None:
    record = done(1)
    provenance = dataclasses.replace(
        record.provenance,
        **{field: (FenceEpoch if field == "fence_epoch" else LogicalTime)(2**63)},
    )
    if field == "started_at":
        provenance = dataclasses.replace(provenance, finished_at=LogicalTime(2**63))
    handle = ledger.batch_upsert([dataclasses.replace(record, provenance=provenance)])
    with pytest.raises(ValueOutOfRange) as excinfo:
        handle.wait(1)
    assert (excinfo.value.field, excinfo.value.position) in {(field, 0), ("fence_epoch", 0)}


def respan(o: OccurrenceRecord, offset: int) -> OccurrenceRecord:
    return OccurrenceRecord.new(o.tenant_id, o.finding_id, o.object_version_id, offset, 7)


def test_findings_values_out_of_range(sink: PostgresFindingsSink) -> None:
    f, o, b = chain(0x20)
    cases = [
        (respan(o, 2**63), "byte_offset"),
        (respan(o, 2**63 - 2), "byte_offset + byte_length"),
    ]
    for occurrence, field in cases:
        handle = sink.upsert_batch(FindingsUpsertBatch((f,), (o, occurrence)))
        with pytest.raises(ValueOutOfRange) as excinfo:
            handle.wait(1)
        assert (excinfo.value.field, excinfo.value.position) == (field, 1)
    late = dataclasses.replace(b, seen_at=LogicalTime(2**63))
    with pytest.raises(ValueOutOfRange) as excinfo:
        sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (b, late))).wait(1)
    assert (excinfo.value.field, excinfo.value.position) == ("seen_at", 1)
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)


def test_validation_precedes_encoding(sink: PostgresFindingsSink) -> None:
    """ENC-6 / DBF-8: the in-memory error wins over a value out of range."""
    f, o, b = chain(0x20)
    huge = respan(o, 2**63)
    with pytest.raises(MissingOccurrence):
        sink.upsert_batch(FindingsUpsertBatch((f,), (huge,), (b,))).wait(1)


# --- corrupt rows (DBL-7, ENC-1, ENC-5) ----------------------------------------------------------


def test_corrupt_done_ledger_rows(ledger: PostgresDoneLedger, raw: Conn) -> None:
    ledger.batch_upsert([done(1, DoneLedgerStatus.FAILED_PERMANENT)]).wait(1)
    raw.execute("UPDATE done_ledger_entries SET error_code = 'BAD*CODE'")
    for read in (
        ledger.snapshot,
        lambda: ledger.batch_get(TENANT, POLICY, [ovid(1)]),
        lambda: ledger.get_record(done(1).key),
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
    batch = chain_batch(0x20)
    sink.upsert_batch(batch).wait(1)
    raw.execute("ALTER TABLE findings DROP CONSTRAINT findings_secret_hash_len_ck")
    raw.execute("UPDATE findings SET secret_hash = %s", (b"\x01" * 31,))
    with pytest.raises(CorruptRow) as excinfo:
        sink.findings_snapshot()
    assert (excinfo.value.table, excinfo.value.column) == ("findings", "secret_hash")
    with pytest.raises(CorruptRow):
        sink.upsert_batch(batch).wait(1)  # DBF-8 reads the stored row first
    assert sink.occurrences_snapshot() == list(batch.occurrences)


# --- reconnection, close, poisoning (PG-2, FC-5) ------------------------------------------------


def test_reconnects_after_the_server_drops_the_connection(
    ledger: PostgresDoneLedger, raw: Conn
) -> None:
    ledger.batch_upsert([done(1)]).wait(1)
    pid = ledger._core.durable._conn.info.backend_pid  # type: ignore[union-attr]
    raw.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseBackendError) as excinfo:
        ledger.snapshot()  # the first use discovers the dead socket
    assert excinfo.value.operation == "snapshot"
    assert ledger.snapshot() == [done(1)], "the next use reconnects"
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
    handle = ledger.batch_upsert([done(1)])
    with pytest.raises(DatabaseBackendError) as excinfo:
        handle.wait(1)
    assert excinfo.value.operation == "batch_upsert"
    holder.conninfo = good
    assert ledger.batch_upsert([done(1)]).wait(1).record_count == 1


def test_a_bug_in_apply_poisons_but_close_still_works(
    ledger: PostgresDoneLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(pg_done_ledger, "encode_folded", broken)
    with pytest.raises(RuntimeError):
        ledger.batch_upsert([done(1)])
    with pytest.raises(Poisoned):
        ledger.snapshot()
    ledger.close()
    assert not ledger._core.durable.is_open
    assert repr(ledger) == "PostgresDoneLedger(<poisoned>)"


def test_findings_sink_lifecycle_and_prepare_threshold(pg_conninfo: str) -> None:
    """PG-3: ``prepare_threshold=None`` (transaction poolers) works the same."""
    with PostgresFindingsSink(pg_conninfo, prepare_threshold=None) as sink:
        for _ in range(7):
            assert sink.upsert_batch(chain_batch(0x20)).wait(1) == FindingsCommitReceipt(1, 1, 1)
        assert repr(sink) == "PostgresFindingsSink(pending_ops=0, auto_complete=True)"
        assert sink._core.durable.prepare_threshold is None
    assert not sink._core.durable.is_open


# --- argument checks (TH-6) and conninfo (PG-1, PG-2) --------------------------------------------


def test_argument_checks(ledger: PostgresDoneLedger, sink: PostgresFindingsSink) -> None:
    bad: Any = "x"
    calls = [
        lambda: ledger.batch_upsert(done(1)),  # type: ignore[arg-type]
        lambda: ledger.batch_upsert([bad]),
        lambda: ledger.batch_get(bad, POLICY, []),
        lambda: ledger.batch_get(TENANT, bad, []),
        lambda: ledger.batch_get(TENANT, POLICY, [bad]),
        lambda: ledger.get_record(bad),
        lambda: ledger.list_done_hashes(bad, POLICY),
        lambda: ledger.count_done_hashes(TENANT, bad),
        lambda: sink.upsert_batch(bad),
        lambda: sink.get_finding(bad, bad),
        lambda: sink.get_occurrence(TENANT, bad),
        lambda: sink.get_observation(TENANT, bad),
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
    assert ledger.pending_count() == sink.pending_count() == 0


def test_conninfo_gets_a_connect_timeout_unless_it_has_one() -> None:
    assert "connect_timeout=10" in normalise_conninfo("host=/tmp dbname=x")
    assert normalise_conninfo("host=/tmp connect_timeout=3") == "host=/tmp connect_timeout=3"
    uri = normalise_conninfo("postgresql://u@localhost/db")
    assert "connect_timeout=10" in uri
    assert "dbname=db" in uri


def test_reads_of_absent_keys(sink: PostgresFindingsSink, ledger: PostgresDoneLedger) -> None:
    zero = bytes(32)
    assert sink.get_finding(TENANT, FindingId(zero)) is None
    assert sink.get_occurrence(TENANT, OccurrenceId(zero)) is None
    assert sink.get_observation(TENANT, ObservationId(zero)) is None
    assert ledger.get_record(done(9).key) is None
    assert ledger.list_done_hashes(TenantId(zero), POLICY) == []
    assert ledger.batch_get(TENANT, POLICY, [OvidHash(zero)] * 2) == [None, None]


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
    f, o, b = chain(0x20)
    _, o2, b2 = chain(0x40)
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
    f, o, b = chain(0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,), (b,))).wait(1)
    other_f = dataclasses.replace(f, stable_item_id=chain(0x40)[0].stable_item_id)
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


def test_natural_key_violations_map_to_conflicts(sink: PostgresFindingsSink) -> None:
    """DBF-7 (open point, recommended choice): a natural key held under another id."""
    f, o, _ = chain(0x20)
    sink.upsert_batch(FindingsUpsertBatch((f,), (o,))).wait(1)
    stored_twin = tampered_finding(f, 0xA1)
    with pytest.raises(FindingConflict) as excinfo:
        sink.upsert_batch(FindingsUpsertBatch((stored_twin,))).wait(1)
    assert excinfo.value == FindingConflict(TENANT, stored_twin.finding_id)
    g = chain(0x40)[0]
    first, second = tampered_finding(g, 0xB1), tampered_finding(g, 0xB2)
    with pytest.raises(FindingConflict) as excinfo:
        sink.upsert_batch(FindingsUpsertBatch((first, second))).wait(1)
    assert excinfo.value == FindingConflict(TENANT, second.finding_id), "in-batch twin"
    occurrence_twin = tampered_occurrence(o, 0xC1)
    with pytest.raises(OccurrenceConflict) as occurrence_conflict:
        sink.upsert_batch(FindingsUpsertBatch((), (occurrence_twin,))).wait(1)
    assert occurrence_conflict.value == OccurrenceConflict(TENANT, occurrence_twin.occurrence_id)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 0)


def test_pre_submit_checks_run_before_the_lock(sink: PostgresFindingsSink) -> None:
    """DBF-1: FS-3 raises from ``upsert_batch`` itself and consumes no op id."""
    f = chain(0x20)[0]
    other = dataclasses.replace(f, tenant_id=TenantId(bytes([9]) * 32))
    with pytest.raises(BatchValidation):
        sink.upsert_batch(FindingsUpsertBatch((f, other)))
    assert sink.upsert_batch(FindingsUpsertBatch()).op_id == PendingWriteId(1)


def test_rows_a_concurrent_writer_inserted_identically_are_accepted(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    """DBF-3: fewer rows inserted than sent, but the comparison finds no difference."""
    batch = chain_batch(0x20)
    sink.upsert_batch(batch).wait(1)
    plan = build_plan(batch, {}, {})  # as if the DBF-8 read had seen nothing stored
    assert (len(plan.findings), len(plan.occurrences), len(plan.rounds)) == (1, 1, 1)
    with raw.transaction():
        write_plan(raw, plan)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


def test_violation_without_a_culprit_stays_a_database_error(
    sink: PostgresFindingsSink, raw: Conn
) -> None:
    """DBF-4 / DBF-7: when the lookup after ROLLBACK finds nobody, no integrity error is made
    up (``apply_batch`` then keeps ``DatabaseBackendError``)."""
    batch = chain_batch(0x20)
    sink.upsert_batch(batch).wait(1)
    plan = build_plan(batch, {}, {})
    for constraint in (
        "occurrences_finding_fk",
        "observations_occurrence_fk",
        "findings_natural_unique",
        "occurrences_natural_unique",
        "observations_natural_unique",
    ):
        state = "23503" if constraint.endswith("_fk") else "23505"
        assert explain_violation(raw, batch, plan, state, constraint) is None, constraint
    assert explain_violation(raw, batch, None, "23505", "findings_natural_unique") is None
