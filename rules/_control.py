"""``ControlMachine``: the control surface both state machines share (HYP-3..HYP-9).

The store core is generic (``inmemory.md`` §2): submission, the pending queue,
the three releases in both orders, the fault counters, auto-complete and the
handle protocol behave the same for every payload. So do their rules here,
predicted by :class:`rules._store_model.StoreModel`. A domain machine
(:class:`rules.done_ledger.DoneLedgerMachine`,
:class:`rules.findings.FindingsSinkMachine`) adds its records, its reads and
its invariants, and fills these hooks:

=========================  ==============================  ===============================
hook                       done ledger                     findings sink
=========================  ==============================  ===============================
``build_store()``          ``make_ledger()``               ``make_sink()``
``send(payload)``          ``batch_upsert``                ``upsert_batch``
``presubmit_error``        never (DL validates at apply)   FS-2 / FS-3 checks
``apply_payload``          ``apply_done_batch`` (LED-4)    ``apply_findings_batch`` (FSM-2)
``durable_reads()``        ``snapshot()``                  the three snapshots
``after_apply``            DLM-10 labels, depth (b), (c)   FSM-11 labels, FSM-8.4, depth
=========================  ==============================  ===============================

Rules (preconditions partition the model state by predicted outcome, HYP-7):

========================  =============================  ===============================
rule                      store operation                spec
========================  =============================  ===============================
``submit_rejected``       submit, submission fault       LED-3 step 1, ST-8, I4
``submit_delayed``        submit, queued                 LED-3 step 4, I4
``submit_immediate``      submit, applied now            LED-3, LED-4, I9
``wait_handle``           ``handle.wait(timeout=0)``     LED-9, ST-20, ST-21
``release_next``          ``release_next(order)``        LED-5, ST-14
``release_pending/raw``   ``release_specific(id)``       LED-6, ST-15
``release_all``           ``release_all(order)``         LED-7, ST-16
``arm``                   a counter, topped up to n      LED-2 (HYP-16: faults <= 2)
``set_auto_complete``     ``set_auto_complete(flag)``    LED-2, ST-4
invariant                 ``pending_ids/pending_count``  LED-8, DLM-7.2, FSM-8.3
``teardown``              drain, collect, converge       DLM-9, FSM-10 (HYP-9)
========================  =============================  ===============================

Every apply the store performs, the model predicts first and in the same order
(DLM-6, ORA-6); an apply predicted to fail must leave ``durable_reads()``
unchanged (FSM-6, DL-6), for both stores. Hypothesis picks each step's rule
through :class:`rules._rule_choice.RuleChoice` (installed in ``__init__``): the
same rules and preconditions, in one or two choices a step, without swarm testing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from hypothesis import event, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)

from gossip_model.inmemory.errors import (
    CompletionOrder,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryStoreKind,
    PendingWriteId,
    UnknownOperation,
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
from ._rule_choice import install as install_rule_choice
from ._store_model import Application, StoreModel, WaitState
from .strategies import FLAGS, small_ints

P = TypeVar("P")

FAULT_CAP = 2
"""HYP-16: at most this many submission or commit faults are armed at once (the
fault rules top their counter up to 1..=2; compound rules to 1)."""
MAX_SUBMIT_ATTEMPTS = FAULT_CAP + 1
MAX_COMMIT_ATTEMPTS = FAULT_CAP + 2

_orders = st.sampled_from(CompletionOrder)
CONTROLS = ("fail_next_submissions", "fail_next_commits", "delay_next_writes")
"""The three additive counters of LED-2, by the name of their store call."""

BATCHES: Bundle[Any] = Bundle("batches")
"""DLM-3 / FSM-4: payloads ready to submit, resubmittable."""
PENDING: Bundle[Any] = Bundle("pending")
"""``SubmittedWrite`` of every delayed write, consumed on release by id (HYP-5)."""
HANDLES: Bundle[Any] = Bundle("handles")
"""``SubmittedWrite`` of every accepted write, never consumed."""


def committed(outcome: object) -> bool:
    """A predicted outcome is a receipt, or the exception the apply raised."""
    return not isinstance(outcome, BaseException)


class ControlMachine(RuleBasedStateMachine, Generic[P]):
    """The generic store core driven against :class:`StoreModel`; see the module docstring."""

    KIND: ClassVar[InMemoryStoreKind]
    LABEL_PENDING: ClassVar[str]
    LABEL_SUBMIT_FAILED: ClassVar[str]

    batches = BATCHES
    pending = PENDING
    handles = HANDLES

    def __init__(self, recorder: Callable[[str], object] | None = None) -> None:
        """``recorder`` (owned by the caller) also receives every event label (DLM-10)."""
        super().__init__()
        # Issue 11 item 3: the same rules in fewer choices (rules._rule_choice).
        install_rule_choice(self)
        self.recorder = recorder
        self.broken = False
        self.model: StoreModel[P] = StoreModel()
        self.handle_of: dict[int, HandleLike] = {}
        self.depth: set[str] = set()
        self.commit_failures = 0
        self.store_calls = 0
        self._checked_at: dict[str, int] = {}
        self.store: StoreControls = self.build_store()

    # -- domain hooks -------------------------------------------------------------

    def build_store(self) -> StoreControls:
        """HYP-2: build the store once per example (calls ``make_ledger``/``make_sink``)."""
        raise NotImplementedError

    def send(self, payload: P) -> HandleLike:
        """The store's submit call."""
        raise NotImplementedError

    def presubmit_error(self, payload: P) -> BaseException | None:
        """The error the submit call raises before any counter moves (FS-4), or None."""
        return None

    def apply_payload(self, payload: P) -> object:
        """Advance the domain model by one apply after the fault check; the predicted
        receipt or error (LED-4, FSM-2)."""
        raise NotImplementedError

    def durable_reads(self) -> object:
        """The store's full durable state, as read through its snapshot calls."""
        raise NotImplementedError

    def after_apply(self, app: Application[P], outcome: object, released: bool) -> None:
        """Labels and bookkeeping of one predicted apply (DLM-10, FSM-11, HYP-16)."""

    def before_release(self, newest_first: bool) -> None:
        """Called before a ``release_next`` or ``release_all`` is predicted."""

    def after_rejection(self, payload: P) -> None:
        """Bookkeeping of a payload rejected at submission (FSM-8 item 4)."""

    def converged(self) -> None:
        """The domain's convergence checks, after the teardown drain (DLM-9, FSM-10)."""

    def final_targets(self) -> None:
        """The domain's own ``target()`` calls, once per example (HYP-10)."""

    # -- the model first, then the store -----------------------------------------

    def _touch(self) -> None:
        """Count a call that may change the store's state (a submit, a wait, a release,
        a control counter); reads and builders never call this."""
        self.store_calls += 1

    def _store_touched_since(self, check: str) -> bool:
        """True when the store was called by :meth:`_touch` paths since ``check`` last
        ran (always true the first time); a pure read, for an invariant's precondition.

        Issue 11 item 3: a per-step invariant re-reads the store only after a step
        that could change it, so its cost follows what changed, not the steps that
        only read or build; as a precondition, a skipped invariant costs Hypothesis
        nothing either. A store whose state moved on a read is still caught at the
        next write step and by the teardown convergence checks (DLM-9, FSM-10)."""
        return self._checked_at.get(check) != self.store_calls

    def _checked(self, check: str) -> None:
        """Remember that ``check`` ran at this store call count (see above)."""
        self._checked_at[check] = self.store_calls

    def _label(self, label: str) -> None:
        """``event(label)`` for the statistics, and the optional recorder (DLM-10)."""
        event(label)
        if self.recorder is not None:
            self.recorder(label)

    def _predict_apply(self, app: Application[P], released: bool) -> object:
        """Advance the model by one apply, in store order (DLM-6); the predicted result.
        The commit-fault counter fires first, whatever the payload (ST-9)."""
        outcome: object
        if app.commit_fault:
            outcome = InjectedCommitFailure(self.KIND)
            self.commit_failures += 1
        else:
            outcome = self.apply_payload(app.payload)
        self.after_apply(app, outcome, released)
        self.model.finish(app.op_id, outcome)
        return outcome

    def _predict_then_read_if_failing(
        self, app: Application[P] | None, released: bool
    ) -> object | None:
        """Predict ``app``; when it is predicted to fail, the store's durable reads before
        the store applies it (compared afterwards by :meth:`_check_unchanged`)."""
        if app is None or committed(self._predict_apply(app, released)):
            return None
        return self.durable_reads()

    def _check_unchanged(self, before: object | None, op_id: int) -> None:
        """FSM-6 / DL-6: a failed apply leaves durable state exactly as it was."""
        if before is not None:
            agree(
                f"durable state around the failed apply of op {op_id}",
                before,
                self.durable_reads(),
            )

    def _submit(self, payload: P) -> SubmittedWrite[P] | None:
        """LED-3 / FS-1: predict, submit, compare the op id; None when nothing was accepted."""
        self._touch()
        rejected = self.presubmit_error(payload)
        if rejected is not None:
            expect_raises("submit pre-submit check", rejected, lambda: self.send(payload))
            self._label(f"Rejected:{type(getattr(rejected, 'source', rejected)).__name__}")
            self.after_rejection(payload)
            return None
        predicted = self.model.submit(payload)
        if predicted.op_id is None:
            expect_raises(
                "submit", InjectedSubmissionFailure(self.KIND), lambda: self.send(payload)
            )
            self._label(self.LABEL_SUBMIT_FAILED)
            self.after_rejection(payload)
            return None
        app = predicted.application
        before = self._predict_then_read_if_failing(app, released=False)
        handle = self.send(payload)
        agree("submit op id", PendingWriteId(predicted.op_id), handle.op_id)
        self.handle_of[predicted.op_id] = handle
        if app is None:
            self._label(self.LABEL_PENDING)
        self._check_unchanged(before, predicted.op_id)
        return SubmittedWrite(predicted.op_id, payload, handle)

    def _collect(self, op_id: int) -> None:
        """``wait(timeout=0)`` on ``op_id``, compared with the model (LED-9, DLM-7.4, FSM-8.5)."""
        self._touch()
        handle = self.handle_of[op_id]
        state, predicted = self.model.wait(op_id)
        if state is WaitState.PENDING:
            expect_timeout(f"wait({op_id}) on a pending op", lambda: handle.wait(timeout=0))
        elif state is WaitState.FINISHED:
            agree(f"wait({op_id})", predicted, outcome_of(lambda: handle.wait(timeout=0)))
        else:
            expect_raises(
                f"second wait({op_id})",
                UnknownOperation(self.KIND, PendingWriteId(op_id)),
                lambda: handle.wait(timeout=0),
            )

    def _release_next(self, order: CompletionOrder) -> None:
        self._touch()
        newest = order is CompletionOrder.NEWEST_FIRST
        self.before_release(newest)
        app = self.model.release_next(newest)
        before = self._predict_then_read_if_failing(app, released=True)
        answered = self.store.release_next(order)
        expected = None if app is None else PendingWriteId(app.op_id)
        agree(f"release_next({order.name})", expected, answered)
        if app is None:
            self._label("ReleaseNoop")
        else:
            self._check_unchanged(before, app.op_id)

    def _release_specific(self, op_id: int) -> None:
        self._touch()
        app = self.model.release_specific(op_id)
        before = self._predict_then_read_if_failing(app, released=True)
        answered = self.store.release_specific(PendingWriteId(op_id))
        agree(f"release_specific({op_id})", app is not None, answered)
        if app is None:
            self._label("ReleaseNoop")
        else:
            self._check_unchanged(before, op_id)

    def _release_all(self, order: CompletionOrder) -> None:
        """LED-7: every pending op, applied in queue order or reversed."""
        self._touch()
        newest = order is CompletionOrder.NEWEST_FIRST
        self.before_release(newest)
        apps = self.model.release_all(newest)
        for app in apps:
            self._predict_apply(app, released=True)
        agree(f"release_all({order.name})", len(apps), self.store.release_all(order))

    # -- building blocks of one-step compound rules (HYP-16) ----------------------

    def _accepted(self, payload: P) -> SubmittedWrite[P]:
        """Submit until the store accepts (ST-8): every rejection consumes one armed
        submission fault, and those are capped (HYP-16)."""
        agree("pre-submit check of a compound rule's payload", None, self.presubmit_error(payload))
        for _ in range(MAX_SUBMIT_ATTEMPTS):
            written = self._submit(payload)
            if written is not None:
                return written
        raise AssertionError("submission faults kept firing beyond their cap")

    def _delay(self, n: int) -> None:
        """LED-2: top ``delay_next`` up to ``n`` (never beyond, so delays do not pile up)."""
        self._top_up("delay_next_writes", n)

    def _arm_commit_fault(self) -> None:
        """LED-2: arm one commit fault unless one is armed already (HYP-16 cap)."""
        self._top_up("fail_next_commits", 1)

    def _apply_now(self, payload: P) -> tuple[SubmittedWrite[P], object]:
        """Submit and, if delayed, release exactly that op (LED-6); the write and its
        predicted outcome."""
        written = self._accepted(payload)
        if written.op_id in self.model.payloads:
            self._release_specific(written.op_id)
        return written, self.model.results[written.op_id]

    def _until_committed(self, payload: P) -> list[SubmittedWrite[P]]:
        """ST-11: apply the same payload until it is not failed by an injected commit
        fault; faults are capped, so this ends."""
        writes: list[SubmittedWrite[P]] = []
        for _ in range(MAX_COMMIT_ATTEMPTS):
            written, outcome = self._apply_now(payload)
            writes.append(written)
            if not isinstance(outcome, InjectedCommitFailure):
                return writes
        raise AssertionError("commit faults kept firing beyond their cap")

    def _released_until_done(self, written: SubmittedWrite[P]) -> object:
        """Release a delayed write by id (LED-6); while its apply fails on an injected
        commit fault, submit the same payload delayed again and release it (ST-11)."""
        for _ in range(MAX_COMMIT_ATTEMPTS):
            if written.op_id in self.model.payloads:
                self._release_specific(written.op_id)
            outcome = self.model.results[written.op_id]
            if not isinstance(outcome, InjectedCommitFailure):
                return outcome
            self._delay(1)
            written = self._accepted(written.payload)
        raise AssertionError("commit faults kept firing beyond their cap")

    # -- submissions (preconditions partition by predicted outcome, HYP-7) -------

    @precondition(lambda self: self.model.submit_is_rejected)
    @rule(batch=batches)
    @guarded
    def submit_rejected(self, batch: P) -> None:
        """LED-3 step 1: a pre-submit check or ``InjectedSubmissionFailure``; no op id (I4)."""
        agree("rejected submit returns no write", None, self._submit(batch))

    @precondition(lambda self: self.model.submit_is_delayed)
    @rule(targets=(pending, handles), batch=batches)
    @guarded
    def submit_delayed(self, batch: P) -> SubmittedWrite[P] | MultipleResults[SubmittedWrite[P]]:
        """LED-3 step 4: queued last in ``pending_ids()``, invisible (I4 leak check)."""
        written = self._submit(batch)
        return multiple() if written is None else written

    @precondition(lambda self: self.model.submit_is_immediate)
    @rule(target=handles, batch=batches)
    @guarded
    def submit_immediate(self, batch: P) -> SubmittedWrite[P] | MultipleResults[SubmittedWrite[P]]:
        """LED-3/LED-4: applied now; the receipt or error is predicted (I9)."""
        written = self._submit(batch)
        return multiple() if written is None else written

    # -- handles and releases ----------------------------------------------------

    @rule(w=handles)
    @guarded
    def wait_handle(self, w: SubmittedWrite[P]) -> None:
        """LED-9: pending -> TimeoutError; finished -> predicted result; collected -> Unknown."""
        self._collect(w.op_id)

    @rule(order=_orders)
    @guarded
    def release_next(self, order: CompletionOrder) -> None:
        """LED-5: the model's front (OLDEST_FIRST) or back (NEWEST_FIRST) id, or None;
        NEWEST_FIRST may apply a child batch before its parent's."""
        self._release_next(order)

    @rule(w=consumes(pending))
    @guarded
    def release_pending(self, w: SubmittedWrite[P]) -> None:
        """LED-6 with an id from the bundle: True iff the model still has it pending."""
        self._release_specific(w.op_id)

    @rule(raw=small_ints(1, 64))
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

    # -- faults (HYP-16: counters are topped up to n, never stacked beyond it)

    def _top_up(self, control: str, n: int) -> None:
        """LED-2: bring the model's counter and the store's up to ``n`` (additive
        counters, so only the missing part is armed); no precondition, so the rule is
        always enabled (issue 11 item 3) and faults still never pile up (HYP-16)."""
        counter = {
            "fail_next_submissions": "fail_submit",
            "fail_next_commits": "fail_commit",
            "delay_next_writes": "delay_next",
        }[control]
        missing = n - getattr(self.model, counter)
        if missing > 0:
            self._touch()
            getattr(self.model, control)(missing)
            agree(f"{control} returns None", None, getattr(self.store, control)(missing))
            self._label("FaultConfigured")

    @rule(control=st.sampled_from(CONTROLS), n=small_ints(1, 3))
    @guarded
    def arm(self, control: str, n: int) -> None:
        """LED-2 ``fail_next_submissions`` / ``fail_next_commits`` (topped up to at most
        ``FAULT_CAP``) or ``delay_next_writes`` (topped up to ``n``)."""
        self._top_up(control, n if control == "delay_next_writes" else min(n, FAULT_CAP))

    @rule(flag=FLAGS)
    @guarded
    def set_auto_complete(self, flag: bool) -> None:
        """LED-2: affects only later submissions (ST-4)."""
        self._touch()
        self.model.set_auto_complete(flag)
        agree("set_auto_complete returns None", None, self.store.set_auto_complete(flag))
        self._label("FaultConfigured")

    # -- invariant and teardown ---------------------------------------------------

    @precondition(lambda self: self._store_touched_since("pending_matches_model"))
    @invariant()
    @guarded
    def pending_matches_model(self) -> None:
        """LED-8: ``pending_ids()`` is the model's queue; ``pending_count()`` its length
        (re-read after a step that called the store, see :meth:`_store_touched_since`)."""
        self._checked("pending_matches_model")
        predicted = [PendingWriteId(i) for i in self.model.queue]
        agree("pending_ids()", predicted, self.store.pending_ids())
        agree("pending_count()", len(predicted), self.store.pending_count())

    def teardown(self) -> None:
        """Drain, collect every outstanding result, check convergence; then label (HYP-9)."""
        if self.broken:
            return
        self._release_all(CompletionOrder.OLDEST_FIRST)
        for op_id in self.model.uncollected_ids():
            self._collect(op_id)
        agree("pending_ids() after the drain", [], self.store.pending_ids())
        self.converged()
        for label in sorted(self.depth):
            self._label(label)
        # HYP-16: first, so the targeting phase climbs from the deepest example found.
        target(float(len(self.depth)), label="depth situations reached")
        target(float(self.model.max_queue), label="largest pending queue")
        self.final_targets()


__all__ = [
    "BATCHES",
    "HANDLES",
    "PENDING",
    "FAULT_CAP",
    "MAX_COMMIT_ATTEMPTS",
    "MAX_SUBMIT_ATTEMPTS",
    "ControlMachine",
    "committed",
]
