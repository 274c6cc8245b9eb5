"""Benchmark of the done-ledger simulation (issues 5 and 12, Performance). Not a timed test.

Reports, all measured in this one process:

1. ops/s of the STORMY, SWARM and SUNNY_DAY simulations (seeds 0..N, 500
   safety ops each) with the per-step invariant checks on, and with them off
   (a checker whose methods report nothing; the oracle, the drains and the
   final I6 scan still run), and the ratio. Targets: checks cost at most 3x
   the bare run (issue 5) and at most 1.5x on SWARM (issue 12).
2. SWARM ops/s relative to STORMY in the same run, checks on. Target >= 0.7:
   SWARM commits most writes, and a commit costs more than a failed write.
3. wall time of the 100 x 500 sweep of the README's main job (SWARM) through
   the command line with ``--jobs 1`` and ``--jobs 2``, and the speed-up.
   Target: >= 1.6x on two cores. ``--no-cli`` skips it.

Each figure is the best of ``--repeat`` runs. Usage::

    python benchmarks/bench_sim.py [--seeds 100] [--ops 500] [--repeat 3] [--no-cli]
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
    argv = ["sweep", "--fault-level", "swarm", "--seeds", str(seeds), "--ops", str(ops)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli_main([*argv, "--jobs", str(jobs)])
    assert status == 0, "the swarm sweep reported a failure"
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line sweeps")
    args = parser.parse_args()

    print(f"cores: {os.cpu_count()}  ({args.seeds} seeds x {args.ops} ops)")
    # STORMY fails most writes; SWARM (the main job) commits most of them, so it
    # runs the commit checks (I1, I2, I3, I8, I9, I10) far more often; SUNNY_DAY
    # commits every write but never delays one.
    rates: dict[FaultLevel, float] = {}
    targets = {FaultLevel.STORMY: 3.0, FaultLevel.SWARM: 1.5, FaultLevel.SUNNY_DAY: 3.0}
    for level in (FaultLevel.STORMY, FaultLevel.SWARM, FaultLevel.SUNNY_DAY):
        on_time, on_ops = best_of(
            args.repeat, functools.partial(simulate, args.seeds, args.ops, True, level)
        )
        off_time, off_ops = best_of(
            args.repeat, functools.partial(simulate, args.seeds, args.ops, False, level)
        )
        name = level.name
        rates[level] = on_ops / on_time
        print(f"{name:<9} invariants on : {on_ops / on_time:>10,.0f} ops/s  ({on_time:.2f} s)")
        print(f"{name:<9} invariants off: {off_ops / off_time:>10,.0f} ops/s  ({off_time:.2f} s)")
        print(
            f"{name:<9} check cost    : {on_time / off_time:.2f}x the bare run "
            f"(target <= {targets[level]}x)"
        )
    ratio = rates[FaultLevel.SWARM] / rates[FaultLevel.STORMY]
    print(f"SWARM / STORMY ops/s: {ratio:.2f} (target >= 0.7)")
    if args.no_cli:
        return

    one, _ = best_of(args.repeat, lambda: cli_sweep(args.seeds, args.ops, 1))
    two, _ = best_of(args.repeat, lambda: cli_sweep(args.seeds, args.ops, 2))
    print(f"sweep --jobs 1: {one:.2f} s")
    print(f"sweep --jobs 2: {two:.2f} s")
    print(f"speed-up      : {one / two:.2f}x (target >= 1.6x on two cores)")


if __name__ == "__main__":
    main()
