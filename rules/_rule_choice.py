"""``RuleChoice``: the machines' rule choice, one or two choices a step (issue 11 item 3).

Hypothesis chooses a machine's next rule as ``sampled_from(rules).filter(valid and
enabled)``, where "enabled" is swarm testing: per example a random subset of the
rules is switched off. Measured on ``DoneLedgerMachine`` (24 rules) that draw cost
more than the rule bodies: each rejected index is a new choice, the swarm flag of
every rule tried is written again at every step, and after three rejections the
filter walks the whole rule list, so a step took about 13 choices. It also made
test cases invalid: an example whose enabled rules all had a false precondition or
an empty bundle was discarded, and long choice sequences overran.

This strategy keeps the same rules (the rule objects of Hypothesis's own
``RuleStrategy``, in its order) and the same validity (every bundle argument
non-empty, every precondition true, HYP-5, HYP-7), and spends one or two choices
a step: an index into the rule list, taken when that rule is valid; otherwise
one index among the valid rules. Then the rule's arguments are drawn as before.
No example is discarded.

Choice: no swarm testing (HYP-7 describes it as what Hypothesis does but does not
ask for it; the rules still assume nothing about which others ran). Swarm's
per-example flags, one per rule, drawn before the first step, made every failure
three times as costly to shrink and found no planted bug sooner: over 3 seeds,
search and shrink of the 14 planted bugs of ``tests/rules/test_rules_power.py``
that need more than one step took 153 s of CPU with the flags and 51 s without,
with at most 3 and 4 shrunk steps; over 4 seeds, all 16 were found in 789
generated examples with the flags and 582 without. Depth comes from the one-step
scenarios of :mod:`rules.depth`, measured by ``tests/rules/test_rules_depth.py``
(HYP-16).

The machines install this strategy in ``__init__`` in place of the ``RuleStrategy``
that ``RuleBasedStateMachine.__init__`` puts in ``_rules_strategy`` (a private
attribute that ``run_state_machine_as_test`` draws from; the rules themselves are
Hypothesis's objects). ``tests/rules/test_rule_choice.py`` fails if a Hypothesis
release stops drawing from that attribute, so the change cannot silently lapse.
Printed programs, ``event()`` statistics, the example database and HypoFuzz see
the machine as before.
"""

from __future__ import annotations

from typing import Any

from hypothesis.errors import InvalidDefinition
from hypothesis.strategies import SearchStrategy


class RuleChoice(SearchStrategy[tuple[Any, dict[str, Any]]]):
    """A machine's rule choice (built in the machine's ``__init__`` from ``rules``,
    the rule objects of its Hypothesis ``RuleStrategy``)."""

    def __init__(self, machine: Any, rules: list[Any]) -> None:
        super().__init__()
        self.machine = machine
        self.rules = rules

    def __repr__(self) -> str:
        return f"RuleChoice({len(self.rules)} rules)"

    def is_valid(self, rule: Any) -> bool:
        """HYP-5 / HYP-7: every bundle argument non-empty and every precondition true."""
        machine = self.machine
        for bundle in rule.bundles:
            if not machine.bundle(bundle.name):
                return False
        preconditions = rule.preconditions
        return not preconditions or all(precondition(machine) for precondition in preconditions)

    def do_draw(self, data: Any) -> tuple[Any, dict[str, Any]]:
        rules = self.rules
        rule = rules[data.draw_integer(0, len(rules) - 1)]
        if not self.is_valid(rule):
            valid = [candidate for candidate in rules if self.is_valid(candidate)]
            if not valid:
                names = ", ".join(candidate.function.__name__ for candidate in rules)
                raise InvalidDefinition(
                    "No progress can be made: no rule of the machine has a true "
                    f"precondition and non-empty bundles. Rules: {names}"
                )
            rule = valid[data.draw_integer(0, len(valid) - 1)]
        arguments = {name: data.draw(s) for name, s in rule.arguments_strategies.items()}
        return rule, arguments


def install(machine: Any) -> None:
    """Replace ``machine``'s Hypothesis rule choice with :class:`RuleChoice`."""
    machine._rules_strategy = RuleChoice(machine, list(machine._rules_strategy.rules))


__all__ = ["RuleChoice", "install"]
