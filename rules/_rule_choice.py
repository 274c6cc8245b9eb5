"""``SwarmRuleChoice``: the machines' rule choice, swarm testing in few choices (issue 11 item 3).

Hypothesis chooses a machine's next rule as ``sampled_from(rules).filter(valid and
enabled)``, where "enabled" is swarm testing: per example a random subset of the
rules is switched off (HYP-7). Measured on ``DoneLedgerMachine`` (24 rules) that
draw cost more than the rule bodies: each rejected index is a new choice, the
swarm flag of every rule tried is written again as a (forced) choice at every
step, and after three rejections the filter walks the whole rule list, so a step
took about 13 choices (2 to 3 for a one-rule machine). It also made test cases
invalid: an example whose enabled rules all had a false precondition or an empty
bundle was discarded, and long choice sequences overran.

This strategy keeps the same rules (the rule objects of Hypothesis's own
``RuleStrategy``, in its order), the same validity (every bundle argument
non-empty, every precondition true, HYP-5, HYP-7) and the same swarm idea, and
spends fewer choices:

* per example, once, at the first rule draw: a disabled share ``p`` (as Hypothesis
  does: ``0..=254`` / 255) and one boolean per rule with probability ``p``, all
  shrinking towards "every rule enabled";
* per step: one index into the full rule list, taken when that rule is enabled
  and valid (as in Hypothesis, an index keeps its rule when shrinking switches
  rules back on); for a switched-off rule, one index into the example's enabled
  rules instead; if the rule so chosen is not valid (a false precondition or an
  empty bundle), one index among the valid enabled rules. When no enabled rule is
  valid, the valid disabled ones are used (they "shrink open", as Hypothesis's
  feature flags do) instead of discarding the example. Then the rule's arguments
  are drawn as before.

Choice (the spec leaves how rules are chosen to Hypothesis): the machines install
this strategy in ``__init__`` in place of the ``RuleStrategy`` that
``RuleBasedStateMachine.__init__`` puts in ``_rules_strategy`` (a private
attribute that ``run_state_machine_as_test`` draws from; the rules themselves are
Hypothesis's objects). ``tests/rules/test_swarm.py`` fails if a Hypothesis
release stops drawing from that attribute, so the change cannot silently lapse.
Printed programs, ``event()`` statistics, the example database and HypoFuzz see
the machine as before.
"""

from __future__ import annotations

from typing import Any

from hypothesis.errors import InvalidDefinition
from hypothesis.strategies import SearchStrategy

P_DISABLED_STEPS = 255
"""The disabled share is drawn as ``0..=254`` out of this, as Hypothesis's swarm does."""


class SwarmRuleChoice(SearchStrategy[tuple[Any, dict[str, Any]]]):
    """One example's rule choice for ``machine`` (built in the machine's ``__init__``
    from ``rules``, the rule objects of its Hypothesis ``RuleStrategy``)."""

    def __init__(self, machine: Any, rules: list[Any]) -> None:
        super().__init__()
        self.machine = machine
        self.rules = rules
        self.enabled: list[int] | None = None
        """Positions in ``rules`` of the rules not switched off in this example (all
        of them if the swarm switched off every rule); drawn at the first step, since
        strategies may draw only inside a draw."""
        self.switched_on: list[bool] = []
        """Per position in ``rules``: in :attr:`enabled`."""

    def __repr__(self) -> str:
        return f"SwarmRuleChoice({len(self.rules)} rules)"

    def is_valid(self, rule: Any) -> bool:
        """HYP-5 / HYP-7: every bundle argument non-empty and every precondition true."""
        machine = self.machine
        for bundle in rule.bundles:
            if not machine.bundle(bundle.name):
                return False
        preconditions = rule.preconditions
        return not preconditions or all(precondition(machine) for precondition in preconditions)

    def _draw_enabled(self, data: Any) -> list[int]:
        """Hypothesis's swarm: a disabled share, then one flag per rule."""
        p_disabled = data.draw_integer(0, P_DISABLED_STEPS - 1) / P_DISABLED_STEPS
        # draw_boolean(p) is True with probability p and shrinks to False: enabled.
        disabled = [data.draw_boolean(p_disabled) for _ in self.rules]
        return self.switch([i for i, off in enumerate(disabled) if not off])

    def switch(self, enabled: list[int]) -> list[int]:
        """Set this example's enabled rules (positions in ``rules``; none means all)."""
        self.enabled = enabled or list(range(len(self.rules)))
        self.switched_on = [False] * len(self.rules)
        for i in self.enabled:
            self.switched_on[i] = True
        return self.enabled

    def _valid_among(self, positions: list[int]) -> list[int]:
        rules = self.rules
        return [i for i in positions if self.is_valid(rules[i])]

    def do_draw(self, data: Any) -> tuple[Any, dict[str, Any]]:
        if self.enabled is None:
            self.enabled = self._draw_enabled(data)
        enabled, rules = self.enabled, self.rules
        index = data.draw_integer(0, len(rules) - 1)
        if not self.switched_on[index]:
            index = enabled[data.draw_integer(0, len(enabled) - 1)]
        if not self.is_valid(rules[index]):
            candidates = self._valid_among(enabled) or self._valid_among(list(range(len(rules))))
            if not candidates:
                names = ", ".join(rule.function.__name__ for rule in rules)
                raise InvalidDefinition(
                    "No progress can be made: no rule of the machine has a true "
                    f"precondition and non-empty bundles. Rules: {names}"
                )
            index = candidates[data.draw_integer(0, len(candidates) - 1)]
        rule = rules[index]
        arguments = {name: data.draw(s) for name, s in rule.arguments_strategies.items()}
        return rule, arguments


def install(machine: Any) -> None:
    """Replace ``machine``'s Hypothesis rule choice with :class:`SwarmRuleChoice`."""
    machine._rules_strategy = SwarmRuleChoice(machine, list(machine._rules_strategy.rules))


__all__ = ["P_DISABLED_STEPS", "SwarmRuleChoice", "install"]
