"""Benchmark of the done-ledger simulation (issue 5, Performance). Not a timed test.

Reports, all measured in this one process:

1. ops/s of the STORMY simulation (seeds 0..N, 500 safety ops each) with the
   per-step invariant checks on, and with them off (a checker whose methods
   report nothing; the oracle, the drains and the final I6 scan still run),
   and the ratio. Target: checks cost at most 3x the bare run.
2. wall time of the 100 x 500 STORMY sweep through the command line with
   ``--jobs 1`` and ``--jobs 2``, and the speed-up. Target: >= 1.6x on two
   cores.

Each figure is the best of ``--repeat`` runs. Usage::

    python benchmarks/bench_sim.py [--seeds 100] [--ops 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import time
from collections.abc import Callable, Sequence

from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord
from gossip_model.sim import (
    DoneLedgerInvariantChecker,
    DoneLedgerOracle,
    DoneLedgerSim,
    DoneLedgerViolation,
    FaultLevel,
    SimContext,
    SimLedger,
)
from gossip_model.sim.cli import main as cli_main


class NullChecker(DoneLedgerInvariantChecker):
    """Checks nothing: the 'invariants off' baseline."""

    __slots__ = ()

    def check_after_committed_upsert(
        self,
        ledger: SimLedger,
        records: Sequence[DoneLedgerRecord],
        receipt: DoneLedgerCommitReceipt,
        pre_snapshot: Sequence[DoneLedgerRecord | None],
    ) -> list[DoneLedgerViolation]:
        return []

    @staticmethod
    def check_after_submit_failure(
        ledger: SimLedger,
        records: Sequence[DoneLedgerRecord],
        pre_snapshot: Sequence[DoneLedgerRecord | None],
    ) -> list[DoneLedgerViolation]:
        return []

    @staticmethod
    def check_after_commit_failure(
        ledger: SimLedger,
        records: Sequence[DoneLedgerRecord],
        pre_snapshot: Sequence[DoneLedgerRecord | None],
    ) -> list[DoneLedgerViolation]:
        return []

    @staticmethod
    def check_read_consistency(
        oracle: DoneLedgerOracle,
        keys: Sequence[DoneLedgerKey],
        results: Sequence[DoneLedgerRecord | None],
    ) -> list[DoneLedgerViolation]:
        return []


def best_of(repeat: int, action: Callable[[], int]) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs, and the action's result (ops) of the last one."""
    best = float("inf")
    result = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def simulate(seeds: int, ops: int, checks: bool, level: FaultLevel = FaultLevel.STORMY) -> int:
    total = 0
    for seed in range(seeds):
        checker = None if checks else NullChecker()
        sim = DoneLedgerSim(SimContext(seed, level), checker=checker)
        report = sim.run(ops)
        assert not report.violations, f"seed {seed} has violations"
        total += report.ops_executed
    return total


def cli_sweep(seeds: int, ops: int, jobs: int) -> int:
    argv = ["sweep", "--fault-level", "stormy", "--seeds", str(seeds), "--ops", str(ops)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli_main([*argv, "--jobs", str(jobs)])
    assert status == 0, "the stormy sweep reported a failure"
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"cores: {os.cpu_count()}  ({args.seeds} seeds x {args.ops} ops)")
    # STORMY is the target figure; SUNNY_DAY commits almost every upsert, so it
    # runs the commit checks (I1, I2, I3, I8, I9, I10) far more often.
    for level in (FaultLevel.STORMY, FaultLevel.SUNNY_DAY):
        on_time, on_ops = best_of(
            args.repeat, functools.partial(simulate, args.seeds, args.ops, True, level)
        )
        off_time, off_ops = best_of(
            args.repeat, functools.partial(simulate, args.seeds, args.ops, False, level)
        )
        name = level.name
        print(f"{name:<9} invariants on : {on_ops / on_time:>10,.0f} ops/s  ({on_time:.2f} s)")
        print(f"{name:<9} invariants off: {off_ops / off_time:>10,.0f} ops/s  ({off_time:.2f} s)")
        print(f"{name:<9} check cost    : {on_time / off_time:.2f}x the bare run (target <= 3x)")

    one, _ = best_of(args.repeat, lambda: cli_sweep(args.seeds, args.ops, 1))
    two, _ = best_of(args.repeat, lambda: cli_sweep(args.seeds, args.ops, 2))
    print(f"sweep --jobs 1: {one:.2f} s")
    print(f"sweep --jobs 2: {two:.2f} s")
    print(f"speed-up      : {one / two:.2f}x (target >= 1.6x on two cores)")


if __name__ == "__main__":
    main()
