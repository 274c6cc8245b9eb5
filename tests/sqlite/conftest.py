"""Fixtures of the SQLite backend tests (backends.md DT-3: SQLite tests never skip).

Stores are built fresh per test, on ``:memory:`` or on a file under
``tmp_path``; every store a fixture builds is closed at teardown.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink

JOIN = 10.0
"""Seconds: upper bound for every thread join and blocking wait in this package."""


class StatementCounter:
    """Counts the SQL statements a connection runs (``set_trace_callback``, DT-9)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.statements: list[str] = []
        connection.set_trace_callback(self.statements.append)

    @property
    def count(self) -> int:
        return len(self.statements)


def connection_of(store: SqliteDoneLedger | SqliteFindingsSink) -> sqlite3.Connection:
    """The store's one connection (FC-1: the core's durable state is the holder)."""
    return store._core.durable.connection


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "gossip.sqlite3")


@pytest.fixture
def closing() -> Iterator[Callable[[SqliteDoneLedger | SqliteFindingsSink], None]]:
    """Register stores to close at teardown."""
    stores: list[SqliteDoneLedger | SqliteFindingsSink] = []
    yield stores.append
    for store in stores:
        connection_of(store).close()


@pytest.fixture
def ledger() -> Iterator[SqliteDoneLedger]:
    store = SqliteDoneLedger()
    yield store
    connection_of(store).close()


@pytest.fixture
def sink() -> Iterator[SqliteFindingsSink]:
    store = SqliteFindingsSink()
    yield store
    connection_of(store).close()
