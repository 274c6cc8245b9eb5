"""Schema creation and versioning for the SQLite stores (backends.md MIG-1, MIG-2, MIG-4, MIG-5).

Each store owns a :class:`Schema`: its forward-only migration files (package
data ``gossip_model/sqlite/migrations/*.sql``, selected by the name after
the version number), its history table and its data tables. Both stores may
share one database file (SCH-3): their tables and history tables differ.

:func:`apply_migrations` (MIG-4) runs in ONE ``BEGIN IMMEDIATE`` transaction,
which takes the write lock and serializes concurrent runners (SQLite DDL is
transactional): create the history table if missing, then per migration in
order either check the stored checksum (wrong length:
``CorruptedHistoryRecord``; different: ``ChecksumMismatch``, both from
:func:`gossip_model.db.migrations.plan_migrations`) or run the SQL and insert
``(version, checksum)``; COMMIT. Any error rolls everything back and raises a
``SchemaMigrationError`` naming the version and the step (``lock``,
``history``, ``apply``, ``commit``), chained to the driver error (``from
err``) with the driver's message as ``detail`` (e.g. ``attempt to write a
readonly database``): migrations carry no tenant data, so the real cause is
shown (issue 13).

:func:`validate_schema` is the ``migrate=False`` mode (MIG-5): nothing is
written; a missing history table or migration, a stored checksum that differs
or a missing data table raises ``SchemaMigrationError``.

The SQL files are split into statements with ``sqlite3.complete_statement``
and run one by one: ``executescript`` would COMMIT the open transaction first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from gossip_model.core.arguments import check_flag
from gossip_model.db.errors import CorruptedHistoryRecord, SchemaMigrationError
from gossip_model.db.migrations import Migration, load_migrations, plan_migrations, require_applied
from gossip_model.inmemory.errors import InMemoryStoreKind
from gossip_model.sqlite.connection import CONSTRAINTS, SqliteDatabase, check_open_arguments

BACKEND = "sqlite"
PACKAGE = "gossip_model.sqlite"
_HISTORY = "(history)"


def history_table_sql(table: str) -> str:
    """MIG-2 in SQLite terms (SQ-2): BLOB checksum of 32 bytes, TEXT ``applied_at``."""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n"
        "    version TEXT PRIMARY KEY,\n"
        f"    checksum BLOB NOT NULL CONSTRAINT {table}_checksum_check\n"
        "        CHECK (typeof(checksum) = 'blob' AND length(checksum) = 32),\n"
        "    applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )


@dataclass(frozen=True, slots=True)
class Schema:
    """One store's migrations (by file-name prefix), history table and data tables."""

    prefix: str
    history_table: str
    tables: tuple[str, ...]

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """MIG-1: this store's migration files, in version order."""
        return _MIGRATIONS.for_prefix(self.prefix)


class _MigrationFiles:
    """The package's migration files, loaded once (``importlib.resources``, MIG-1)."""

    @cached_property
    def all(self) -> tuple[Migration, ...]:
        return load_migrations(PACKAGE)

    def for_prefix(self, prefix: str) -> tuple[Migration, ...]:
        return tuple(m for m in self.all if m.version.partition("_")[2].startswith(prefix))


_MIGRATIONS = _MigrationFiles()

DONE_LEDGER_SCHEMA = Schema(
    "done_ledger", "done_ledger_schema_migrations", ("done_ledger_entries",)
)
FINDINGS_SCHEMA = Schema(
    "findings", "findings_schema_migrations", ("findings", "occurrences", "observations")
)

for _migration in _MIGRATIONS.all:
    CONSTRAINTS.learn(_migration.sql)
for _schema in (DONE_LEDGER_SCHEMA, FINDINGS_SCHEMA):
    CONSTRAINTS.learn(history_table_sql(_schema.history_table))


def split_statements(sql: str) -> list[str]:
    """Split a migration into complete statements (``sqlite3.complete_statement``).

    A trailing remainder that is only blank or ``--`` comment lines is dropped;
    any other remainder is kept so that running it reports the error.
    """
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if any(s.strip() and not s.strip().startswith("--") for s in buffer.splitlines()):
        statements.append(buffer.strip())
    return statements


def _read_history(connection: sqlite3.Connection, table: str) -> dict[str, bytes]:
    history: dict[str, bytes] = {}
    for version, checksum in connection.execute(f"SELECT version, checksum FROM {table}"):
        if not isinstance(checksum, bytes):
            raise CorruptedHistoryRecord(BACKEND, str(version), "history-checksum-type")
        history[str(version)] = checksum
    return history


def apply_migrations(
    db: SqliteDatabase, schema: Schema, migrations: Sequence[Migration] | None = None
) -> list[str]:
    """MIG-4: apply ``schema``'s pending migrations atomically; return the versions applied.

    ``migrations`` defaults to the package files; tests pass edited copies to
    provoke ``ChecksumMismatch``. A second run is a no-op returning ``[]``.
    """
    files = schema.migrations if migrations is None else tuple(migrations)
    connection = db.connection
    version, step = _HISTORY, "lock"
    try:
        connection.execute("BEGIN IMMEDIATE")
        step = "history"
        connection.execute(history_table_sql(schema.history_table))
        pending = plan_migrations(BACKEND, files, _read_history(connection, schema.history_table))
        step = "apply"
        for migration in pending:
            version = migration.version
            for statement in split_statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                f"INSERT INTO {schema.history_table} (version, checksum) VALUES (?, ?)",
                (migration.version, migration.checksum),
            )
        version, step = _HISTORY, "commit"
        connection.execute("COMMIT")
    except sqlite3.Error as err:
        db.rollback()
        raise SchemaMigrationError(BACKEND, version, step, detail=str(err)) from err
    except BaseException:
        db.rollback()
        raise
    return [migration.version for migration in pending]


def validate_schema(db: SqliteDatabase, schema: Schema) -> None:
    """MIG-5 (``migrate=False``): require every migration applied with its checksum, no writes."""
    connection = db.connection
    files = schema.migrations
    try:
        names = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if schema.history_table not in names:
            raise SchemaMigrationError(BACKEND, files[0].version, "not-applied")
        history = _read_history(connection, schema.history_table)
    except sqlite3.Error as err:
        raise SchemaMigrationError(BACKEND, _HISTORY, "validate", detail=str(err)) from err
    require_applied(BACKEND, files, history)
    for table in schema.tables:
        if table not in names:
            raise SchemaMigrationError(BACKEND, files[-1].version, f"missing-table-{table}")


__all__ = [
    "BACKEND",
    "DONE_LEDGER_SCHEMA",
    "FINDINGS_SCHEMA",
    "Schema",
    "apply_migrations",
    "history_table_sql",
    "open_database",
    "split_statements",
    "validate_schema",
]


def open_database(
    where: str,
    kind: InMemoryStoreKind,
    schema: Schema,
    database: object,
    *,
    timeout: object,
    synchronous: object,
    migrate: object,
) -> SqliteDatabase:
    """Check the constructor arguments, connect (SQ-4), then migrate (MIG-4) or validate (MIG-5).

    A migration failure closes the connection before the error propagates.
    ``where`` (``Owner.__init__``) prefixes the messages of bad arguments.
    """
    path, seconds, mode = check_open_arguments(where, database, timeout, synchronous)
    check_flag(where, "migrate", migrate)
    db = SqliteDatabase(kind, path, timeout=seconds, synchronous=mode)
    try:
        if migrate:
            apply_migrations(db, schema)
        else:
            validate_schema(db, schema)
    except BaseException:
        db.close()
        raise
    return db
