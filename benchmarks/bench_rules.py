"""Benchmark of the Hypothesis state machines (issues 6 and 11, Performance). Not a timed test.

Reports, all measured in this one process and without coverage:

* steps/s of ``DoneLedgerMachine`` and ``FindingsSinkMachine`` (sim.md §11.2,
  §11.3), each run through ``run_state_machine_as_test``;
* steps/s of a trivial one-rule ``RuleBasedStateMachine`` under the same
  settings (derandomized, no example database, fixed example and step
  counts, no deadline, health checks suppressed);
* the ratio machine / trivial. Target (issue 11): >= 0.35 each. Most of a
  machine step is spent by Hypothesis itself, in choosing among many rules
  under swarm testing and in drawing arguments, so the machines draw each
  record as one choice and keep rules always enabled where they can.

A step is one executed rule, the ``@initialize`` rule included (HYP-6). Steps
are counted by an extra ``@invariant`` in a benchmark subclass: Hypothesis runs
invariants once after every step (after the initialize rule has run, HYP-8),
and the counter is all that invariant does, so every machine pays the same
for it. The test machines' compound rules (HYP-16) make several store calls
in one step; they are counted as one step, as Hypothesis sees them.

``--profile NAME`` (``done_ledger`` or ``findings``) prints the top cProfile
entries of that machine's run instead. Each figure is the best of
``--repeat`` runs. Usage::

    python benchmarks/bench_rules.py [--examples 100] [--steps 150] [--repeat 3]
    python benchmarks/bench_rules.py --profile findings
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine

TARGET_RATIO = 0.35
"""Issue 11: each machine reaches at least this share of the trivial machine's steps/s."""


class StepCounter:
    """Steps executed so far, over every example of a run."""

    steps = 0


class TrivialMachine(RuleBasedStateMachine):
    """The baseline: one rule that changes one int, no model, no store."""

    def __init__(self) -> None:
        super().__init__()
        self.value = 0

    @rule()
    def step(self) -> None:
        self.value += 1

    @invariant()
    def count_step(self) -> None:
        StepCounter.steps += 1


class CountedDoneLedgerMachine(DoneLedgerMachine):
    """``DoneLedgerMachine`` plus the step counter."""

    @invariant()
    def count_step(self) -> None:
        StepCounter.steps += 1


class CountedFindingsSinkMachine(FindingsSinkMachine):
    """``FindingsSinkMachine`` plus the step counter."""

    @invariant()
    def count_step(self) -> None:
        StepCounter.steps += 1


MACHINES: dict[str, type[RuleBasedStateMachine]] = {
    "trivial": TrivialMachine,
    "done_ledger": CountedDoneLedgerMachine,
    "findings": CountedFindingsSinkMachine,
}


def bench_settings(examples: int, steps: int) -> settings:
    """The same explicit settings for every machine (HYP-13 style, profile-independent)."""
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def run_once(machine: type[RuleBasedStateMachine], run_settings: settings) -> tuple[int, float]:
    """Steps executed and wall time of one full run of ``machine``."""
    StepCounter.steps = 0
    start = time.perf_counter()
    run_state_machine_as_test(machine, settings=run_settings)  # type: ignore[no-untyped-call]
    elapsed = time.perf_counter() - start
    return StepCounter.steps, elapsed


def steps_per_second(
    machine: type[RuleBasedStateMachine], run_settings: settings, repeat: int
) -> tuple[int, float]:
    """Best of ``repeat`` runs: (steps of that run, steps/s)."""
    best: tuple[int, float] | None = None
    for _ in range(repeat):
        steps, elapsed = run_once(machine, run_settings)
        rate = steps / elapsed
        if best is None or rate > best[1]:
            best = (steps, rate)
    assert best is not None
    return best


def profile(name: str, run_settings: settings, top: int) -> None:
    """Print the ``top`` entries by cumulative and by own time of one run."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_once(MACHINES[name], run_settings)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(set(MACHINES) - {"trivial"}))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    run_settings = bench_settings(args.examples, args.steps)
    if args.profile:
        profile(args.profile, run_settings, args.top)
        return
    print(f"{args.examples} examples x {args.steps} steps, derandomized, best of {args.repeat}")
    rates = {
        name: steps_per_second(machine, run_settings, args.repeat)
        for name, machine in MACHINES.items()
    }
    trivial = rates["trivial"][1]
    for name, (steps, rate) in rates.items():
        line = f"{name:<12} {steps:>7,} steps  {rate:>9,.0f} steps/s"
        if name != "trivial":
            ratio = rate / trivial
            verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
            line += f"  {ratio:.2f} of trivial (target >= {TARGET_RATIO}) {verdict}"
        print(line)


if __name__ == "__main__":
    main()
