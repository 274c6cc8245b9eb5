"""Reads (DBL-7, DBL-8, DBF-9, FS-15..FS-17), corrupt rows, and the connection set-up
(SQ-1, SQ-4, SQ-6, SQ-8)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gossip_model.db.errors import CorruptRow, DatabaseBackendError
from gossip_model.identity import FindingId, ObservationId, OccurrenceId, OvidHash, StableItemId
from gossip_model.inmemory import (
    FindingConflict,
    InMemoryDoneLedger,
    InMemoryStoreKind,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from gossip_model.sqlite.connection import require_sqlite_version
from tests.builders import FP, FR, SC, SK, SWF, done_record, fill, full_batch, policy, tenant

from .conftest import JOIN, StatementCounter, connection_of

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS


def seeded(ledger: SqliteDoneLedger | InMemoryDoneLedger) -> None:
    ledger.batch_upsert(
        [
            done_record(1, 2, 1, SC, 5),
            done_record(1, 2, 2, FR, 5, error_code="R"),
            done_record(1, 2, 3, SK, 5, error_code="S"),
            done_record(1, 2, 4, FP, 5, error_code="P"),
            done_record(1, 3, 5, SWF, 5, 2),
            done_record(2, 2, 6, SC, 5),
        ]
    ).wait(JOIN)


def test_reads_match_the_in_memory_store(ledger: SqliteDoneLedger) -> None:
    """DL-10..DL-15 / DBL-8: positional gets, scopes, terminal keys and exact counts."""
    memory = InMemoryDoneLedger()
    seeded(memory)
    seeded(ledger)
    ovids = [OvidHash(fill(n)) for n in (4, 9, 1, 4, 2, 5)]
    for t, p in ((1, 2), (1, 3), (2, 2), (3, 3)):
        assert ledger.batch_get(tenant(t), policy(p), ovids) == memory.batch_get(
            tenant(t), policy(p), ovids
        )
        assert ledger.list_done_hashes(tenant(t), policy(p)) == memory.list_done_hashes(
            tenant(t), policy(p)
        )
        assert ledger.count_done_hashes(tenant(t), policy(p)) == memory.count_done_hashes(
            tenant(t), policy(p)
        )
    assert ledger.list_done_hashes(tenant(1), policy(2)) == [OvidHash(fill(n)) for n in (1, 3, 4)]
    assert ledger.snapshot() == memory.snapshot()
    assert ledger.get_record(done_record(9, 9, 9, SC, 0).key) is None


def test_empty_batch_get_sends_no_sql(ledger: SqliteDoneLedger) -> None:
    counter = StatementCounter(connection_of(ledger))
    assert ledger.batch_get(tenant(1), policy(2), []) == []
    assert counter.statements == []


def test_batch_get_chunks_by_the_variable_limit(ledger: SqliteDoneLedger) -> None:
    """SQ-6: distinct hashes in chunks of ``limit - 2``; duplicates answered each."""
    seeded(ledger)
    connection = connection_of(ledger)
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 4)
    ledger._core.durable.variable_limit = 4
    counter = StatementCounter(connection)
    ovids = [OvidHash(fill(n)) for n in (1, 2, 1, 3, 4, 7, 2)]
    records = ledger.batch_get(tenant(1), policy(2), ovids)
    assert [r.key.ovid_hash if r else None for r in records] == [
        ovids[0],
        ovids[1],
        ovids[0],
        ovids[3],
        ovids[4],
        None,
        ovids[1],
    ]
    assert len(counter.statements) == 3  # 5 distinct hashes, 2 per statement


@pytest.mark.parametrize(
    ("assignment", "column"),
    [
        ("status = 4", "status"),
        ("tenant_id = x'01'", "tenant_id"),
        ("bytes_scanned = -1", "bytes_scanned"),
        ("run_id = 'x'", "run_id"),
        ("error_code = 'BAD*CODE'", "error_code"),
        ("error_code = NULL", "status"),
    ],
)
def test_corrupt_rows_raise_corrupt_row(
    ledger: SqliteDoneLedger, assignment: str, column: str
) -> None:
    """DBL-7: lengths, ranges, rank, constructor and validate(); errors name the column."""
    ledger.batch_upsert([done_record(1, 2, 3, FR, 1, error_code="E")]).wait(JOIN)
    connection = connection_of(ledger)
    connection.execute("PRAGMA ignore_check_constraints=ON")
    connection.execute(f"UPDATE done_ledger_entries SET {assignment}")
    with pytest.raises(CorruptRow) as info:
        ledger.snapshot()
    assert info.value == CorruptRow(DL, "done_ledger_entries", column)


def test_corrupt_ovid_in_terminal_listing(ledger: SqliteDoneLedger) -> None:
    ledger.batch_upsert([done_record(1, 2, 3, SC, 1)]).wait(JOIN)
    connection = connection_of(ledger)
    connection.execute("PRAGMA ignore_check_constraints=ON")
    connection.execute("UPDATE done_ledger_entries SET ovid_hash = x'0102'")
    with pytest.raises(CorruptRow) as info:
        ledger.list_done_hashes(tenant(1), policy(2))
    assert info.value == CorruptRow(DL, "done_ledger_entries", "ovid_hash")
    assert ledger.count_done_hashes(tenant(1), policy(2)) == 1


def test_findings_reads(sink: SqliteFindingsSink) -> None:
    """FS-15..FS-17 / DBF-9: snapshots by primary key, tenant-scoped gets, counts."""
    batch_a, finding, occurrence, observation = full_batch(tenant(4))
    batch_b = full_batch(tenant(3), seed=11)[0]
    sink.upsert_batch(batch_a).wait(JOIN)
    sink.upsert_batch(batch_b).wait(JOIN)
    findings = sink.findings_snapshot()
    assert [f.tenant_id for f in findings] == [tenant(3), tenant(4)]
    assert len(sink.occurrences_snapshot()) == 2
    assert sink.observations_snapshot()[1] == observation
    assert sink.get_finding(tenant(4), finding.finding_id) == finding
    assert sink.get_finding(tenant(3), finding.finding_id) is None
    assert sink.get_occurrence(tenant(4), occurrence.occurrence_id) == occurrence
    assert sink.get_occurrence(tenant(4), OccurrenceId(fill(0x00))) is None
    assert sink.get_observation(tenant(4), observation.observation_id) == observation
    assert sink.get_observation(tenant(4), ObservationId(fill(0x00))) is None
    assert sink.durable_counts() == DurableFindingsCounts(2, 2, 2)


def test_natural_key_clash_is_a_conflict(sink: SqliteFindingsSink) -> None:
    """DBF-7 open point: a natural key held under another id raises the layer's conflict."""
    batch, finding, occurrence, observation = full_batch(tenant(4))
    sink.upsert_batch(batch).wait(JOIN)
    tampered = FindingRecord(
        tenant(4),
        FindingId(fill(0x77)),
        finding.stable_item_id,
        finding.rule_fingerprint,
        finding.secret_hash,
    )
    with pytest.raises(FindingConflict) as info:
        sink.upsert_batch(FindingsUpsertBatch((tampered,))).wait(JOIN)
    assert info.value == FindingConflict(tenant(4), tampered.finding_id)
    twin = OccurrenceRecord(
        tenant(4),
        OccurrenceId(fill(0x78)),
        occurrence.finding_id,
        occurrence.object_version_id,
        occurrence.byte_offset,
        occurrence.byte_length,
    )
    with pytest.raises(OccurrenceConflict) as clash:
        sink.upsert_batch(FindingsUpsertBatch(occurrences=(twin,))).wait(JOIN)
    assert clash.value == OccurrenceConflict(tenant(4), twin.occurrence_id)
    # An observation row stored under a foreign id (written around the sink) holds the
    # natural key (tenant, policy, occurrence): the genuine record conflicts with it.
    connection = connection_of(sink)
    connection.execute("UPDATE observations SET observation_id = zeroblob(32)")
    with pytest.raises(ObservationConflict) as seen:
        sink.upsert_batch(FindingsUpsertBatch(observations=(observation,))).wait(JOIN)
    assert seen.value == ObservationConflict(tenant(4), observation.observation_id)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


def test_conflicts_against_stored_rows_and_in_batch(sink: SqliteFindingsSink) -> None:
    """FS-5 / FS-6 against stored rows: same key, different content (tampered twins)."""
    batch, finding, occurrence, observation = full_batch(tenant(4))
    sink.upsert_batch(batch).wait(JOIN)
    twin = FindingRecord(
        tenant(4),
        finding.finding_id,
        StableItemId(fill(0x99)),  # another item under the stored id
        finding.rule_fingerprint,
        finding.secret_hash,
    )
    with pytest.raises(FindingConflict):
        sink.upsert_batch(FindingsUpsertBatch((twin,))).wait(JOIN)
    moved = OccurrenceRecord(
        tenant(4),
        occurrence.occurrence_id,
        occurrence.finding_id,
        occurrence.object_version_id,
        occurrence.byte_offset + 1,
        occurrence.byte_length,
    )
    with pytest.raises(OccurrenceConflict):
        sink.upsert_batch(FindingsUpsertBatch(occurrences=(moved,))).wait(JOIN)
    with pytest.raises(OccurrenceConflict):
        sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence, moved))).wait(JOIN)
    # Replays of identical rows, in the batch and stored, are accepted and counted once.
    replay = FindingsUpsertBatch((finding, finding), (occurrence, occurrence), (observation,))
    assert sink.upsert_batch(replay).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    other_ovid = ObservationRecord(
        observation.tenant_id,
        observation.observation_id,
        observation.occurrence_id,
        observation.policy_hash,
        OvidHash(fill(0x66)),
        observation.run_id,
        observation.shard_id,
        observation.fence_epoch,
        observation.seen_at,
    )
    with pytest.raises(ObservationConflict):
        sink.upsert_batch(FindingsUpsertBatch(observations=(other_ovid,))).wait(JOIN)


def test_database_failure_inside_the_layers_is_a_backend_error(sink: SqliteFindingsSink) -> None:
    """FC-5: an unexpected constraint in a layer statement keeps its table and code."""
    batch = full_batch(tenant(4))[0]
    connection = connection_of(sink)
    for table in ("findings", "occurrences", "observations"):
        connection.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
    for table in ("findings", "occurrences", "observations"):
        with pytest.raises(DatabaseBackendError) as info:
            sink.upsert_batch(batch).wait(JOIN)
        assert (info.value.code, info.value.table) == ("SQLITE_CONSTRAINT_TRIGGER", table)
        connection.execute(f"DROP TRIGGER refuse_{table}")
    assert sink.upsert_batch(batch).wait(JOIN) == FindingsCommitReceipt(1, 1, 1)


# --- connection set-up (SQ-1, SQ-4) ---------------------------------------------------------


def test_file_database_uses_wal_foreign_keys_and_synchronous(tmp_path: Path) -> None:
    """SQ-4: WAL for files, foreign keys on, ``synchronous`` as asked; PathLike accepted."""
    ledger = SqliteDoneLedger(tmp_path / "a.db", synchronous="normal")
    connection = connection_of(ledger)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert connection.execute("PRAGMA synchronous").fetchone() == (1,)
    assert connection.isolation_level is None
    assert ledger._core.durable.database == str(tmp_path / "a.db")
    connection.close()
    sink = SqliteFindingsSink()
    connection = connection_of(sink)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL by default
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("memory",)
    connection.close()


def test_unopenable_path_is_a_connect_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseBackendError) as info:
        SqliteDoneLedger(str(tmp_path / "missing" / "x.db"))
    assert info.value == DatabaseBackendError(DL, "connect", "SQLITE_CANTOPEN", None, None)


def test_non_database_file_is_a_connect_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseBackendError) as info:
        SqliteFindingsSink(str(path))
    assert (info.value.operation, info.value.code) == ("connect", "SQLITE_NOTADB")


def test_wal_refused_is_a_connect_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQ-4: the returned journal mode is checked (here: a build that keeps ``delete``)."""
    import gossip_model.sqlite.connection as module

    original = module.SqliteDatabase._configure

    def no_wal(self: module.SqliteDatabase, synchronous: str) -> None:
        self.in_memory = False  # ask a :memory: database for WAL: it answers "memory"
        original(self, synchronous)

    monkeypatch.setattr(module.SqliteDatabase, "_configure", no_wal)
    with pytest.raises(DatabaseBackendError) as info:
        SqliteDoneLedger(":memory:")
    assert info.value == DatabaseBackendError(DL, "connect", "journal_mode", None, None)


def test_foreign_keys_refused_is_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQ-4: the foreign-key setting is read back (here: set inside a transaction)."""
    import gossip_model.sqlite.connection as module

    original = module.SqliteDatabase._configure

    def in_transaction(self: module.SqliteDatabase, synchronous: str) -> None:
        self.connection.execute("BEGIN")
        original(self, synchronous)

    monkeypatch.setattr(module.SqliteDatabase, "_configure", in_transaction)
    with pytest.raises(DatabaseBackendError) as info:
        SqliteDoneLedger()
    assert info.value == DatabaseBackendError(DL, "connect", "foreign_keys", None, None)


def test_requires_sqlite_3_24() -> None:
    """SQ-1: a clear RuntimeError below 3.24; the running library passes."""
    with pytest.raises(RuntimeError, match=r"SQLite 3\.24 or newer .* links 3\.23\.1"):
        require_sqlite_version((3, 23, 1))
    require_sqlite_version(sqlite3.sqlite_version_info)
