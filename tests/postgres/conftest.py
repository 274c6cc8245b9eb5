"""PostgreSQL test fixtures (backends.md DT-1..DT-3).

* DT-1: the server comes from ``GOSSIP_POSTGRES_TEST_URL`` (keyword string or
  URI) for a role allowed to create databases; ``.ci/postgres.sh`` starts a
  throwaway cluster and exports it.
* DT-2: every test gets a fresh database ``test_<pid>_<hex nonce>_<counter>``,
  created on a maintenance connection (one per xdist worker) and dropped
  ``WITH (FORCE)`` at teardown; stores migrate it in their constructor.
  Hypothesis tests call :func:`truncate` between examples.
* DT-3: without the variable the tests are skipped with "PostgreSQL tests need
  GOSSIP_POSTGRES_TEST_URL"; when ``CI`` is non-empty that is a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink

URL_VARIABLE = "GOSSIP_POSTGRES_TEST_URL"
SKIP_REASON = "PostgreSQL tests need GOSSIP_POSTGRES_TEST_URL"

_NONCE = secrets.token_hex(4)
_COUNTER = itertools.count(1)

DATA_TABLES = ("done_ledger_entries", "findings", "occurrences", "observations")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """DT-1 / DT-3: the server URL, or a skip (a failure when ``CI`` is set)."""
    url = os.environ.get(URL_VARIABLE, "")
    if not url:
        if os.environ.get("CI", ""):
            pytest.fail(f"{SKIP_REASON} (CI is set: a skipped PostgreSQL suite is a failure)")
        pytest.skip(SKIP_REASON)
    return url


@pytest.fixture(scope="session")
def maintenance(pg_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """DT-2: the worker's autocommit connection for CREATE / DROP DATABASE."""
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=10) as conn:
        yield conn


@contextlib.contextmanager
def _databases(
    pg_url: str, maintenance: psycopg.Connection[tuple[object, ...]]
) -> Iterator[Callable[[], str]]:
    created: list[str] = []

    def create() -> str:
        name = f"test_{os.getpid()}_{_NONCE}_{next(_COUNTER)}"
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_conninfo(pg_url, dbname=name)

    try:
        yield create
    finally:
        for name in created:
            drop_database(maintenance, name)


def drop_database(maintenance: psycopg.Connection[tuple[object, ...]], name: str) -> None:
    """DT-2: ``DROP DATABASE ... WITH (FORCE)``.

    PostgreSQL 15 refuses FORCE to a role that may not signal every backend of
    the database, and an autovacuum worker counts (SQLSTATE 42501) unless the
    role has ``pg_signal_backend``; a plain DROP then still stops autovacuum
    workers and waits briefly for the rest.
    """
    identifier = sql.Identifier(name)
    try:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
    except psycopg.errors.InsufficientPrivilege:
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))


@pytest.fixture
def new_database(
    pg_url: str, maintenance: psycopg.Connection[tuple[object, ...]]
) -> Iterator[Callable[[], str]]:
    """DT-2: a factory of fresh databases (conninfo strings), all dropped at teardown."""
    with _databases(pg_url, maintenance) as create:
        yield create


@pytest.fixture(scope="module")
def module_conninfo(
    pg_url: str, maintenance: psycopg.Connection[tuple[object, ...]]
) -> Iterator[str]:
    """One fresh database shared by a module whose tests roll their changes back."""
    with _databases(pg_url, maintenance) as create:
        yield create()


@pytest.fixture
def pg_conninfo(new_database: Callable[[], str]) -> str:
    """DT-2: one fresh (empty, unmigrated) database for this test."""
    return new_database()


@pytest.fixture
def ledger(pg_conninfo: str) -> Iterator[PostgresDoneLedger]:
    """A migrated ``PostgresDoneLedger`` on the test's database, closed at teardown."""
    with PostgresDoneLedger(pg_conninfo) as store:
        yield store


@pytest.fixture
def sink(pg_conninfo: str) -> Iterator[PostgresFindingsSink]:
    """A migrated ``PostgresFindingsSink`` on the test's database, closed at teardown."""
    with PostgresFindingsSink(pg_conninfo) as store:
        yield store


@pytest.fixture
def raw(pg_conninfo: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A second, independent autocommit connection to the test's database (raw SQL)."""
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        yield conn


def truncate(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """DT-2: empty every data table that exists (between Hypothesis examples or seeds)."""
    present = [
        name
        for name in DATA_TABLES
        if conn.execute("SELECT to_regclass(%s)", (name,)).fetchone() != (None,)
    ]
    if present:
        conn.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, present)))
        )
