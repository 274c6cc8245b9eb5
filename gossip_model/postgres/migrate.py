"""The PostgreSQL migration runner (backends.md MIG-1..MIG-3, MIG-5).

Migration files live in ``gossip_model/postgres/migrations/`` (package data,
MIG-1); each store owns a :class:`MigrationSet`: its versions, its history
table (MIG-2) and its advisory-lock key (MIG-3). What to run, and when history
disagrees with the files, is decided by :func:`gossip_model.db.migrations.plan_migrations`.

:func:`apply_migrations` runs MIG-3 in ONE transaction: ``SET LOCAL
lock_timeout = '0'``; ``pg_advisory_xact_lock(key)`` (serializing concurrent
runners, first bootstrap included); ``SET LOCAL lock_timeout`` to the DDL
budget; ``CREATE TABLE IF NOT EXISTS`` for the history table; per pending
migration its SQL and its ``(version, checksum)`` row; COMMIT. Any error rolls
everything back. :func:`validate_migrations` is MIG-5 (``migrate=False``): no
DDL, only "tables exist and stored checksums match".

Errors: ``ChecksumMismatch`` / ``CorruptedHistoryRecord`` from the plan, and
``SchemaMigrationError(backend="postgres", version, step)`` for a driver
failure, where ``version`` is the migration being applied, or the set's first
version for the steps before any migration runs (``lock``, ``history-table``,
``history-read``, ``commit``) and for MIG-5's ``history-missing`` /
``table-missing`` / ``not-applied``. A driver failure is chained (``raise
... from err``) and its primary message (never its DETAIL line) is the
error's ``detail``, so the real cause of a failed migration is visible, e.g.
``permission denied for schema public``; migrations carry no tenant data, so
the DBE-2 concern does not arise here.

Adoption (issue 13): a history row whose checksum is a known upstream digest
(:mod:`gossip_model.db.upstream`) is accepted in both modes after
:func:`gossip_model.postgres.adopt.verify_adoptable` found the catalog equal
to what our migrations create; otherwise ``SchemaStructureMismatch`` lists
the differences (step ``adopt-structure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import psycopg
from psycopg import sql

from gossip_model.core.arguments import check_flag
from gossip_model.db.errors import SchemaMigrationError
from gossip_model.db.migrations import (
    Migration,
    classify_history,
    load_migrations,
    require_applied,
)
from gossip_model.db.upstream import known_upstream_checksums
from gossip_model.inmemory.errors import InMemoryStoreKind
from gossip_model.postgres.adopt import verify_adoptable
from gossip_model.postgres.connection import Connection, PgConnection

BACKEND = "postgres"
#: MIG-3 step (3): the lock budget of the DDL once the advisory lock is held.
DDL_LOCK_TIMEOUT = "5s"
_PACKAGE = "gossip_model.postgres"


@dataclass(frozen=True)
class MigrationSet:
    """One store's migrations, history table (MIG-2) and advisory-lock key (MIG-3)."""

    versions: tuple[str, ...]
    history_table: str
    lock_key: int
    tables: tuple[str, ...]

    @cached_property
    def migrations(self) -> tuple[Migration, ...]:
        """MIG-1: this set's files from package data, in version order."""
        wanted = set(self.versions)
        found = tuple(m for m in load_migrations(_PACKAGE) if m.version in wanted)
        if tuple(m.version for m in found) != self.versions:  # pragma: no cover - packaging bug
            raise RuntimeError(f"missing migration files for {self.history_table}")
        return found


#: MIG-3 keys: "GSDLPGM1" and "GFPGMIG1" as big-endian 64-bit integers.
DONE_LEDGER_LOCK_KEY = 0x4753444C50474D31
FINDINGS_LOCK_KEY = 0x474650474D494731

DONE_LEDGER_MIGRATIONS = MigrationSet(
    versions=("0001_done_ledger_entries",),
    history_table="done_ledger_schema_migrations",
    lock_key=DONE_LEDGER_LOCK_KEY,
    tables=("done_ledger_entries",),
)
FINDINGS_MIGRATIONS = MigrationSet(
    versions=("0001_findings_schema",),
    history_table="findings_schema_migrations",
    lock_key=FINDINGS_LOCK_KEY,
    tables=("findings", "occurrences", "observations"),
)


def driver_detail(err: psycopg.Error) -> str:
    """The driver's primary message (no DETAIL), e.g. ``permission denied for schema public``."""
    primary = err.diag.message_primary
    if primary:
        return str(primary)
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _adopt(conn: Connection, migrations: MigrationSet, adopted: tuple[Migration, ...]) -> None:
    """Issue 13: verify the structure of a database carrying upstream digests."""
    if not adopted:
        return
    last = migrations.migrations.index(adopted[-1])
    verify_adoptable(
        conn,
        backend=BACKEND,
        version=adopted[0].version,
        tables=(migrations.history_table, *migrations.tables),
        migrations=migrations.migrations[: last + 1],
        history_ddl=_history_ddl(migrations.history_table),
    )


def _history_ddl(table: str) -> sql.Composed:
    """MIG-2: the history table, created by the runner."""
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        "version TEXT PRIMARY KEY, "
        "checksum BYTEA NOT NULL CHECK (octet_length(checksum) = 32), "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"
    ).format(sql.Identifier(table))


def _read_history(conn: Connection, table: str) -> dict[str, bytes]:
    rows = conn.execute(sql.SQL("SELECT version, checksum FROM {}").format(sql.Identifier(table)))
    return {str(version): bytes(checksum) for version, checksum in rows}


class _Step:
    """Tracks the step (and version) a failure is attributed to."""

    __slots__ = ("name", "version")

    def __init__(self, version: str) -> None:
        self.version = version
        self.name = "connect"


def apply_migrations(
    conn: Connection, migrations: MigrationSet, *, ddl_lock_timeout: str = DDL_LOCK_TIMEOUT
) -> list[str]:
    """MIG-3: apply the pending migrations under the advisory lock; return their versions.

    Versions whose stored checksum is a known upstream digest are adopted
    after the structure check (see the module docstring); they are not re-run.
    """
    step = _Step(migrations.versions[0])
    applied: list[str] = []
    try:
        with conn.transaction():
            step.name = "lock"
            conn.execute("SET LOCAL lock_timeout = '0'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.lock_key,))
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(ddl_lock_timeout))
            )
            step.name = "history-table"
            conn.execute(_history_ddl(migrations.history_table))
            step.name = "history-read"
            history = _read_history(conn, migrations.history_table)
            plan = classify_history(
                BACKEND, migrations.migrations, history, known_upstream_checksums()
            )
            step.name = "adopt-structure"
            _adopt(conn, migrations, plan.adopted)
            insert = sql.SQL("INSERT INTO {} (version, checksum) VALUES (%s, %s)").format(
                sql.Identifier(migrations.history_table)
            )
            for migration in plan.pending:
                step.version = migration.version
                step.name = "apply"
                conn.execute(migration.sql.encode("utf-8"))
                step.name = "record"
                conn.execute(insert, (migration.version, migration.checksum))
                applied.append(migration.version)
            step.name = "commit"
            step.version = migrations.versions[0]
    except psycopg.Error as err:
        raise SchemaMigrationError(
            BACKEND, step.version, step.name, detail=driver_detail(err)
        ) from err
    return applied


def validate_migrations(conn: Connection, migrations: MigrationSet) -> None:
    """MIG-5: tables and history exist and every stored checksum matches; no DDL.

    Adopting a known upstream digest needs the structure check, which builds
    the expected schema in ``pg_temp`` inside a transaction rolled back at
    once: nothing persistent is written.
    """
    first = migrations.versions[0]
    step = "history-read"
    history: Mapping[str, bytes] = {}
    missing_table: str | None = None
    try:
        names = (migrations.history_table, *migrations.tables)
        rows = conn.execute(
            "SELECT name FROM unnest(%s::text[]) AS t(name) WHERE to_regclass(name) IS NULL",
            (list(names),),
        ).fetchall()
        absent = {str(row[0]) for row in rows}
        if migrations.history_table in absent:
            missing_table = migrations.history_table
        else:
            history = _read_history(conn, migrations.history_table)
            missing_table = next((t for t in migrations.tables if t in absent), None)
    except psycopg.Error as err:
        raise SchemaMigrationError(BACKEND, first, step, detail=driver_detail(err)) from err
    if missing_table == migrations.history_table:
        raise SchemaMigrationError(BACKEND, first, "history-missing")
    adopted = require_applied(BACKEND, migrations.migrations, history, known_upstream_checksums())
    if missing_table is not None:
        raise SchemaMigrationError(BACKEND, first, "table-missing")
    try:
        with conn.transaction():
            _adopt(conn, migrations, adopted)
    except psycopg.Error as err:
        raise SchemaMigrationError(
            BACKEND, first, "adopt-structure", detail=driver_detail(err)
        ) from err


__all__ = [
    "BACKEND",
    "DDL_LOCK_TIMEOUT",
    "DONE_LEDGER_LOCK_KEY",
    "DONE_LEDGER_MIGRATIONS",
    "FINDINGS_LOCK_KEY",
    "FINDINGS_MIGRATIONS",
    "MigrationSet",
    "apply_migrations",
    "driver_detail",
    "validate_migrations",
]


def open_migrated(
    where: str,
    conninfo: str,
    kind: InMemoryStoreKind,
    migrations: MigrationSet,
    *,
    migrate: bool,
    prepare_threshold: int | None,
) -> PgConnection:
    """Connect, then apply (MIG-3) or only validate (MIG-5) ``migrations``.

    The connection is closed again if either step fails, so a constructor that
    raises leaves no open connection behind. ``where`` (``Owner.__init__``)
    prefixes the messages of bad arguments, all checked before connecting.
    """
    check_flag(where, "migrate", migrate)
    holder = PgConnection(conninfo, kind, prepare_threshold=prepare_threshold, where=where)
    try:
        conn = holder.connection("connect")
        if migrate:
            apply_migrations(conn, migrations)
        else:
            validate_migrations(conn, migrations)
    except BaseException:
        holder.close()
        raise
    return holder
