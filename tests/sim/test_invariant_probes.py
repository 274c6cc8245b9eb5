"""Every invariant I1..I11 is proven able to fire (issue 12, item 4).

For each invariant a planted ledger (``INVARIANT_PROBE_FOR``) must make a
SWARM sweep report that invariant as the FIRST violation of the first
failing seed; probes whose bug no other check can see must report only it.
Before issue 12 nothing showed that I10 could fail: a change that silenced
the idempotence check passed the whole suite. ``test_probe_reports_first[I10]``
now fails on such a change.
"""

from __future__ import annotations

import pytest

from gossip_model.sim import DoneLedgerSim, FaultLevel, SimContext
from gossip_model.sim.planted import INVARIANT_PROBE_FOR, INVARIANT_PROBES, make_planted_ledger
from gossip_model.sim.violations import INVARIANT_NAMES

PROBE_SEEDS = 10
PROBE_OPS = 300

ONLY = {"I6", "I7", "I9", "I11"}
"""Probes whose bug is invisible to every other check: the only invariant reported."""


def test_every_invariant_has_a_probe() -> None:
    assert list(INVARIANT_PROBE_FOR) == list(INVARIANT_NAMES)
    for invariant, name in INVARIANT_PROBE_FOR.items():
        ledger = make_planted_ledger(name)
        assert ledger.bug == name
        if name in INVARIANT_PROBES:
            assert INVARIANT_PROBES[name].invariant == invariant


@pytest.mark.parametrize(("invariant", "name"), sorted(INVARIANT_PROBE_FOR.items()))
def test_probe_reports_first(invariant: str, name: str) -> None:
    """The named invariant is the first violation of the first failing SWARM seed."""
    for seed in range(PROBE_SEEDS):
        report = DoneLedgerSim(SimContext(seed, FaultLevel.SWARM), make_planted_ledger(name)).run(
            PROBE_OPS
        )
        if report.is_clean():
            continue
        first = report.violations[0]
        assert first.invariant == invariant, f"{name}, seed {seed}: first was {first}"
        assert str(first).startswith(f"{invariant} {INVARIANT_NAMES[invariant]}: ")
        if invariant in ONLY:
            assert {v.invariant for v in report.violations} == {invariant}
        if invariant == "I6":
            assert not report.converged
        return
    pytest.fail(f"{name} not caught by {invariant} in {PROBE_SEEDS} SWARM seeds")
