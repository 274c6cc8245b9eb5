"""Power of the state machines: every planted bug is found and shrunk (issue 6, HYP-2, HYP-11).

For each planted-bug store, the machine is subclassed with the store-building
method overridden (the HYP-2 recipe) and run with explicit deterministic
settings (derandomized, no example database, bounded examples). The test
asserts that Hypothesis reports a failure, that the failure comes from the
machine's own checks (an ``AssertionError`` from a model/store comparison,
not a crash of the harness), and that the shrunk program it prints has at
most ``MAX_SHRUNK_STEPS`` steps. The printed program is captured through
``hypothesis.reporting.with_reporter`` and its steps counted: every
``state.<rule>(...)`` line, the ``@initialize`` rule included, except
``state.teardown()``.

Done-ledger bugs come from the simulation's catalogue
(:data:`gossip_model.sim.planted.PLANTED_BUGS`) and from
:data:`rules.planted.PLANTED_LEDGER_BUGS` (issue 11 item 7: a non-atomic
apply and a rejection of ``started_at == finished_at``, which only invalid and
boundary draws expose); findings bugs from
:data:`rules.planted.PLANTED_FINDINGS_BUGS`.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.reporting import with_reporter
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from gossip_model.sim.planted import PLANTED_BUGS, make_planted_ledger
from rules.done_ledger import DoneLedgerMachine, DoneLedgerUnderTest
from rules.findings import FindingsSinkMachine, FindingsSinkUnderTest
from rules.planted import (
    PLANTED_FINDINGS_BUGS,
    PLANTED_LEDGER_BUGS,
    make_planted_ledger_bug,
    make_planted_sink,
)

# Issue 11 item 4: planted-bug searches and their shrinking re-run store code the rest of
# the suite covers (same coverage totals with and without tracing here).
pytestmark = pytest.mark.untraced

MAX_EXAMPLES = 300
"""Bound on generated examples before a planted bug must have been found."""

MAX_SHRUNK_STEPS = 8
"""Upper bound on the steps of the shrunk program (initialize rule included)."""

POWER_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=20,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.generate, Phase.shrink),
)
"""Explicit and deterministic, independent of the active profile."""

STEP_LINE = re.compile(r"^(?:[\w, ()]+ = )?state\.(\w+)\(")


def invariant_names(machine: type[RuleBasedStateMachine]) -> set[str]:
    """Names of the machine's ``@invariant`` methods (printed, but not steps)."""
    return {
        name
        for name in dir(machine)
        if getattr(getattr(machine, name, None), "hypothesis_stateful_invariant", None)
    }


def program_steps(printed: list[str], invariants: set[str]) -> list[str]:
    """Rule names of the printed program, in order, without invariants and ``teardown``."""
    steps = []
    for line in printed:
        for part in line.splitlines():
            match = STEP_LINE.match(part)
            if match and match.group(1) not in invariants | {"teardown"}:
                steps.append(match.group(1))
    return steps


def find_and_shrink(machine: type[RuleBasedStateMachine]) -> tuple[AssertionError, list[str]]:
    """Run ``machine`` until it fails; return the error and the printed program's steps.

    Hypothesis prints the shrunk program through its reporter or, in recent
    versions, attaches it to the exception's ``__notes__``; both are read.
    """
    printed: list[str] = []
    with with_reporter(printed.append), pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(machine, settings=POWER_SETTINGS)
    printed += getattr(failure.value, "__notes__", [])
    assert any(line.startswith("state = ") for line in printed), (
        f"no program was printed for {machine.__name__}: {printed!r}"
    )
    return failure.value, program_steps(printed, invariant_names(machine))


def test_program_steps_parses_a_printed_program() -> None:
    lines = [
        "state = DoneLedgerMachine()",
        "keys_0 = state.start()",
        "state.durable_matches_oracle()",
        "pending_0, handles_0 = state.submit_delayed(batch=batches_0)",
        "state.release_next(order=CompletionOrder.NEWEST_FIRST)",
        "state.teardown()",
    ]
    invariants = invariant_names(DoneLedgerMachine)
    assert "durable_matches_oracle" in invariants
    assert program_steps(lines, invariants) == ["start", "submit_delayed", "release_next"]


def test_parent_machines_pass_with_power_settings() -> None:
    """Control: the same settings find nothing on the correct in-memory stores."""
    run_state_machine_as_test(
        DoneLedgerMachine, settings=settings(POWER_SETTINGS, max_examples=20)
    )
    run_state_machine_as_test(
        FindingsSinkMachine, settings=settings(POWER_SETTINGS, max_examples=20)
    )


@pytest.mark.parametrize("bug", sorted(PLANTED_BUGS))
def test_done_ledger_machine_catches_planted_bug(bug: str) -> None:
    class PlantedLedgerMachine(DoneLedgerMachine):
        def make_ledger(self) -> DoneLedgerUnderTest:
            return make_planted_ledger(bug)

    PlantedLedgerMachine.__name__ = f"PlantedLedgerMachine_{bug}"
    error, steps = find_and_shrink(PlantedLedgerMachine)
    assert "model predicted" in str(error), f"{bug}: not a model/store disagreement: {error}"
    assert 1 <= len(steps) <= MAX_SHRUNK_STEPS, f"{bug}: shrunk to {len(steps)} steps: {steps}"


@pytest.mark.parametrize("bug", sorted(PLANTED_LEDGER_BUGS))
def test_done_ledger_machine_catches_item7_planted_bug(bug: str) -> None:
    """DL-6 (atomic abort) and DL-21 (equal timestamps are valid), issue 11 item 7."""

    class PlantedLedgerMachine(DoneLedgerMachine):
        def make_ledger(self) -> DoneLedgerUnderTest:
            return make_planted_ledger_bug(bug)

    PlantedLedgerMachine.__name__ = f"PlantedLedgerMachine_{bug}"
    error, steps = find_and_shrink(PlantedLedgerMachine)
    assert "model predicted" in str(error), f"{bug}: not a model/store disagreement: {error}"
    assert 1 <= len(steps) <= MAX_SHRUNK_STEPS, f"{bug}: shrunk to {len(steps)} steps: {steps}"


@pytest.mark.parametrize("bug", sorted(PLANTED_FINDINGS_BUGS))
def test_findings_machine_catches_planted_bug(bug: str) -> None:
    class PlantedSinkMachine(FindingsSinkMachine):
        def make_sink(self) -> FindingsSinkUnderTest:
            return make_planted_sink(bug)

    PlantedSinkMachine.__name__ = f"PlantedSinkMachine_{bug}"
    error, steps = find_and_shrink(PlantedSinkMachine)
    assert "model predicted" in str(error), f"{bug}: not a model/store disagreement: {error}"
    assert 1 <= len(steps) <= MAX_SHRUNK_STEPS, f"{bug}: shrunk to {len(steps)} steps: {steps}"
