"""The shape of both machines: one initializer and the bundles the spec names.

HYP-6: exactly one ``@initialize`` rule (the ordered fault prefix must not be
split, since Hypothesis runs several initializers in arbitrary order).
DLM-3 / FSM-4: the bundles exist, some rule fills each of them, and
``pending`` is consumed on release (a released write cannot be released twice).
"""

from __future__ import annotations

import inspect
from typing import Any

import hypothesis.stateful as hs
import pytest
from hypothesis.stateful import RuleBasedStateMachine

from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine


def _rules(machine: type[RuleBasedStateMachine], marker: str) -> dict[str, Any]:
    found = {}
    for name, member in inspect.getmembers(machine):
        rule = getattr(member, marker, None)
        if rule is not None:
            found[name] = rule
    return found


def _consumes(strategy: object) -> bool:
    """True for ``consumes(bundle)``: older Hypothesis wraps it in a ``BundleConsumer``,
    newer releases return a ``Bundle`` whose ``consume`` flag is set."""
    consumer = getattr(hs, "BundleConsumer", None)
    if consumer is not None and isinstance(strategy, consumer):
        return True
    return getattr(strategy, "consume", False) is True


@pytest.mark.parametrize("machine", [DoneLedgerMachine, FindingsSinkMachine])
def test_hyp6_exactly_one_initialize_rule(machine: type[RuleBasedStateMachine]) -> None:
    assert list(_rules(machine, hs.INITIALIZE_RULE_MARKER)) == ["start"]


@pytest.mark.parametrize(
    ("machine", "bundles", "init_target"),
    [
        (DoneLedgerMachine, {"keys", "batches", "pending", "handles"}, "keys"),
        (
            FindingsSinkMachine,
            {"findings", "occurrences", "observations", "batches", "pending", "handles"},
            "observations",
        ),
    ],
    ids=["DLM-3", "FSM-4"],
)
def test_dlm3_fsm4_bundles_are_filled_and_pending_is_consumed(
    machine: type[RuleBasedStateMachine], bundles: set[str], init_target: str
) -> None:
    rules = _rules(machine, hs.RULE_MARKER)
    inits = _rules(machine, hs.INITIALIZE_RULE_MARKER)
    filled = {target for rule in [*rules.values(), *inits.values()] for target in rule.targets}
    assert bundles <= filled, f"never filled: {sorted(bundles - filled)}"
    assert init_target in inits["start"].targets
    consumers = [
        name
        for name, rule in rules.items()
        for strategy in rule.arguments.values()
        if _consumes(strategy) and getattr(strategy, "name", None) == "pending"
    ]
    assert consumers, "no rule consumes the pending bundle on release"
    readers = {
        getattr(strategy, "name", None)
        for rule in rules.values()
        for strategy in rule.arguments.values()
    }
    # Batches are resubmittable and handles are waited on: some rule draws from each.
    assert {"batches", "handles"} <= readers
