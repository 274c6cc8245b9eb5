"""Stores under test: fresh shared state per execution, one handle per client (item 3, 5).

A :class:`Target` knows one backend and one interface (``"done_ledger"`` or
``"findings"``). ``open(clients, pause)`` empties the backend's state and
returns one handle per client; ``close(handles)`` releases them.

* :class:`InMemoryTarget`: one new store, ``clone()`` per client (ST-3: clones
  share the core, like several handles on one service);
* :class:`SqliteTarget`: one ``SqliteDoneLedger`` / ``SqliteFindingsSink`` per
  client on one file (each its own connection, WAL, ``BEGIN IMMEDIATE``);
* :class:`PostgresTarget`: one store, hence one connection, per client;
* :class:`PyFactoryTarget`: a user's store from ``py:MODULE:FACTORY``.

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


#: The operations every program calls, per interface (the protocols' own methods).
REQUIRED: dict[str, tuple[str, ...]] = {
    LEDGER: ("batch_upsert", "batch_get", "list_done_hashes"),
    SINK: ("upsert_batch",),
}


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


class PyFactoryTarget:
    """A user's store from ``py:MODULE:FACTORY`` (issue 14 item 6; sim.md backend names).

    Each execution calls the factory once, with no arguments, for fresh, empty
    shared state. Each client gets ``store.clone()`` when the store has
    ``clone()`` (ST-3: several handles on one service), otherwise the *same
    object*: the ``DoneLedger`` and ``FindingsSink`` protocols are thread-safe,
    so one object shared by all client threads is a legitimate way to use a
    store, and a store that is not thread-safe is a finding, not a misuse.
    ``close()`` is called once per distinct handle, if the store has it.

    The factory is imported at construction and every failure to import, call
    or use it raises :class:`~gossip_model.sim.backends.BackendSetupError`
    (cause and fix; ``gossip-sim stress`` exits 3).
    """

    def __init__(self, name: str, interface: str = LEDGER) -> None:
        from gossip_model.sim.backends import load_factory

        self.interface = check_interface(interface)
        self.name = name
        self._factory = load_factory(name)

    def _make(self) -> Any:
        from gossip_model.sim.backends import BackendSetupError

        call = self.name[len("py:") :].replace(":", ".") + "()"
        kind = "done ledger" if self.interface == LEDGER else "findings sink"
        try:
            store = self._factory()
        except Exception as error:
            raise BackendSetupError(
                self.name,
                f"calling {call} raised {type(error).__name__}: {_one_line(error)}",
                f"fix the factory (it is called once per execution with no arguments and "
                f"returns a fresh, empty {kind})",
            ) from error
        missing = [m for m in REQUIRED[self.interface] if not callable(getattr(store, m, None))]
        if missing:
            _close_all([store])
            flag = "" if self.interface == SINK else " (or pass --sink for a findings sink)"
            raise BackendSetupError(
                self.name,
                f"{call} returned a {type(store).__name__}, which lacks {', '.join(missing)}",
                f"return a {kind} with the protocol's operations{flag}",
            )
        return store

    def probe(self) -> object:
        """One store from the factory, checked and closed again: to learn its operations."""
        store = self._make()
        _close_all([store])
        return store

    def open(self, clients: int, pause: Pause) -> list[Any]:
        store = self._make()
        clone = getattr(store, "clone", None)
        if callable(clone):
            return [store, *(clone() for _ in range(clients - 1))]
        return [store] * clients

    def close(self, handles: Sequence[Any]) -> None:
        distinct = {id(handle): handle for handle in handles}
        _close_all(list(distinct.values()))


__all__ = [
    "LEDGER",
    "SINK",
    "INTERFACES",
    "InMemoryTarget",
    "Pause",
    "PostgresTarget",
    "PyFactoryTarget",
    "REQUIRED",
    "SqliteTarget",
    "Target",
    "check_interface",
]
