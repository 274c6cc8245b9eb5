"""One SQLite connection per store core (backends.md SQ-1, SQ-4, SQ-5, SQ-6, SQ-8, DBE-2, FC-5).

:class:`SqliteDatabase` is the "durable state" a SQLite store core hands to
its backend's ``apply`` (FC-1): it owns exactly one ``sqlite3`` connection,
used only under the core lock (FC-6, SQ-8), and runs every write in one
``BEGIN IMMEDIATE`` ... ``COMMIT`` (SQ-5) through :meth:`SqliteDatabase.write`.

Driver errors never leave this module as driver errors: they become
``DatabaseBackendError(store, operation, code, table, constraint)`` raised
``from None`` (DBE-1, DBE-2). ``code`` is ``sqlite_errorname``; ``table`` is
the table of the failing statement; ``constraint`` is recovered only by
matching the driver message against the constraint names this package
defines (never copied from the message otherwise), so no key value can leak.

Choices on open points:

* SQ-4 ``synchronous``: ``FULL`` by default, so a receipt survives power loss;
  any of ``OFF``, ``NORMAL``, ``FULL``, ``EXTRA`` is accepted.
* ``""`` (SQLite's private temporary database) is treated like ``":memory:"``:
  no WAL, one private database per store.
* FC-5: when ``ROLLBACK`` itself fails, its error is dropped and the original
  one kept; the connection stays (a SQLite connection does not break the way
  a network connection does, and discarding a ``:memory:`` one loses data).
* ``close()`` closes the connection for the store and all its clones; later
  operations fail with ``DatabaseBackendError`` (code ``None``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from gossip_model.db.errors import DatabaseBackendError
from gossip_model.inmemory.errors import InMemoryStoreKind

T = TypeVar("T")

MEMORY = ":memory:"
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
MIN_SQLITE_VERSION = (3, 24, 0)
_WAL_RETRY_PAUSE = 0.005
"""Seconds between attempts to switch a fresh file to WAL (``_switch_to_wal``)."""

_CHECK_PREFIX = "CHECK constraint failed: "
_UNIQUE_PREFIX = "UNIQUE constraint failed: "
_FOREIGN_KEY = "FOREIGN KEY constraint failed"
_CONSTRAINT_NAME = re.compile(r"CONSTRAINT\s+(\w+)", re.IGNORECASE)
_FOREIGN_KEYS = {
    "occurrences": "occurrences_finding_fk",
    "observations": "observations_occurrence_fk",
}


def require_sqlite_version(version: tuple[int, int, int]) -> None:
    """SQ-1: UPSERT needs SQLite 3.24+; refuse older libraries with a clear message."""
    if version < MIN_SQLITE_VERSION:
        found = ".".join(map(str, version))
        raise RuntimeError(
            f"import gossip_model.sqlite: needs SQLite 3.24 or newer (UPSERT); this Python "
            f"links {found}; use a Python built against a newer SQLite (or the in-memory "
            "or PostgreSQL stores)"
        )


class ConstraintNames:
    """The constraint names of this package's schema, for DBE-2 without driver text.

    ``unique`` maps SQLite's ``table.col, table.col`` list of a UNIQUE or
    PRIMARY KEY failure to the constraint's name.
    """

    __slots__ = ("checks", "unique")

    def __init__(self) -> None:
        self.checks: set[str] = set()
        self.unique: dict[str, str] = {}

    def learn(self, sql: str) -> None:
        """Collect ``CONSTRAINT name`` clauses and the column lists of keys from ``sql``."""
        self.checks.update(_CONSTRAINT_NAME.findall(sql))
        table = ""
        for match in re.finditer(
            r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)|CONSTRAINT (\w+)\s+(?:PRIMARY KEY|UNIQUE)"
            r"\s*\(([^)]*)\)",
            sql,
        ):
            if match.group(1) is not None:
                table = match.group(1)
            else:
                columns = ", ".join(f"{table}.{c.strip()}" for c in match.group(3).split(","))
                self.unique[columns] = match.group(2)

    def for_error(self, error: sqlite3.Error, table: str | None) -> str | None:
        """The name of the constraint ``error`` reports, if it is one of ours."""
        if not isinstance(error, sqlite3.IntegrityError):
            return None
        message = str(error)
        if message.startswith(_CHECK_PREFIX):
            name = message.removeprefix(_CHECK_PREFIX)
            return name if name in self.checks else None
        if message.startswith(_UNIQUE_PREFIX):
            return self.unique.get(message.removeprefix(_UNIQUE_PREFIX))
        if message == _FOREIGN_KEY and table is not None:
            return _FOREIGN_KEYS.get(table)
        return None


CONSTRAINTS = ConstraintNames()


def error_code(error: sqlite3.Error) -> str | None:
    """DBE-2: ``sqlite_errorname`` (absent on errors raised by the module itself)."""
    name = getattr(error, "sqlite_errorname", None)
    return name if isinstance(name, str) else None


def backend_error(
    store: InMemoryStoreKind, operation: str, error: sqlite3.Error, table: str | None
) -> DatabaseBackendError:
    """DBE-1, DBE-2: the driver error reduced to code, table and a known constraint name."""
    return DatabaseBackendError(
        store, operation, error_code(error), table, CONSTRAINTS.for_error(error, table)
    )


def check_open_arguments(
    where: str, database: object, timeout: object, synchronous: object
) -> tuple[str, float, str]:
    """TH-6 for the constructors: path (SQ-4), busy timeout (SQ-5) and ``synchronous`` (SQ-4).

    Returns the path (``os.PathLike`` resolved), the timeout as a float and the
    mode in upper case. ``where`` is the ``Owner.__init__`` prefix of the message.
    """
    if isinstance(database, os.PathLike):
        database = os.fspath(database)
    if not isinstance(database, str):
        raise TypeError(
            f"{where}: database must be a str or os.PathLike, got {type(database).__name__}; "
            'pass a file path, or ":memory:" for a private in-memory database'
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            f"{where}: timeout must be a number of seconds, got {type(timeout).__name__}; "
            "pass e.g. 5.0"
        )
    if not 0 <= timeout < float("inf"):
        raise ValueError(
            f"{where}: timeout must be a finite number >= 0, got {timeout!r}; pass e.g. 5.0"
        )
    modes = ", ".join(SYNCHRONOUS_MODES)
    if not isinstance(synchronous, str):
        raise TypeError(
            f"{where}: synchronous must be a str, got {type(synchronous).__name__}; "
            f"pass one of {modes}"
        )
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError(
            f"{where}: synchronous must be one of {modes}, got {synchronous!r}; "
            'pass "FULL" (the default) unless you accept losing the last commits on power loss'
        )
    return database, float(timeout), mode


class Transaction:
    """The statements of one write; remembers the table of the statement running (DBE-2)."""

    __slots__ = ("connection", "table")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.table: str | None = None

    def execute(self, table: str, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.table = table
        return self.connection.execute(sql, params)

    def executemany(self, table: str, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.table = table
        self.connection.executemany(sql, rows)


class SqliteDatabase:
    """The connection holder: durable state of a SQLite store core (FC-1, SQ-4, SQ-8).

    Opens ``sqlite3.connect(database, isolation_level=None,
    check_same_thread=False, timeout=timeout)``; turns foreign keys on outside
    any transaction and reads the setting back; switches file databases to
    WAL, checking the returned mode; sets ``synchronous``; reads the variable
    limit (SQ-6). Every failure here raises ``DatabaseBackendError`` with
    operation ``connect`` and closes the half-opened connection.
    """

    __slots__ = ("connection", "database", "in_memory", "kind", "timeout", "variable_limit")

    def __init__(
        self, kind: InMemoryStoreKind, database: str, *, timeout: float, synchronous: str
    ) -> None:
        self.kind = kind
        self.database = database
        self.timeout = timeout
        self.in_memory = database in (MEMORY, "")
        try:
            connection = sqlite3.connect(
                database, isolation_level=None, check_same_thread=False, timeout=timeout
            )
        except sqlite3.Error as error:
            raise backend_error(kind, "connect", error, None) from None
        self.connection = connection
        try:
            self._configure(synchronous.upper())
        except BaseException:
            connection.close()
            raise

    def _configure(self, synchronous: str) -> None:
        connection = self.connection
        try:
            connection.execute("PRAGMA foreign_keys=ON")
            if connection.execute("PRAGMA foreign_keys").fetchone() != (1,):
                raise DatabaseBackendError(self.kind, "connect", "foreign_keys", None, None)
            if not self.in_memory:
                mode = self._switch_to_wal()
                if str(mode).lower() != "wal":
                    raise DatabaseBackendError(self.kind, "connect", "journal_mode", None, None)
            connection.execute(f"PRAGMA synchronous={synchronous}")
        except sqlite3.Error as error:
            raise backend_error(self.kind, "connect", error, None) from None
        self.variable_limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def _switch_to_wal(self) -> object:
        """``PRAGMA journal_mode=WAL``, retried on ``SQLITE_BUSY`` within the busy timeout.

        SQLite does not call the busy handler for this switch: when several
        connections open one fresh file at once (DT-7 / MIG-4), all but one may
        get ``SQLITE_BUSY`` at once. Retrying until the constructor's ``timeout``
        has passed gives them the wait the busy timeout gives every other statement.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                (mode,) = self.connection.execute("PRAGMA journal_mode=WAL").fetchone()
                return mode
            except sqlite3.OperationalError as error:
                busy = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
                time.sleep(_WAL_RETRY_PAUSE)

    # -- writes (SQ-5, FC-5) ----------------------------------------------------------

    def write(self, operation: str, body: Callable[[Transaction], T]) -> T:
        """Run ``body`` in ONE ``BEGIN IMMEDIATE`` transaction and commit (SQ-5, DBL-2 step 6).

        Any exception rolls the transaction back (FC-5). A driver error becomes
        ``DatabaseBackendError`` naming the failing statement's table (a busy
        timeout gives code ``SQLITE_BUSY``); every other exception (the domain
        errors ``body`` raises on purpose included) propagates unchanged.
        """
        connection = self.connection
        tx = Transaction(connection)
        try:
            connection.execute("BEGIN IMMEDIATE")
            result = body(tx)
            tx.table = None
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            self.rollback()
            raise backend_error(self.kind, operation, error, tx.table) from None
        except BaseException:
            self.rollback()
            raise
        return result

    def rollback(self) -> None:
        """FC-5: roll back if a transaction is open; a failing ROLLBACK keeps the first error."""
        connection = self.connection
        try:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # -- reads (DBL-7, DBL-8, DBF-9) -------------------------------------------------

    def query(self, operation: str, table: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One read statement outside any explicit transaction; driver errors mapped (DBE-2)."""
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise backend_error(self.kind, operation, error, table) from None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.connection.close()

    def __repr__(self) -> str:
        return f"SqliteDatabase(kind={self.kind.name}, database={self.database!r})"


__all__ = [
    "CONSTRAINTS",
    "MEMORY",
    "SYNCHRONOUS_MODES",
    "ConstraintNames",
    "SqliteDatabase",
    "Transaction",
    "backend_error",
    "check_open_arguments",
    "error_code",
    "require_sqlite_version",
]
