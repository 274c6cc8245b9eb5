"""Depth of the simulation (issue 12): floors of the SWARM level and the depth bookkeeping.

Floors (issue 12, "Depth, measured"), asserted over a fixed SWARM sweep of
``DEPTH_SEEDS`` x ``DEPTH_OPS`` (chosen so the test takes a few seconds; the
README's 100 x 500 sweep gives about 69% commits and 29% reordered commits):
at least 40% of write attempts commit, at least 20% of commits come from a
NEWEST_FIRST or specific release with two or more writes pending, and at
least 90% of the lattice's status transitions are seen.
"""

from __future__ import annotations

import functools

import pytest

from gossip_model.inmemory import CompletionOrder
from gossip_model.persistence import DoneLedgerStatus
from gossip_model.sim import (
    DepthStats,
    DoneLedgerSim,
    DoneLedgerSimEventKind,
    DoneLedgerSimOp,
    FaultLevel,
    RunTracker,
    SimContext,
    SweepOutcome,
    run_seed_sweep,
)
from gossip_model.sim.depth import LATTICE_TRANSITIONS, MERGE_BUCKETS, merge_bucket
from gossip_model.sim.report import render_summary, sweep_to_json

DEPTH_SEEDS = 20
DEPTH_OPS = 300


@functools.cache
def sweep(level: FaultLevel) -> SweepOutcome:
    """One fixed sweep per level, shared by the tests of this module (read-only)."""
    return run_seed_sweep(
        range(DEPTH_SEEDS), lambda seed: DoneLedgerSim(SimContext(seed, level)).run(DEPTH_OPS)
    )


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc
# (the SWARM commit-room arc only here before: tests/sim/test_swarm_fault_room.py has it now).
@pytest.mark.untraced
def test_swarm_sweep_meets_the_depth_floors() -> None:
    """Issue 12 floors over a fixed SWARM sweep: a correct ledger passes every seed (retries
    and replays do not confuse the oracle), every event kind is seen, and the depth floors
    hold. (One test, since the event-kind check ran the very same sweep in test_swarm.py.)"""
    outcome = sweep(FaultLevel.SWARM)
    listing = "\n".join(f"seed {s}: {t}" for s, t in outcome.failures)
    assert outcome.ok, listing
    for kind in DoneLedgerSimEventKind.ALL:
        if kind is DoneLedgerSimEventKind.RELEASE_NOOP:
            continue  # swarm releases are guarded; a no-op needs a stale specific id
        assert outcome.aggregate_counts.get(kind, 0) > 0, kind
    depth = outcome.depth
    assert depth.commit_rate >= 0.40, depth.render()
    assert depth.reordered_share >= 0.20, depth.render()
    assert len(depth.transitions) >= 0.9 * len(LATTICE_TRANSITIONS), depth.missing_transitions()
    assert depth.retry_commits > 0
    assert depth.max_pending >= 2
    # Histories: many keys are merged into three times or more (the deep bugs need it).
    assert depth.keys_with_merges(3) > DEPTH_SEEDS * 10


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc
# (the SWARM commit-room arc only here before: tests/sim/test_swarm_fault_room.py has it now).
@pytest.mark.untraced
def test_swarm_reaches_deeper_than_stormy_on_the_same_seeds() -> None:
    """The reason for SWARM: STORMY fails most writes (issue 12, "Why")."""
    stormy = sweep(FaultLevel.STORMY).depth
    swarm = sweep(FaultLevel.SWARM).depth
    assert stormy.commit_rate < 0.10
    assert swarm.commits > 5 * stormy.commits
    assert swarm.keys_with_merges(3) > 5 * stormy.keys_with_merges(3)


def test_merge_buckets() -> None:
    assert [merge_bucket(n) for n in (0, 1, 2, 3, 4, 7, 8, 15, 16, 99)] == [
        "0",
        "1",
        "2",
        "3",
        "4-7",
        "4-7",
        "8-15",
        "8-15",
        "16+",
        "16+",
    ]
    assert len(LATTICE_TRANSITIONS) == 15
    assert all(after >= before for before, after in LATTICE_TRANSITIONS)


def test_depth_stats_add_render_and_json() -> None:
    a = DepthStats(
        write_attempts=10,
        commits=6,
        reordered_commits=2,
        retry_commits=1,
        max_pending=3,
        merges_per_key={"0": 1, "3": 2},
        transitions=frozenset({(1, 10)}),
    )
    b = DepthStats(write_attempts=10, commits=2, max_pending=5, merges_per_key={"16+": 1})
    total = DepthStats.total([a, b])
    assert total.write_attempts == 20
    assert total.commits == 8
    assert total.commit_rate == 0.4
    assert total.reordered_share == 0.25
    assert total.max_pending == 5
    assert total.merges_per_key == {"0": 1, "3": 2, "16+": 1}
    assert total.keys_with_merges(3) == 3
    assert total.keys_with_merges(4) == 1
    assert total.transition_coverage == 1 / 15
    assert DepthStats().commit_rate == 0.0
    assert DepthStats().reordered_share == 0.0
    document = total.to_json()
    assert document["commit_rate"] == 0.4
    assert document["retry_commits_after_failure"] == 1
    assert list(document["merges_per_key"]) == list(MERGE_BUCKETS)
    assert document["status_transitions_seen"] == 1
    assert document["status_transitions_possible"] == 15
    assert "FailedRetryable->FailedPermanent" in document["status_transitions_missing"]
    text = total.render()
    assert "commit rate         40.0%  (8 of 20 write attempts committed)" in text
    assert "status transitions   1/15" in text
    full = DepthStats(transitions=frozenset(LATTICE_TRANSITIONS[:-2]))
    assert (
        "never seen: ScannedClean->ScannedWithFindings, ScannedWithFindings->ScannedWith"
        in full.render()
    )


def test_run_tracker_counts_retries_merges_and_the_fault_book() -> None:
    sim = DoneLedgerSim(SimContext(5, FaultLevel.SUNNY_DAY))
    clean = DoneLedgerStatus.SCANNED_CLEAN
    first = (sim.build_record(0, DoneLedgerStatus.FAILED_RETRYABLE, 10, 0, 1, 2),)
    sim.step(DoneLedgerSimOp.InjectSubmitFailure(1))
    assert sim.tracker.pending_faults() == 1
    sim.step(DoneLedgerSimOp.BatchUpsert(first))  # fails at submission
    assert sim.tracker.pending_faults() == 0
    sim.step(DoneLedgerSimOp.BatchUpsert(first))  # the retry commits
    sim.step(DoneLedgerSimOp.InjectDelay(2))
    second = (sim.build_record(0, clean, 20, 0, 3, 4),)
    third = (sim.build_record(0, clean, 30, 0, 5, 6),)
    sim.step(DoneLedgerSimOp.BatchUpsert(second))
    sim.step(DoneLedgerSimOp.BatchUpsert(third))
    assert sim.tracker.armed_delay == 0
    sim.step(DoneLedgerSimOp.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    stats = sim.tracker.stats()
    assert stats.write_attempts == 4
    assert stats.commits == 3
    assert stats.retry_commits == 1
    assert stats.reordered_commits == 2  # both commits of a NEWEST_FIRST bulk release of 2
    assert stats.max_pending == 2
    assert stats.merges_per_key == {"2": 1}
    assert stats.transitions == {(1, 10), (10, 10)}


@pytest.mark.parametrize("order", list(CompletionOrder))
def test_reordered_commits_need_two_pending(order: CompletionOrder) -> None:
    """A release of the only pending write overtakes nothing; NEWEST_FIRST of two does."""
    sim = DoneLedgerSim(SimContext(1, FaultLevel.SUNNY_DAY))
    sim.step(DoneLedgerSimOp.InjectDelay(1))
    sim.step(
        DoneLedgerSimOp.BatchUpsert((sim.build_record(1, DoneLedgerStatus.SKIPPED, 1, 0, 1, 2),))
    )
    sim.step(DoneLedgerSimOp.ReleaseNewest())
    assert sim.tracker.reordered_commits == 0
    sim.step(DoneLedgerSimOp.InjectDelay(2))
    for position in (2, 3):
        record = sim.build_record(position, DoneLedgerStatus.SKIPPED, 1, 0, 1, 2)
        sim.step(DoneLedgerSimOp.BatchUpsert((record,)))
    if order is CompletionOrder.NEWEST_FIRST:
        sim.step(DoneLedgerSimOp.ReleaseNewest())
        assert sim.tracker.reordered_commits == 1
    else:
        sim.step(DoneLedgerSimOp.ReleaseOldest())
        assert sim.tracker.reordered_commits == 0
    pending = sim.ledger.pending_ids()
    sim.step(DoneLedgerSimOp.ReleaseSpecific(pending[0]))  # alone: not reordered
    assert sim.tracker.reordered_commits == (1 if order is CompletionOrder.NEWEST_FIRST else 0)


def test_summary_and_json_carry_the_depth_section() -> None:
    outcome = run_seed_sweep(
        range(2), lambda seed: DoneLedgerSim(SimContext(seed, FaultLevel.SWARM)).run(80)
    )
    text = render_summary(outcome, "header")
    assert "\ndepth\n" in text
    assert "commit rate" in text
    assert "merges per key" in text
    document = sweep_to_json(outcome, {}, {})
    assert document["depth"]["commits"] == outcome.depth.commits > 0
    assert document["depth"]["write_attempts"] == outcome.depth.write_attempts
    tracker = RunTracker()
    assert tracker.take_failed(0) is None
