"""The read-only audit on PostgreSQL (issue 13, items 3 and 4).

* An upstream-shaped database written through the stores audits clean; the
  history lines name upstream's digests.
* Each planted corruption of :mod:`tests.audit.planted`, written with SQL
  into a copy of the schema without CHECK and foreign-key constraints, is
  found by exactly its rules.
* It never writes: it runs as a role with SELECT only, inside a READ ONLY
  transaction (a write on its connection fails), and the data are
  byte-identical afterwards. It streams through server-side cursors.
* Setup and read failures exit 3, naming the cause, never the password.
"""

from __future__ import annotations

import argparse
import io
import json

import psycopg
import pytest
from psycopg import sql

from gossip_model.audit.cli import EXIT_CLEAN, EXIT_SETUP, EXIT_VIOLATIONS, add_parser, run
from gossip_model.audit.reader import PostgresReader
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from tests.audit.data import EXPECTED_ROWS, populate
from tests.audit.planted import PLANTS, Plant

from .roles import temporary_role
from .upstream import build_upstream_database

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]
DATA = ("done_ledger_entries", "findings", "occurrences", "observations")


def pg_blob(value: bytes) -> str:
    return f"'\\x{value.hex()}'::bytea"


def audit(target: str, *extra: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    out, err = io.StringIO(), io.StringIO()
    code = run(parser.parse_args(["audit", target, *extra]), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def populated(pg_conninfo: str) -> str:
    build_upstream_database(pg_conninfo)
    with PostgresDoneLedger(pg_conninfo) as ledger, PostgresFindingsSink(pg_conninfo) as sink:
        populate(ledger, sink)
    return pg_conninfo


def fingerprint(conn: Conn) -> list[tuple[object, ...]]:
    """Every data row, hashed per table: equal before and after means nothing changed."""
    return [
        conn.execute(
            sql.SQL(
                "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {} t"
            ).format(sql.Identifier(table))
        ).fetchall()[0]
        for table in DATA
    ]


def test_upstream_database_audits_clean(populated: str) -> None:
    code, out, err = audit(f"postgres:{populated}", "--json")
    data = json.loads(out)
    assert code == EXIT_CLEAN, out
    assert err == ""
    assert data["rows"] == EXPECTED_ROWS
    assert data["history"]["done_ledger_schema_migrations 0001_done_ledger_entries"].startswith(
        "upstream gossip-done-ledger-postgres at 4f478178e982"
    )


def drop_checks_and_foreign_keys(conn: Conn) -> None:
    """The planted rows need a copy of the schema without CHECKs and foreign keys."""
    rows = conn.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype IN ('c', 'f') AND conrelid = ANY(%s::regclass[])",
        (list(DATA),),
    ).fetchall()
    for table, name in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(str(table)), sql.Identifier(str(name))
            )
        )


@pytest.mark.parametrize("corruption", PLANTS, ids=lambda p: p.name)
def test_planted_corruption_is_found(populated: str, raw: Conn, corruption: Plant) -> None:
    if corruption.needs_bypass:
        drop_checks_and_foreign_keys(raw)
    for statement in corruption.statements(pg_blob):
        assert raw.execute(statement.encode()).rowcount == 1, statement
    code, out, _ = audit(f"postgres:{populated}", "--json")
    assert code == EXIT_VIOLATIONS
    found = {rule["id"]: rule["count"] for rule in json.loads(out)["rules"] if rule["count"]}
    assert found == corruption.expected


def test_audit_never_writes_select_only_role_read_only_transaction(
    populated: str, raw: Conn
) -> None:
    before = fingerprint(raw)
    grants = ("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",)
    with temporary_role(populated, *grants) as reader_conninfo:
        code, out, err = audit(f"postgres:{reader_conninfo}")
        assert (code, err) == (EXIT_CLEAN, ""), out
        reader = PostgresReader(reader_conninfo)
        try:
            assert reader.tables() >= set(DATA)
            state = reader.conn.execute(
                "SELECT current_setting('transaction_read_only'), "
                "current_setting('transaction_isolation')"
            ).fetchone()
            assert state == ("on", "repeatable read")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                reader.conn.execute("CREATE TEMP TABLE x (a int)")
        finally:
            reader.close()
    assert fingerprint(raw) == before


def test_reads_stream_through_server_side_cursors(populated: str) -> None:
    reader = PostgresReader(populated, batch_rows=2)
    try:
        rows = reader.stream("SELECT ovid_hash FROM done_ledger_entries")
        first = next(rows)
        assert isinstance(first[0], bytes)
        cursors = reader.conn.execute("SELECT name FROM pg_cursors").fetchall()
        assert ("gossip_audit_1",) in cursors
        assert 1 + sum(1 for _ in rows) == EXPECTED_ROWS["done_ledger_entries"]
        assert reader.estimate("done_ledger_entries") >= 0
    finally:
        reader.close()
    reader.close()  # idempotent


def test_setup_errors_exit_3_without_the_password(pg_conninfo: str) -> None:
    bad = psycopg.conninfo.make_conninfo(pg_conninfo, dbname="no_such_db", password="s3cr3t")
    code, out, err = audit(f"postgres:{bad}")
    assert (code, out) == (EXIT_SETUP, "")
    assert "cannot connect to PostgreSQL" in err
    assert "no_such_db" in err
    assert "s3cr3t" not in err
    code, _, err = audit(f"postgres:{pg_conninfo}")  # an empty database
    assert code == EXIT_SETUP
    assert "no done_ledger_entries" in err


def test_read_failure_exits_3_naming_the_table(populated: str) -> None:
    grants = ("GRANT SELECT ON done_ledger_entries, findings_schema_migrations TO {role}",)
    with temporary_role(populated, *grants) as reader_conninfo:
        code, out, err = audit(f"postgres:{reader_conninfo}", "--json")
    assert (code, out) == (EXIT_SETUP, "")
    assert "permission denied for table" in err
    assert "check the role's SELECT rights; nothing was written" in err


def test_report_target_hides_the_password(populated: str) -> None:
    target = psycopg.conninfo.make_conninfo(populated, password="hunter2")
    code, out, _ = audit(f"postgres:{target}", "--json")
    assert code == EXIT_CLEAN
    assert "hunter2" not in out
    assert json.loads(out)["target"].startswith("postgres:")
