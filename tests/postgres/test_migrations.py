"""DT-7 / MIG-1..MIG-5: the migration runner on PostgreSQL.

A second run is a no-op; tampered SQL raises ``ChecksumMismatch``; a stored
checksum of the wrong length raises ``CorruptedHistoryRecord``; two threads
migrating one fresh database both succeed and apply each migration once;
``migrate=False`` only validates; failures name the step and roll back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from gossip_model.db.errors import (
    ChecksumMismatch,
    CorruptedHistoryRecord,
    DatabaseBackendError,
    SchemaMigrationError,
)
from gossip_model.db.migrations import Migration
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres.migrate import (
    DONE_LEDGER_LOCK_KEY,
    DONE_LEDGER_MIGRATIONS,
    FINDINGS_LOCK_KEY,
    FINDINGS_MIGRATIONS,
    MigrationSet,
    apply_migrations,
)
from tests.builders import fill

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]
STORES = [
    pytest.param(PostgresDoneLedger, DONE_LEDGER_MIGRATIONS, id="done-ledger"),
    pytest.param(PostgresFindingsSink, FINDINGS_MIGRATIONS, id="findings"),
]
StoreType = Callable[..., PostgresDoneLedger | PostgresFindingsSink]


def history(conn: Conn, migrations: MigrationSet) -> list[tuple[object, ...]]:
    return conn.execute(
        f"SELECT version, checksum FROM {migrations.history_table} ORDER BY version"
    ).fetchall()


def test_lock_keys_are_the_given_distinct_values() -> None:
    """MIG-3: "GSDLPGM1" and "GFPGMIG1", distinct, and they fit a signed BIGINT."""
    assert DONE_LEDGER_LOCK_KEY.to_bytes(8, "big") == b"GSDLPGM1"
    assert FINDINGS_LOCK_KEY.to_bytes(8, "big") == b"GFPGMIG1"
    assert DONE_LEDGER_LOCK_KEY != FINDINGS_LOCK_KEY
    assert max(DONE_LEDGER_LOCK_KEY, FINDINGS_LOCK_KEY) < 2**63
    assert DONE_LEDGER_MIGRATIONS.history_table != FINDINGS_MIGRATIONS.history_table


def test_migration_files_and_checksums() -> None:
    """MIG-1: versions from package data, 32-byte BLAKE3 checksums of the text."""
    (done,) = DONE_LEDGER_MIGRATIONS.migrations
    (findings,) = FINDINGS_MIGRATIONS.migrations
    assert (done.version, findings.version) == (
        "0001_done_ledger_entries",
        "0001_findings_schema",
    )
    assert len(done.checksum) == len(findings.checksum) == 32
    assert "CREATE TABLE done_ledger_entries" in done.sql
    assert "CONCURRENTLY" not in done.sql + findings.sql  # MIG-3: all run in one transaction


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_second_run_is_a_no_op(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    store_type(pg_conninfo).close()
    first = history(raw, migrations)
    assert [row[0] for row in first] == list(migrations.versions)
    assert [bytes(row[1]) for row in first] == [m.checksum for m in migrations.migrations]  # type: ignore[arg-type]
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        assert apply_migrations(conn, migrations) == []
    store_type(pg_conninfo).close()
    store_type(pg_conninfo, migrate=False).close()
    assert history(raw, migrations) == first


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_tampered_sql_raises_checksum_mismatch(
    pg_conninfo: str, store_type: StoreType, migrations: MigrationSet
) -> None:
    store_type(pg_conninfo).close()
    (original,) = migrations.migrations
    tampered = MigrationSet(
        migrations.versions, migrations.history_table, migrations.lock_key, migrations.tables
    )
    tampered.__dict__["migrations"] = (Migration(original.version, original.sql + "\n-- edit"),)
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        with pytest.raises(ChecksumMismatch) as excinfo:
            apply_migrations(conn, tampered)
        assert excinfo.value == ChecksumMismatch(
            "postgres",
            original.version,
            "checksum",
            tampered.migrations[0].checksum.hex(),
            original.checksum.hex(),
        )


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_changed_stored_checksum_raises_in_both_modes(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    store_type(pg_conninfo).close()
    raw.execute(f"UPDATE {migrations.history_table} SET checksum = %s", (fill(0x00),))
    for migrate in (True, False):
        with pytest.raises(ChecksumMismatch):
            store_type(pg_conninfo, migrate=migrate)


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_wrong_length_checksum_raises_corrupted_history_record(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    store_type(pg_conninfo).close()
    table = migrations.history_table
    raw.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_checksum_check")
    raw.execute(f"UPDATE {table} SET checksum = %s", (b"\x00" * 31,))
    with pytest.raises(CorruptedHistoryRecord) as excinfo:
        store_type(pg_conninfo)
    assert excinfo.value == CorruptedHistoryRecord(
        "postgres", migrations.versions[0], "history-checksum-length", 31
    )


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_two_threads_migrating_one_fresh_database(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    """MIG-3: the advisory lock serializes the first bootstrap; each migration applied once."""
    barrier = threading.Barrier(2)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with psycopg.connect(pg_conninfo, autocommit=True) as conn:
                barrier.wait(timeout=10)
                applied.append(apply_migrations(conn, migrations))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(applied) == [[], list(migrations.versions)]
    assert [row[0] for row in history(raw, migrations)] == list(migrations.versions)
    store_type(pg_conninfo, migrate=False).close()


def test_both_stores_share_one_database(pg_conninfo: str, raw: Conn) -> None:
    """SCH-3: distinct tables, history tables and lock keys in one database."""
    PostgresDoneLedger(pg_conninfo).close()
    PostgresFindingsSink(pg_conninfo).close()
    assert history(raw, DONE_LEDGER_MIGRATIONS)[0][0] == "0001_done_ledger_entries"
    assert history(raw, FINDINGS_MIGRATIONS)[0][0] == "0001_findings_schema"


# --- MIG-5 and failures ---------------------------------------------------------------------


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_validate_only_on_an_empty_database(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    with pytest.raises(SchemaMigrationError) as excinfo:
        store_type(pg_conninfo, migrate=False)
    assert excinfo.value == SchemaMigrationError(
        "postgres", migrations.versions[0], "history-missing"
    )
    assert raw.execute("SELECT to_regclass(%s)", (migrations.history_table,)).fetchone() == (
        None,
    ), "validation creates nothing"


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_validate_only_reports_a_missing_row_and_a_missing_table(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    store_type(pg_conninfo).close()
    raw.execute(f"DROP TABLE {migrations.tables[-1]} CASCADE")
    with pytest.raises(SchemaMigrationError) as excinfo:
        store_type(pg_conninfo, migrate=False)
    assert excinfo.value.step == "table-missing"
    raw.execute(f"DELETE FROM {migrations.history_table}")
    with pytest.raises(SchemaMigrationError) as excinfo:
        store_type(pg_conninfo, migrate=False)
    assert excinfo.value == SchemaMigrationError("postgres", migrations.versions[0], "not-applied")


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_unreadable_history_fails_at_history_read(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    raw.execute(f"CREATE TABLE {migrations.history_table} (something INTEGER)")
    for migrate in (True, False):
        with pytest.raises(SchemaMigrationError) as excinfo:
            store_type(pg_conninfo, migrate=migrate)
        assert excinfo.value.step == "history-read"
        # The driver error is chained and its primary message shown (issue 13).
        assert isinstance(excinfo.value.__cause__, psycopg.errors.UndefinedColumn)
        assert excinfo.value.detail == 'column "version" does not exist'
        assert str(excinfo.value).endswith(': column "version" does not exist')


@pytest.mark.parametrize(("store_type", "migrations"), STORES)
def test_failing_migration_rolls_everything_back(
    pg_conninfo: str, raw: Conn, store_type: StoreType, migrations: MigrationSet
) -> None:
    """MIG-3 step 6: a table in the way fails the SQL; no history table, no partial DDL."""
    raw.execute(f"CREATE TABLE {migrations.tables[-1]} (x INTEGER)")
    with pytest.raises(SchemaMigrationError) as excinfo:
        store_type(pg_conninfo)
    assert excinfo.value == SchemaMigrationError("postgres", migrations.versions[0], "apply")
    assert raw.execute("SELECT to_regclass(%s)", (migrations.history_table,)).fetchone() == (None,)
    assert raw.execute("SELECT to_regclass(%s)", (migrations.tables[0],)).fetchone() == (
        (None,) if len(migrations.tables) > 1 else (migrations.tables[0],)
    )


def test_lock_wait_is_unbounded_but_ddl_has_a_budget(pg_conninfo: str, raw: Conn) -> None:
    """MIG-3 (3): after the advisory lock, statements run under the lock budget; a history
    table locked by someone else past the budget fails the run at ``history-read``."""
    PostgresDoneLedger(pg_conninfo).close()
    with raw.transaction():
        raw.execute("LOCK TABLE done_ledger_schema_migrations IN ACCESS EXCLUSIVE MODE")
        with (
            psycopg.connect(pg_conninfo, autocommit=True) as conn,
            pytest.raises(SchemaMigrationError) as excinfo,
        ):
            apply_migrations(conn, DONE_LEDGER_MIGRATIONS, ddl_lock_timeout="50ms")
    assert excinfo.value.step == "history-read"


def test_unreachable_server_raises_database_backend_error(pg_conninfo: str) -> None:
    """PG-2: a failed connect is ``DatabaseBackendError(operation="connect")``; no driver text."""
    bad = psycopg.conninfo.make_conninfo(pg_conninfo, dbname="no_such_database_here")
    with pytest.raises(DatabaseBackendError) as excinfo:
        PostgresDoneLedger(bad)
    assert excinfo.value.operation == "connect"
    assert excinfo.value.code is None  # libpq reports connection failures without SQLSTATE
    assert "no_such_database_here" not in str(excinfo.value)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__
