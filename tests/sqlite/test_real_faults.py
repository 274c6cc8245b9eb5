"""DT-8: faults that are real for SQLite (busy writer, batch limits, concurrent writers,
orphans), plus FC-5 / FC-7 style failures of the connection itself."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest

from gossip_model.db.errors import BatchTooLarge, DatabaseBackendError
from gossip_model.identity import OvidHash
from gossip_model.inmemory import (
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    PendingWriteId,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from tests.builders import (
    FP,
    FR,
    SC,
    SK,
    SWF,
    done_record,
    full_batch,
    policy,
    provenance,
    tenant,
)

from .conftest import JOIN, connection_of

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS
MAX = 10_000


@pytest.fixture
def blocker(db_path: str) -> Iterator[sqlite3.Connection]:
    """A second connection that can hold the database's write lock."""
    connection = sqlite3.connect(db_path, isolation_level=None, timeout=JOIN)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def many(count: int, start: int = 0) -> list[DoneLedgerRecord]:
    """``count`` valid records on distinct keys (ovid from the index bytes).

    Tenant, policy and provenance are built once and shared: the ids validate their
    bytes on construction, and 10,000 fresh copies cost more than the batch itself."""
    t, p, prov = tenant(1), policy(2), provenance()
    return [
        DoneLedgerRecord(DoneLedgerKey(t, p, OvidHash(i.to_bytes(32, "big"))), SC, i, 0, prov)
        for i in range(start, start + count)
    ]


def test_writer_blocked_past_busy_timeout_stores_backend_error(
    db_path: str, blocker: sqlite3.Connection
) -> None:
    """DT-8 / SQ-5: SQLITE_BUSY becomes DatabaseBackendError; no rows; next batch works."""
    ledger = SqliteDoneLedger(db_path, timeout=0.05)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        handle = ledger.batch_upsert(many(3))
        with pytest.raises(DatabaseBackendError) as info:
            handle.wait(JOIN)
        assert info.value == DatabaseBackendError(DL, "batch_upsert", "SQLITE_BUSY", None, None)
        blocker.execute("ROLLBACK")
        assert ledger.snapshot() == []
        assert ledger.batch_upsert(many(3)).wait(JOIN) == DoneLedgerCommitReceipt(3, 3, 0)
        assert len(ledger.snapshot()) == 3
    finally:
        connection_of(ledger).close()


def test_findings_writer_blocked_past_busy_timeout(
    db_path: str, blocker: sqlite3.Connection
) -> None:
    sink = SqliteFindingsSink(db_path, timeout=0.05)
    batch = full_batch(tenant(4))[0]
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBackendError) as info:
            sink.upsert_batch(batch).wait(JOIN)
        assert (info.value.operation, info.value.code) == ("upsert_batch", "SQLITE_BUSY")
        blocker.execute("ROLLBACK")
        assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)
        assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    finally:
        connection_of(sink).close()


def test_reads_wait_for_nothing_in_wal_but_fail_cleanly_when_closed(db_path: str) -> None:
    """WAL readers never block on a writer; a closed connection gives DatabaseBackendError
    and does not poison the core (FC-5)."""
    ledger = SqliteDoneLedger(db_path)
    ledger.batch_upsert(many(2)).wait(JOIN)
    other = ledger.clone()
    ledger.close()
    with pytest.raises(DatabaseBackendError) as info:
        other.snapshot()
    assert (info.value.operation, info.value.table, info.value.code) == (
        "snapshot",
        "done_ledger_entries",
        None,
    )
    with pytest.raises(DatabaseBackendError) as info:
        other.batch_upsert(many(1)).wait(JOIN)
    assert info.value.operation == "batch_upsert"
    assert other.pending_count() == 0  # the core still answers: not poisoned


def test_closed_sink_fails_reads_and_writes_without_poisoning() -> None:
    sink = SqliteFindingsSink()
    sink.clone().close()
    with pytest.raises(DatabaseBackendError) as info:
        sink.durable_counts()
    assert (info.value.store, info.value.operation) == (F, "durable_counts")
    with pytest.raises(DatabaseBackendError):
        sink.upsert_batch(full_batch(tenant(4))[0]).wait(JOIN)
    assert sink.pending_count() == 0


def test_statement_failure_in_the_transaction_rolls_back() -> None:
    """FC-5: a statement failing mid-batch stores DatabaseBackendError; nothing is kept."""
    ledger = SqliteDoneLedger()
    connection = connection_of(ledger)
    connection.execute(
        "CREATE TRIGGER refuse AFTER INSERT ON done_ledger_entries "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(DatabaseBackendError) as info:
        ledger.batch_upsert(many(2)).wait(JOIN)
    assert info.value == DatabaseBackendError(
        DL, "batch_upsert", "SQLITE_CONSTRAINT_TRIGGER", "done_ledger_entries", None
    )
    assert "refused" not in str(info.value)
    connection.execute("DROP TRIGGER refuse")
    assert ledger.snapshot() == []
    assert not connection.in_transaction
    connection.close()


def test_commit_failure_is_a_backend_error_and_the_outcome_is_rolled_back() -> None:
    """FC-7: COMMIT refused (a deferred foreign key) stores DatabaseBackendError without a
    table; the transaction is rolled back and a resubmission with the parent works."""
    sink = SqliteFindingsSink()
    batch, _finding, occurrence, _observation = full_batch(tenant(4))
    connection = connection_of(sink)
    connection.execute("PRAGMA defer_foreign_keys=ON")
    with pytest.raises(DatabaseBackendError) as info:
        sink.upsert_batch(FindingsUpsertBatch(occurrences=(occurrence,))).wait(JOIN)
    assert info.value == DatabaseBackendError(
        F, "upsert_batch", "SQLITE_CONSTRAINT_FOREIGNKEY", None, None
    )
    assert not connection.in_transaction
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    connection.close()


def test_ten_thousand_records_commit_and_one_more_is_too_large() -> None:
    """DT-8 / DBL-1: exactly 10_000 is accepted; 10_001 raises before the lock."""
    ledger = SqliteDoneLedger()
    records = many(MAX + 1)  # built once: the 10,000 and, with one more, the 10,001
    try:
        assert ledger.batch_upsert(records[:MAX]).wait(JOIN) == DoneLedgerCommitReceipt(
            MAX, MAX, 0
        )
        ledger.fail_next_submissions(1)
        with pytest.raises(BatchTooLarge) as info:
            ledger.batch_upsert(records)
        assert info.value == BatchTooLarge(DL, "batch_upsert", MAX + 1, MAX)
        assert str(info.value) == "batch_upsert batch of 10001 records exceeds the limit of 10000"
        # Nothing consumed: the armed submission fault and the op id are still there.
        assert ledger._core.fail_submit_remaining == 1
        assert ledger._core.next_op_id == 2
        ovids = [r.key.ovid_hash for r in records[:MAX]]
        assert len(ledger.batch_get(tenant(1), policy(2), ovids)) == MAX
        with pytest.raises(BatchTooLarge):
            ledger.batch_get(tenant(1), policy(2), [*ovids, ovids[0]])
        assert ledger.count_done_hashes(tenant(1), policy(2)) == MAX
    finally:
        connection_of(ledger).close()


def test_findings_batch_limit_counts_all_layers() -> None:
    """DBF-1: ``total_records() > 10_000`` raises BatchTooLarge before FS-2/FS-3."""
    sink = SqliteFindingsSink()
    _batch, finding, occurrence, observation = full_batch(tenant(4))
    big = FindingsUpsertBatch(
        (finding,) * 5_000, (occurrence,) * 5_000, (observation.with_location(None),)
    )
    with pytest.raises(BatchTooLarge) as info:
        sink.upsert_batch(big)
    assert info.value == BatchTooLarge(F, "upsert_batch", 10_001, MAX)
    exact = FindingsUpsertBatch((finding,) * 5_000, (occurrence,) * 5_000)
    assert sink.upsert_batch(exact).wait(JOIN) == FindingsCommitReceipt(1, 1, 0)
    connection_of(sink).close()


def test_two_threads_with_two_stores_converge_to_the_fold(db_path: str) -> None:
    """DT-8 / PG-1 analogue: concurrent writers on the same keys end at the lattice join."""
    stores = [SqliteDoneLedger(db_path), SqliteDoneLedger(db_path)]
    statuses = (FR, FP, SK, SC, SWF)
    codes = {FR: "RETRY", FP: "FATAL", SK: "SKIP"}

    def batches(worker: int) -> list[list[DoneLedgerRecord]]:
        out = []
        for round_ in range(25):
            batch = []
            for o in range(8):
                status = statuses[(worker + round_ + o) % 5]
                batch.append(
                    done_record(
                        1,
                        2,
                        o,
                        status,
                        round_ * 10 + worker,
                        (o % 3) + 1 if status is SWF else 0,
                        provenance(run=worker * 100 + round_, started=round_, finished=round_ + o),
                        codes.get(status),
                    )
                )
            out.append(batch)
        return out

    work = [batches(0), batches(1)]
    errors: list[BaseException] = []

    def run(store: SqliteDoneLedger, mine: list[list[DoneLedgerRecord]]) -> None:
        try:
            for batch in mine:
                store.batch_upsert(batch).wait(JOIN)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(s, w), daemon=True)
        for s, w in zip(stores, work, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN * 3)
    try:
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        expected: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        for record in (r for w in work for batch in w for r in batch):
            current = expected.get(record.key)
            expected[record.key] = record if current is None else current.merge(record)
        want = sorted(expected.values(), key=lambda r: r.key.canonical_bytes())
        assert stores[0].snapshot() == want
        assert stores[1].snapshot() == want
    finally:
        for store in stores:
            connection_of(store).close()


def test_orphans_raise_missing_parent_with_counts_unchanged() -> None:
    """DT-8 / DBF-4: FK failures map to MissingFinding / MissingOccurrence, nothing kept."""
    sink = SqliteFindingsSink()
    batch, finding, _occurrence, observation = full_batch(tenant(4))
    assert sink.upsert_batch(FindingsUpsertBatch((finding,))).wait(JOIN) == (
        FindingsCommitReceipt(1, 0, 0)
    )
    orphan_occurrence = full_batch(tenant(4), seed=40)[2]
    with pytest.raises(MissingFinding) as info:
        sink.upsert_batch(FindingsUpsertBatch(occurrences=(orphan_occurrence,))).wait(JOIN)
    assert info.value == MissingFinding(
        tenant(4), orphan_occurrence.finding_id, orphan_occurrence.occurrence_id
    )
    with pytest.raises(MissingOccurrence) as missing:
        sink.upsert_batch(FindingsUpsertBatch((finding,), observations=(observation,))).wait(JOIN)
    assert missing.value == MissingOccurrence(
        tenant(4), observation.occurrence_id, observation.observation_id
    )
    assert sink.durable_counts() == DurableFindingsCounts(1, 0, 0)
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    connection_of(sink).close()


def test_stores_on_one_file_see_each_others_commits(db_path: str) -> None:
    """Two stores on one file: reads see committed rows of the other connection."""
    writer, reader = SqliteDoneLedger(db_path), SqliteDoneLedger(db_path, migrate=False)
    try:
        writer.batch_upsert(many(4)).wait(JOIN)
        assert reader.count_done_hashes(tenant(1), policy(2)) == 4
        handle = writer.batch_upsert(many(1, start=4))
        assert handle.op_id == PendingWriteId(2)
        handle.wait(JOIN)
        assert len(reader.snapshot()) == 5
    finally:
        for store in (writer, reader):
            connection_of(store).close()
