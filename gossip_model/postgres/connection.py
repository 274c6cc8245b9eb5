"""The PostgreSQL connection holder and driver-error mapping (backends.md PG-1..PG-3, DBE-2, FC-5).

:class:`PgConnection` is the "durable state" a PostgreSQL store core holds
(FC-1): one psycopg 3 connection per core, used only under the core lock
(FC-6, PG-1), so a store and its clones share it and run one operation at a
time. Parallelism means more stores.

Choices on open points:

* PG-1: ``psycopg.connect(conninfo, autocommit=True)``; writes open
  ``conn.transaction()``, reads are single statements (READ COMMITTED).
* PG-2 (reconnection), recommended choice: a connection that is ``closed`` or
  ``broken`` is discarded and reopened from the conninfo at the next use (the
  server has already rolled back whatever was open); ``connect_timeout=10`` is
  added when the conninfo names none. A failed reconnect is a
  ``DatabaseBackendError`` with operation ``connect``; the next call tries again.
* PG-3 (statement preparation), recommended choice: psycopg's default
  ``prepare_threshold`` (5) is kept; pass ``prepare_threshold=None`` behind a
  transaction-mode pooler (the ``prepare_threshold`` keyword of the stores).
* DBE-2: a driver error becomes ``DatabaseBackendError(store, operation,
  sqlstate, diag.table_name, diag.constraint_name)`` and NOTHING else of it:
  never its message, DETAIL line or the conninfo. The mapped error is raised
  outside the ``except`` block and ``from None``, so it carries neither a
  cause nor a context that a traceback could print.
* FC-5: when ROLLBACK itself fails on a dead connection, psycopg keeps the
  original error (it only logs the rollback failure); the connection is then
  ``broken`` and is replaced at next use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import conninfo as pg_conninfo

from gossip_model.db.errors import DatabaseBackendError
from gossip_model.inmemory.errors import InMemoryStoreKind

T = TypeVar("T")

Connection = psycopg.Connection[tuple[Any, ...]]

#: PG-2: the connect timeout (seconds) added when the conninfo has none.
DEFAULT_CONNECT_TIMEOUT = 10


def normalise_conninfo(conninfo: str, where: str = "normalise_conninfo") -> str:
    """PG-1 / PG-2: the caller's conninfo (keyword string or URI), ``connect_timeout`` defaulted.

    Raises ``TypeError`` for a non-string and ``ValueError`` for a string libpq
    cannot parse; the message never quotes the string (it may hold a
    password). ``where`` is the ``Owner.method`` prefix of the message.
    """
    if not isinstance(conninfo, str):
        raise TypeError(
            f"{where}: conninfo must be a str, got {type(conninfo).__name__}; pass a "
            'libpq connection string such as "host=/tmp dbname=gossip" or a '
            "postgresql:// URI"
        )
    try:
        params = pg_conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        raise ValueError(
            f"{where}: conninfo is not a valid PostgreSQL connection string (libpq cannot "
            'parse it; the text is not shown, it may hold a password); pass "key=value" '
            "pairs or a postgresql:// URI"
        ) from None
    if "connect_timeout" in params:
        return conninfo
    return pg_conninfo.make_conninfo(conninfo, connect_timeout=DEFAULT_CONNECT_TIMEOUT)


def backend_error(
    store: InMemoryStoreKind, operation: str, exc: psycopg.Error
) -> DatabaseBackendError:
    """DBE-2: reduce a driver error to SQLSTATE, table and constraint (no driver text)."""
    diag = exc.diag
    return DatabaseBackendError(
        store, operation, exc.sqlstate, diag.table_name, diag.constraint_name
    )


def constraint_of(exc: psycopg.Error) -> str | None:
    """The constraint a driver error names (``diag.constraint_name``), if any."""
    return exc.diag.constraint_name


class PgConnection:
    """FC-1: a store core's durable state, the one connection of that core.

    ``connect`` is the factory used to open a connection (tests substitute a
    statement-counting wrapper through it, DT-9). Every method expects the
    core lock to be held by the caller, except :meth:`close` during
    construction.
    """

    __slots__ = ("_conn", "connect", "conninfo", "prepare_threshold", "store")

    def __init__(
        self,
        conninfo: str,
        store: InMemoryStoreKind,
        *,
        prepare_threshold: int | None = 5,
        where: str = "PgConnection.__init__",
    ) -> None:
        self.conninfo = normalise_conninfo(conninfo, where)
        self.store = store
        self.prepare_threshold = prepare_threshold
        self.connect: Callable[[str], Connection] = self._open
        self._conn: Connection | None = None

    def _open(self, conninfo: str) -> Connection:
        """PG-1: an autocommit connection; PG-3: the configured ``prepare_threshold``."""
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.prepare_threshold = self.prepare_threshold
        return conn

    def connection(self, operation: str) -> Connection:
        """PG-2: the live connection, reopened if it was closed or broke."""
        conn = self._conn
        if conn is not None and (conn.closed or conn.broken):
            self.close()
            conn = None
        if conn is None:
            failure: DatabaseBackendError | None = None
            try:
                conn = self.connect(self.conninfo)
            except psycopg.Error as exc:
                failure = backend_error(self.store, operation, exc)
            if failure is not None:
                raise failure from None
            assert conn is not None
            self._conn = conn
        return conn

    def run(self, operation: str, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)``; a driver error becomes ``DatabaseBackendError`` (DBE-2).

        Errors of this package (``CorruptRow``, ``ValueOutOfRange``, integrity
        errors) pass through unchanged.
        """
        conn = self.connection(operation)
        failure: DatabaseBackendError | None = None
        try:
            return work(conn)
        except psycopg.Error as exc:
            failure = backend_error(self.store, operation, exc)
        raise failure from None

    @property
    def is_open(self) -> bool:
        """Whether a live connection is currently held (reads no state from the server)."""
        conn = self._conn
        return conn is not None and not conn.closed and not conn.broken

    def close(self) -> None:
        """Close and forget the connection; the next use reconnects (PG-2). Idempotent."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):  # closing a dead socket
                conn.close()

    def __repr__(self) -> str:
        # Never the conninfo: it may carry a password.
        return f"PgConnection(store={self.store.name}, open={self.is_open})"


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "Connection",
    "PgConnection",
    "backend_error",
    "constraint_of",
    "normalise_conninfo",
]
