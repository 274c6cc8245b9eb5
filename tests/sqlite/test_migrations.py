"""DT-7 and MIG-1, MIG-2, MIG-4, MIG-5: versioned schema creation on SQLite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator

import pytest

from gossip_model.db.errors import ChecksumMismatch, CorruptedHistoryRecord, SchemaMigrationError
from gossip_model.db.migrations import Migration
from gossip_model.inmemory import InMemoryStoreKind
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from gossip_model.sqlite.connection import SqliteDatabase
from gossip_model.sqlite.migrate import (
    DONE_LEDGER_SCHEMA,
    FINDINGS_SCHEMA,
    Schema,
    apply_migrations,
    split_statements,
)

from .conftest import JOIN, connection_of

DL = InMemoryStoreKind.DONE_LEDGER
DONE_VERSION = "0001_done_ledger_entries"
FINDINGS_VERSION = "0001_findings_schema"


@pytest.fixture
def raw(db_path: str) -> Iterator[sqlite3.Connection]:
    """A second, plain connection to the test's database file."""
    connection = sqlite3.connect(db_path, isolation_level=None, timeout=JOIN)
    yield connection
    connection.close()


@pytest.fixture
def database(db_path: str) -> Iterator[SqliteDatabase]:
    db = SqliteDatabase(DL, db_path, timeout=JOIN, synchronous="NORMAL")
    yield db
    db.close()


def history(connection: sqlite3.Connection, table: str) -> list[tuple[str, bytes, str]]:
    return connection.execute(
        f"SELECT version, checksum, applied_at FROM {table} ORDER BY version"
    ).fetchall()


def test_each_store_has_one_migration_with_a_blake3_checksum() -> None:
    """MIG-1: versions from the package files; checksum = 32-byte BLAKE3 of the text."""
    assert [m.version for m in DONE_LEDGER_SCHEMA.migrations] == [DONE_VERSION]
    assert [m.version for m in FINDINGS_SCHEMA.migrations] == [FINDINGS_VERSION]
    for migration in (*DONE_LEDGER_SCHEMA.migrations, *FINDINGS_SCHEMA.migrations):
        assert len(migration.checksum) == 32


def test_first_run_applies_and_second_run_is_a_no_op(
    database: SqliteDatabase, raw: sqlite3.Connection
) -> None:
    """DT-7 / MIG-2: history rows written once; a second run changes nothing."""
    assert apply_migrations(database, DONE_LEDGER_SCHEMA) == [DONE_VERSION]
    first = history(raw, "done_ledger_schema_migrations")
    assert [(v, c) for v, c, _ in first] == [
        (DONE_VERSION, DONE_LEDGER_SCHEMA.migrations[0].checksum)
    ]
    assert apply_migrations(database, DONE_LEDGER_SCHEMA) == []
    assert history(raw, "done_ledger_schema_migrations") == first


def test_ledger_and_sink_keep_separate_histories(db_path: str, raw: sqlite3.Connection) -> None:
    """SCH-3 / MIG-2: both stores in one file, each with its own history table."""
    ledger, sink = SqliteDoneLedger(db_path), SqliteFindingsSink(db_path)
    try:
        assert [r[0] for r in history(raw, "done_ledger_schema_migrations")] == [DONE_VERSION]
        assert [r[0] for r in history(raw, "findings_schema_migrations")] == [FINDINGS_VERSION]
        reopened = SqliteDoneLedger(db_path)
        assert reopened.snapshot() == []
        connection_of(reopened).close()
    finally:
        connection_of(ledger).close()
        connection_of(sink).close()


def test_tampered_sql_raises_checksum_mismatch(database: SqliteDatabase) -> None:
    """DT-7 / MIG-1: an applied migration whose text changed is refused."""
    apply_migrations(database, DONE_LEDGER_SCHEMA)
    (original,) = DONE_LEDGER_SCHEMA.migrations
    tampered = Migration(original.version, original.sql + "\n-- edited in place\n")
    with pytest.raises(ChecksumMismatch) as info:
        apply_migrations(database, DONE_LEDGER_SCHEMA, [tampered])
    assert info.value == ChecksumMismatch(
        "sqlite", DONE_VERSION, "checksum", tampered.checksum.hex(), original.checksum.hex()
    )


def test_stored_checksum_that_differs_stops_the_constructor(
    db_path: str, raw: sqlite3.Connection
) -> None:
    connection_of(SqliteFindingsSink(db_path)).close()
    raw.execute("UPDATE findings_schema_migrations SET checksum = zeroblob(32)")
    with pytest.raises(ChecksumMismatch):
        SqliteFindingsSink(db_path)
    with pytest.raises(ChecksumMismatch):
        SqliteFindingsSink(db_path, migrate=False)


@pytest.mark.parametrize(
    ("value", "step", "found_len"),
    [(b"\x00", "history-checksum-length", 1), ("x" * 32, "history-checksum-type", None)],
)
def test_wrong_length_or_type_checksum_is_a_corrupted_history_record(
    db_path: str, raw: sqlite3.Connection, value: object, step: str, found_len: int | None
) -> None:
    """DT-7: a stored checksum of the wrong length (or not a BLOB) is corruption."""
    connection_of(SqliteDoneLedger(db_path)).close()
    raw.execute("PRAGMA ignore_check_constraints=ON")  # the history CHECK would refuse it
    raw.execute("UPDATE done_ledger_schema_migrations SET checksum = ?", (value,))
    with pytest.raises(CorruptedHistoryRecord) as info:
        SqliteDoneLedger(db_path)
    assert info.value == CorruptedHistoryRecord("sqlite", DONE_VERSION, step, found_len)


def test_two_threads_migrating_one_fresh_file_both_succeed(
    db_path: str, raw: sqlite3.Connection
) -> None:
    """DT-7 / MIG-4: BEGIN IMMEDIATE serializes runners; each migration applied once."""
    barrier = threading.Barrier(4, timeout=JOIN)
    stores: list[SqliteDoneLedger | SqliteFindingsSink] = []
    errors: list[BaseException] = []

    def build(factory: Callable[[str], SqliteDoneLedger | SqliteFindingsSink]) -> None:
        try:
            barrier.wait()
            stores.append(factory(db_path))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    factories = [SqliteDoneLedger, SqliteDoneLedger, SqliteFindingsSink, SqliteFindingsSink]
    threads = [threading.Thread(target=build, args=(f,), daemon=True) for f in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    try:
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert len(stores) == 4
        assert len(history(raw, "done_ledger_schema_migrations")) == 1
        assert len(history(raw, "findings_schema_migrations")) == 1
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        for store in stores:
            connection_of(store).close()


def test_failing_migration_rolls_back_everything(
    database: SqliteDatabase, raw: sqlite3.Connection
) -> None:
    """MIG-4 step 6: an error leaves no tables and no history rows."""
    broken = Migration("0002_done_ledger_broken", "CREATE TABLE ok_table (x);\nCREATE TABLE (;")
    with pytest.raises(SchemaMigrationError) as info:
        apply_migrations(database, DONE_LEDGER_SCHEMA, [*DONE_LEDGER_SCHEMA.migrations, broken])
    assert info.value == SchemaMigrationError("sqlite", "0002_done_ledger_broken", "apply")
    # The driver error is chained and its message shown (issue 13).
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert info.value.detail is not None
    assert "syntax error" in info.value.detail
    assert raw.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert not database.connection.in_transaction


def test_lock_timeout_during_migration_is_a_migration_error(
    db_path: str, raw: sqlite3.Connection
) -> None:
    """MIG-4: a runner that cannot take the write lock in time fails at step ``lock``."""
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SchemaMigrationError) as info:
            SqliteDoneLedger(db_path, timeout=0.05)
        assert info.value.step == "lock"
    finally:
        raw.execute("ROLLBACK")


def test_migrate_false_validates_without_writing(db_path: str, raw: sqlite3.Connection) -> None:
    """MIG-5: the validate mode refuses a fresh, a partial or an edited schema."""
    with pytest.raises(SchemaMigrationError) as info:
        SqliteDoneLedger(db_path, migrate=False)
    assert info.value == SchemaMigrationError("sqlite", DONE_VERSION, "not-applied")
    assert raw.execute("SELECT name FROM sqlite_master").fetchall() == []
    connection_of(SqliteDoneLedger(db_path)).close()
    validated = SqliteDoneLedger(db_path, migrate=False)
    assert validated.snapshot() == []
    connection_of(validated).close()
    raw.execute("DROP TABLE done_ledger_entries")
    with pytest.raises(SchemaMigrationError) as info:
        SqliteDoneLedger(db_path, migrate=False)
    assert info.value.step == "missing-table-done_ledger_entries"
    raw.execute("DELETE FROM done_ledger_schema_migrations")
    with pytest.raises(SchemaMigrationError, match="not-applied"):
        SqliteDoneLedger(db_path, migrate=False)


def test_validate_reports_an_unreadable_history(database: SqliteDatabase) -> None:
    """MIG-5: a history table without the expected columns fails at step ``validate``."""
    database.connection.execute("CREATE TABLE done_ledger_schema_migrations (x)")
    from gossip_model.sqlite.migrate import validate_schema

    with pytest.raises(SchemaMigrationError) as info:
        validate_schema(database, DONE_LEDGER_SCHEMA)
    assert info.value.step == "validate"


def test_unexpected_exception_rolls_back_and_propagates(database: SqliteDatabase) -> None:
    """A non-database error inside the runner leaves no open transaction."""
    schema = Schema("done_ledger", "done_ledger_schema_migrations", ("done_ledger_entries",))
    bad = Migration("0001_done_ledger_entries", 42)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        apply_migrations(database, schema, [bad])
    assert not database.connection.in_transaction


def test_split_statements_keeps_sql_whole_and_drops_trailing_comments() -> None:
    sql = "CREATE TABLE a (x TEXT DEFAULT ';');\n-- c;\nCREATE INDEX i ON a (x);\n-- end\n"
    assert split_statements(sql) == [
        "CREATE TABLE a (x TEXT DEFAULT ';');",
        "-- c;\nCREATE INDEX i ON a (x);",
    ]
    assert split_statements("SELECT 1;\nSELECT 2") == ["SELECT 1;", "SELECT 2"]


def test_migrating_a_closed_connection_fails_at_the_lock_step(database: SqliteDatabase) -> None:
    """FC-5 / MIG-4: BEGIN fails and the failing ROLLBACK is dropped, the first error kept."""
    database.close()
    with pytest.raises(SchemaMigrationError) as info:
        apply_migrations(database, DONE_LEDGER_SCHEMA)
    assert info.value == SchemaMigrationError("sqlite", "(history)", "lock")
