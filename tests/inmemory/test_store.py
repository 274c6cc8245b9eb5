"""Generic store core: ST-1..ST-23 and TH-1..TH-6 of inmemory.md.

Driven through the done ledger (and the findings sink where a rule concerns
both stores). Every blocking call has a timeout; sleeps only show that a
waiter is still blocked.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

from gossip_model.inmemory import (
    CompletionOrder,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryStoreKind,
    PendingWriteId,
    Poisoned,
    UnknownOperation,
)
from gossip_model.inmemory.done_ledger import DoneLedgerBackend, DoneLedgerRows
from gossip_model.inmemory.pending import PendingState
from gossip_model.inmemory.store import FaultCounters, StoreBackend
from gossip_model.persistence import (
    CommitHandle,
    DoneLedgerCommitReceipt,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ReadyCommitHandle,
)
from gossip_model.persistence import commit as commit_module
from tests.builders import (
    SC,
    SWF,
    done_record,
    full_batch,
    key,
    ovid,
    policy,
    tenant,
    valid_done_record,
)

DL = InMemoryStoreKind.DONE_LEDGER
F = InMemoryStoreKind.FINDINGS
OLDEST = CompletionOrder.OLDEST_FIRST
NEWEST = CompletionOrder.NEWEST_FIRST
JOIN = 5.0  # seconds: upper bound for any thread join / blocking wait in this file


class Worker:
    """Runs ``fn`` in a daemon thread and keeps its result or exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.result = fn()
        except BaseException as exc:
            self.error = exc

    def join(self) -> Any:
        self.thread.join(JOIN)
        assert not self.thread.is_alive(), "worker did not finish within the join timeout"
        if self.error is not None:
            raise self.error
        return self.result


def one() -> DoneLedgerCommitReceipt:
    return DoneLedgerCommitReceipt(1, 1, 0)


# --- construction and sharing (ST-1..ST-3) ---------------------------------------------


@pytest.mark.parametrize("factory", [InMemoryDoneLedger, InMemoryFindingsSink])
def test_st1_st2_default_and_delayed_construction(factory: Any) -> None:
    """ST-1, ST-2: empty state, counters 0, next id 1, auto_complete as given."""
    for auto in (True, False):
        core = factory(auto_complete=auto)._core
        assert (core.next_op_id, core.auto_complete, core.poisoned) == (1, auto, False)
        assert (core.delay_next, core.fail_submit_remaining, core.fail_commit_remaining) == (
            0,
            0,
            0,
        )
        assert core.ops == {}
        assert list(core.order) == []
    assert factory()._core.auto_complete is True


def test_clone_shares_state_faults_and_ids() -> None:
    """Item 40 / ST-3: clones share faults, rows and ids; deepcopy raises TypeError."""
    ledger = InMemoryDoneLedger()
    clone = ledger.clone()
    shallow = copy.copy(ledger)
    assert clone is not ledger
    assert clone != ledger
    assert clone._core is ledger._core
    assert shallow._core is ledger._core
    assert type(shallow) is InMemoryDoneLedger
    clone.fail_next_commits(1)
    with pytest.raises(InjectedCommitFailure):
        ledger.batch_upsert([valid_done_record(1)]).wait(JOIN)
    shallow.fail_next_submissions(1)
    with pytest.raises(InjectedSubmissionFailure):
        ledger.batch_upsert([valid_done_record(1)])
    handle = clone.batch_upsert([valid_done_record(2)])
    assert handle.op_id == PendingWriteId(2)
    assert handle.wait(JOIN) == one()
    assert ledger.snapshot() == [valid_done_record(2)] == shallow.snapshot()
    assert ledger.batch_upsert([]).op_id == PendingWriteId(3)
    with pytest.raises(TypeError, match=r"clone\(\)"):
        copy.deepcopy(ledger)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(ledger)


def test_stores_have_independent_id_sequences() -> None:
    """Item 41 / ST-3, ST-8: each core starts at id 1."""
    assert InMemoryDoneLedger().batch_upsert([]).op_id == PendingWriteId(1)
    assert InMemoryFindingsSink().upsert_batch(FindingsUpsertBatch()).op_id == PendingWriteId(1)


# --- controls (ST-4, ST-5) ------------------------------------------------------------------


def test_st4_set_auto_complete_leaves_queued_ops_pending() -> None:
    """ST-4: switching to auto-complete neither releases nor applies queued ops."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    queued = ledger.batch_upsert([valid_done_record(1)])
    ledger.set_auto_complete(True)
    assert ledger.pending_ids() == [queued.op_id]
    assert ledger.snapshot() == []
    assert ledger.batch_upsert([valid_done_record(2)]).wait(0) == one()
    assert ledger.pending_count() == 1
    ledger.set_auto_complete(False)
    assert ledger.batch_upsert([valid_done_record(3)]).op_id in ledger.pending_ids()


def test_st5_counters_are_cumulative_and_zero_is_noop() -> None:
    """ST-5: delay 2 then 3 delays 5 writes; n=0 changes nothing."""
    ledger = InMemoryDoneLedger()
    ledger.delay_next_writes(2)
    ledger.delay_next_writes(3)
    ledger.delay_next_writes(0)
    ledger.fail_next_commits(0)
    ledger.fail_next_submissions(0)
    handles = [ledger.batch_upsert([valid_done_record(i)]) for i in range(6)]
    assert ledger.pending_ids() == [h.op_id for h in handles[:5]]
    assert handles[5].wait(0) == one()


def test_st6_submission_fault_leaves_other_counters_and_ids_untouched() -> None:
    """ST-6 step 2: a submission fault consumes only itself: no id, delay or commit fault."""
    ledger = InMemoryDoneLedger()
    core = ledger._core
    ledger.fail_next_submissions(2)
    ledger.delay_next_writes(1)
    ledger.fail_next_commits(1)
    for remaining in (1, 0):
        with pytest.raises(InjectedSubmissionFailure) as info:
            ledger.batch_upsert([valid_done_record(1)])
        assert info.value == InjectedSubmissionFailure(DL)
        assert (core.fail_submit_remaining, core.delay_next, core.fail_commit_remaining) == (
            remaining,
            1,
            1,
        )
        assert core.next_op_id == 1
        assert core.ops == {}
        assert ledger.snapshot() == []
    # Step 4 after step 3: the accepted write takes id 1 and the delay.
    delayed = ledger.batch_upsert([valid_done_record(1)])
    assert delayed.op_id == PendingWriteId(1)
    assert (core.delay_next, core.fail_commit_remaining) == (0, 1)
    # The commit fault is consumed at apply time (ST-10), not at submission.
    assert ledger.release_next(OLDEST) == delayed.op_id
    with pytest.raises(InjectedCommitFailure):
        delayed.wait(0)
    assert core.fail_commit_remaining == 0


def test_st8_ids_grow_by_one_for_every_accepted_submission() -> None:
    """ST-8: auto, delayed, commit-failed and apply-failed submissions each take one id."""
    ledger = InMemoryDoneLedger()
    ids = [ledger.batch_upsert([valid_done_record(1)]).op_id]
    ledger.delay_next_writes(1)
    ids.append(ledger.batch_upsert([valid_done_record(2)]).op_id)
    ledger.fail_next_commits(1)
    ids.append(ledger.batch_upsert([valid_done_record(3)]).op_id)
    ids.append(ledger.batch_upsert([done_record(1, 2, 4, SC, 1, error_code="X")]).op_id)
    assert [int(i) for i in ids] == [1, 2, 3, 4]
    assert PendingWriteId.ZERO not in ids


def test_op_id_overflow_is_a_submission_failure() -> None:
    """Item 52 / ST-6 step 3: at next_op_id == 2**64-1 a write fails and changes nothing."""
    ledger = InMemoryDoneLedger()
    core = ledger._core
    core.next_op_id = 2**64 - 1
    ledger.delay_next_writes(1)
    with pytest.raises(InjectedSubmissionFailure) as info:
        ledger.batch_upsert([valid_done_record(1)])
    assert info.value == InjectedSubmissionFailure(DL)
    assert core.next_op_id == 2**64 - 1
    assert core.delay_next == 1
    assert core.ops == {}
    core.next_op_id = 2**64 - 2
    assert int(ledger.batch_upsert([valid_done_record(1)]).op_id) == 2**64 - 2


# --- commit faults (ST-9..ST-11) ------------------------------------------------------------


def test_commit_fault_follows_release_order() -> None:
    """Item 46 / ST-10(b): with NEWEST_FIRST the newest op takes the commit failure."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    oldest = ledger.batch_upsert([valid_done_record(1)])
    newest = ledger.batch_upsert([valid_done_record(2)])
    ledger.fail_next_commits(1)
    assert ledger.release_next(NEWEST) == newest.op_id
    with pytest.raises(InjectedCommitFailure) as info:
        newest.wait(0)
    assert info.value == InjectedCommitFailure(DL)
    assert ledger.release_next(NEWEST) == oldest.op_id
    assert oldest.wait(0) == one()
    assert ledger.snapshot() == [valid_done_record(1)]


def test_st10_commit_fault_armed_after_queueing_and_auto_write_consumes_it_first() -> None:
    """ST-10(a)+(c): a fault armed after queueing hits the next APPLIED op."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    queued = ledger.batch_upsert([valid_done_record(1)])
    ledger.fail_next_commits(1)
    ledger.set_auto_complete(True)
    immediate = ledger.batch_upsert([valid_done_record(2)])
    with pytest.raises(InjectedCommitFailure):
        immediate.wait(0)
    assert ledger.release_specific(queued.op_id) is True
    assert queued.wait(0) == one()


def test_st10_commit_fault_consumed_by_empty_and_invalid_payloads() -> None:
    """ST-9, ST-10: checked before validation, consumed even by empty payloads."""
    ledger = InMemoryDoneLedger()
    ledger.fail_next_commits(2)
    with pytest.raises(InjectedCommitFailure):
        ledger.batch_upsert([]).wait(0)
    invalid = done_record(1, 2, 3, SC, 1, error_code="NOPE")
    with pytest.raises(InjectedCommitFailure):
        ledger.batch_upsert([invalid]).wait(0)
    assert ledger._core.fail_commit_remaining == 0
    assert ledger.batch_upsert([]).wait(0) == DoneLedgerCommitReceipt(0, 0, 0)


def test_st11_failed_op_is_terminal_and_not_pending() -> None:
    """ST-11: a commit failure finishes the op: not pending, not releasable, durable unchanged."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1)])
    ledger.fail_next_commits(1)
    assert ledger.release_specific(handle.op_id) is True
    assert ledger.pending_count() == 0
    assert ledger.pending_ids() == []
    assert ledger.release_specific(handle.op_id) is False
    assert ledger.release_next(OLDEST) is None
    assert ledger.snapshot() == []
    with pytest.raises(InjectedCommitFailure):
        handle.wait(0)


def test_combined_failure_modes_are_independent() -> None:
    """Item 22 / ST-6, ST-11: submission fault, then commit fault, then success."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    ledger.fail_next_submissions(1)
    ledger.fail_next_commits(1)
    with pytest.raises(InjectedSubmissionFailure):
        ledger.batch_upsert([valid_done_record(1)])
    second = ledger.batch_upsert([valid_done_record(1)])
    assert ledger.release_specific(second.op_id) is True
    with pytest.raises(InjectedCommitFailure):
        second.wait(JOIN)
    third = ledger.batch_upsert([valid_done_record(1)])
    assert third.op_id != second.op_id
    assert ledger.release_specific(third.op_id) is True
    assert third.wait(JOIN).record_count == 1
    assert ledger.snapshot() == [valid_done_record(1)]


# --- delay semantics (ST-6 step 4) --------------------------------------------------------


def test_delay_next_writes_overrides_auto_complete_for_exact_count() -> None:
    """Item 14 / ST-6 step 4: delay_next beats auto_complete=True for exactly n writes."""
    ledger = InMemoryDoneLedger()
    ledger.delay_next_writes(1)
    delayed = ledger.batch_upsert([valid_done_record(1)])
    assert ledger.pending_count() == 1
    immediate = ledger.batch_upsert([valid_done_record(2)])
    assert immediate.wait(0).record_count == 1
    assert ledger.snapshot() == [valid_done_record(2)]
    assert ledger.pending_count() == 1
    assert ledger.release_all(OLDEST) == 1
    assert delayed.wait(JOIN) == one()
    assert ledger.pending_count() == 0


def test_done_ledger_delay_next_writes_delays_exact_count() -> None:
    """Item 18 / ST-5, ST-6: two delayed writes, the third immediate."""
    ledger = InMemoryDoneLedger()
    ledger.delay_next_writes(2)
    first, second = (
        ledger.batch_upsert([valid_done_record(1)]),
        ledger.batch_upsert([valid_done_record(2)]),
    )
    third = ledger.batch_upsert([valid_done_record(3)])
    assert third.wait(0) == one()
    assert ledger.snapshot() == [valid_done_record(3)]
    assert ledger.pending_count() == 2
    assert ledger.release_all(OLDEST) == 2
    assert first.wait(JOIN) == one()
    assert second.wait(JOIN) == one()
    assert ledger.snapshot() == [valid_done_record(1), valid_done_record(2), valid_done_record(3)]


def test_delay_counter_is_consumed_in_delayed_mode() -> None:
    """Item 48 / ST-6 step 4: delay_next is spent by a write already delayed by the mode."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    ledger.delay_next_writes(1)
    ledger.batch_upsert([valid_done_record(1)])
    ledger.set_auto_complete(True)
    assert ledger.batch_upsert([valid_done_record(2)]).wait(0) == one()
    assert ledger.pending_count() == 1


# --- releases (ST-14..ST-17) --------------------------------------------------------------


def test_done_ledger_handles_block_until_release_and_support_manual_controls() -> None:
    """Item 3 / ST-14, ST-15, ST-20."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    op1 = ledger.batch_upsert([valid_done_record(1)])
    op2 = ledger.batch_upsert([valid_done_record(2)])
    assert ledger.pending_ids() == [op1.op_id, op2.op_id]
    waiter = Worker(lambda: op1.wait(JOIN))
    waiter.thread.join(0.1)
    assert waiter.thread.is_alive(), "op1's waiter returned before op1 was released"
    assert ledger.release_next(NEWEST) == op2.op_id
    assert op2.wait(JOIN).record_count == 1
    assert ledger.pending_count() == 1
    assert ledger.release_specific(op1.op_id) is True
    assert waiter.join().record_count == 1
    assert ledger.release_specific(op1.op_id) is False
    ledger.fail_next_commits(1)
    op3 = ledger.batch_upsert([valid_done_record(3)])
    assert ledger.release_specific(op3.op_id) is True
    with pytest.raises(InjectedCommitFailure) as info:
        op3.wait(JOIN)
    assert info.value == InjectedCommitFailure(DL)
    assert ledger.pending_count() == 0


def test_release_specific_does_not_leave_stale_order_entries() -> None:
    """Item 8 / ST-15, D-1: release by id removes the id from the queue."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handles = [ledger.batch_upsert([valid_done_record(i)]) for i in range(5)]
    for handle in handles:
        assert ledger.release_specific(handle.op_id) is True
    assert all(h.wait(JOIN).record_count == 1 for h in handles)
    assert ledger.pending_count() == 0
    assert ledger.pending_ids() == []
    assert list(ledger._core.order) == []
    fresh = ledger.batch_upsert([valid_done_record(9)])
    assert ledger.pending_ids() == [fresh.op_id]
    assert ledger.release_next(OLDEST) == fresh.op_id


@pytest.mark.parametrize("order", list(CompletionOrder))
def test_release_next_returns_none_on_empty_queue(order: CompletionOrder) -> None:
    """Item 20 / ST-14: both stores, both orders."""
    assert InMemoryDoneLedger(auto_complete=False).release_next(order) is None
    assert InMemoryFindingsSink(auto_complete=False).release_next(order) is None


def test_st14_release_next_skips_stale_queue_entries() -> None:
    """ST-14: ids in the queue whose ops are no longer Pending are dropped and skipped."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    first, second = (
        ledger.batch_upsert([valid_done_record(1)]),
        ledger.batch_upsert([valid_done_record(2)]),
    )
    with ledger._core.section:  # simulate a stale entry left behind (D-1 defence)
        ledger._core._finish_locked(first.op_id)
        ledger._core.order.append(first.op_id)
    assert list(ledger._core.order) == [first.op_id, second.op_id, first.op_id]
    assert ledger.release_next(OLDEST) == second.op_id
    assert list(ledger._core.order) == [first.op_id]
    assert ledger.release_next(NEWEST) is None
    assert list(ledger._core.order) == []


def test_st15_release_specific_returns_false_for_everything_not_pending() -> None:
    """ST-15 / P-5: unknown, never issued, auto-completed, finished, collected -> False."""
    ledger = InMemoryDoneLedger()
    auto = ledger.batch_upsert([valid_done_record(1)])
    ledger.delay_next_writes(2)
    finished = ledger.batch_upsert([valid_done_record(2)])
    collected = ledger.batch_upsert([valid_done_record(3)])
    assert ledger.release_all(OLDEST) == 2
    assert collected.wait(0) == one()
    before = (dict(ledger._core.ops), ledger.snapshot())
    for op_id in (
        auto.op_id,
        finished.op_id,
        collected.op_id,
        PendingWriteId.ZERO,
        PendingWriteId(99),
    ):
        assert ledger.release_specific(op_id) is False, op_id
    assert (dict(ledger._core.ops), ledger.snapshot()) == before
    assert finished.wait(0) == one()


def test_st16_release_all_applies_in_order_and_returns_count() -> None:
    """ST-16: NEWEST_FIRST reverses the snapshot; the count is returned; 0 when empty."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handles = [ledger.batch_upsert([valid_done_record(i)]) for i in range(3)]
    ledger.fail_next_commits(1)
    assert ledger.release_all(NEWEST) == 3
    with pytest.raises(InjectedCommitFailure):
        handles[2].wait(0)
    assert [h.wait(0).record_count for h in handles[:2]] == [1, 1]
    assert ledger.release_all(NEWEST) == 0
    assert ledger.release_all(OLDEST) == 0
    ordered = InMemoryDoneLedger(auto_complete=False)
    handles = [ordered.batch_upsert([valid_done_record(i)]) for i in range(3)]
    ordered.fail_next_commits(1)
    assert ordered.release_all(OLDEST) == 3
    with pytest.raises(InjectedCommitFailure):
        handles[0].wait(0)
    assert list(ordered._core.order) == []


def test_st17_finishing_twice_applies_once_and_unknown_id_raises() -> None:
    """ST-17: an already Finished op is left alone; a missing op is UnknownOperation."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1, SWF)])
    core = ledger._core
    with core.section:
        core._finish_locked(handle.op_id)
        core.faults.fail_commit_remaining = 1
        core._finish_locked(handle.op_id)  # no second apply: the fault stays armed
        assert core.faults.fail_commit_remaining == 1
        assert core.ops[handle.op_id].state is PendingState.FINISHED
    with pytest.raises(UnknownOperation) as info, core.section:
        core._finish_locked(PendingWriteId(42))
    assert info.value == UnknownOperation(DL, PendingWriteId(42))
    assert core.poisoned is False
    assert handle.wait(0) == DoneLedgerCommitReceipt(1, 1, 1)


def test_st13_auto_completed_ops_skip_the_queue_and_discarded_handles_do_not_cancel() -> None:
    """ST-13: an auto-completed op is Finished at once and never queued; its uncollected
    entry stays in ``ops`` without counting as pending; a discarded Pending handle does
    not cancel the write; handles have no finaliser."""
    ledger = InMemoryDoneLedger()
    core = ledger._core
    auto_id = ledger.batch_upsert([valid_done_record(1)]).op_id  # handle discarded at once
    gc.collect()
    assert list(core.order) == []
    assert core.ops[auto_id].state is PendingState.FINISHED
    assert (ledger.pending_count(), ledger.pending_ids()) == (0, [])
    assert ledger.snapshot() == [valid_done_record(1)]
    ledger.delay_next_writes(1)
    handle = ledger.batch_upsert([valid_done_record(2)])
    pending_id = handle.op_id
    assert not hasattr(type(handle), "__del__")
    del handle
    gc.collect()
    assert core.ops[pending_id].state is PendingState.PENDING
    assert ledger.pending_ids() == [pending_id]
    assert ledger.release_specific(pending_id) is True
    assert ledger.snapshot() == [valid_done_record(1), valid_done_record(2)]
    # Nobody waited: both finished entries are still there (the documented leak).
    assert auto_id in core.ops
    assert core.ops[pending_id].state is PendingState.FINISHED
    assert ledger.pending_count() == 0
    sink_handle = InMemoryFindingsSink().upsert_batch(FindingsUpsertBatch())
    assert not hasattr(type(sink_handle), "__del__")


def test_ch1_in_memory_handles_are_commit_handles_accepted_before_durable() -> None:
    """CH-1: both stores' handles satisfy the runtime-checkable ``CommitHandle`` protocol
    (and are not ``ReadyCommitHandle``s, CH-2); a handle means "accepted", the write is
    durable once ``wait`` returns the receipt, ``wait`` raises the backend's error;
    receipts are immutable, printable values; discarding a handle does not cancel."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    sink = InMemoryFindingsSink(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1)])
    sink_handle = sink.upsert_batch(full_batch(tenant(1))[0])
    for h in (handle, sink_handle):
        assert isinstance(h, CommitHandle)
        assert ReadyCommitHandle not in type(h).__mro__
    assert ledger.snapshot() == []  # accepted, not yet durable
    with pytest.raises(TimeoutError):
        handle.wait(0)
    assert ledger.release_all(OLDEST) == 1
    assert sink.release_all(OLDEST) == 1
    receipt = handle.wait(JOIN)
    assert receipt == one()
    assert ledger.snapshot() == [valid_done_record(1)]
    assert sink_handle.wait(JOIN) == FindingsCommitReceipt(1, 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.record_count = 5  # type: ignore[misc]
    assert repr(receipt) == (
        "DoneLedgerCommitReceipt(record_count=1, scanned_count=1, findings_count=0)"
    )
    ledger.fail_next_commits(1)
    failing = ledger.batch_upsert([valid_done_record(2)])
    ledger.release_all(OLDEST)
    with pytest.raises(InjectedCommitFailure) as info:
        failing.wait(JOIN)
    assert info.value == InjectedCommitFailure(DL)
    ledger.batch_upsert([valid_done_record(3)])  # handle discarded
    gc.collect()
    assert ledger.release_all(OLDEST) == 1
    assert ledger.snapshot() == [valid_done_record(1), valid_done_record(3)]


def test_ch5_page_receipts_are_not_used_by_the_in_memory_stores() -> None:
    """CH-5 (the part in scope; contracts.md CM-4/CM-5 put the page-commit receipts out of
    scope): the in-memory stores' handles only ever yield the two item receipts of CH-3
    and CH-4, and their handles are not the commit module's ``ReadyCommitHandle``."""
    ledger = InMemoryDoneLedger()
    sink = InMemoryFindingsSink()
    ledger_receipt = ledger.batch_upsert([valid_done_record(1)]).wait(JOIN)
    sink_receipt = sink.upsert_batch(full_batch(tenant(1))[0]).wait(JOIN)
    empty_receipt = sink.upsert_batch(FindingsUpsertBatch()).wait(JOIN)
    assert type(ledger_receipt) is DoneLedgerCommitReceipt
    assert type(sink_receipt) is FindingsCommitReceipt
    assert type(empty_receipt) is FindingsCommitReceipt
    for handle in (ledger.batch_upsert([]), sink.upsert_batch(FindingsUpsertBatch())):
        assert type(handle).__module__.startswith("gossip_model.inmemory")
        assert type(handle).__module__ != commit_module.__name__


# --- wait protocol (ST-19..ST-23) ---------------------------------------------------------


def test_st19_handle_repr_and_op_id() -> None:
    """ST-19: repr shape of both handle types."""
    ledger_handle = InMemoryDoneLedger().batch_upsert([])
    sink_handle = InMemoryFindingsSink().upsert_batch(FindingsUpsertBatch())
    assert repr(ledger_handle) == "InMemoryDoneLedgerHandle(op_id=PendingWriteId(1))"
    assert repr(sink_handle) == "InMemoryFindingsHandle(op_id=PendingWriteId(1))"


def test_wait_timeout_leaves_pending_op_usable() -> None:
    """Item 37 / ST-23: TimeoutError, op still Pending, same handle works after release."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1)])
    ids = ledger.pending_ids()
    with pytest.raises(TimeoutError) as info:
        handle.wait(timeout=0.05)
    assert str(info.value) == (
        "in-memory done-ledger operation PendingWriteId(1) still pending after 0.05 seconds"
    )
    assert ledger.pending_count() == 1
    assert ledger.pending_ids() == ids
    assert ledger._core.poisoned is False
    assert ledger.release_all(OLDEST) == 1
    assert handle.wait() == one()


def test_wait_timeout_zero_returns_finished_results() -> None:
    """Item 38 / ST-23: timeout=0 checks once; finished results come back at once."""
    ledger = InMemoryDoneLedger()
    assert ledger.batch_upsert([valid_done_record(1)]).wait(timeout=0) == one()
    ledger.fail_next_commits(1)
    with pytest.raises(InjectedCommitFailure):
        ledger.batch_upsert([valid_done_record(2)]).wait(timeout=0)
    delayed = InMemoryDoneLedger(auto_complete=False).batch_upsert([])
    with pytest.raises(TimeoutError):
        delayed.wait(timeout=0)


def test_st23_timeout_argument_mapping() -> None:
    """ST-23: negative acts as 0, infinity as None; NaN ValueError; non-numbers TypeError."""
    pending = InMemoryDoneLedger(auto_complete=False)
    handle = pending.batch_upsert([])
    with pytest.raises(TimeoutError, match="after 0 seconds"):
        handle.wait(timeout=-5)
    with pytest.raises(ValueError, match="NaN"):
        handle.wait(timeout=math.nan)
    for bad in ("1", True, [1]):
        with pytest.raises(TypeError, match="timeout"):
            handle.wait(timeout=bad)  # type: ignore[arg-type]
    assert pending.release_all(OLDEST) == 1
    assert handle.wait(timeout=math.inf) == DoneLedgerCommitReceipt(0, 0, 0)
    done = InMemoryDoneLedger().batch_upsert([])
    assert done.wait(timeout=10**400) == DoneLedgerCommitReceipt(0, 0, 0)  # beyond float
    assert pending._core.poisoned is False


def test_second_wait_raises_unknown_operation() -> None:
    """Item 39 / ST-21: after a receipt and after a raised error."""
    ledger = InMemoryDoneLedger()
    ok = ledger.batch_upsert([valid_done_record(1)])
    assert ok.wait(0) == one()
    with pytest.raises(UnknownOperation) as info:
        ok.wait(0)
    assert info.value == UnknownOperation(DL, ok.op_id)
    ledger.fail_next_commits(1)
    failed = ledger.batch_upsert([valid_done_record(2)])
    with pytest.raises(InjectedCommitFailure):
        failed.wait(0)
    with pytest.raises(UnknownOperation) as info:
        failed.wait(0)
    assert info.value == UnknownOperation(DL, failed.op_id)


def test_st20_stored_error_is_the_exact_object_and_taken_entry_is_unknown() -> None:
    """ST-20: the captured exception object is raised; a taken entry raises UnknownOperation."""
    ledger = InMemoryDoneLedger()
    ledger.fail_next_commits(1)
    handle = ledger.batch_upsert([])
    stored = ledger._core.ops[handle.op_id].error
    with pytest.raises(InjectedCommitFailure) as info:
        handle.wait(0)
    assert info.value is stored
    other = ledger.batch_upsert([])
    ledger._core.ops[other.op_id].taken = True  # the transient "result taken" state
    with pytest.raises(UnknownOperation):
        other.wait(0)
    assert other.op_id not in ledger._core.ops


def test_st20_waiter_absorbs_wakeups_for_other_ops() -> None:
    """ST-20, ST-22: notify_all for another op does not end (or restart) a wait."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    mine = ledger.batch_upsert([valid_done_record(1)])
    other = ledger.batch_upsert([valid_done_record(2)])
    waiter = Worker(lambda: mine.wait(JOIN))
    assert ledger.release_specific(other.op_id) is True
    ledger.batch_upsert([])  # delayed: no notification
    waiter.thread.join(0.05)
    assert waiter.thread.is_alive(), "waiter returned after another op finished"
    assert ledger.release_specific(mine.op_id) is True
    assert waiter.join() == one()


def test_st21_two_waiters_on_one_handle_one_collects() -> None:
    """ST-21: the first to see the finished op collects; the other gets UnknownOperation."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1)])

    def attempt() -> object:
        try:
            return handle.wait(JOIN)
        except UnknownOperation as exc:
            return exc

    workers = [Worker(attempt), Worker(attempt)]
    assert ledger.release_all(OLDEST) == 1
    outcomes = [w.join() for w in workers]
    assert sorted(type(o).__name__ for o in outcomes) == [
        "DoneLedgerCommitReceipt",
        "UnknownOperation",
    ]


def test_multiple_threads_wait_on_different_handles() -> None:
    """Item 19 / ST-22: both waiters stay blocked, then both wake on one release_all."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    first, second = (
        ledger.batch_upsert([valid_done_record(1)]),
        ledger.batch_upsert([valid_done_record(2)]),
    )
    # One waiter without a timeout (ST-20: sleeps until notified); the join bounds it.
    workers = [Worker(lambda: first.wait()), Worker(lambda: second.wait(2.0))]
    for worker in workers:
        worker.thread.join(0.05)
        assert worker.thread.is_alive()
    assert ledger.release_all(OLDEST) == 2
    assert [w.join().record_count for w in workers] == [1, 1]


def test_th3_interrupted_sleep_propagates_without_poisoning() -> None:
    """TH-3: an exception out of the blocking sleep itself leaves the core and handle usable."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    handle = ledger.batch_upsert([valid_done_record(1)])
    core = ledger._core
    real = core.cond

    class InterruptingCondition(threading.Condition):
        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

    core.cond = InterruptingCondition(core.lock)
    try:
        with pytest.raises(KeyboardInterrupt):
            handle.wait(JOIN)
        assert core.lock.locked() is False
    finally:
        core.cond = real
    assert core.poisoned is False
    assert ledger.pending_ids() == [handle.op_id]
    assert ledger.release_all(OLDEST) == 1
    assert handle.wait(JOIN) == one()


# --- argument checks (TH-6) -----------------------------------------------------------------


def test_bad_arguments_do_not_poison() -> None:
    """Item 51 / TH-6, ST-5: ValueError / TypeError before the lock; the store keeps working."""
    ledger = InMemoryDoneLedger()
    controls = (ledger.delay_next_writes, ledger.fail_next_submissions, ledger.fail_next_commits)
    for control in controls:
        with pytest.raises(ValueError, match="non-negative"):
            control(-1)
        for bad in (1.5, "2", True, None):
            with pytest.raises(TypeError, match="non-negative int"):
                control(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        ledger.set_auto_complete(1)  # type: ignore[arg-type]
    for release in (ledger.release_next, ledger.release_all):
        with pytest.raises(TypeError, match="CompletionOrder"):
            release("OLDEST_FIRST")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PendingWriteId"):
        ledger.release_specific(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"records\[1\] must be DoneLedgerRecord"):
        ledger.batch_upsert([valid_done_record(1), "x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="single DoneLedgerRecord"):
        ledger.batch_upsert(valid_done_record(1))
    with pytest.raises(TypeError, match=r"ovid_hashes\[0\] must be OvidHash"):
        ledger.batch_get(tenant(1), policy(2), [b"x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="tenant_id must be TenantId"):
        ledger.batch_get(policy(1), policy(2), [])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be DoneLedgerKey"):
        ledger.get_record((1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="auto_complete must be a bool"):
        InMemoryDoneLedger(auto_complete="yes")  # type: ignore[arg-type]
    sink = InMemoryFindingsSink()
    with pytest.raises(TypeError, match="batch must be FindingsUpsertBatch"):
        sink.upsert_batch([])  # type: ignore[arg-type]
    assert ledger._core.poisoned is False
    assert sink._core.poisoned is False
    assert ledger._core.next_op_id == 1
    assert sink._core.next_op_id == 1
    assert ledger.batch_upsert([valid_done_record(1)]).wait(0) == one()


# --- poisoning (TH-3, TH-4, TH-5) -----------------------------------------------------------


class ExplodingBackend(StoreBackend[DoneLedgerRows, Any, DoneLedgerCommitReceipt]):
    """Test-only backend whose apply raises ``exception`` (a bug) on an empty batch."""

    kind = DL

    def __init__(self, exception: type[BaseException] = RuntimeError) -> None:
        self.exception = exception
        self.inner = DoneLedgerBackend()

    def new_durable(self) -> DoneLedgerRows:
        return {}

    def __getattr__(self, name: str) -> Any:  # the reads go to the real backend
        return getattr(self.inner, name)

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: Any
    ) -> DoneLedgerCommitReceipt:
        empty = payload.is_empty() if isinstance(payload, FindingsUpsertBatch) else not payload
        if empty:
            raise self.exception("backend bug")
        return self.inner.apply(durable, counters, payload)


def exploding_ledger(auto_complete: bool, exception: type[BaseException] = RuntimeError) -> Any:
    ledger = InMemoryDoneLedger(auto_complete=auto_complete)
    ledger._core.backend = ExplodingBackend(exception)
    return ledger


def test_poisoned_core_raises_poisoned_everywhere() -> None:
    """Item 43 / TH-3, TH-5: the bug propagates once; then Poisoned everywhere."""
    ledger = exploding_ledger(auto_complete=False)
    clone = ledger.clone()
    blocked = ledger.batch_upsert([valid_done_record(1)])
    waiter = Worker(lambda: blocked.wait(JOIN))
    waiter.thread.join(0.05)
    assert waiter.thread.is_alive()
    boom = ledger.batch_upsert([])
    with pytest.raises(RuntimeError, match="backend bug"):
        ledger.release_specific(boom.op_id)
    with pytest.raises(Poisoned) as info:
        waiter.join()
    assert info.value == Poisoned(DL)
    k = key(1, 2, 1)
    calls: list[Callable[[Any], object]] = [
        lambda s: s.batch_upsert([valid_done_record(1)]),
        lambda s: s.set_auto_complete(True),
        lambda s: s.delay_next_writes(1),
        lambda s: s.fail_next_submissions(1),
        lambda s: s.fail_next_commits(1),
        lambda s: s.release_next(OLDEST),
        lambda s: s.release_specific(blocked.op_id),
        lambda s: s.release_all(OLDEST),
        lambda s: s.pending_count(),
        lambda s: s.pending_ids(),
        lambda s: s.batch_get(tenant(1), policy(2), [ovid(1)]),
        lambda s: s.get_record(k),
        lambda s: s.snapshot(),
        lambda s: s.list_done_hashes(tenant(1), policy(2)),
        lambda s: s.count_done_hashes(tenant(1), policy(2)),
    ]
    for facade in (ledger, clone):
        for call in calls:
            with pytest.raises(Poisoned):
                call(facade)
    with pytest.raises(Poisoned):
        blocked.wait(0)
    assert repr(ledger) == "InMemoryDoneLedger(<poisoned>)" == repr(clone)
    assert ledger.clone()._core is ledger._core
    assert copy.copy(ledger)._core is ledger._core
    assert blocked.op_id == PendingWriteId(1)
    assert boom.op_id == PendingWriteId(2)


def test_th3_auto_complete_submit_and_base_exceptions_poison() -> None:
    """TH-3: a bug in an immediate apply propagates from the submit call; BaseException too."""
    ledger = exploding_ledger(auto_complete=True, exception=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        ledger.batch_upsert([])
    assert ledger._core.poisoned is True
    with pytest.raises(Poisoned):
        ledger.batch_upsert([valid_done_record(1)])
    sink = InMemoryFindingsSink()
    sink._core.backend = ExplodingBackend()  # type: ignore[assignment]
    sink._core.backend.kind = F
    with pytest.raises(RuntimeError):
        sink.upsert_batch(FindingsUpsertBatch())
    assert repr(sink) == "InMemoryFindingsSink(<poisoned>)"
    with pytest.raises(Poisoned) as info:
        sink.durable_counts()
    assert info.value == Poisoned(F)


def test_store_repr_does_not_deadlock() -> None:
    """Item 44 / TH-5: repr with pending ops gives the counts, computed in one section."""
    ledger = InMemoryDoneLedger()
    ledger.batch_upsert([valid_done_record(1), valid_done_record(2)]).wait(0)
    ledger.set_auto_complete(False)
    ledger.batch_upsert([valid_done_record(3)])
    assert repr(ledger) == "InMemoryDoneLedger(durable_rows=2, pending_ops=1, auto_complete=False)"
    sink = InMemoryFindingsSink(auto_complete=False)
    sink.upsert_batch(FindingsUpsertBatch())
    sink.upsert_batch(FindingsUpsertBatch())
    assert repr(sink) == (
        "InMemoryFindingsSink(durable_findings=0, durable_occurrences=0, "
        "durable_observations=0, pending_ops=2, auto_complete=False)"
    )
    assert ledger._core.lock.locked() is False
    assert sink._core.lock.locked() is False


def test_internal_reprs_show_state_for_debugging() -> None:
    """P-1/ST-12: the core's internal objects render their state (no payload contents)."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    ledger.fail_next_commits(1)
    pending = ledger.batch_upsert([valid_done_record(1)])
    core = ledger._core
    assert repr(core) == "InMemoryStoreCore(kind=DONE_LEDGER)"
    assert repr(core.faults) == (
        "FaultCounters(delay_next=0, fail_submit_remaining=0, fail_commit_remaining=1)"
    )
    assert repr(core.ops[pending.op_id]) == "PendingOp(Pending)"
    assert core.ops[pending.op_id].is_pending is True
    ledger.release_all(OLDEST)
    assert core.ops[pending.op_id].is_pending is False
    assert repr(core.ops[pending.op_id]) == "PendingOp(Finished, error)"
    ok = ledger.batch_upsert([valid_done_record(2)])
    ledger.release_all(OLDEST)
    assert repr(core.ops[ok.op_id]) == "PendingOp(Finished, receipt)"
    core.ops[ok.op_id].taken = True
    assert repr(core.ops[ok.op_id]) == "PendingOp(Finished, taken)"
    sink = InMemoryFindingsSink()
    assert repr(sink._core.durable) == "FindingsState(findings=0, occurrences=0, observations=0)"
