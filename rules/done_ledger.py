"""``DoneLedgerMachine``: a Hypothesis state machine for any done ledger (sim.md §11.2).

One rule per operation of the done-ledger control surface (``API.md``):
submit (rejected / delayed / immediate, DLM-5), ``wait`` on handles, the three
release operations in both orders, the three fault counters,
``set_auto_complete`` and every read (``batch_get``, ``get_record``,
``snapshot``, ``list_done_hashes``, ``count_done_hashes``). The model lives on
the machine (HYP-3): :class:`rules._store_model.StoreModel` predicts op ids,
the pending queue and the fault counters, and the pure durable-map model of
:mod:`rules._done_ledger_model` predicts every receipt, error and read. Both
are advanced in exactly the store's apply order (DLM-6, ORA-6).

Testing another backend (HYP-2)
-------------------------------
The store is built in ONE overridable method, :meth:`DoneLedgerMachine.make_ledger`,
called once per example from ``__init__``. It must return a fresh store (empty,
auto-complete on, no armed counters) offering :class:`DoneLedgerUnderTest`.
Subclass, override, and wire the subclass's own ``TestCase`` with settings
derived from its default so the active profile still applies (HYP-13)::

    from hypothesis import settings
    from rules.done_ledger import DoneLedgerMachine

    class SqliteDoneLedgerMachine(DoneLedgerMachine):
        def make_ledger(self):
            return SqliteDoneLedger(":memory:")   # same control surface

    TestSqliteDoneLedger = SqliteDoneLedgerMachine.TestCase
    TestSqliteDoneLedger.settings = settings(
        SqliteDoneLedgerMachine.TestCase.settings, stateful_step_count=150
    )

Planted-bug stores (``rules.planted``) are tested the same way.

Choices (open points and HYP-16)
--------------------------------
* Open point 1: ``PROPTEST_OVID_POOL_SIZE`` = 8 (``rules.strategies``).
* Open point 10: ``count_done_hashes`` may answer None or the exact count.
* Open point 11: event labels are the CamelCase names of DLM-10, no prefix;
  HYP-16 depth situations are labelled ``Depth:...`` once per example.
* HYP-16: submission and commit faults are armed only while the model's
  counter is 0 (delays likewise; compound rules top the delay counter up to
  what they need and arm one commit fault only at 0), so at most
  ``FAULT_CAP`` = 2 faults are armed and most commits succeed; ``upsert``
  builds and submits a batch in one step (and keeps it in ``batches`` for
  replays, which exercises I10 idempotence); ``retry_failed_write``
  resubmits a payload whose commit failed (ST-11).
* HYP-16 depth: Hypothesis's swarm testing disables a random subset of rules
  per example, so a situation reached only through a chain of several rules
  is missing from many examples. One-step compound rules therefore reach the
  depth situations by themselves, each from several rules: (a) NEWEST_FIRST
  with >= 2 pending in ``delay_then_release_newest``,
  ``delayed_fault_release_all_newest``, ``delay_one_key_release_newest_each``
  and ``delay_two_batches_release_newest``; (b) commit fault then a committed
  retry of the same payload in ``delay_then_release_newest``,
  ``delayed_fault_release_all_newest`` and ``commit_fault_then_retry``; (c)
  merges on one key in all of those, which write to the two hot keys
  (``HOT_SLOTS``, the prefix key among them) or repeatedly to one key.
* HYP-10/HYP-16: ``teardown`` calls ``target()`` on the number of depth
  situations reached, before the DLM-9 targets: Hypothesis's targeting phase
  spends the second half of the budget climbing from the best example of the
  first target label, so this keeps those examples deep instead of
  inheriting whatever rule subset maximised the pending queue.
* The DLM-7 receipt check (I9) is made where results are collected
  (``wait_handle`` and teardown), since an invariant cannot call ``wait``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from hypothesis import event, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.inmemory.errors import (
    CompletionOrder,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryStoreKind,
    PendingWriteId,
    UnknownOperation,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

from ._checks import (
    HandleLike,
    StoreControls,
    SubmittedWrite,
    agree,
    expect_raises,
    expect_timeout,
    guarded,
    outcome_of,
)
from ._done_ledger_model import apply_done_batch, done_hashes, snapshot_of
from ._store_model import Application, StoreModel, WaitState
from .strategies import (
    DLM_OVIDS,
    DLM_POLICIES,
    DLM_TENANTS,
    PREFIX_KEY,
    dl_policies,
    dl_record,
    dl_slots,
    dl_tenants,
    pool_key,
    pool_record,
)

KIND = InMemoryStoreKind.DONE_LEDGER
Batch = tuple[DoneLedgerRecord, ...]

FAULT_CAP = 2
"""HYP-16: at most this many submission or commit faults are armed at once (the
fault rules arm 1..=2 only while the counter is 0; compound rules arm 1 at 0)."""
MAX_SUBMIT_ATTEMPTS = FAULT_CAP + 1
MAX_COMMIT_ATTEMPTS = FAULT_CAP + 1
HOT_SLOTS = st.integers(0, 1)
"""HYP-16 (c): compound rules write to the two hot keys (tenant 0, policy 0, slot 0 or
1; slot 0 is the prefix key), so committed merges pile up on one key."""


class DoneLedgerUnderTest(StoreControls, Protocol):
    """The control surface a done ledger needs for this machine (API.md, LED-1..LED-10)."""

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> HandleLike: ...

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]: ...

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None: ...

    def snapshot(self) -> list[DoneLedgerRecord]: ...

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]: ...

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None: ...


def prefix_record(run: int) -> DoneLedgerRecord:
    """DLM-4 R1 (run 1) / R2 (run 2): SCANNED_WITH_FINDINGS, 512 bytes, 3 findings."""
    return DoneLedgerRecord(
        PREFIX_KEY,
        DoneLedgerStatus.SCANNED_WITH_FINDINGS,
        512,
        3,
        DoneLedgerProvenance(
            RunId(run), ShardId(1), FenceEpoch(1), LogicalTime(10), LogicalTime(15)
        ),
    )


_keys: Bundle[DoneLedgerKey] = Bundle("keys")
_orders = st.sampled_from(CompletionOrder)
_records = st.lists(dl_record(_keys), max_size=10)
_pool_records = st.lists(pool_record(), min_size=1, max_size=10)
_hot_records = st.lists(dl_record(st.just(PREFIX_KEY)), min_size=2, max_size=3)
"""Records drawn for a placeholder key and re-keyed by the compound rules (HYP-16)."""


class DoneLedgerMachine(RuleBasedStateMachine):
    """Drives a done ledger against the model (DLM-1..DLM-10); see the module docstring."""

    keys = _keys
    batches: Bundle[Batch] = Bundle("batches")
    pending: Bundle[SubmittedWrite[Batch]] = Bundle("pending")
    handles: Bundle[SubmittedWrite[Batch]] = Bundle("handles")

    def __init__(self, recorder: Callable[[str], object] | None = None) -> None:
        """``recorder`` (owned by the caller) also receives every event label (DLM-10)."""
        super().__init__()
        self.recorder = recorder
        self.broken = False
        self.ledger: DoneLedgerUnderTest = self.make_ledger()
        self.model: StoreModel[Batch] = StoreModel()
        self.durable: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        self._snapshot_cache: tuple[object, list[DoneLedgerRecord]] = (None, [])
        self.handle_of: dict[int, HandleLike] = {}
        self.high_water: dict[DoneLedgerKey, tuple[int, int]] = {}
        self.merges: Counter[DoneLedgerKey] = Counter()
        self.failed_payloads: set[Batch] = set()
        self.retryable: list[Batch] = []
        self.commit_failures = 0
        self.depth: set[str] = set()

    def make_ledger(self) -> DoneLedgerUnderTest:
        """HYP-2: the store under test; override in a subclass to test another backend."""
        return InMemoryDoneLedger()

    # -- helpers: every store call goes through the model first

    def _label(self, label: str) -> None:
        """``event(label)`` for the statistics, and the optional recorder (DLM-10)."""
        event(label)
        if self.recorder is not None:
            self.recorder(label)

    def _applied(self, app: Application[Batch]) -> object:
        """Advance the model by one apply (DLM-6) and return the predicted result."""
        outcome: object
        if app.commit_fault:
            outcome = InjectedCommitFailure(KIND)
            self.commit_failures += 1
            if app.payload not in self.failed_payloads:
                self.failed_payloads.add(app.payload)
                self.retryable.append(app.payload)
        else:
            before = self.durable
            self.durable, outcome = apply_done_batch(before, app.payload)
            if isinstance(outcome, DoneLedgerCommitReceipt):
                for key in {r.key for r in app.payload}:
                    if key in before:
                        self.merges[key] += 1
                        if self.merges[key] >= 3:
                            self.depth.add("Depth:three-merges-on-one-key")
                if app.payload in self.failed_payloads:
                    self.depth.add("Depth:retry-after-commit-fault")
                    if app.payload in self.retryable:
                        self.retryable.remove(app.payload)
        self.model.finish(app.op_id, outcome)
        return outcome

    def _submit(self, batch: Batch) -> SubmittedWrite[Batch] | None:
        """LED-3: predict, submit, compare the op id; None when the submit was rejected."""
        predicted = self.model.submit(batch)
        if predicted.op_id is None:
            expect_raises(
                "batch_upsert",
                InjectedSubmissionFailure(KIND),
                lambda: self.ledger.batch_upsert(batch),
            )
            self._label("UpsertSubmitFailed")
            return None
        handle = self.ledger.batch_upsert(batch)
        agree("batch_upsert op id", PendingWriteId(predicted.op_id), handle.op_id)
        self.handle_of[predicted.op_id] = handle
        if predicted.application is None:
            self._label("UpsertPending")
        else:
            outcome = self._applied(predicted.application)
            committed = isinstance(outcome, DoneLedgerCommitReceipt)
            self._label("UpsertCommitted" if committed else "UpsertCommitFailed")
        return SubmittedWrite(predicted.op_id, batch, handle)

    def _collect(self, op_id: int) -> None:
        """``wait(timeout=0)`` on ``op_id``, compared with the model (LED-9, DLM-7 item 4)."""
        handle = self.handle_of[op_id]
        state, predicted = self.model.wait(op_id)
        if state is WaitState.PENDING:
            expect_timeout(f"wait({op_id}) on a pending op", lambda: handle.wait(timeout=0))
        elif state is WaitState.FINISHED:
            agree(f"wait({op_id})", predicted, outcome_of(lambda: handle.wait(timeout=0)))
        else:
            expect_raises(
                f"second wait({op_id})",
                UnknownOperation(KIND, PendingWriteId(op_id)),
                lambda: handle.wait(timeout=0),
            )

    def _release_next(self, order: CompletionOrder) -> None:
        newest = order is CompletionOrder.NEWEST_FIRST
        if newest and len(self.model.queue) >= 2:
            self.depth.add("Depth:newest-first-with-two-pending")
        app = self.model.release_next(newest)
        answered = self.ledger.release_next(order)
        agree(
            f"release_next({order.name})",
            None if app is None else PendingWriteId(app.op_id),
            answered,
        )
        if app is None:
            self._label("ReleaseNoop")
        elif isinstance(self._applied(app), DoneLedgerCommitReceipt):
            self._label("Released")
        else:
            self._label("ReleasedCommitFailed")

    def _release_specific(self, op_id: int) -> None:
        app = self.model.release_specific(op_id)
        answered = self.ledger.release_specific(PendingWriteId(op_id))
        agree(f"release_specific({op_id})", app is not None, answered)
        if app is None:
            self._label("ReleaseNoop")
        elif isinstance(self._applied(app), DoneLedgerCommitReceipt):
            self._label("Released")
        else:
            self._label("ReleasedCommitFailed")

    def _release_all(self, order: CompletionOrder) -> dict[int, object]:
        """LED-7: release every pending op; the predicted outcome of each, by op id."""
        newest = order is CompletionOrder.NEWEST_FIRST
        if newest and len(self.model.queue) >= 2:
            self.depth.add("Depth:newest-first-with-two-pending")
        apps = self.model.release_all(newest)
        agree(f"release_all({order.name})", len(apps), self.ledger.release_all(order))
        return {app.op_id: self._applied(app) for app in apps}

    # -- HYP-16 building blocks of the one-step compound rules

    def _accepted(self, batch: Batch) -> SubmittedWrite[Batch]:
        """Submit until the store accepts (ST-8): every rejection consumes one armed
        submission fault, and those are capped (at most 2 armed, HYP-16)."""
        for _ in range(MAX_SUBMIT_ATTEMPTS):
            written = self._submit(batch)
            if written is not None:
                return written
        raise AssertionError("submission faults kept firing beyond their cap")

    def _delay(self, n: int) -> None:
        """LED-2: top ``delay_next`` up to ``n`` (never beyond, so delays do not pile up)."""
        missing = n - self.model.delay_next
        if missing > 0:
            self.model.delay_next_writes(missing)
            agree("delay_next_writes returns None", None, self.ledger.delay_next_writes(missing))
            self._label("FaultConfigured")

    def _arm_commit_fault(self) -> None:
        """LED-2: arm one commit fault unless one is armed already (HYP-16 cap)."""
        if self.model.fail_commit == 0:
            self.model.fail_next_commits(1)
            agree("fail_next_commits returns None", None, self.ledger.fail_next_commits(1))
            self._label("FaultConfigured")

    def _apply_now(self, batch: Batch) -> tuple[SubmittedWrite[Batch], object]:
        """Submit ``batch`` and, if it was delayed, release exactly that op (LED-6);
        returns the write and its predicted outcome."""
        written = self._accepted(batch)
        if written.op_id in self.model.payloads:
            self._release_specific(written.op_id)
        return written, self.model.results[written.op_id]

    def _until_committed(self, batch: Batch) -> list[SubmittedWrite[Batch]]:
        """ST-11: resubmit the same payload until it commits; each failure consumes
        one armed commit fault, which are capped, so this ends."""
        writes: list[SubmittedWrite[Batch]] = []
        for _ in range(MAX_COMMIT_ATTEMPTS):
            written, outcome = self._apply_now(batch)
            writes.append(written)
            if isinstance(outcome, DoneLedgerCommitReceipt):
                return writes
        raise AssertionError("commit faults kept firing beyond their cap")

    def _model_snapshot(self) -> list[DoneLedgerRecord]:
        """``snapshot_of(self.durable)``, computed once per model state: every apply
        replaces the durable map (``apply_done_batch`` never mutates it), so the
        per-step invariant stays cheap (HYP-8)."""
        durable, snapshot = self._snapshot_cache
        if durable is not self.durable:
            snapshot = snapshot_of(self.durable)
            self._snapshot_cache = (self.durable, snapshot)
        return snapshot

    def _batch_get(self, tenant: TenantId, policy: PolicyHash, slots: Sequence[int]) -> None:
        ovids = [DLM_OVIDS[s] for s in slots]
        predicted = [self.durable.get(DoneLedgerKey(tenant, policy, o)) for o in ovids]
        agree(f"batch_get{tuple(slots)}", predicted, self.ledger.batch_get(tenant, policy, ovids))

    # -- initialize: the PT-7 fault prefix (DLM-4)

    @initialize(target=keys)
    @guarded
    def start(self) -> DoneLedgerKey:
        """DLM-4: delay, release fails on an injected commit fault and stays invisible, retry."""
        r1, r2 = prefix_record(1), prefix_record(2)
        tenant, policy, ovid = PREFIX_KEY.tenant_id, PREFIX_KEY.policy_hash, [PREFIX_KEY.ovid_hash]
        # 1. a delayed write is queued and invisible.
        self.model.delay_next_writes(1)
        self.ledger.delay_next_writes(1)
        first = self._submit((r1,))
        agree("prefix op id", 1, None if first is None else first.op_id)
        agree("prefix pending_ids", [PendingWriteId(1)], self.ledger.pending_ids())
        agree(
            "prefix read of the pending write", [None], self.ledger.batch_get(tenant, policy, ovid)
        )
        # 2. its release fails on an injected commit fault; still invisible.
        self.model.fail_next_commits(1)
        self.ledger.fail_next_commits(1)
        self._release_next(CompletionOrder.OLDEST_FIRST)
        agree(
            "prefix failed release result", InjectedCommitFailure(KIND), self.model.results.get(1)
        )
        self._collect(1)
        agree(
            "prefix read after the failed release",
            [None],
            self.ledger.batch_get(tenant, policy, ovid),
        )
        # 3. a retry with a new run id commits.
        second = self._submit((r2,))
        agree("prefix retry op id", 2, None if second is None else second.op_id)
        agree("prefix retry receipt", DoneLedgerCommitReceipt(1, 1, 3), self.model.results.get(2))
        self._collect(2)
        agree("prefix read after the retry", [r2], self.ledger.batch_get(tenant, policy, ovid))
        agree("prefix pending_count", 0, self.ledger.pending_count())
        return PREFIX_KEY

    # -- builders

    @rule(target=keys, tenant=dl_tenants, policy=dl_policies, slot=dl_slots)
    @guarded
    def new_key(self, tenant: int, policy: int, slot: int) -> DoneLedgerKey:
        """A key at these DLM-2 pool positions."""
        return pool_key(tenant, policy, slot)

    @rule(target=batches, records=_records)
    @guarded
    def build_batch(self, records: list[DoneLedgerRecord]) -> Batch:
        """An empty batch is allowed: receipt (0, 0, 0), still consumes an id and a fault."""
        return tuple(records)

    @rule(
        target=batches,
        key=keys,
        records=st.lists(dl_record(st.just(PREFIX_KEY)), min_size=2, max_size=4),
    )
    @guarded
    def build_same_key_batch(self, key: DoneLedgerKey, records: list[DoneLedgerRecord]) -> Batch:
        """In-batch duplicates of one key (drawn for a placeholder key, then re-keyed),
        folded by LED-4 / DL-4."""
        return tuple(dataclasses.replace(r, key=key) for r in records)

    # -- submissions (preconditions partition by predicted outcome, HYP-7)

    @precondition(lambda self: self.model.submit_is_rejected)
    @rule(batch=batches)
    @guarded
    def submit_rejected(self, batch: Batch) -> None:
        """LED-3 step 1: ``InjectedSubmissionFailure``, no op id, nothing changes (I4)."""
        agree("rejected submit", None, self._submit(batch))

    @precondition(lambda self: self.model.submit_is_delayed)
    @rule(targets=(pending, handles), batch=batches)
    @guarded
    def submit_delayed(self, batch: Batch) -> SubmittedWrite[Batch]:
        """LED-3 step 4: queued at the back of ``pending_ids()``, invisible (I4 leak check)."""
        written = self._submit(batch)
        assert written is not None, "a delayed submit must return a handle"
        return written

    @precondition(lambda self: self.model.submit_is_immediate)
    @rule(target=handles, batch=batches)
    @guarded
    def submit_immediate(self, batch: Batch) -> SubmittedWrite[Batch]:
        """LED-3/LED-4: applied now; receipt (I9) or ``InjectedCommitFailure`` predicted."""
        written = self._submit(batch)
        assert written is not None, "an immediate submit must return a handle"
        return written

    @rule(target=batches, records=_pool_records)
    @guarded
    def upsert(self, records: list[DoneLedgerRecord]) -> Batch:
        """HYP-16: build and submit in one step, keys straight from the DLM-2 pools.

        Always enabled; the model predicts rejection, delay or an immediate
        apply. The batch is kept in ``batches`` so later replays exercise I10.
        """
        self._submit(tuple(records))
        return tuple(records)

    @rule(
        target=batches,
        tenant=dl_tenants,
        policy=dl_policies,
        slot=dl_slots,
        records=st.lists(dl_record(st.just(PREFIX_KEY)), min_size=2, max_size=4),
    )
    @guarded
    def upsert_same_key(
        self, tenant: int, policy: int, slot: int, records: list[DoneLedgerRecord]
    ) -> Batch:
        """HYP-16: one-step submit of 2..=4 records for one key (in-batch fold, DL-4)."""
        key = pool_key(tenant, policy, slot)
        batch = tuple(dataclasses.replace(r, key=key) for r in records)
        self._submit(batch)
        return batch

    @precondition(lambda self: bool(self.retryable))
    @rule()
    @guarded
    def retry_failed_write(self) -> None:
        """ST-11: a write that failed on an injected commit fault is submitted again
        (the oldest such payload; a new op with a new id)."""
        self._submit(self.retryable.pop(0))

    # -- HYP-16 one-step compound rules (each reaches depth situations by itself)

    def _delayed_writes(
        self, key: DoneLedgerKey, records: Sequence[DoneLedgerRecord]
    ) -> list[SubmittedWrite[Batch]]:
        """Delay one single-record write per record, all for ``key`` (LED-2, LED-3)."""
        self._delay(len(records))
        return [self._accepted((dataclasses.replace(r, key=key),)) for r in records]

    def _retry_failed(
        self, writes: Sequence[SubmittedWrite[Batch]]
    ) -> list[SubmittedWrite[Batch]]:
        """ST-11: resubmit the payload of every write whose apply failed, until it commits."""
        return [
            retry
            for w in writes
            if not isinstance(self.model.results[w.op_id], DoneLedgerCommitReceipt)
            for retry in self._until_committed(w.payload)
        ]

    @rule(target=handles, slot=HOT_SLOTS, records=_hot_records)
    @guarded
    def delay_then_release_newest(
        self, slot: int, records: list[DoneLedgerRecord]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """HYP-16 (a)+(b)+(c): delay 2..=3 writes to a hot key, arm one commit fault
        (only if none is armed), ``release_next(NEWEST_FIRST)`` (LED-5: the newest is
        applied first and absorbs the fault), release the rest by id (LED-6), then
        retry every failed payload until it commits (ST-11)."""
        writes = self._delayed_writes(pool_key(0, 0, slot), records)
        self._arm_commit_fault()
        self._release_next(CompletionOrder.NEWEST_FIRST)
        for w in writes:
            if w.op_id in self.model.payloads:
                self._release_specific(w.op_id)
        return multiple(*writes, *self._retry_failed(writes))

    @rule(target=handles, slot=HOT_SLOTS, records=_hot_records)
    @guarded
    def delayed_fault_release_all_newest(
        self, slot: int, records: list[DoneLedgerRecord]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """HYP-16 (a)+(b)+(c): as ``delay_then_release_newest`` but released with
        ``release_all(NEWEST_FIRST)`` (LED-7), which also applies every older pending op."""
        writes = self._delayed_writes(pool_key(0, 0, slot), records)
        self._arm_commit_fault()
        self._release_all(CompletionOrder.NEWEST_FIRST)
        self._label("ReleasedAll")
        return multiple(*writes, *self._retry_failed(writes))

    @rule(
        target=handles,
        slot=HOT_SLOTS,
        records=st.lists(dl_record(st.just(PREFIX_KEY)), min_size=1, max_size=3),
    )
    @guarded
    def commit_fault_then_retry(
        self, slot: int, records: list[DoneLedgerRecord]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """HYP-16 (b)+(c), ST-11: arm one commit fault (only if none is armed), apply a
        batch for a hot key at once (released by id if delayed): it fails with
        ``InjectedCommitFailure`` and stays invisible (I4); the same payload is then
        resubmitted until it commits."""
        key = pool_key(0, 0, slot)
        self._arm_commit_fault()
        return multiple(
            *self._until_committed(tuple(dataclasses.replace(r, key=key) for r in records))
        )

    @rule(
        target=handles,
        key=keys,
        records=st.lists(dl_record(st.just(PREFIX_KEY)), min_size=3, max_size=4),
    )
    @guarded
    def delay_one_key_release_newest_each(
        self, key: DoneLedgerKey, records: list[DoneLedgerRecord]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """HYP-16 (a)+(c): delay 3..=4 single-record writes to one key from ``keys``
        and release them one at a time with ``release_next(NEWEST_FIRST)`` (LED-5):
        merges applied newest first, each predicted (LED-4, LED-12, I1, I2)."""
        writes = self._delayed_writes(key, records)
        while any(w.op_id in self.model.payloads for w in writes):
            self._release_next(CompletionOrder.NEWEST_FIRST)
        return multiple(*writes)

    @rule(first=batches, second=batches, all_at_once=st.booleans())
    @guarded
    def delay_two_batches_release_newest(
        self, first: Batch, second: Batch, all_at_once: bool
    ) -> None:
        """HYP-16 (a): delay two batches from ``batches`` (resubmissions, I10), then
        ``release_all(NEWEST_FIRST)`` (LED-7) or ``release_next(NEWEST_FIRST)`` and
        the older one by id (LED-5, LED-6)."""
        self._delay(2)
        older = self._accepted(first)
        self._accepted(second)
        if all_at_once:
            self._release_all(CompletionOrder.NEWEST_FIRST)
            self._label("ReleasedAll")
        else:
            self._release_next(CompletionOrder.NEWEST_FIRST)
            self._release_specific(older.op_id)

    # -- handles and releases

    @rule(w=handles)
    @guarded
    def wait_handle(self, w: SubmittedWrite[Batch]) -> None:
        """LED-9: pending -> TimeoutError; finished -> predicted result; collected -> Unknown."""
        self._collect(w.op_id)

    @rule()
    @guarded
    def release_oldest(self) -> None:
        """LED-5 OLDEST_FIRST: the model's front id, or None."""
        self._release_next(CompletionOrder.OLDEST_FIRST)

    @rule()
    @guarded
    def release_newest(self) -> None:
        """LED-5 NEWEST_FIRST: the model's back id, or None."""
        self._release_next(CompletionOrder.NEWEST_FIRST)

    @rule(w=consumes(pending))
    @guarded
    def release_pending(self, w: SubmittedWrite[Batch]) -> None:
        """LED-6 with an id from the bundle: True iff the model still has it pending."""
        self._release_specific(w.op_id)

    @rule(raw=st.integers(1, 64))
    @guarded
    def release_raw(self, raw: int) -> None:
        """LED-6 with any id: unknown, finished and collected ids give False."""
        self._release_specific(raw)

    @rule(order=_orders)
    @guarded
    def release_all(self, order: CompletionOrder) -> None:
        """LED-7: the model's pending count, applied in queue order or reversed."""
        self._release_all(order)
        self._label("ReleasedAll")

    # -- faults (HYP-16: no piling up)

    @precondition(lambda self: self.model.fail_submit == 0)
    @rule(n=st.integers(1, 2))
    @guarded
    def inject_submit_failures(self, n: int) -> None:
        """LED-2 ``fail_next_submissions(n)``."""
        self.model.fail_next_submissions(n)
        agree("fail_next_submissions returns None", None, self.ledger.fail_next_submissions(n))
        self._label("FaultConfigured")

    @precondition(lambda self: self.model.fail_commit == 0)
    @rule(n=st.integers(1, 2))
    @guarded
    def inject_commit_failures(self, n: int) -> None:
        """LED-2 ``fail_next_commits(n)``."""
        self.model.fail_next_commits(n)
        agree("fail_next_commits returns None", None, self.ledger.fail_next_commits(n))
        self._label("FaultConfigured")

    @precondition(lambda self: self.model.delay_next == 0)
    @rule(n=st.integers(1, 3))
    @guarded
    def delay_writes(self, n: int) -> None:
        """LED-2 ``delay_next_writes(n)``."""
        self.model.delay_next_writes(n)
        agree("delay_next_writes returns None", None, self.ledger.delay_next_writes(n))
        self._label("FaultConfigured")

    @rule(flag=st.booleans())
    @guarded
    def set_auto_complete(self, flag: bool) -> None:
        """LED-2: affects only later submissions (ST-4)."""
        self.model.set_auto_complete(flag)
        agree("set_auto_complete returns None", None, self.ledger.set_auto_complete(flag))
        self._label("FaultConfigured")

    # -- reads (I7)

    @rule(tenant=dl_tenants, policy=dl_policies, slots=st.lists(dl_slots, max_size=10))
    @guarded
    def read_batch_get(self, tenant: int, policy: int, slots: list[int]) -> None:
        """DL-10: aligned with the input, duplicates repeated, pending writes invisible."""
        self._batch_get(DLM_TENANTS[tenant], DLM_POLICIES[policy], slots)
        self._label("GetOk")

    @rule(key=keys)
    @guarded
    def read_key(self, key: DoneLedgerKey) -> None:
        """DL-11 ``get_record``."""
        agree(f"get_record({key})", self.durable.get(key), self.ledger.get_record(key))
        self._label("GetOk")

    @rule()
    @guarded
    def read_snapshot(self) -> None:
        """DL-12 ``snapshot`` in (tenant, policy, ovid) byte order."""
        agree("snapshot()", self._model_snapshot(), self.ledger.snapshot())
        self._label("GetOk")

    @rule(tenant_ix=dl_tenants, policy_ix=dl_policies)
    @guarded
    def read_done_hashes(self, tenant_ix: int, policy_ix: int) -> None:
        """DL-13 / DL-15: terminal hashes, no duplicates; the count is None or exact."""
        tenant, policy = DLM_TENANTS[tenant_ix], DLM_POLICIES[policy_ix]
        predicted = done_hashes(self.durable, tenant, policy)
        listed = self.ledger.list_done_hashes(tenant, policy)
        agree("list_done_hashes (as a set)", predicted, set(listed))
        agree("list_done_hashes has no duplicates", len(set(listed)), len(listed))
        count = self.ledger.count_done_hashes(tenant, policy)
        if count is not None:
            agree("count_done_hashes", len(predicted), count)
        self._label("GetOk")

    # -- invariants (DLM-7)

    @invariant()
    @guarded
    def durable_matches_oracle(self) -> None:
        """I3, I5, I6, I7 at every step; no pending write is visible."""
        agree("snapshot() vs model", self._model_snapshot(), self.ledger.snapshot())

    @invariant()
    @guarded
    def pending_matches_model(self) -> None:
        """LED-8: ``pending_ids()`` is the model's queue; ``pending_count()`` its length."""
        predicted = [PendingWriteId(i) for i in self.model.queue]
        agree("pending_ids()", predicted, self.ledger.pending_ids())
        agree("pending_count()", len(predicted), self.ledger.pending_count())

    @invariant()
    @guarded
    def monotonic_per_key(self) -> None:
        """I1, I2: rank and bytes never decrease; a durable key never disappears."""
        current = {r.key: (r.status.rank, r.bytes_scanned) for r in self.ledger.snapshot()}
        for key, (rank, scanned) in self.high_water.items():
            now = current.get(key)
            if now is None or now[0] < rank or now[1] < scanned:
                agree(f"I1/I2 high-water mark of {key}", (rank, scanned), now)
        self.high_water = current

    # -- teardown (DLM-9)

    def teardown(self) -> None:
        """Drain, collect every outstanding result, check convergence (I6); then label."""
        if self.broken:
            return
        self._release_all(CompletionOrder.OLDEST_FIRST)
        for op_id in self.model.uncollected_ids():
            self._collect(op_id)
        agree("pending_ids() after the drain", [], self.ledger.pending_ids())
        agree("snapshot() after the drain (I6)", snapshot_of(self.durable), self.ledger.snapshot())
        for label in sorted(self.depth):
            self._label(label)
        # HYP-16: first, so the targeting phase climbs from the deepest example found.
        target(float(len(self.depth)), label="depth situations reached")
        target(float(self.model.max_queue), label="largest pending queue")
        target(float(self.commit_failures), label="commit failures seen")


__all__ = ["DoneLedgerMachine", "DoneLedgerUnderTest", "prefix_record"]
