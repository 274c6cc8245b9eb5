"""Benchmark of the Hypothesis state machines (issues 6 and 11, Performance). Not a timed test.

Reports, all measured in this one process and without coverage:

* steps/s of ``DoneLedgerMachine`` and ``FindingsSinkMachine`` (sim.md §11.2,
  §11.3), each run through ``run_state_machine_as_test``;
* steps/s of a trivial one-rule ``RuleBasedStateMachine`` under the same
  settings (derandomized, no example database, fixed example and step
  counts, no deadline, health checks suppressed);
* the ratio machine / trivial. Target (issue 11): >= 0.35 each. Most of a
  machine step is spent by Hypothesis itself, in choosing among many rules
  and in drawing arguments, so the machines choose rules with
  :class:`rules._rule_choice.RuleChoice` (one or two choices a step instead of
  about 13 under Hypothesis's swarm testing), draw each record as one integer
  and pack small arguments into one draw (see :func:`rules.strategies.small_ints`
  for what each kind of draw costs). The trivial machine keeps Hypothesis's own
  rule choice.

A step is one executed rule, the ``@initialize`` rule included (HYP-6). Steps
are counted by an extra ``@invariant`` in a benchmark subclass: Hypothesis runs
invariants once after every step (after the initialize rule has run, HYP-8),
and the counter is all that invariant does, so every machine pays the same
for it. The test machines' compound rules (HYP-16) make several store calls
in one step; they are counted as one step, as Hypothesis sees them.

Time is this process's CPU time (``time.process_time``), not wall time: the
benchmark usually shares its cores with test runs, and CPU time measures what
the machines cost rather than what the neighbours do. Repeats are interleaved
(trivial, done ledger, findings, trivial, ...) so that a change of load hits
every machine alike; each figure is the best of ``--repeat`` runs.

Each machine line also gives the share of invalid test cases of its run
(issue 11 item 3: below 5%), from Hypothesis's own per-run statistics and
counted as ``--hypothesis-show-statistics`` counts "invalid examples": a test
case is invalid when a draw is rejected (a filter, ``assume``, or no enabled
rule) or when it overruns (it needed more choices than Hypothesis allowed it,
typically a replayed mutation of an earlier example).

``--profile NAME`` (``done_ledger`` or ``findings``) prints the top cProfile
entries of that machine's run instead. Usage::

    python benchmarks/bench_rules.py [--examples 100] [--steps 150] [--repeat 3]
    python benchmarks/bench_rules.py --profile findings
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from typing import Any, NamedTuple

from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from hypothesis.statistics import collector

from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine

TARGET_RATIO = 0.35
"""Issue 11: each machine reaches at least this share of the trivial machine's steps/s."""
MAX_INVALID_SHARE = 0.05
"""Issue 11: below this share of a run's test cases are invalid."""


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


class Run(NamedTuple):
    """One full run of a machine: steps, CPU seconds, test cases and invalid ones."""

    steps: int
    seconds: float
    cases: int
    invalid: int
    overrun: int

    @property
    def rate(self) -> float:
        return self.steps / self.seconds

    @property
    def invalid_share(self) -> float:
        return (self.invalid + self.overrun) / self.cases if self.cases else 0.0


def run_once(machine: type[RuleBasedStateMachine], run_settings: settings) -> Run:
    """One full run of ``machine``: steps, CPU time and the statuses of its test cases."""
    statuses: list[str] = []

    def record(stats: dict[str, Any]) -> None:
        for phase in stats.values():
            if isinstance(phase, dict):
                statuses.extend(case["status"] for case in phase.get("test-cases", ()))

    StepCounter.steps = 0
    start = time.process_time()
    with collector.with_value(record):  # type: ignore[arg-type]  # typed as None-only
        run_state_machine_as_test(machine, settings=run_settings)  # type: ignore[no-untyped-call]
    elapsed = time.process_time() - start
    return Run(
        StepCounter.steps,
        elapsed,
        len(statuses),
        statuses.count("invalid"),
        statuses.count("overrun"),
    )


def best_runs(run_settings: settings, repeat: int) -> dict[str, Run]:
    """The fastest of ``repeat`` interleaved runs of each machine."""
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for name, machine in MACHINES.items():
            run = run_once(machine, run_settings)
            if name not in best or run.rate > best[name].rate:
                best[name] = run
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
    print(
        f"{args.examples} examples x {args.steps} steps, derandomized, "
        f"best of {args.repeat} (CPU time)"
    )
    runs = best_runs(run_settings, args.repeat)
    trivial = runs["trivial"].rate
    for name, run in runs.items():
        line = f"{name:<12} {run.steps:>7,} steps  {run.rate:>9,.0f} steps/s"
        if name != "trivial":
            ratio = run.rate / trivial
            verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
            line += f"  {ratio:.2f} of trivial (target >= {TARGET_RATIO}) {verdict}"
            share = run.invalid_share
            verdict = "ok" if share < MAX_INVALID_SHARE else "ABOVE TARGET"
            line += (
                f"; invalid {run.invalid} + overrun {run.overrun} of {run.cases}"
                f" test cases = {share:.1%}"
                f" (target < {MAX_INVALID_SHARE:.0%}) {verdict}"
            )
        print(line)


if __name__ == "__main__":
    main()
