"""One store fixture over both database backends (DT-9; issue 11 item 4).

``backend`` is parametrized: ``sqlite`` (a file under ``tmp_path``, so a second
connection can look at what the store committed) and ``postgres`` (a fresh
database per test, DT-2). The postgres parameter carries the ``postgres``
marker and goes through ``pg_url``: skipped without
``GOSSIP_POSTGRES_TEST_URL``, a failure when ``CI`` is set (DT-3).

A :class:`Backend` opens stores on the test's database (closed at teardown),
counts the SQL a store sends (DT-9), reads row counts on an independent
connection, and knows the one place where each backend's apply can be broken
for the poisoning test (FC-5).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres import done_ledger as pg_done_ledger
from gossip_model.postgres.connection import PgConnection
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from gossip_model.sqlite import done_ledger as sqlite_done_ledger

# The PostgreSQL fixtures (DT-1..DT-3) are the postgres package's own.
from tests.postgres.conftest import maintenance, new_database, pg_url  # noqa: F401

Store = Any
"""A database done ledger or findings sink (the facades share no nominal base type)."""


class SqlCounter:
    """DT-9: how many statements (SQLite) or statements, cursors and transactions
    (PostgreSQL) a store has sent since the counter was attached."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, *_: object) -> None:
        self.count += 1


class _CountingConnection:
    """A psycopg connection that counts every statement, cursor and transaction asked of it."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], counter: SqlCounter) -> None:
        self._conn = conn
        self._counter = counter

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.add()
        return self._conn.execute(*args, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.add()
        return self._conn.cursor(*args, **kwargs)

    def transaction(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.add()
        return self._conn.transaction(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@dataclass
class Backend:
    """The test's database and what the shared tests need to know about its backend."""

    name: str
    location: str
    """``tmp_path`` file (SQLite) or conninfo (PostgreSQL) of the test's database."""
    opened: list[Store] = field(default_factory=list)

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def ledger(self, **kwargs: Any) -> Store:
        """A done ledger on the test's database (closed at teardown)."""
        factory = SqliteDoneLedger if self.is_sqlite else PostgresDoneLedger
        store = factory(self.location, **kwargs)
        self.opened.append(store)
        return store

    def sink(self, **kwargs: Any) -> Store:
        """A findings sink on the test's database (closed at teardown)."""
        factory = SqliteFindingsSink if self.is_sqlite else PostgresFindingsSink
        store = factory(self.location, **kwargs)
        self.opened.append(store)
        return store

    def count_sql(self, store: Store) -> SqlCounter:
        """Attach a :class:`SqlCounter` to ``store``'s connection (shared by its clones)."""
        counter = SqlCounter()
        if self.is_sqlite:
            store._core.durable.connection.set_trace_callback(counter.add)
            return counter
        holder: PgConnection = store._core.durable
        holder.close()  # PG-2: the next use reconnects through ``connect``
        holder.connect = lambda info: _CountingConnection(
            psycopg.connect(info, autocommit=True), counter
        )
        return counter

    def rows(self, table: str) -> int:
        """Committed rows of ``table``, read on an independent connection."""
        query = f"SELECT count(*) FROM {table}"
        if self.is_sqlite:
            with sqlite3.connect(self.location) as conn:
                (count,) = conn.execute(query).fetchone()
            conn.close()
        else:
            with psycopg.connect(self.location, autocommit=True) as pg:
                (count,) = pg.execute(query).fetchone()  # type: ignore[misc]
        return int(count)

    def in_transaction(self, store: Store) -> bool:
        """Whether the store's own connection was left inside a transaction."""
        if self.is_sqlite:
            return bool(store._core.durable.connection.in_transaction)
        conn = store._core.durable._conn
        return conn is not None and conn.info.transaction_status != TransactionStatus.IDLE

    def is_closed(self, store: Store) -> bool:
        """Whether the store's own connection is closed (SQLite refuses any statement)."""
        if self.is_sqlite:
            try:
                store._core.durable.connection.execute("SELECT 1")
            except sqlite3.ProgrammingError:
                return True
            return False
        return not store._core.durable.is_open

    def break_apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """TH-3 / FC-5: make the done ledger's apply raise a non-persistence exception; on
        SQLite after the upsert ran inside the transaction (which must roll back)."""
        if self.is_sqlite:
            module = sqlite_done_ledger

            def broken_upsert(tx: Any, rows: Any) -> None:
                tx.executemany(module.TABLE, module.UPSERT_SQL, rows)
                raise RuntimeError("bug")

            monkeypatch.setattr(module, "_upsert", broken_upsert)
        else:

            def broken_encode(*_: object) -> None:
                raise RuntimeError("bug")

            monkeypatch.setattr(pg_done_ledger, "encode_folded", broken_encode)

    def describe(self) -> str:
        """The backend-specific head of a facade's repr (TH-5)."""
        return f"database={self.location!r}, " if self.is_sqlite else ""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each shared test once on SQLite and once on PostgreSQL (DT-3 for the latter)."""
    if request.param == "sqlite":
        location = str(tmp_path / "gossip.sqlite3")
    else:
        location = request.getfixturevalue("new_database")()
    chosen = Backend(request.param, location)
    yield chosen
    for store in chosen.opened:
        # The durable holder closes even on a poisoned core (FC-5); both are idempotent.
        store._core.durable.close()


@pytest.fixture
def ledger(backend: Backend) -> Store:
    return backend.ledger()


@pytest.fixture
def sink(backend: Backend) -> Store:
    return backend.sink()
