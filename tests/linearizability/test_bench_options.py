"""``benchmarks/bench_linearizability.py --max-ops``: which history sizes it checks."""

from __future__ import annotations

import sys

import pytest

from benchmarks import bench_linearizability as bench


def run_main(monkeypatch: pytest.MonkeyPatch, *argv: str) -> list[list[int]]:
    """``main()`` with ``argv``; the size lists it passed to ``checker_figures``."""
    calls: list[list[int]] = []
    monkeypatch.setattr(bench, "checker_figures", calls.append)
    monkeypatch.setattr(bench, "planted_figures", lambda seeds: None)
    monkeypatch.setattr(sys, "argv", ["bench_linearizability.py", *argv])
    bench.main()
    return calls


def test_sizes_follow_quick_and_max_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_main(monkeypatch) == [[1_000, 10_000, 100_000]]
    assert run_main(monkeypatch, "--quick") == [[1_000, 10_000]]
    assert run_main(monkeypatch, "--quick", "--max-ops", "1000") == [[1_000]]
    assert run_main(monkeypatch, "--max-ops", "50000") == [[1_000, 10_000]]


def test_max_ops_below_the_smallest_history_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        run_main(monkeypatch, "--max-ops", "10")
    assert stop.value.code == 2
    assert "--max-ops: at least 1000 (the smallest history), got 10" in capsys.readouterr().err
