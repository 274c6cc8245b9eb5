"""``gossip-sim stress`` (issue 14 item 6): verdicts, exit statuses, replay commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gossip_model.linearizability.cli import check_backend, load_target
from gossip_model.sim.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["stress", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_stress_inmemory_done_ledger_is_linearizable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--clients", "3", "--ops", "20", "--seed", "4"], capsys)
    assert status == 0
    assert "verdict: linearizable" in out
    assert "60 operations" in out


def test_stress_sqlite_file_and_findings_sink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "stress.db"
    status, out, _ = run(["--backend", f"sqlite:{db}", "--clients", "2", "--ops", "10"], capsys)
    assert status == 0
    assert db.exists()
    status, out, _ = run(
        ["--backend", "sqlite", "--sink", "--ops", "10", "--deterministic"], capsys
    )
    assert status == 0
    assert "(findings)" in out
    assert "seeded scheduler" in out


def test_stress_reports_a_planted_bug_with_its_replay_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--backend", "planted:lost-update", "--clients", "3", "--ops", "10", "--keys", "2"]
    argv += ["--seed", "5", "--deterministic"]
    status, out, _ = run(argv, capsys)
    assert status == 1
    assert "verdict: NOT linearizable" in out
    assert "minimal counter-history" in out
    replay = out.split("replay: ", 1)[1].strip()
    assert replay.startswith("gossip-sim stress --backend planted:lost-update")
    again, out2, _ = run(replay.split()[2:], capsys)
    assert again == 1
    assert out2 == out  # the seeded scheduler replays the same history


def test_stress_planted_findings_bug_and_unpartitioned_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--backend", "planted:findings-check-then-insert", "--keys", "1", "--ops", "8"]
    status, out, _ = run([*argv, "--seed", "1", "--deterministic", "--unpartitioned"], capsys)
    assert status == 1
    assert "(findings)" in out
    assert "partition all" in out


def test_stress_setup_error_exits_3_and_names_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["--backend", "sqlite:/nonexistent-dir/x/y.db", "--ops", "2"], capsys)
    assert status == 3
    assert "setup error" in err
    assert "retry" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--backend", "bogus"], "unknown backend 'bogus'"),
        (["--backend", "planted:nope"], "unknown planted concurrency bug 'nope'"),
        (["--clients", "0"], "must be in 1..64"),
        (["--ops", "many"], "expected an integer"),
    ],
)
def test_stress_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(argv, capsys)
    assert status == 2
    assert message in err


def test_backend_names_and_targets() -> None:
    assert check_backend("planted:release-races-submit") == "planted:release-races-submit"
    assert check_backend("postgres:dbname=x") == "postgres:dbname=x"
    with load_target("postgres:dbname=x", "findings") as target:
        assert target.interface == "findings"
    with load_target("planted:sqlite-select-then-write", "done_ledger") as target:
        assert target.name == "planted:sqlite-select-then-write"


def test_stress_writes_to_given_streams() -> None:
    import argparse

    from gossip_model.linearizability.cli import run as stress

    args = argparse.Namespace(
        backend="inmemory",
        clients=2,
        ops=3,
        seed=0,
        keys=2,
        sink=False,
        deterministic=True,
        unpartitioned=False,
    )
    out, err = io.StringIO(), io.StringIO()
    assert stress(args, out, err) == 0
    assert "verdict: linearizable" in out.getvalue()
    assert err.getvalue() == ""


def test_stress_delayed_mode_on_the_inmemory_sink_and_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--delayed``: the control surface driven concurrently (control.py); correct stores pass."""
    status, out, _ = run(["--sink", "--delayed", "--ops", "20", "--deterministic"], capsys)
    assert status == 0, out
    assert "delayed mode" in out
    assert "control operations: " in out
    db = tmp_path / "delayed.db"
    status, out, _ = run(
        ["--backend", f"sqlite:{db}", "--delayed", "--clients", "3", "--ops", "15"], capsys
    )
    assert status == 0, out
    assert "verdict: linearizable" in out


def test_stress_delayed_catches_the_release_race_and_replays_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--backend", "planted:release-all-not-atomic", "--delayed", "--deterministic"]
    argv += ["--clients", "3", "--ops", "8", "--keys", "2", "--seed", "2"]
    status, out, _ = run(argv, capsys)
    assert status == 1, out
    assert "control operations (first 40):" in out
    assert "release_all(" in out
    replay = out.split("replay: ", 1)[1].strip()
    assert replay.endswith("--deterministic --delayed")
    again, out2, _ = run(replay.split()[2:], capsys)
    assert again == 1
    assert out2 == out


def test_stress_delayed_without_controls_exits_3_naming_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(["--backend", "planted:lost-update", "--delayed"], capsys)
    assert status == 3
    assert "LostUpdateLedger lacks set_auto_complete" in err
    assert "ControlledDoneLedger" in err
    assert "verdict" not in out
