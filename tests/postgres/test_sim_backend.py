"""``--backend postgres:DSN``: a sweep on PostgreSQL, emptied per seed (issue 7)."""

from __future__ import annotations

import psycopg
import pytest

from gossip_model.sim.cli import main

pytestmark = pytest.mark.postgres


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_sweep_on_postgres_is_clean_and_truncates_per_seed(
    capsys: pytest.CaptureFixture[str], pg_conninfo: str
) -> None:
    argv = ["sweep", "--backend", f"postgres:{pg_conninfo}", "--seeds", "2", "--ops", "60"]
    assert main(argv) == 0
    assert main(argv) == 0  # starts from the previous sweep's rows: they must be cleared
    out = capsys.readouterr().out
    assert out.count("OK: no violations, every seed converged") == 2, out
    assert out.count("1 job(s)") == 2
    with psycopg.connect(pg_conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM done_ledger_entries").fetchone()
    assert row is not None
    assert row[0] > 0
