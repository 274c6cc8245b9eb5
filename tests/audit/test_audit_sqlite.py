"""The read-only audit on SQLite, and its row checks against the records' own rules (issue 13).

* A database written through the stores audits clean (exit 0), with every
  row read and counted; text and ``--json`` say the same.
* Each planted corruption of :mod:`tests.audit.planted`, written with SQL
  (CHECKs and foreign keys off), is found: exactly the named rules fire,
  with the expected counts, and the exit status is 1.
* Setup errors exit 3 with a message naming cause and fix.
* The audit never writes: the file is byte-identical afterwards and the
  reader's connection refuses writes.
* The fast row check agrees with the records' decoding (DBL-7: constructor,
  then ``validate()``) and DL-43 on generated rows.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model.audit import RULES, AuditReport, open_reader, run_audit
from gossip_model.audit.checks import check_done_row
from gossip_model.audit.cli import EXIT_CLEAN, EXIT_SETUP, EXIT_VIOLATIONS, run
from gossip_model.audit.progress import Progress
from gossip_model.audit.reader import AuditSetupError, SqliteReader
from gossip_model.db.encoding import decode_done_row
from gossip_model.db.errors import CorruptRow
from gossip_model.sim.cli import main
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from tests.builders import fill

from .data import EXPECTED_ROWS, DoneLedgerStatus, populate
from .planted import PLANTS, Plant


def sqlite_blob(value: bytes) -> str:
    return f"X'{value.hex()}'"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = str(tmp_path / "audit.sqlite3")
    ledger, sink = SqliteDoneLedger(path), SqliteFindingsSink(path)
    populate(ledger, sink)
    for store in (ledger, sink):
        store._core.durable.connection.close()
    return path


def audit(target: str, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    parser = argparse.ArgumentParser()
    from gossip_model.audit.cli import add_parser

    add_parser(parser.add_subparsers(dest="command"))
    code = run(parser.parse_args(["audit", target, *extra]), out, err)
    return code, out.getvalue(), err.getvalue()


def counts(report_json: str) -> dict[str, int]:
    data = json.loads(report_json)
    return {rule["id"]: rule["count"] for rule in data["rules"] if rule["count"]}


def test_clean_database_audits_clean_with_every_row_read(db_path: str) -> None:
    code, out, err = audit(f"sqlite:{db_path}")
    assert code == EXIT_CLEAN, out
    assert err == ""  # no terminal: no progress bar
    assert out.rstrip().endswith("OK: no violations")
    for table, rows in EXPECTED_ROWS.items():
        assert f"  {table}: {rows} rows read" in out
    assert (
        "done_ledger_schema_migrations 0001_done_ledger_entries: this package's migration" in out
    )
    code, out, _ = audit(f"sqlite:{db_path}", "--json")
    data = json.loads(out)
    assert code == EXIT_CLEAN
    assert data["clean"] is True
    assert data["rows"] == EXPECTED_ROWS
    assert [rule["id"] for rule in data["rules"]] == [rule.id for rule in RULES]
    assert data["skipped"] == []
    assert data["not_checked"]


def test_the_sim_command_line_runs_the_audit(
    db_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", f"sqlite:{db_path}", "--json"]) == EXIT_CLEAN
    assert json.loads(capsys.readouterr().out)["clean"] is True
    assert main(["audit", "--examples", "-1", f"sqlite:{db_path}"]) == 2


def plant(path: str, corruption: Plant) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if corruption.needs_bypass:
            conn.execute("PRAGMA ignore_check_constraints = ON")
            conn.execute("PRAGMA foreign_keys = OFF")
        for statement in corruption.statements(sqlite_blob):
            assert conn.execute(statement).rowcount == 1, statement
    finally:
        conn.close()


@pytest.mark.parametrize("corruption", PLANTS, ids=lambda p: p.name)
def test_planted_corruption_is_found_by_exactly_its_rules(db_path: str, corruption: Plant) -> None:
    plant(db_path, corruption)
    code, out, _ = audit(f"sqlite:{db_path}", "--json")
    assert code == EXIT_VIOLATIONS
    assert counts(out) == corruption.expected


def test_wrong_scope_example_says_the_findings_sit_elsewhere(db_path: str) -> None:
    (wrong,) = (p for p in PLANTS if p.name.startswith("terminal row"))
    plant(db_path, wrong)
    code, out, _ = audit(f"sqlite:{db_path}")
    assert code == EXIT_VIOLATIONS
    assert "elsewhere=True" in out
    assert out.rstrip().endswith("VIOLATIONS: 1 in 1 rule(s)")


def test_examples_are_capped_and_the_rest_counted(db_path: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    changed = conn.execute("UPDATE done_ledger_entries SET started_at = finished_at + 1").rowcount
    conn.close()
    code, out, _ = audit(f"sqlite:{db_path}", "--examples", "2", "--json")
    assert code == EXIT_VIOLATIONS
    (rule,) = (r for r in json.loads(out)["rules"] if r["id"] == "DL-ORDER")
    assert rule["count"] == changed == EXPECTED_ROWS["done_ledger_entries"]
    assert len(rule["examples"]) == 2
    _, text, _ = audit(f"sqlite:{db_path}", "--examples", "2")
    assert f"... {changed - 2} more" in text


def test_setup_errors_exit_3_naming_cause_and_fix(tmp_path: Path) -> None:
    code, out, err = audit(f"sqlite:{tmp_path / 'missing.db'}")
    assert (code, out) == (EXIT_SETUP, "")
    assert "no SQLite database file" in err
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, _, err = audit(f"sqlite:{empty}")
    assert code == EXIT_SETUP
    assert "no done_ledger_entries, findings, occurrences or observations table" in err
    code, _, err = audit("mysql:whatever")
    assert code == EXIT_SETUP
    assert "postgres:DSN or sqlite:PATH" in err
    not_a_db = tmp_path / "text.db"
    not_a_db.write_text("this is not a database, " * 100)
    code, _, err = audit(f"sqlite:{not_a_db}")
    assert code == EXIT_SETUP
    assert "audit:" in err


def test_partial_database_skips_what_it_cannot_check(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger-only.db")
    SqliteDoneLedger(path)._core.durable.connection.close()
    code, out, _ = audit(f"sqlite:{path}", "--json")
    data = json.loads(out)
    assert code == EXIT_CLEAN
    assert data["rows"] == {"done_ledger_entries": 0}
    assert "table findings is absent" in data["skipped"]
    assert any("done_ledger_entries, observations" in s for s in data["skipped"])


def test_audit_never_writes_to_a_sqlite_file(db_path: str) -> None:
    before = hashlib.sha256(Path(db_path).read_bytes()).hexdigest()
    assert audit(f"sqlite:{db_path}")[0] == EXIT_CLEAN
    assert hashlib.sha256(Path(db_path).read_bytes()).hexdigest() == before
    reader = SqliteReader(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            reader.conn.execute("DELETE FROM findings")
    finally:
        reader.close()


def test_unknown_history_checksum_is_named(db_path: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("UPDATE findings_schema_migrations SET checksum = zeroblob(32)")
    conn.close()
    code, out, _ = audit(f"sqlite:{db_path}")
    assert code == EXIT_CLEAN  # the rows are fine; the stores would refuse to open it
    assert f"UNKNOWN checksum {'00' * 32} (the stores will refuse it)" in out


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(db_path: str) -> None:
    reader = open_reader(f"sqlite:{db_path}", batch_rows=3)
    terminal = FakeTerminal()
    try:
        run_audit(reader, AuditReport("x"), Progress(terminal, enabled=terminal.isatty()))
    finally:
        reader.close()
    shown = terminal.getvalue()
    assert f"] {EXPECTED_ROWS['done_ledger_entries']} rows\n" in shown
    assert shown.count("\n") == len(EXPECTED_ROWS)
    quiet = io.StringIO()
    reader = open_reader(f"sqlite:{db_path}")
    try:
        run_audit(reader, AuditReport("x"), Progress(quiet, enabled=False))
    finally:
        reader.close()
    assert quiet.getvalue() == ""


def test_progress_redraws_every_step() -> None:
    from gossip_model.audit.progress import STEP

    terminal = FakeTerminal()
    bar = Progress(terminal, enabled=True)
    bar.start("t", 3 * STEP)
    bar.advance(STEP)
    bar.advance(STEP)
    assert terminal.getvalue().count("\r") == 3
    assert f"[{'#' * 20}{'.' * 10}] {2 * STEP} rows" in terminal.getvalue()


# --- the fast row check against the records' own rules --------------------------------------

ids = st.sampled_from([fill(1), fill(2)])
done_rows = st.tuples(
    st.one_of(ids, st.just(b"short")),
    ids,
    ids,
    st.sampled_from([0, 1, 2, 3, 7, 10, 11, 12]),
    st.sampled_from([0, 1, 2**63 - 1, -1]),
    st.sampled_from([0, 1, 2, 2**31 - 1, 2**31]),
    st.sampled_from([0, 5, 2**63 - 1]),
    st.sampled_from([0, 3, 9, 2**63 - 1]),
    st.sampled_from([0, 3, 9, 2**63 - 1]),
    st.sampled_from([0, -1, -(2**63), 2**63 - 1]),
    st.sampled_from([0, -5]),
    st.sampled_from([None, "E_X", "", "   ", "BAD*CODE", "A" * 129, "é"]),
)


@given(done_rows)
def test_row_check_agrees_with_record_decoding(row: tuple[object, ...]) -> None:
    """DBL-7 / DL-32 / DL-14 / DL-43: the audit flags a row iff the stores' decoder or the
    upsert-time ordering check would reject it."""
    report = AuditReport("x")
    check_done_row(row, report)
    try:
        record = decode_done_row(row)
    except CorruptRow:
        rejected = True
    else:
        rejected = not record.provenance.is_ordered()
    assert (report.violations > 0) == rejected, (row, report.counts)


def test_reader_rejects_a_missing_target_kind() -> None:
    with pytest.raises(AuditSetupError, match="postgres:DSN or sqlite:PATH"):
        open_reader("sqlite:")


def test_display_target_never_shows_a_password() -> None:
    from gossip_model.audit.cli import _display_target

    assert _display_target("sqlite:/x.db") == "sqlite:/x.db"
    assert _display_target("postgres:dbname=a password=pw") == "postgres:dbname=a"
    assert _display_target("postgres:host='unterminated") == "postgres:<unparsable DSN>"


def test_many_rows_progress_and_skips_in_text(tmp_path: Path) -> None:
    from gossip_model.identity import OvidHash

    from .data import done

    path = str(tmp_path / "many.db")
    ledger = SqliteDoneLedger(path)
    records = [
        done(0, 0, OvidHash(n.to_bytes(32, "big")), DoneLedgerStatus.SKIPPED, 0)
        for n in range(2100)
    ]
    ledger.batch_upsert(records).wait(10)
    ledger._core.durable.connection.close()
    terminal = FakeTerminal()
    reader = open_reader(f"sqlite:{path}")
    report = AuditReport(f"sqlite:{path}")
    try:
        run_audit(reader, report, Progress(terminal, enabled=True))
    finally:
        reader.close()
    assert report.rows == {"done_ledger_entries": 2100}
    assert terminal.getvalue().endswith("] 2100 rows\n")
    text = report.render_text()
    assert "skipped: table findings is absent" in text
    assert text.rstrip().endswith("OK: no violations")


def test_checksum_errors_without_digests_keep_the_short_message() -> None:
    from gossip_model.db.errors import ChecksumMismatch

    assert (
        str(ChecksumMismatch("sqlite", "v", "checksum")) == "sqlite migration v failed at checksum"
    )
