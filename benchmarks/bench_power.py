"""Benchmark of the machines' power: search and shrink of each planted bug (issue 11).

Not a timed test. For every planted-bug store the power tests use (``gossip_model.sim.planted``'s
catalogue and ``rules.planted``'s ledger and sink bugs), the machine is run as
``tests/rules/test_rules_power.py`` runs it (same settings: 300 examples of 20
steps, generate and shrink, no example database) but seeded with
``hypothesis.seed(s)`` for each of ``--seeds`` seeds instead of derandomized,
so the figures do not hang on one lucky or unlucky example. Reported per bug:
the CPU time of search plus shrink as a ratio to the baseline, and the steps of
the shrunk program (the power tests require at most 8); then the totals.

Baseline, in this process: the correct machine of the same kind
(``DoneLedgerMachine`` or ``FindingsSinkMachine``) run with the same settings
and seeds, where nothing fails, so it runs all 300 examples. A ratio of 0.2
means finding and shrinking the bug cost a fifth of a clean 300-example run.
Time is CPU time (``time.process_time``), the best of ``--repeat`` baseline
runs. Issue 11 measured the rule choice with it: per-rule swarm flags made
search plus shrink about three times as costly (``rules/_rule_choice.py``).

Usage::

    python benchmarks/bench_power.py [--seeds 3] [--repeat 2] [--bug NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import seed
from hypothesis.reporting import with_reporter
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from gossip_model.sim.planted import PLANTED_BUGS, make_planted_ledger
from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine
from rules.planted import (
    PLANTED_FINDINGS_BUGS,
    PLANTED_LEDGER_BUGS,
    make_planted_ledger_bug,
    make_planted_sink,
)

# The power tests' settings and program parser live with the tests: import them from
# the checkout, as benchmarks/bench_linearizability.py does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.rules.test_rules_power import (
    POWER_SETTINGS,
    invariant_names,
    program_steps,
)

RUN_SETTINGS = POWER_SETTINGS.__class__(POWER_SETTINGS, derandomize=False)
"""The power tests' settings, seeded per run instead of derandomized."""


def planted_machines() -> dict[str, tuple[type[RuleBasedStateMachine], str, Callable[[], object]]]:
    """Bug name -> (parent machine, store hook, store factory)."""
    cases: dict[str, tuple[type[RuleBasedStateMachine], str, Callable[[], object]]] = {}
    for bug in sorted(PLANTED_BUGS):
        cases[bug] = (DoneLedgerMachine, "make_ledger", lambda b=bug: make_planted_ledger(b))
    for bug in sorted(PLANTED_LEDGER_BUGS):
        cases[bug] = (DoneLedgerMachine, "make_ledger", lambda b=bug: make_planted_ledger_bug(b))
    for bug in sorted(PLANTED_FINDINGS_BUGS):
        cases[bug] = (FindingsSinkMachine, "make_sink", lambda b=bug: make_planted_sink(b))
    return cases


def run_seeded(machine: type[RuleBasedStateMachine], at: int) -> tuple[float, int | None]:
    """CPU seconds of one seeded run, and the shrunk program's steps (None: nothing failed)."""
    printed: list[str] = []
    start = time.process_time()
    try:
        with with_reporter(printed.append):
            run_state_machine_as_test(seed(at)(machine), settings=RUN_SETTINGS)
    except AssertionError as failure:
        printed += getattr(failure, "__notes__", [])
        return time.process_time() - start, len(program_steps(printed, invariant_names(machine)))
    return time.process_time() - start, None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="baseline runs (best is kept)")
    parser.add_argument("--bug", action="append", help="only these bugs (repeatable)")
    args = parser.parse_args()
    cases = planted_machines()
    unknown = sorted(set(args.bug or ()) - set(cases))
    if unknown:
        parser.error(f"--bug: unknown {', '.join(unknown)}; known: {', '.join(cases)}")
    chosen = {name: cases[name] for name in (args.bug or cases)}
    seeds = range(args.seeds)

    baseline: dict[type[RuleBasedStateMachine], float] = {}
    for parent in {parent for parent, _, _ in chosen.values()}:
        runs = [sum(run_seeded(parent, s)[0] for s in seeds) for _ in range(args.repeat)]
        baseline[parent] = min(runs) / len(seeds)
        print(f"baseline {parent.__name__}: {baseline[parent]:.2f} s CPU per clean run")

    print(f"{'bug':28} {'median x base':>13} {'worst x base':>12} {'steps':>10}")
    total = 0.0
    worst_steps = 0
    for name, (parent, hook, factory) in chosen.items():
        machine = type(f"Planted_{name}", (parent,), {hook: lambda self, f=factory: f()})
        ratios: list[float] = []
        steps: list[str] = []
        for s in seeds:
            cpu, shrunk = run_seeded(machine, s)
            total += cpu
            ratios.append(cpu / baseline[parent])
            steps.append("missed" if shrunk is None else str(shrunk))
            worst_steps = max(worst_steps, shrunk or 0)
        print(
            f"{name:28} {statistics.median(ratios):>13.2f} {max(ratios):>12.2f} "
            f"{' '.join(steps):>10}"
        )
    print(f"total search + shrink: {total:.1f} s CPU; longest shrunk program: {worst_steps} steps")


if __name__ == "__main__":
    main()
