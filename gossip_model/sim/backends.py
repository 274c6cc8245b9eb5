"""Which done ledger a sweep or replay drives (issue 7 and issue 10: ``--backend``).

Names:

* ``inmemory`` (default): a fresh ``InMemoryDoneLedger`` per seed;
* ``sqlite``: a fresh private ``:memory:`` SQLite ledger per seed;
* ``sqlite:PATH``: the SQLite file at PATH, emptied before each seed;
* ``postgres:DSN``: the PostgreSQL database named by the connection string,
  emptied (``reset()``) before each seed;
* ``py:MODULE:FACTORY``: ``FACTORY()`` from the importable module MODULE
  (dotted name; the current directory is put on the import path first, as
  ``python -m`` does), called once per seed; it must return a fresh, empty
  done ledger with the in-memory control surface (``SimLedger``). A ``close()``
  method, when present, is called after the seed;
* ``planted:NAME``: a planted-bug ledger of ``gossip_model.sim.planted`` (a test aid).

Choices:

* Backends whose state outlives one seed (``sqlite:PATH`` and
  ``postgres:DSN``) are *shared*: seeds must not run concurrently on them, so a
  sweep runs them in one process whatever ``--jobs`` says, and every seed
  starts from an empty table.
* ``py:`` factories are shared too unless the factory says otherwise: a
  factory whose stores are independent of each other (a dict per store, a
  private temporary database per call) sets the attribute
  ``FACTORY.gossip_independent = True`` and the sweep then spreads seeds over
  ``--jobs`` processes. Sharing cannot be seen from outside (two processes may
  reach one database), so the safe answer is the default: a wrongly parallel
  sweep would blame the backend for the interleaving.
* :func:`preflight` opens the backend once before any seed runs. Every
  problem that is the set-up's and not the backend's (driver missing, bad DSN,
  unreachable server, missing privileges, failed migration, unopenable file,
  unimportable factory, a factory returning the wrong thing) becomes ONE
  :class:`BackendSetupError` naming the backend, the cause (the driver's own
  message, passwords masked) and a fix; the command line exits with status 3.
  For PostgreSQL the preflight checks the privileges the migrations need
  itself (``CREATE`` on the current schema) before migrating.

Database drivers are imported only when such a backend is selected.
"""

from __future__ import annotations

import importlib
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gossip_model.db.errors import SchemaMigrationError
from gossip_model.sim.ledger import SimLedger

if TYPE_CHECKING:
    from gossip_model.postgres import PostgresDoneLedger
    from gossip_model.sqlite import SqliteDoneLedger

__all__ = [
    "DEFAULT_LEDGER",
    "SIM_LEDGER_METHODS",
    "BackendSetupError",
    "backend_label",
    "check_ledger_name",
    "is_shared",
    "load_factory",
    "open_backend",
    "open_ledger",
    "preflight",
]

DEFAULT_LEDGER = "inmemory"
_PLANTED = "planted:"
_SQLITE = "sqlite"
_POSTGRES = "postgres:"
_PY = "py:"
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
POSTGRES_EXTRA_FIX = "install the postgres extra: pip install 'gossip-model[postgres]'"

#: The operations the simulation calls (``SimLedger``); a ``py:`` factory's
#: store must offer every one.
SIM_LEDGER_METHODS = (
    "batch_upsert",
    "batch_get",
    "get_record",
    "snapshot",
    "set_auto_complete",
    "delay_next_writes",
    "fail_next_submissions",
    "fail_next_commits",
    "release_next",
    "release_specific",
    "release_all",
    "pending_count",
    "pending_ids",
)


class BackendSetupError(Exception):
    """The backend cannot be used at all: a set-up problem, not a backend bug (exit 3).

    ``backend`` is the backend's name with any password masked, ``cause`` the
    reason (quoting the driver's own message), ``fix`` what the user can do.
    """

    def __init__(self, backend: str, cause: str, fix: str) -> None:
        super().__init__(backend, cause, fix)
        self.backend = backend
        self.cause = cause
        self.fix = fix

    def __str__(self) -> str:
        return f"cannot use backend {self.backend}: {self.cause}\n  fix: {self.fix}"


# -- names --------------------------------------------------------------------------------


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
    if name.startswith(_PY):
        _split_py(name)
        return name
    raise ValueError(
        f"unknown backend {name!r} (use inmemory, sqlite, sqlite:PATH, postgres:DSN, "
        "py:MODULE:FACTORY or planted:NAME)"
    )


def _split_py(name: str) -> tuple[str, str]:
    module, sep, factory = name[len(_PY) :].rpartition(":")
    if not sep or not _DOTTED.fullmatch(module) or not _IDENTIFIER.fullmatch(factory):
        raise ValueError(
            f"py:MODULE:FACTORY needs a dotted module name and a function name, got {name!r} "
            "(e.g. py:mybackend.stores:make_ledger)"
        )
    return module, factory


_PASSWORDS = (
    re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]+)", re.IGNORECASE),
    re.compile(r"(://[^:/@\s]*:)([^@\s]*)(?=@)"),
)


def _mask(text: str, dsn: str) -> str:
    """Mask every password ``dsn`` holds (keyword or URI form) wherever it appears in ``text``."""
    secrets: set[str] = set()
    for pattern in _PASSWORDS:
        for match in pattern.finditer(dsn):
            value = match.group(2).strip("'")
            if value:
                secrets.add(value)
        text = pattern.sub(lambda m: m.group(1) + "********", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def backend_label(name: str) -> str:
    """The backend's name for messages: a PostgreSQL DSN's password is masked."""
    if name.startswith(_POSTGRES):
        return _mask(name, name)
    return name


def is_shared(name: str) -> bool:
    """True for backends whose state may outlive a seed: they run one seed at a time.

    ``py:`` factories count as shared unless ``FACTORY.gossip_independent`` is
    true (module docstring); this imports the factory's module.
    """
    if name.startswith(_PY):
        return getattr(load_factory(name), "gossip_independent", False) is not True
    return name.startswith((_SQLITE + ":", _POSTGRES))


# -- opening ------------------------------------------------------------------------------


def load_factory(name: str) -> Callable[[], Any]:
    """Import the factory of a ``py:MODULE:FACTORY`` name; ``BackendSetupError`` if it fails.

    The current directory is put at the front of ``sys.path`` first (if not
    there already), so a module beside the user's shell is found both by
    ``python -m gossip_model.sim`` and by the ``gossip-sim`` script, and in
    every worker process.
    """
    module_name, factory_name = _split_py(name)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    if module_name not in sys.modules:
        importlib.invalidate_caches()  # a module written since the last import is found
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        absent = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if absent is not None and (module_name + ".").startswith(absent + "."):
            fix = (
                f"run from the directory that holds {absent.split('.')[0]}, add that "
                "directory to PYTHONPATH, or install the package that provides it"
            )
        else:  # the module exists but raised while being imported
            fix = f"fix the error raised while importing {module_name}"
        raise BackendSetupError(
            name,
            f"cannot import module {module_name}: {type(exc).__name__}: {_one_line(exc)}",
            fix,
        ) from exc
    factory = getattr(module, factory_name, None)
    if factory is None:
        raise BackendSetupError(
            name,
            f"module {module_name} has no attribute {factory_name}",
            f"define a function {factory_name}() in {module_name} that returns a fresh, "
            "empty done ledger",
        )
    if not callable(factory):
        raise BackendSetupError(
            name,
            f"{module_name}.{factory_name} is a {type(factory).__name__}, not a callable",
            f"make {factory_name} a function (or class) that returns a fresh, empty done ledger",
        )
    return factory  # type: ignore[no-any-return]


def _one_line(exc: BaseException) -> str:
    """A driver message on one line (libpq adds tab-indented hints on further lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def _missing_methods(ledger: object) -> list[str]:
    return [m for m in SIM_LEDGER_METHODS if not callable(getattr(ledger, m, None))]


def open_backend(name: str) -> Any:
    """Open the backend ``name`` for one seed (``None``: the simulation's default ledger)."""
    if name == DEFAULT_LEDGER:
        return None
    if name.startswith(_PLANTED):
        from gossip_model.sim.planted import make_planted_ledger

        return make_planted_ledger(name[len(_PLANTED) :])
    if name.startswith(_PY):
        ledger = load_factory(name)()
        missing = _missing_methods(ledger)
        if missing:
            raise TypeError(
                f"{name} returned a {type(ledger).__name__} without {', '.join(missing)}"
            )
        return ledger
    if name == _SQLITE:
        from gossip_model.sqlite import SqliteDoneLedger

        return SqliteDoneLedger(":memory:")
    if name.startswith(_SQLITE + ":"):
        from gossip_model.sqlite import SqliteDoneLedger

        path = name[len(_SQLITE) + 1 :]
        ledger = SqliteDoneLedger(path, synchronous="NORMAL")  # migrates the file
        return _emptied(ledger)
    from gossip_model.postgres import PostgresDoneLedger

    return _emptied(PostgresDoneLedger(name[len(_POSTGRES) :]))  # migrates the database


def _emptied(ledger: SqliteDoneLedger | PostgresDoneLedger) -> SimLedger:
    """The database ledger after its ``reset()`` (every row deleted), closed if that fails."""
    try:
        ledger.reset()
    except BaseException:
        ledger.close()
        raise
    return ledger


def _close(ledger: object) -> None:
    close = getattr(ledger, "close", None)
    if close is not None:
        close()


@contextmanager
def open_ledger(name: str) -> Iterator[SimLedger | None]:
    """Open the ledger ``name`` for one seed (``None``: the simulation's default) and
    close it afterwards when it holds a connection."""
    ledger = open_backend(check_ledger_name(name))
    try:
        yield ledger
    finally:
        _close(ledger)


# -- preflight ----------------------------------------------------------------------------


def preflight(name: str) -> None:
    """Open the backend ``name`` once, before any seed runs; ``BackendSetupError`` if unusable.

    Validates the name first (``ValueError``, a usage error). What each kind
    checks: module docstring. Whatever the preflight opened is closed again.
    """
    check_ledger_name(name)
    if name.startswith(_PY):
        _preflight_py(name)
    elif name.startswith(_SQLITE + ":"):
        _preflight_sqlite(name)
    elif name.startswith(_POSTGRES):
        _preflight_postgres(name)
    else:
        _close(open_backend(name))


def _preflight_py(name: str) -> None:
    factory = load_factory(name)
    try:
        ledger = factory()
    except Exception as exc:
        raise BackendSetupError(
            name,
            f"calling {name[len(_PY) :].replace(':', '.')}() raised "
            f"{type(exc).__name__}: {_one_line(exc)}",
            "fix the factory (it is called once per seed with no arguments)",
        ) from exc
    try:
        missing = _missing_methods(ledger)
        if missing:
            raise BackendSetupError(
                name,
                f"the factory returned a {type(ledger).__name__}, which lacks "
                f"{', '.join(missing)}",
                "return a done ledger with the in-memory control surface "
                "(gossip_model.sim.ledger.SimLedger), for example a ControlledDoneLedger "
                "over your StoreBackend",
            )
        records, pending = len(ledger.snapshot()), ledger.pending_count()
        if records or pending:
            raise BackendSetupError(
                name,
                f"the factory returned a store that is not empty ({records} record(s), "
                f"{pending} pending write(s))",
                "return a fresh, empty store from every call (each seed starts from nothing)",
            )
    finally:
        _close(ledger)


def _driver_error(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first ``kind`` exception in ``exc``'s cause/context chain (``exc`` included)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _preflight_sqlite(name: str) -> None:
    path = name[len(_SQLITE) + 1 :]
    try:
        _close(open_backend(name))
    except Exception as exc:
        driver = _driver_error(exc, sqlite3.Error) or exc
        message = _one_line(driver)
        directory = os.path.dirname(os.path.abspath(path))
        if isinstance(exc, SchemaMigrationError):
            message = f"{exc}" + (f" ({message})" if driver is not exc else "")
            fix = (
                f"{path} holds a schema this version cannot use: choose a new path, or "
                "delete the file if its data is disposable"
            )
        elif os.path.isdir(path):
            fix = f"{path} is a directory: name a database file (new or existing) instead"
        elif not os.path.isdir(directory):
            fix = f"create the directory {directory} first, or choose a path in an existing one"
        elif "not a database" in message:
            fix = f"{path} is not a SQLite database: choose a new path or a SQLite file"
        else:
            fix = (
                f"make {path} and its directory writable (SQLite also writes "
                f"{os.path.basename(path)}-wal and -shm beside it), or choose another path"
            )
        raise BackendSetupError(
            name, f"cannot open or create the SQLite database {path}: {message}", fix
        ) from exc


def _preflight_postgres(name: str) -> None:
    label = backend_label(name)
    dsn = name[len(_POSTGRES) :]
    try:
        import psycopg
        from psycopg import conninfo as pg_conninfo
    except ImportError as exc:
        raise BackendSetupError(
            label, f"the PostgreSQL driver psycopg 3 is not installed ({exc})", POSTGRES_EXTRA_FIX
        ) from exc

    def fail(cause: str, fix: str) -> BackendSetupError:
        # Raised "from None" by the callers: a traceback must not show the DSN.
        return BackendSetupError(label, _mask(cause, dsn), fix)

    try:
        params = pg_conninfo.conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise fail(
            f"the DSN is not a valid connection string: {_one_line(exc)}",
            "write it as key=value pairs (host=... port=... dbname=... user=...) or as a "
            "postgresql://user@host:port/dbname URI",
        ) from None
    if "connect_timeout" not in params:
        dsn_probe = pg_conninfo.make_conninfo(dsn, connect_timeout=10)
    else:
        dsn_probe = dsn
    try:
        conn = psycopg.connect(dsn_probe, autocommit=True)
    except psycopg.Error as exc:
        raise fail(
            f"cannot connect: {_one_line(exc)}",
            "check that the server is running and that host, port, dbname, user and "
            "password in the DSN are right",
        ) from None
    with conn:
        row = conn.execute(
            "SELECT current_database(), current_user, current_schema(), "
            "COALESCE(has_schema_privilege(current_schema(), 'CREATE'), false)"
        ).fetchone()
    assert row is not None  # a SELECT without FROM returns one row
    database, role, schema, can_create = row
    if schema is None:
        raise fail(
            f"the role {role} has no schema on its search_path in database {database}",
            f"create a schema the role owns (CREATE SCHEMA AUTHORIZATION {role}) or set "
            "search_path in the DSN (options='-c search_path=...')",
        )
    if not can_create:
        raise fail(
            f"permission denied: the role {role} cannot create tables in schema {schema} "
            f"of database {database} (the migrations need CREATE)",
            f"the role cannot create tables in database {database}: create a database "
            f"owned by it (CREATE DATABASE gossip OWNER {role}) and point the DSN's dbname "
            f"at it, or GRANT CREATE ON SCHEMA {schema} TO {role}",
        )
    try:
        _close(open_backend(name))
    except Exception as exc:
        driver = _driver_error(exc, psycopg.Error)
        step = getattr(exc, "step", None)
        detail = _one_line(driver if driver is not None else exc)
        where = f"the migration failed at step {step}" if step else "opening the ledger failed"
        raise fail(
            f"{where}: {detail}",
            f"check that the role {role} owns (or may CREATE, SELECT, INSERT, UPDATE and "
            f"TRUNCATE) the gossip tables in database {database}, or point the DSN at a "
            "fresh database the role owns",
        ) from None
