"""Streaming, read-only access to a database under audit (issue 13).

``postgres:DSN`` opens one psycopg connection whose only transaction is
``REPEATABLE READ, READ ONLY`` (one consistent snapshot for every query; the
server refuses any write), and reads through server-side (named) cursors, so
client memory is bounded by ``batch_rows`` whatever the table size.
``sqlite:PATH`` opens the file read-only (``mode=ro`` URI, ``PRAGMA
query_only``) inside one deferred transaction (one snapshot) and iterates
the cursor in batches. Both readers raise :class:`AuditSetupError` for
anything that prevents the audit (unreachable server, missing file).
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

#: Rows per round trip of a server-side cursor (and per ``fetchmany`` on SQLite).
BATCH_ROWS = 5_000

Row = tuple[Any, ...]


class AuditSetupError(Exception):
    """The audit could not start or read the database (exit status 3); names cause and fix."""


class Reader(Protocol):
    """What the checks need from a database: table names, estimates, streamed queries."""

    engine: str

    def tables(self) -> frozenset[str]: ...

    def estimate(self, table: str) -> int: ...

    def batches(self, query: str) -> Iterator[list[Row]]: ...

    def stream(self, query: str) -> Iterator[Row]: ...

    def close(self) -> None: ...


class PostgresReader:
    """One READ ONLY, REPEATABLE READ transaction; named cursors stream every query."""

    engine = "postgres"

    def __init__(self, conninfo: str, *, batch_rows: int = BATCH_ROWS) -> None:
        self.batch_rows = batch_rows
        self._names = itertools.count(1)
        psycopg = _driver()
        try:
            conn = psycopg.connect(conninfo, connect_timeout=10)
        except psycopg.Error as err:
            raise AuditSetupError(
                f"cannot connect to PostgreSQL: {primary_message(err)} "
                "(check the DSN, the server and the role's LOGIN right)"
            ) from err
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.conn = conn
        # Opens the transaction. A cursor is planned for its first rows by default
        # (nested loops over indexes); the audit reads everything, so plan for the
        # whole result (hash joins for the relation checks). SET LOCAL writes nothing.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")

    def tables(self) -> frozenset[str]:
        rows = self.conn.execute(
            "SELECT name FROM unnest(%s::text[]) AS t(name) WHERE to_regclass(name) IS NOT NULL",
            (list(KNOWN_TABLES),),
        ).fetchall()
        return frozenset(str(row[0]) for row in rows)

    def estimate(self, table: str) -> int:
        """The planner's row estimate (``reltuples``): cheap, used for the progress bar only."""
        row = self.conn.execute(
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            (table,),
        ).fetchone()
        return int(row[0]) if row else 0

    def batches(self, query: str) -> Iterator[list[Row]]:
        """Lists of at most ``batch_rows`` rows from one server-side cursor."""
        name = f"gossip_audit_{next(self._names)}"
        with self.conn.cursor(name=name, binary=True) as cursor:
            cursor.execute(query)
            while rows := cursor.fetchmany(self.batch_rows):
                yield rows

    def stream(self, query: str) -> Iterator[Row]:
        for rows in self.batches(query):
            yield from rows

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


class SqliteReader:
    """A ``mode=ro`` connection with ``query_only``; one deferred transaction; batched fetches."""

    engine = "sqlite"

    def __init__(self, path: str, *, batch_rows: int = BATCH_ROWS) -> None:
        self.batch_rows = batch_rows
        if not Path(path).is_file():
            raise AuditSetupError(f"no SQLite database file at {path!r} (check the path)")
        try:
            conn = sqlite3.connect(
                f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN")
        except sqlite3.Error as err:
            raise AuditSetupError(f"cannot open SQLite database {path!r}: {err}") from err
        self.conn = conn

    def tables(self) -> frozenset[str]:
        rows = self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return frozenset(str(row[0]) for row in rows) & frozenset(KNOWN_TABLES)

    def estimate(self, table: str) -> int:
        """An exact count (SQLite keeps no estimate); for the progress bar only."""
        row = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def batches(self, query: str) -> Iterator[list[Row]]:
        cursor = self.conn.execute(query)
        try:
            while rows := cursor.fetchmany(self.batch_rows):
                yield rows
        finally:
            cursor.close()

    def stream(self, query: str) -> Iterator[Row]:
        for rows in self.batches(query):
            yield from rows

    def close(self) -> None:
        self.conn.close()


KNOWN_TABLES = (
    "done_ledger_entries",
    "findings",
    "occurrences",
    "observations",
    "done_ledger_schema_migrations",
    "findings_schema_migrations",
)


def _driver() -> Any:
    """psycopg, imported only for a PostgreSQL target (the CLI runs without the extra)."""
    try:
        import psycopg
    except ImportError as err:
        raise AuditSetupError(
            "the PostgreSQL driver is not installed (psycopg): "
            "install the postgres extra: pip install 'gossip-model[postgres]'"
        ) from err
    return psycopg


def driver_errors() -> tuple[type[BaseException], ...]:
    """The database errors a read can raise: sqlite3's, and psycopg's once it is loaded."""
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


def primary_message(err: Exception) -> str:
    """The driver error's primary message (never its DETAIL line, which may quote values)."""
    diag = getattr(err, "diag", None)
    primary = diag.message_primary if diag is not None else None
    if primary:
        return str(primary)
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def open_reader(target: str, *, batch_rows: int = BATCH_ROWS) -> Reader:
    """``postgres:DSN`` or ``sqlite:PATH`` -> a reader; anything else is a setup error."""
    engine, sep, rest = target.partition(":")
    if sep and rest and engine == "postgres":
        return PostgresReader(rest, batch_rows=batch_rows)
    if sep and rest and engine == "sqlite":
        return SqliteReader(rest, batch_rows=batch_rows)
    raise AuditSetupError(
        "the target must be postgres:DSN or sqlite:PATH "
        "(e.g. 'postgres:host=/run/postgresql dbname=gossip' or sqlite:/var/lib/gossip.db)"
    )


__all__ = [
    "BATCH_ROWS",
    "KNOWN_TABLES",
    "AuditSetupError",
    "PostgresReader",
    "Reader",
    "Row",
    "SqliteReader",
    "open_reader",
    "primary_message",
]
