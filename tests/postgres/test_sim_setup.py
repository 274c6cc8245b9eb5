"""Issue 10: PostgreSQL set-up problems are ONE setup error (exit 3) before any seed.

The server-less cases (missing driver, unparseable DSN, no server) live in
``tests/sim/test_cli_setup.py``; these need the CI cluster (DT-1).
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from gossip_model.sim.cli import main

pytestmark = pytest.mark.postgres


def run_sweep(
    capsys: pytest.CaptureFixture[str], dsn: str, seeds: int = 100
) -> tuple[int, str, str]:
    argv = ["sweep", "--seeds", str(seeds), "--ops", "50", "--backend", f"postgres:{dsn}"]
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_role_without_create_gets_the_fix_not_100_failed_seeds(
    capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    """Issue 10: the old URL (dbname=postgres) failed all 100 seeds with a migration error.

    PostgreSQL 15 grants CREATE on ``public`` of ``postgres`` to its owner
    only, so the CREATEDB test role cannot create tables there.
    """
    dsn = make_conninfo(pg_url, dbname="postgres")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT has_schema_privilege('public', 'CREATE')").fetchone()
    if row == (True,):
        pytest.skip("this role may create tables in database postgres (superuser or PG < 15)")
    status, out, err = run_sweep(capsys, dsn)
    assert status == 3
    assert out == ""
    assert err.count("setup error:") == 1
    assert "permission denied: the role " in err
    assert "cannot create tables in schema public of database postgres" in err
    assert "fix: the role cannot create tables in database postgres: create a database" in err


def test_migration_failure_names_the_step(
    capsys: pytest.CaptureFixture[str], pg_conninfo: str
) -> None:
    """A table of the same name that the migrations did not create: exit 3, step named."""
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE done_ledger_entries (x integer)")
    status, out, err = run_sweep(capsys, pg_conninfo)
    assert status == 3
    assert out == ""
    assert err.count("setup error:") == 1
    assert "the migration failed at step apply" in err
    assert "point the DSN at a fresh database the role owns" in err


def test_wrong_database_name_quotes_the_server(
    capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    status, out, err = run_sweep(capsys, make_conninfo(pg_url, dbname="no_such_db_here"))
    assert status == 3
    assert out == ""
    assert 'database "no_such_db_here" does not exist' in err  # the server's own words
    assert "fix: check that the server is running" in err


def test_a_good_database_passes_the_preflight_and_sweeps(
    capsys: pytest.CaptureFixture[str], pg_conninfo: str
) -> None:
    status, out, err = run_sweep(capsys, pg_conninfo, seeds=2)
    assert status == 0, err
    assert "OK: no violations, every seed converged" in out
    assert "setup error" not in err


def test_no_schema_on_the_search_path(
    capsys: pytest.CaptureFixture[str], pg_conninfo: str
) -> None:
    """current_schema() is NULL: nowhere to create tables, said before any migration."""
    dsn = make_conninfo(pg_conninfo, options="-c search_path=no_such_schema")
    status, out, err = run_sweep(capsys, dsn)
    assert status == 3
    assert out == ""
    assert "has no schema on its search_path in database test_" in err
    assert "fix: create a schema the role owns" in err
