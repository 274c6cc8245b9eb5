"""Report, sweep aggregation and rendering (RUN-8, TST-1, TST-2)."""

from __future__ import annotations

from gossip_model.sim import (
    DoneLedgerSimEventKind,
    DoneLedgerSimReport,
    SeedResult,
    SweepOutcome,
    evaluate_seed,
    run_seed_sweep,
)
from gossip_model.sim.report import render_histogram, render_summary
from gossip_model.sim.sweep import failure_text, make_ledger
from gossip_model.sim.violations import CommitDurability, LatticeConvergence
from tests.builders import key, valid_done_record

K = DoneLedgerSimEventKind


def report(violations: tuple[object, ...] = (), converged: bool = True) -> DoneLedgerSimReport:
    return DoneLedgerSimReport(
        seed=4,
        ops_executed=12,
        violations=violations,  # type: ignore[arg-type]
        event_counts={K.GET_OK: 2, K.RELEASE_NOOP: 1},
        converged=converged,
    )


def test_failure_text() -> None:
    """TST-1: a failing report gives a text naming the invariants and the first violation."""
    assert failure_text(report()) is None
    bad = report((CommitDurability(key(o=0)), CommitDurability(key(o=1))), converged=True)
    text = failure_text(bad)
    assert text is not None
    assert text.startswith("2 violation(s) [I3 x2]; first: I3 CommitDurability: ")
    lattice = LatticeConvergence(key(o=0), valid_done_record(0), None)
    text = failure_text(report((lattice,), converged=False))
    assert text is not None
    assert text.endswith("; not converged")
    assert failure_text(report(converged=False)) == "not converged"
    assert bad.violated_invariants() == ["I3"]
    assert not bad.is_clean()


def test_evaluate_seed_records_exceptions() -> None:
    """Open point 12: ``EXCEPTION: <type name>: <message>``."""

    def explode(seed: int) -> DoneLedgerSimReport:
        raise RuntimeError(f"boom {seed}")

    result = evaluate_seed(3, explode)
    assert result.failure == "EXCEPTION: RuntimeError: boom 3"
    assert not result.converged
    outcome = run_seed_sweep([1, 2], explode)
    assert outcome.failures == [
        (1, "EXCEPTION: RuntimeError: boom 1"),
        (2, "EXCEPTION: RuntimeError: boom 2"),
    ]
    assert outcome.exception_count == 2
    assert outcome.seed_count == 2
    assert not outcome.ok


def test_sweep_aggregates_in_seed_order() -> None:
    results = [
        SeedResult(2, 10, False, {K.GET_OK: 1}, ("I6", "I6"), "b"),
        SeedResult(1, 5, True, {K.GET_OK: 2, K.RELEASED: 1}, (), None),
    ]
    outcome = SweepOutcome.from_results(results, elapsed=2.0)
    assert outcome.seed_count == 2
    assert outcome.ops_executed == 15
    assert outcome.converged_count == 1
    assert outcome.aggregate_counts == {K.GET_OK: 3, K.RELEASED: 1}
    assert outcome.violations_by_invariant["I6"] == 2
    assert outcome.failures == [(2, "b")]
    assert outcome.failed_invariants == {2: ("I6",)}
    assert outcome.ops_per_second() == 7.5
    assert SweepOutcome.from_results([], elapsed=0.0).ops_per_second() == 0.0


def test_histogram_lists_all_kinds_with_bars() -> None:
    text = render_histogram({K.GET_OK: 30, K.RELEASED: 10, K.RELEASE_NOOP: 0}, width=12)
    lines = text.splitlines()
    assert lines[0].split() == ["event", "count", "share"]
    assert len(lines) == 1 + 10 + 1
    get_ok = next(line for line in lines if line.startswith("GetOk"))
    assert get_ok.endswith("75.0%  " + "#" * 12)
    released = next(line for line in lines if line.startswith("Released "))
    assert released.endswith("25.0%  " + "#" * 4)
    assert lines[-1].split() == ["total", "40"]
    tiny = render_histogram({K.GET_OK: 1000, K.RELEASED: 1}, width=10)
    assert next(line for line in tiny.splitlines() if line.startswith("Released ")).endswith(".")
    empty = render_histogram({})
    assert "0.0%" in empty


def test_summary_lists_violations_by_invariant() -> None:
    outcome = SweepOutcome.from_results(
        [
            SeedResult(0, 10, False, {K.GET_OK: 1}, ("I1", "I6"), "x"),
            SeedResult(1, 0, False, {}, (), "EXCEPTION: ValueError: v"),
        ],
        elapsed=0.0,
    )
    text = render_summary(outcome, "header")
    assert text.startswith("header\n")
    assert "seeds      2 (2 failed)" in text
    assert "aborted    1 (exception raised)" in text
    assert "violations 2" in text
    assert "  I1   StatusMonotonicity     1" in text
    assert "  I6   LatticeConvergence     1" in text
    assert "I2 " not in text
    assert "throughput 0 ops/s" in text


def test_make_ledger_names() -> None:
    assert make_ledger("inmemory") is None
    assert make_ledger("planted:receipt_counts_raw") is not None


def test_sweep_config_swizzle_mode() -> None:
    from gossip_model.sim import FaultLevel, SweepConfig

    result = SweepConfig(FaultLevel.SUNNY_DAY, 0, swizzle_batches=10).evaluate(3)
    assert result.failure is None
    assert result.event_counts[K.UPSERT_PENDING] == 10
