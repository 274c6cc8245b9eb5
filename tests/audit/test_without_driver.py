"""The command line works without the PostgreSQL driver (issue 10 item 5: extras).

psycopg comes with the ``postgres`` extra only; ``gossip-sim`` must start and
run in-memory and SQLite work without it, and a PostgreSQL audit must say
which extra to install (exit 3), not fail with an ImportError.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gossip_model.sim.cli import main
from gossip_model.sqlite import SqliteDoneLedger

BLOCK_DRIVER = "import sys; sys.modules['psycopg'] = None; "


def test_gossip_sim_starts_without_psycopg() -> None:
    """A fresh process where ``import psycopg`` fails still runs a sweep (exit 0)."""
    code = (
        BLOCK_DRIVER + "from gossip_model.sim.cli import main; "
        "sys.exit(main(['sweep', '--seeds', '1', '--ops', '5', '--jobs', '1']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "OK: no violations" in done.stdout


def test_postgres_audit_without_psycopg_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    status = main(["audit", "postgres:host=/nonexistent password=hunter2"])
    out, err = capsys.readouterr()
    assert status == 3
    assert "pip install 'gossip-model[postgres]'" in err
    assert "hunter2" not in out + err
    assert err.count("audit:") == 1


def test_sqlite_audit_without_psycopg_is_clean(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    SqliteDoneLedger(str(path)).close()
    monkeypatch.setitem(sys.modules, "psycopg", None)
    status = main(["audit", f"sqlite:{path}"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "OK: no violations" in out
