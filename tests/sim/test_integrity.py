"""Harness integrity failures (SIM-13) and the I11 release-order check, with lying ledgers.

Each ledger here breaks the control surface in one way the harness must
notice: it aborts with ``SimIntegrityError`` (never a hang, never a silent
pass) or reports I11 ReleaseOrder.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord
from gossip_model.sim import (
    DoneLedgerSim,
    DoneLedgerSimEvent,
    DoneLedgerSimOp,
    FaultLevel,
    ReleaseOrder,
    SimContext,
    SimIntegrityError,
)
from gossip_model.sim.planted import make_planted_ledger

Op = DoneLedgerSimOp


class _FixedIdHandle:
    def __init__(self, op_id: PendingWriteId) -> None:
        self.op_id = op_id

    def wait(self, timeout: float | None = None) -> DoneLedgerCommitReceipt:
        raise AssertionError("never waited")


class RepeatsOpIds(InMemoryDoneLedger):
    """Every handle claims op id 1."""

    __slots__ = ()

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> _FixedIdHandle:  # type: ignore[override]
        super().batch_upsert(records)
        return _FixedIdHandle(PendingWriteId(1))


class HidesPending(InMemoryDoneLedger):
    """``pending_ids()`` is always empty, so a delayed write looks auto-completed."""

    __slots__ = ()

    def pending_ids(self) -> list[PendingWriteId]:
        return []


class GhostPending(InMemoryDoneLedger):
    """``pending_ids()`` lists an extra id that nobody submitted."""

    __slots__ = ()

    def pending_ids(self) -> list[PendingWriteId]:
        return [*super().pending_ids(), PendingWriteId(999)]


class ReleasesStrangers(InMemoryDoneLedger):
    """``release_next`` reports an id the harness never saw."""

    __slots__ = ()

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None:
        super().release_next(order)
        return PendingWriteId(4242)


def sim_on(ledger: InMemoryDoneLedger, seed: int = 1) -> DoneLedgerSim:
    return DoneLedgerSim(SimContext(seed, FaultLevel.SUNNY_DAY), ledger)


def upsert(sim: DoneLedgerSim) -> tuple[DoneLedgerSimEvent, list[object]]:
    event, violations = sim.step(Op.BatchUpsert((sim.generator.random_record(),)))
    return event, list(violations)


def test_delayed_id_already_tracked_aborts() -> None:
    sim = sim_on(RepeatsOpIds(auto_complete=False))
    event, _ = upsert(sim)
    assert isinstance(event, DoneLedgerSimEvent.UpsertPending)
    with pytest.raises(SimIntegrityError, match="already tracked"):
        upsert(sim)


def test_wait_timeout_on_believed_finished_op_aborts() -> None:
    """LED-9: a TimeoutError from wait(timeout=0) is an integrity failure, not a hang."""
    sim = sim_on(HidesPending(auto_complete=False))
    with pytest.raises(SimIntegrityError, match="still pending"):
        upsert(sim)


def test_released_untracked_id_aborts() -> None:
    sim = sim_on(ReleasesStrangers(auto_complete=False))
    upsert(sim)
    with pytest.raises(SimIntegrityError, match="not a tracked batch"):
        sim.step(Op.ReleaseOldest())


def test_oracle_without_pending_batch_aborts() -> None:
    """ORA-3: commit returning False on a path that just committed."""
    sim = sim_on(InMemoryDoneLedger(auto_complete=False))
    upsert(sim)
    sim.oracle.pending.clear()
    with pytest.raises(SimIntegrityError, match="oracle has no pending batch"):
        sim.step(Op.ReleaseNewest())


def test_swizzle_pending_set_mismatch_aborts() -> None:
    """SWZ-4: the ledger's pending ids must equal the tracked ones; the seed is named."""
    sim = DoneLedgerSim(SimContext(77, FaultLevel.SUNNY_DAY), GhostPending())
    with pytest.raises(SimIntegrityError, match=r"swizzle pending-set mismatch.*seed 77"):
        sim.run_swizzle_clog(3)


def test_release_next_order_check_i11() -> None:
    """I11: NEWEST_FIRST must release the newest tracked id (LED-5)."""
    sim = sim_on(make_planted_ledger("newest_as_oldest"))
    sim.step(Op.InjectDelay(2))
    upsert(sim)
    upsert(sim)
    event, violations = sim.step(Op.ReleaseNewest())
    assert event.kind.variant_name == "Released"
    assert violations == [
        ReleaseOrder(
            CompletionOrder.NEWEST_FIRST,
            expected=(PendingWriteId(2),),
            actual=(PendingWriteId(1),),
        )
    ]


def test_release_all_failure_prefix_check_i11() -> None:
    """I11 / LED-7: with one commit failure armed, NEWEST_FIRST must fail the newest op."""
    sim = sim_on(make_planted_ledger("newest_as_oldest"))
    sim.step(Op.InjectDelay(3))
    for _ in range(3):
        upsert(sim)
    sim.step(Op.InjectCommitFailure(1))
    event, violations = sim.step(Op.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    assert event == DoneLedgerSimEvent.ReleasedAll(count=3, committed=2, failed=1)
    assert violations == [
        ReleaseOrder(
            CompletionOrder.NEWEST_FIRST,
            expected=(PendingWriteId(3),),
            actual=(PendingWriteId(1),),
        )
    ]


def test_correct_ledger_passes_the_order_checks() -> None:
    sim = sim_on(InMemoryDoneLedger())
    sim.step(Op.InjectDelay(4))
    for _ in range(4):
        upsert(sim)
    assert sim.step(Op.ReleaseNewest())[1] == []
    assert sim.step(Op.ReleaseOldest())[1] == []
    sim.step(Op.InjectCommitFailure(1))
    event, violations = sim.step(Op.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    assert event == DoneLedgerSimEvent.ReleasedAll(count=2, committed=1, failed=1)
    assert violations == []


def test_invalid_record_failure_is_not_a_release_order_violation() -> None:
    """I11 counts only injected commit faults; a validation failure is outside the check."""
    from gossip_model.persistence import DoneLedgerStatus

    sim = sim_on(InMemoryDoneLedger())
    valid = sim.generator.random_record()
    invalid = DoneLedgerRecord(
        valid.key, DoneLedgerStatus.FAILED_RETRYABLE, 1, 0, valid.provenance, None
    )  # a failed status without an error code: the ledger rejects it at apply (DL-3)
    sim.step(Op.InjectDelay(2))
    sim.step(Op.BatchUpsert((invalid,)))
    upsert(sim)
    sim.step(Op.InjectCommitFailure(1))
    event, violations = sim.step(Op.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    assert event == DoneLedgerSimEvent.ReleasedAll(count=2, committed=0, failed=2)
    assert violations == []
