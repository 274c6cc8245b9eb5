"""Which done ledger a sweep or replay drives (issue 7: ``--backend``).

Names:

* ``inmemory`` (default): a fresh ``InMemoryDoneLedger`` per seed;
* ``sqlite``: a fresh private ``:memory:`` SQLite ledger per seed;
* ``sqlite:PATH``: the SQLite file at PATH, emptied before each seed;
* ``postgres:DSN``: the PostgreSQL database named by the connection string,
  emptied (``TRUNCATE``) before each seed;
* ``planted:NAME``: a planted-bug ledger of ``gossip_model.sim.planted`` (a test aid).

Choices: backends whose state outlives one seed (``sqlite:PATH`` and
``postgres:DSN``) are *shared*: seeds must not run concurrently on them, so a
sweep runs them in one process whatever ``--jobs`` says, and every seed starts
from an empty table. Database drivers are imported only when such a backend
is selected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gossip_model.sim.ledger import SimLedger

DEFAULT_LEDGER = "inmemory"
_PLANTED = "planted:"
_SQLITE = "sqlite"
_POSTGRES = "postgres:"


def check_ledger_name(name: str) -> str:
    """Validate a ledger name without opening anything; ``ValueError`` names the problem."""
    if name in (DEFAULT_LEDGER, _SQLITE):
        return name
    if name.startswith(_PLANTED):
        from gossip_model.sim.planted import PLANTED_BUGS

        if name[len(_PLANTED) :] not in PLANTED_BUGS:
            known = ", ".join(sorted(PLANTED_BUGS))
            raise ValueError(f"unknown planted ledger {name!r} (known: {known})")
        return name
    if name.startswith(_SQLITE + ":"):
        if not name[len(_SQLITE) + 1 :]:
            raise ValueError("sqlite:PATH needs a path (or use plain 'sqlite' for :memory:)")
        return name
    if name.startswith(_POSTGRES):
        if not name[len(_POSTGRES) :].strip():
            raise ValueError("postgres:DSN needs a connection string")
        return name
    raise ValueError(
        f"unknown backend {name!r} (use inmemory, sqlite, sqlite:PATH, postgres:DSN "
        "or planted:NAME)"
    )


def is_shared(name: str) -> bool:
    """True for backends whose state outlives a seed: they run one seed at a time."""
    return name.startswith((_SQLITE + ":", _POSTGRES))


def open_backend(name: str) -> Any:
    if name == DEFAULT_LEDGER:
        return None
    if name.startswith(_PLANTED):
        from gossip_model.sim.planted import make_planted_ledger

        return make_planted_ledger(name[len(_PLANTED) :])
    if name == _SQLITE:
        from gossip_model.sqlite import SqliteDoneLedger

        return SqliteDoneLedger(":memory:")
    if name.startswith(_SQLITE + ":"):
        from gossip_model.sqlite import SqliteDoneLedger

        path = name[len(_SQLITE) + 1 :]
        ledger = SqliteDoneLedger(path, synchronous="NORMAL")  # migrates the file
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM done_ledger_entries")
        return ledger
    from gossip_model.postgres import PostgresDoneLedger

    dsn = name[len(_POSTGRES) :]
    pg_ledger = PostgresDoneLedger(dsn)  # migrates the database
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE done_ledger_entries")
    return pg_ledger


@contextmanager
def open_ledger(name: str) -> Iterator[SimLedger | None]:
    """Open the ledger ``name`` for one seed (``None``: the simulation's default) and
    close it afterwards when it holds a connection."""
    ledger = open_backend(check_ledger_name(name))
    try:
        yield ledger
    finally:
        close = getattr(ledger, "close", None)
        if close is not None:
            close()
