"""Stores under test: fresh shared state per execution, one handle per client (item 3, 5).

A :class:`Target` knows one backend and one interface (``"done_ledger"`` or
``"findings"``). ``open(clients, pause)`` empties the backend's state and
returns one handle per client; ``close(handles)`` releases them.

* :class:`InMemoryTarget`: one new store, ``clone()`` per client (ST-3: clones
  share the core, like several handles on one service);
* :class:`SqliteTarget`: one ``SqliteDoneLedger`` / ``SqliteFindingsSink`` per
  client on one file (each its own connection, WAL, ``BEGIN IMMEDIATE``);
* :class:`PostgresTarget`: one store, hence one connection, per client.

Database drivers are imported only when such a target opens.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Pause = Callable[[], None]

LEDGER = "done_ledger"
SINK = "findings"
INTERFACES = (LEDGER, SINK)
_FINDINGS_TABLES = ("observations", "occurrences", "findings")


def check_interface(interface: str) -> str:
    if interface not in INTERFACES:
        raise ValueError(f"interface must be one of {INTERFACES}, got {interface!r}")
    return interface


class Target(Protocol):
    name: str
    interface: str

    def open(self, clients: int, pause: Pause) -> list[Any]: ...

    def close(self, handles: Sequence[Any]) -> None: ...


def _close_all(handles: Sequence[Any]) -> None:
    for handle in handles:
        close = getattr(handle, "close", None)
        if close is not None:
            close()


class InMemoryTarget:
    """The in-memory reference store; clients are clones of one store."""

    def __init__(self, interface: str = LEDGER) -> None:
        self.interface = check_interface(interface)
        self.name = f"inmemory ({interface})"

    def open(self, clients: int, pause: Pause) -> list[Any]:
        from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink

        first: Any = InMemoryDoneLedger() if self.interface == LEDGER else InMemoryFindingsSink()
        return [first, *(first.clone() for _ in range(clients - 1))]

    def close(self, handles: Sequence[Any]) -> None:
        return None


class SqliteTarget:
    """One SQLite store (own connection) per client on the file ``path``."""

    def __init__(self, path: str, interface: str = LEDGER) -> None:
        self.interface = check_interface(interface)
        self.path = path
        self.name = f"sqlite:{path} ({interface})"

    def _store(self) -> Any:
        from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink

        kind = SqliteDoneLedger if self.interface == LEDGER else SqliteFindingsSink
        # NORMAL: durability across power loss is not under test here (SQ-4).
        return kind(self.path, synchronous="NORMAL")

    def open(self, clients: int, pause: Pause) -> list[Any]:
        first = self._store()  # migrates the file
        tables = ("done_ledger_entries",) if self.interface == LEDGER else _FINDINGS_TABLES
        with sqlite3.connect(self.path) as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")
        return [first, *(self._store() for _ in range(clients - 1))]

    def close(self, handles: Sequence[Any]) -> None:
        _close_all(handles)


class PostgresTarget:
    """One PostgreSQL store (one connection) per client on the database ``conninfo``."""

    def __init__(self, conninfo: str, interface: str = LEDGER) -> None:
        self.interface = check_interface(interface)
        self.conninfo = conninfo
        self.name = f"postgres ({interface})"

    def _store(self) -> Any:
        from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink

        kind = PostgresDoneLedger if self.interface == LEDGER else PostgresFindingsSink
        return kind(self.conninfo)

    def open(self, clients: int, pause: Pause) -> list[Any]:
        import psycopg

        first = self._store()  # migrates the database
        tables = "done_ledger_entries" if self.interface == LEDGER else ", ".join(_FINDINGS_TABLES)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {tables}")  # fixed table names, no user input
        return [first, *(self._store() for _ in range(clients - 1))]

    def close(self, handles: Sequence[Any]) -> None:
        _close_all(handles)


__all__ = [
    "LEDGER",
    "SINK",
    "INTERFACES",
    "InMemoryTarget",
    "Pause",
    "PostgresTarget",
    "SqliteTarget",
    "Target",
    "check_interface",
]
