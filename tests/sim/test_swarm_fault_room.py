"""SWARM inject ops are capped by ``K`` minus the unconsumed faults (issue 12; sim.md SWARM).

A direct check of :meth:`OpGenerator.swarm_inject_submit` and
:meth:`OpGenerator.swarm_inject_commit` on a hand-made profile: with room left
the op arms at most that many faults, with none it is not drawn. The seed
sweeps reach the same code, but the commit case with room left only on the
20 x 300 SWARM sweep of ``test_depth.py``; this keeps it covered without
tracing that sweep (issue 11 item 4).
"""

from __future__ import annotations

import random

import pytest

from gossip_model.sim import FaultLevel, RunTracker
from gossip_model.sim.faults import DoneLedgerFaultConfig
from gossip_model.sim.ops import InjectCommitFailure, InjectSubmitFailure, OpGenerator
from gossip_model.sim.swarm import SwarmProfile


class NoControls:
    """The generator's controls are used only by background injection, not drawn here."""

    def fail_next_submissions(self, n: int) -> None:
        raise AssertionError("no background injection expected")

    def fail_next_commits(self, n: int) -> None:
        raise AssertionError("no background injection expected")

    def delay_next_writes(self, n: int) -> None:
        raise AssertionError("no background injection expected")


def generator(tracker: RunTracker, cap: int) -> OpGenerator:
    config = DoneLedgerFaultConfig.for_level(FaultLevel.SUNNY_DAY)
    profile = SwarmProfile(weights=(("upsert", 1),), fault_config=config, fault_cap=cap)
    return OpGenerator(
        random.Random(0),
        config,
        NoControls(),
        lambda *fields: None,  # type: ignore[arg-type, return-value]
        list,
        tracker=tracker,
        profile=profile,
    )


@pytest.mark.parametrize(
    ("draw", "op"),
    [
        (OpGenerator.swarm_inject_submit, InjectSubmitFailure),
        (OpGenerator.swarm_inject_commit, InjectCommitFailure),
    ],
)
def test_inject_ops_fill_the_room_under_k_and_stop_at_k(draw: object, op: type) -> None:
    tracker = RunTracker()
    gen = generator(tracker, cap=3)
    first = draw(gen)  # type: ignore[operator]
    assert isinstance(first, op)
    assert 1 <= first.count <= 3
    tracker.arm(submit=1, commit=1)  # room 1: the draw is capped to it
    assert [draw(gen).count for _ in range(20)] == [1] * 20  # type: ignore[operator]
    tracker.arm(commit=1)  # room 0
    assert draw(gen) is None  # type: ignore[operator]
