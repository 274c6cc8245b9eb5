"""Seed sweeps (TST-1): run many seeds, reduce each to a ``SeedResult``, aggregate.

Used by the sweep tests and by the command line. A sweep measures its own
wall time for the throughput figure; that measurement is diagnostic only and
never influences a run (SIM-3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gossip_model.sim.backends import (
    DEFAULT_LEDGER,
    check_ledger_name,
    open_backend,
    open_ledger,
    preflight,
)
from gossip_model.sim.context import SimContext
from gossip_model.sim.faults import FaultLevel
from gossip_model.sim.ledger import SimLedger
from gossip_model.sim.report import DoneLedgerSimReport, SeedResult, SweepOutcome
from gossip_model.sim.runner import DoneLedgerSim

__all__ = [
    "DEFAULT_LEDGER",
    "SweepConfig",
    "check_sim_ledger_name",
    "evaluate_seed",
    "failure_text",
    "make_ledger",
    "open_sim_ledger",
    "preflight_sim_ledger",
    "run_seed_sweep",
]

SeedRunner = Callable[[int], DoneLedgerSimReport]


_PLANTED = "planted:"


def _extra_planted(name: str) -> str | None:
    """The bug name of a ``planted:NAME`` outside ``PLANTED_BUGS`` (deep bugs, probes)."""
    if not name.startswith(_PLANTED):
        return None
    from gossip_model.sim.planted import DEEP_PLANTED_BUGS, INVARIANT_PROBES

    bug = name[len(_PLANTED) :]
    return bug if bug in DEEP_PLANTED_BUGS or bug in INVARIANT_PROBES else None


def check_sim_ledger_name(name: str) -> str:
    """``check_ledger_name``, also accepting the deep planted bugs and invariant probes."""
    if _extra_planted(name) is not None:
        return name
    return check_ledger_name(name)


def preflight_sim_ledger(name: str) -> None:
    """``preflight``, skipped for the deep planted bugs and invariant probes (in-memory)."""
    if _extra_planted(name) is None:
        preflight(name)


@contextmanager
def open_sim_ledger(name: str) -> Iterator[SimLedger | None]:
    """``open_ledger``, also opening the deep planted bugs and invariant probes (issue 12)."""
    bug = _extra_planted(name)
    if bug is None:
        with open_ledger(name) as ledger:
            yield ledger
        return
    from gossip_model.sim.planted import make_planted_ledger

    yield make_planted_ledger(bug)


def make_ledger(name: str) -> SimLedger | None:
    """Resolve a ledger name (``gossip_model.sim.backends``) without a seed's cleanup.

    ``inmemory`` gives None (the simulation's default); ``planted:NAME`` a
    planted-bug ledger; database names open the database. Unknown names raise
    ``ValueError``. Sweeps use :func:`open_ledger`, which also closes it.
    """
    ledger: SimLedger | None = open_backend(check_ledger_name(name))
    return ledger


@dataclass(frozen=True, slots=True)
class SweepConfig:
    """What every seed of a sweep runs; picklable, so it can cross a process pool.

    ``swizzle_batches`` selects ``run_swizzle_clog(swizzle_batches)`` instead
    of ``run(ops, liveness_ops)``.
    """

    fault_level: FaultLevel
    ops: int
    liveness_ops: int = 0
    swizzle_batches: int | None = None
    ledger: str = DEFAULT_LEDGER

    def run(self, seed: int) -> DoneLedgerSimReport:
        """Run one seed on a fresh context, simulation and ledger."""
        with open_sim_ledger(self.ledger) as ledger:
            sim = DoneLedgerSim(SimContext(seed, self.fault_level), ledger)
            if self.swizzle_batches is not None:
                return sim.run_swizzle_clog(self.swizzle_batches)
            return sim.run(self.ops, self.liveness_ops)

    def evaluate(self, seed: int) -> SeedResult:
        """``evaluate_seed`` with this configuration (a top-level callable for pools)."""
        return evaluate_seed(seed, self.run)


def failure_text(report: DoneLedgerSimReport) -> str | None:
    """TST-1 failure text of a report, or None when it is clean.

    ``"<n> violation(s) [I1 x2, I6 x1]; first: <str of the first>"``, with
    ``"; not converged"`` appended when I6 failed.
    """
    if report.is_clean():
        return None
    parts: list[str] = []
    if report.violations:
        tally: dict[str, int] = {}
        for violation in report.violations:
            tally[violation.invariant] = tally.get(violation.invariant, 0) + 1
        listed = ", ".join(f"{inv} x{tally[inv]}" for inv in report.violated_invariants())
        parts.append(
            f"{len(report.violations)} violation(s) [{listed}]; first: {report.violations[0]}"
        )
    if not report.converged:
        parts.append("not converged")
    return "; ".join(parts)


def evaluate_seed(seed: int, runner: SeedRunner) -> SeedResult:
    """Run one seed; an exception becomes ``"EXCEPTION: <type name>: <message>"``."""
    try:
        report = runner(seed)
    except Exception as exc:
        return SeedResult(
            seed=seed,
            ops_executed=0,
            converged=False,
            event_counts={},
            invariants=(),
            failure=f"EXCEPTION: {type(exc).__name__}: {exc}",
        )
    return SeedResult(
        seed=seed,
        ops_executed=report.ops_executed,
        converged=report.converged,
        event_counts=dict(report.event_counts),
        invariants=tuple(v.invariant for v in report.violations),
        failure=failure_text(report),
        depth=report.depth,
    )


def run_seed_sweep(seeds: Iterable[int], runner: SeedRunner) -> SweepOutcome:
    """TST-1: run each seed in order and aggregate histograms and failures."""
    started = time.perf_counter()
    results = [evaluate_seed(seed, runner) for seed in seeds]
    return SweepOutcome.from_results(results, time.perf_counter() - started)
