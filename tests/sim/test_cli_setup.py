"""Issue 10: ``--backend py:MODULE:FACTORY``, setup errors (exit 3), ``--json``, ``--version``.

A setup error is reported ONCE, before any seed runs: exit status 3, one
message on stderr naming the backend, the cause and a fix, and nothing on
stdout (no summary, no per-seed line, no replay command).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import gossip_model
from gossip_model.sim import FaultLevel, SweepConfig, backends
from gossip_model.sim.backends import (
    BackendSetupError,
    backend_label,
    check_ledger_name,
    is_shared,
    open_ledger,
    preflight,
)
from gossip_model.sim.cli import EXIT_SETUP, main, replay_command

_NAMES = itertools.count()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_setup_error(status: int, out: str, err: str, *fragments: str) -> None:
    """Exit 3, nothing on stdout, ONE error naming cause and fix on stderr."""
    assert status == EXIT_SETUP == 3
    assert out == ""
    assert err.count("setup error:") == 1, err
    assert "\n  fix: " in err, err
    assert "FAILED" not in err
    assert "  replay: " not in err  # no per-seed replay hints
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's working directory, the current one; sys.path and sys.modules restored after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_module(directory: Path, source: str) -> str:
    """A fresh module (unique name, so no test sees another's import) in ``directory``."""
    name = f"user_backend_{next(_NAMES)}"
    (directory / f"{name}.py").write_text(textwrap.dedent(source))
    return name


GOOD = """
from gossip_model.inmemory import InMemoryDoneLedger

def make_ledger():
    return InMemoryDoneLedger()
"""


# -- py:MODULE:FACTORY ---------------------------------------------------------------------


def test_py_factory_sweep_is_clean_and_runs_one_job_unless_independent(
    capsys: pytest.CaptureFixture[str], user_dir: Path
) -> None:
    """Shared unless FACTORY.gossip_independent is True (backends.py's choice)."""
    shared = write_module(user_dir, GOOD)
    backend = f"py:{shared}:make_ledger"
    status, out, _ = run_cli(
        capsys, "sweep", "--seeds", "3", "--ops", "60", "--jobs", "2", "--backend", backend
    )
    assert status == 0, out
    assert f"1 job(s), ledger {backend}" in out
    assert "OK: no violations, every seed converged" in out
    independent = write_module(user_dir, GOOD + "\nmake_ledger.gossip_independent = True\n")
    backend = f"py:{independent}:make_ledger"
    status, out, _ = run_cli(
        capsys, "sweep", "--seeds", "3", "--ops", "60", "--jobs", "2", "--backend", backend
    )
    assert status == 0, out
    assert "2 job(s)" in out
    assert is_shared(f"py:{shared}:make_ledger")
    assert not is_shared(backend)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_py_factory_with_a_bug_fails_and_its_replay_reproduces(
    capsys: pytest.CaptureFixture[str], user_dir: Path
) -> None:
    module = write_module(
        user_dir,
        """
        from gossip_model.sim.planted import make_planted_ledger

        def broken():
            return make_planted_ledger("status_downgrade")
        """,
    )
    backend = f"py:{module}:broken"
    status, out, _ = run_cli(
        capsys, "sweep", "--seeds", "3", "--ops", "200", "--jobs", "1", "--backend", backend
    )
    assert status == 1
    assert "I1   StatusMonotonicity" in out
    replay = next(line.split("replay: ", 1)[1] for line in out.splitlines() if "replay: " in line)
    assert f"--backend {backend}" in replay
    status, out, _ = run_cli(capsys, *replay.split()[3:])
    assert status == 1
    assert "first violation: I1" in out


def test_py_factory_replay_is_clean(capsys: pytest.CaptureFixture[str], user_dir: Path) -> None:
    backend = f"py:{write_module(user_dir, GOOD)}:make_ledger"
    status, out, _ = run_cli(capsys, "replay", "--seed", "5", "--ops", "80", "--backend", backend)
    assert status == 0
    assert f"--backend {backend}" in out.splitlines()[0]
    assert "OK: no violations, converged" in out


def test_factory_close_is_called_after_each_use(user_dir: Path) -> None:
    module = write_module(
        user_dir,
        GOOD
        + """
CLOSED = []

class Closing(InMemoryDoneLedger):
    def close(self):
        CLOSED.append(self)

def closing():
    return Closing()
""",
    )
    preflight(f"py:{module}:closing")
    with open_ledger(f"py:{module}:closing") as ledger:
        assert ledger is not None
    assert len(sys.modules[module].CLOSED) == 2  # the preflight's store and the seed's


DIRTY = GOOD + (
    "\nfrom tests.builders import valid_done_record\n"
    "def dirty():\n"
    "    ledger = InMemoryDoneLedger(auto_complete=False)\n"
    "    ledger.batch_upsert([valid_done_record()])\n"
    "    return ledger\n"
)
BAD_FACTORIES = [
    pytest.param(
        None,
        "py:no_such_module_xyz:make",
        ["No module named 'no_such_module_xyz'", "PYTHONPATH"],
        id="not-importable",
    ),
    pytest.param(
        "raise RuntimeError('boom at import')\n",
        "make",
        ["RuntimeError: boom at import", "fix the error raised while importing"],
        id="import-raises",
    ),
    pytest.param(
        GOOD, "nope", ["has no attribute nope", "define a function nope()"], id="no-attribute"
    ),
    pytest.param("make = 42\n", "make", ["is a int, not a callable"], id="not-callable"),
    pytest.param(
        "def make():\n    raise OSError('no backend today')\n",
        "make",
        ["raised OSError: no backend today", "fix the factory"],
        id="factory-raises",
    ),
    pytest.param(
        "def make():\n    return {}\n",
        "make",
        ["returned a dict, which lacks batch_upsert", "ControlledDoneLedger"],
        id="wrong-type",
    ),
    pytest.param(
        DIRTY,
        "dirty",
        ["not empty (0 record(s), 1 pending write(s))", "fresh, empty store"],
        id="not-empty",
    ),
]


@pytest.mark.parametrize(("source", "spec", "fragments"), BAD_FACTORIES)
def test_bad_py_factory_is_a_setup_error(
    capsys: pytest.CaptureFixture[str],
    user_dir: Path,
    source: str | None,
    spec: str,
    fragments: list[str],
) -> None:
    """Issue 10: a factory that cannot give a store: exit 3 before any seed, one message."""
    backend = spec if source is None else f"py:{write_module(user_dir, source)}:{spec}"
    for command in (["sweep", "--seeds", "5", "--jobs", "1"], ["replay", "--seed", "1"]):
        status, out, err = run_cli(capsys, *command, "--ops", "20", "--backend", backend)
        assert_setup_error(status, out, err, f"cannot use backend {backend}: ", *fragments)


@pytest.mark.parametrize(
    "spec", ["py:", "py:mod", "py:mod:", "py::make", "py:1mod:make", "py:mod:make-it"]
)
def test_malformed_py_spec_is_a_usage_error(capsys: pytest.CaptureFixture[str], spec: str) -> None:
    """Syntax is checked while parsing (exit 2, like every other malformed --backend)."""
    status, out, err = run_cli(capsys, "sweep", "--backend", spec)
    assert status == 2
    assert out == ""
    assert "py:MODULE:FACTORY needs a dotted module name and a function name" in err
    with pytest.raises(ValueError, match="py:MODULE:FACTORY"):
        check_ledger_name(spec)


# -- SQLite and PostgreSQL setup errors (the PostgreSQL server cases: tests/postgres) -------


def test_unopenable_sqlite_path_is_one_setup_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 10: was "FAILED: 100 seed(s)" with a replay line each and no path named."""
    path = tmp_path / "missing-dir" / "sim.db"
    status, out, err = run_cli(capsys, "sweep", "--backend", f"sqlite:{path}", "--seeds", "100")
    assert_setup_error(
        status,
        out,
        err,
        f"cannot open or create the SQLite database {path}: unable to open database file",
        f"create the directory {path.parent} first",
    )
    assert "replay" not in err


def test_sqlite_path_that_is_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = run_cli(capsys, "replay", "--seed", "1", "--backend", f"sqlite:{tmp_path}")
    assert_setup_error(status, out, err, f"{tmp_path} is a directory: name a database file")


def test_sqlite_file_that_is_not_a_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just text " * 100)
    status, out, err = run_cli(capsys, "sweep", "--backend", f"sqlite:{path}")
    assert_setup_error(status, out, err, "file is not a database", "is not a SQLite database")


def test_sqlite_file_with_a_foreign_schema_history(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A migration failure names the migration error, not a permission problem."""
    path = tmp_path / "sim.db"
    preflight(f"sqlite:{path}")  # migrates a fresh file
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        history = next(t for t in tables if "migration" in t)
        conn.execute(f"UPDATE {history} SET checksum = zeroblob(32)")
    status, out, err = run_cli(capsys, "sweep", "--backend", f"sqlite:{path}")
    assert_setup_error(status, out, err, "migration", "holds a schema this version cannot use")


def test_sqlite_driver_refusal_is_quoted_with_a_generic_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Emptying the file fails (as for a read-only file, which root cannot reproduce)."""
    from gossip_model.sqlite import SqliteDoneLedger

    def refuse(self: SqliteDoneLedger) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(SqliteDoneLedger, "reset", refuse)
    path = tmp_path / "sim.db"
    status, out, err = run_cli(capsys, "sweep", "--backend", f"sqlite:{path}")
    assert_setup_error(
        status, out, err, "attempt to write a readonly database", f"make {path} and its directory"
    )


def test_per_seed_factory_result_is_checked(user_dir: Path) -> None:
    """A factory that turns bad after the preflight fails that seed (TypeError), not silently."""
    module = write_module(user_dir, "def make():\n    return object()\n")
    with pytest.raises(TypeError, match=r"returned a object without batch_upsert, batch_get"):
        backends.open_backend(f"py:{module}:make")


def test_missing_postgres_driver_is_a_setup_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 (simulated): psycopg absent is one message with the extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    status, out, err = run_cli(
        capsys, "sweep", "--seeds", "100", "--backend", "postgres:host=/nowhere dbname=x"
    )
    assert_setup_error(
        status,
        out,
        err,
        "the PostgreSQL driver psycopg 3 is not installed",
        "pip install 'gossip-model[postgres]'",
    )


@pytest.mark.parametrize(
    ("dsn", "fragments"),
    [
        ("host=/nowhere port=5999 password=hunter2", ["cannot connect: ", "server is running"]),
        ("host=/nowhere port=5999 connect_timeout=2", ["cannot connect: ", "server is running"]),
        ("dbname = 'unterminated", ["not a valid connection string: ", "key=value pairs"]),
        ("postgresql://me:hunter2@localhost:1/db", ["cannot connect: ", "server is running"]),
    ],
    ids=["no-server", "own-timeout", "unparseable", "refused-uri"],
)
def test_bad_dsn_is_a_setup_error_with_the_password_masked(
    capsys: pytest.CaptureFixture[str], dsn: str, fragments: list[str]
) -> None:
    """Issue 10: was an EXCEPTION per seed; the driver's own message is now quoted once."""
    status, out, err = run_cli(capsys, "sweep", "--seeds", "50", "--backend", f"postgres:{dsn}")
    assert_setup_error(status, out, err, *fragments)
    assert "hunter2" not in err
    if "hunter2" in dsn:
        assert "********" in err


def test_backend_label_masks_passwords() -> None:
    assert backend_label("postgres:host=h password='p w' user=u") == (
        "postgres:host=h password=******** user=u"
    )
    assert (
        backend_label("postgres:postgresql://u:pw@h/db") == "postgres:postgresql://u:********@h/db"
    )
    assert backend_label("sqlite:/tmp/password=x") == "sqlite:/tmp/password=x"
    assert backend_label("postgres:password='' host=h") == "postgres:password=******** host=h"


def test_replay_command_masks_a_dsn_password() -> None:
    """Secrets never in output: the replay hint and the JSON name the DSN without it."""
    config = SweepConfig(FaultLevel.STORMY, ops=10, ledger="postgres:host=h password=s3cret")
    assert replay_command(1, config).endswith("--backend 'postgres:host=h password=********'")


def test_setup_error_text() -> None:
    error = BackendSetupError("sqlite:/x", "the cause", "the fix")
    assert str(error) == "cannot use backend sqlite:/x: the cause\n  fix: the fix"
    assert (error.backend, error.cause, error.fix) == ("sqlite:/x", "the cause", "the fix")


def test_preflight_of_simple_backends_passes() -> None:
    for name in ("inmemory", "sqlite", "planted:status_downgrade"):
        preflight(name)
    with pytest.raises(ValueError, match="unknown backend"):
        preflight("mysql:x")


# -- --json and --version ------------------------------------------------------------------


def test_json_to_stdout_keeps_stdout_parseable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "sweep", "--seeds", "2", "--ops", "30", "--json", "-")
    assert status == 0
    document = json.loads(out)
    assert document["schema"] == "gossip-sim-sweep/1"
    assert document["seed_count"] == 2
    assert "OK: no violations, every seed converged" in err  # the text report moved here


def test_json_destination_is_checked_before_any_seed_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An unwritable --json is a usage error (2) reported before the sweep, not after."""
    status, out, err = run_cli(
        capsys, "sweep", "--seeds", "100000", "--ops", "500", "--json", str(tmp_path)
    )
    assert status == 2
    assert out == ""  # no summary: nothing ran
    assert f"cannot write --json {str(tmp_path)!r}" in err


def test_setup_error_wins_over_nothing_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    status, _, _ = run_cli(
        capsys, "sweep", "--backend", f"sqlite:{tmp_path}/no/x.db", "--json", str(target)
    )
    assert status == 3
    assert target.read_text() == ""  # opened (validated) but no report: no sweep ran


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0
    assert out == f"gossip-sim {gossip_model.__version__}\n"
    assert gossip_model.__version__.count(".") >= 2
