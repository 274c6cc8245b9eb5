"""``FindingsSinkMachine``: a Hypothesis state machine for any findings sink (sim.md §11.3).

Builders make findings, occurrences and observations from the tiny FSM-3
pools and keep them in bundles, so referential chains, replays, re-sends and
conflicts form; batch builders assemble valid chains, in-batch duplicates,
conflicting twins, orphans, mixed-tenant and bad-id batches; submissions,
the three release operations, the fault counters and every read are one rule
each. The model lives on the machine (HYP-3): :class:`rules._store_model.StoreModel`
for op ids, queue and counters, and :mod:`rules._findings_model`, an
independent implementation of the apply path (FSM-2), for every receipt,
error and read.

Testing another backend (HYP-2)
-------------------------------
The sink is built in ONE overridable method, :meth:`FindingsSinkMachine.make_sink`,
called once per example from ``__init__``; it must return a fresh sink
(empty, auto-complete on, no armed counters) offering :class:`FindingsSinkUnderTest`::

    from hypothesis import settings
    from rules.findings import FindingsSinkMachine

    class SqliteFindingsMachine(FindingsSinkMachine):
        def make_sink(self):
            return SqliteFindingsSink(":memory:")   # same control surface

    TestSqliteFindings = SqliteFindingsMachine.TestCase
    TestSqliteFindings.settings = settings(
        SqliteFindingsMachine.TestCase.settings, stateful_step_count=150
    )

Choices (open points and HYP-16)
--------------------------------
* Open point 11: event labels are exactly those of FSM-11; HYP-16 depth
  situations are labelled ``Depth:...`` once per example from ``teardown``.
* HYP-16: faults are armed only while the model's counter is 0 (delays
  likewise; compound rules only top the delay counter up to what they need),
  so at most ``FAULT_CAP`` = 2 are armed; ``upsert_chain`` and
  ``upsert_resend`` build and submit in one step (keys drawn from a sub-pool
  so that merges are frequent).
* HYP-16 depth: swarm testing disables a random subset of rules per example,
  so each depth situation is reached by several one-step compound rules on
  their own: (d) a full chain committed after a delayed release in
  ``delay_chain_then_release`` (by id), ``delay_chain_and_resend_newest_first``
  (NEWEST_FIRST, then by id) and ``delay_full_chain_release_all``
  (``release_all``); (e) an orphan or conflicting batch aborted in all three
  and in ``upsert_orphan`` / ``upsert_conflicting``. A chain whose apply hit
  an injected commit fault is submitted delayed and released again until it
  is applied (ST-11; the faults are capped, so this ends).
* HYP-10/HYP-16: ``teardown`` calls ``target()`` on the number of depth
  situations reached before the FSM-10 targets, so the targeting phase climbs
  from a deep example (see ``rules.done_ledger``).
* ``batch_orphan_occurrence`` also carries ``f`` itself when the orphan stays
  in ``f``'s tenant (the batch then holds *a* finding, just not the parent),
  so a store that only checks "some parent is in the batch" is caught.
* FSM-7 is adopted: ``batch_chain`` cross-checks
  ``validate_referential_integrity()`` against its shape.
* Receipts and errors (FSM-8 item 5) are compared where results are
  collected (``wait_handle`` and teardown); invariants never call ``wait``.
"""

from __future__ import annotations

from collections.abc import Callable
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
    FindingId,
    LogicalTime,
    ObjectVersionId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
)
from gossip_model.inmemory import InMemoryFindingsSink
from gossip_model.inmemory.errors import (
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
    UnknownOperation,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.errors import OrphanedReference

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
from ._findings_model import (
    FindingKey,
    FindingsState,
    ObservationKey,
    OccurrenceKey,
    apply_findings_batch,
    batch_keys,
    finding_key,
    id_order,
    observation_key,
    occurrence_key,
    presubmit_error,
)
from ._store_model import Application, StoreModel, WaitState
from .strategies import (
    FS_ITEMS,
    FS_LOCATIONS,
    FS_OVIDS,
    FS_POLICIES,
    FS_RULES,
    FS_SECRETS,
    FS_TENANTS,
    FS_VERSIONS,
    fs_items,
    fs_lengths,
    fs_locations,
    fs_offsets,
    fs_ovids,
    fs_policies,
    fs_rules,
    fs_secrets,
    fs_seen_at,
    fs_small,
    fs_tenants,
    fs_versions,
    other_tenant,
)

KIND = InMemoryStoreKind.FINDINGS
FAULT_CAP = 2
"""HYP-16: at most this many submission or commit faults are armed at once (the
fault rules arm 1..=2 only while the counter is 0)."""
MAX_SUBMIT_ATTEMPTS = FAULT_CAP + 1
MAX_COMMIT_ATTEMPTS = FAULT_CAP + 2
ABORT_KINDS = (
    MissingFinding,
    MissingOccurrence,
    FindingConflict,
    OccurrenceConflict,
    ObservationConflict,
)
"""Apply errors of orphan and conflicting batches (HYP-16 situation e)."""

SHAPES = ("full", "no_finding", "observation_only", "parents_only")
"""FSM-6 ``batch_chain`` shapes; only ``full`` is closed within the batch."""


class FindingsSinkUnderTest(StoreControls, Protocol):
    """The control surface a findings sink needs for this machine (API.md, FS-1..FS-18)."""

    def upsert_batch(self, batch: FindingsUpsertBatch) -> HandleLike: ...

    def findings_snapshot(self) -> list[FindingRecord]: ...

    def occurrences_snapshot(self) -> list[OccurrenceRecord]: ...

    def observations_snapshot(self) -> list[ObservationRecord]: ...

    def get_finding(self, tenant_id: TenantId, finding_id: FindingId) -> FindingRecord | None: ...

    def get_occurrence(
        self, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None: ...

    def get_observation(
        self, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None: ...

    def durable_counts(self) -> object: ...


Snapshots = tuple[list[FindingRecord], list[OccurrenceRecord], list[ObservationRecord]]


def counts_of(counts: object) -> tuple[int, int, int]:
    """``DurableFindingsCounts`` as a plain triple (FS-17)."""
    return (
        int(getattr(counts, "findings")),  # noqa: B009
        int(getattr(counts, "occurrences")),  # noqa: B009
        int(getattr(counts, "observations")),  # noqa: B009
    )


def chain_records(
    tenant: TenantId,
    item: StableItemId,
    rule_fp: RuleFingerprint,
    secret: SecretHash,
    version: ObjectVersionId,
    offset: int,
    length: int,
    policy: PolicyHash,
    ovid: OvidHash,
    seen_at: int,
    location: Location | None,
    run: int = 1,
) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    """A finding, its occurrence and its observation (run = shard = fence = ``run``)."""
    f = FindingRecord.new(tenant, item, rule_fp, secret)
    o = OccurrenceRecord.new(tenant, f.finding_id, version, offset, length)
    b = ObservationRecord.new(
        tenant,
        o.occurrence_id,
        policy,
        ovid,
        RunId(run),
        ShardId(run),
        FenceEpoch(run),
        LogicalTime(seen_at),
        location,
    )
    return f, o, b


def _rotate(pool: tuple[object, ...], value: object, step: int) -> int:
    """Index of the pool entry ``step`` places after ``value`` (a guaranteed different value)."""
    return (pool.index(value) + step) % len(pool)


_findings: Bundle[FindingRecord] = Bundle("findings")
_occurrences: Bundle[OccurrenceRecord] = Bundle("occurrences")
_observations: Bundle[ObservationRecord] = Bundle("observations")
_orders = st.sampled_from(CompletionOrder)


class FindingsSinkMachine(RuleBasedStateMachine):
    """Drives a findings sink against the model (FSM-1..FSM-11); see the module docstring."""

    findings = _findings
    occurrences = _occurrences
    observations = _observations
    batches: Bundle[FindingsUpsertBatch] = Bundle("batches")
    pending: Bundle[SubmittedWrite[FindingsUpsertBatch]] = Bundle("pending")
    handles: Bundle[SubmittedWrite[FindingsUpsertBatch]] = Bundle("handles")

    def __init__(self, recorder: Callable[[str], object] | None = None) -> None:
        """``recorder`` (owned by the caller) also receives every event label (DLM-10)."""
        super().__init__()
        self.recorder = recorder
        self.broken = False
        self.sink: FindingsSinkUnderTest = self.make_sink()
        self.model: StoreModel[FindingsUpsertBatch] = StoreModel()
        self.durable = FindingsState()
        self._model_snapshot_cache: tuple[FindingsState | None, Snapshots] = (None, ([], [], []))
        self.finding_of: dict[OccurrenceKey, FindingRecord] = {}
        self.occurrence_of: dict[ObservationKey, OccurrenceRecord] = {}
        self.committed_findings: set[FindingKey] = set()
        self.committed_occurrences: set[OccurrenceKey] = set()
        self.committed_observations: set[ObservationKey] = set()
        self.aborted_findings: set[FindingKey] = set()
        self.aborted_occurrences: set[OccurrenceKey] = set()
        self.aborted_observations: set[ObservationKey] = set()
        self.handle_of: dict[int, HandleLike] = {}
        self.aborted_batches = 0
        self.depth: set[str] = set()

    def make_sink(self) -> FindingsSinkUnderTest:
        """HYP-2: the store under test; override in a subclass to test another backend."""
        return InMemoryFindingsSink()

    # -- helpers

    def _label(self, label: str) -> None:
        """``event(label)`` for the statistics, and the optional recorder (DLM-10, FSM-11)."""
        event(label)
        if self.recorder is not None:
            self.recorder(label)

    def _snapshots(self) -> Snapshots:
        return (
            self.sink.findings_snapshot(),
            self.sink.occurrences_snapshot(),
            self.sink.observations_snapshot(),
        )

    def _model_snapshots(self) -> Snapshots:
        """The model's three snapshots, computed once per model state (states are
        immutable and replaced on every commit, FSM-2), so the per-step invariant
        stays cheap (HYP-8)."""
        state, snapshots = self._model_snapshot_cache
        if state is not self.durable:
            snapshots = (
                self.durable.findings_snapshot(),
                self.durable.occurrences_snapshot(),
                self.durable.observations_snapshot(),
            )
            self._model_snapshot_cache = (self.durable, snapshots)
        return snapshots

    def _register(self, o: OccurrenceRecord, f: FindingRecord) -> None:
        self.finding_of[occurrence_key(o)] = f

    def _register_observation(self, b: ObservationRecord, o: OccurrenceRecord) -> None:
        self.occurrence_of[observation_key(b)] = o

    def _note_aborted(self, batch: FindingsUpsertBatch) -> None:
        """FSM-8 item 4 bookkeeping: keys of a rejected or failed batch, per layer."""
        self.aborted_batches += 1
        findings, occurrences, observations = batch_keys(batch)
        self.aborted_findings |= findings - self.committed_findings
        self.aborted_occurrences |= occurrences - self.committed_occurrences
        self.aborted_observations |= observations - self.committed_observations

    def _note_committed(self, batch: FindingsUpsertBatch) -> None:
        findings, occurrences, observations = batch_keys(batch)
        self.committed_findings |= findings
        self.committed_occurrences |= occurrences
        self.committed_observations |= observations
        self.aborted_findings -= findings
        self.aborted_occurrences -= occurrences
        self.aborted_observations -= observations

    def _applied(self, app: Application[FindingsUpsertBatch], released: bool) -> object:
        """Advance the model by one apply, in store order (FSM-2); return the prediction."""
        outcome: object
        if app.commit_fault:
            outcome = InjectedCommitFailure(KIND)
            self._label("CommitFailed")
        else:
            result = apply_findings_batch(self.durable, app.payload)
            self.durable = result.state
            outcome = result.outcome
            for label in result.merges:
                self._label(label)
            if result.committed:
                self._label("Committed")
                batch = app.payload
                if released and batch.findings and batch.occurrences and batch.observations:
                    self.depth.add("Depth:chain-committed-after-delayed-release")
            else:
                self._label(type(outcome).__name__)
                if isinstance(outcome, ABORT_KINDS):
                    self.depth.add("Depth:orphan-or-conflict-aborted")
        if isinstance(outcome, FindingsCommitReceipt):
            self._note_committed(app.payload)
        else:
            self._note_aborted(app.payload)
        self.model.finish(app.op_id, outcome)
        return outcome

    def _submit(self, batch: FindingsUpsertBatch) -> SubmittedWrite[FindingsUpsertBatch] | None:
        """FS-1: pre-submit checks, then the core's submit (ST-6); None if nothing was accepted."""
        rejected = presubmit_error(batch)
        if rejected is not None:
            expect_raises(
                "upsert_batch pre-submit check", rejected, lambda: self.sink.upsert_batch(batch)
            )
            source = type(rejected.source).__name__
            self._label(f"Rejected:{source}")
            self._note_aborted(batch)
            return None
        predicted = self.model.submit(batch)
        if predicted.op_id is None:
            expect_raises(
                "upsert_batch",
                InjectedSubmissionFailure(KIND),
                lambda: self.sink.upsert_batch(batch),
            )
            self._label("SubmitFailed")
            self._note_aborted(batch)
            return None
        app = predicted.application
        unchanged = self._expect_unchanged(app)
        handle = self.sink.upsert_batch(batch)
        agree("upsert_batch op id", PendingWriteId(predicted.op_id), handle.op_id)
        self.handle_of[predicted.op_id] = handle
        if app is None:
            self._label("Pending")
        else:
            self._check_unchanged(unchanged, app.op_id)
        return SubmittedWrite(predicted.op_id, batch, handle)

    def _expect_unchanged(
        self, app: Application[FindingsUpsertBatch] | None, released: bool = False
    ) -> Snapshots | None:
        """FSM-6: predict one apply; if it fails, the store snapshots before it (else None)."""
        if app is None:
            return None
        if isinstance(self._applied(app, released), FindingsCommitReceipt):
            return None
        return self._snapshots()

    def _check_unchanged(self, before: Snapshots | None, op_id: int) -> None:
        if before is not None:
            agree(f"snapshots around the failed apply of op {op_id}", before, self._snapshots())

    def _collect(self, op_id: int) -> None:
        """``wait(timeout=0)`` compared with the model (LED-9, FSM-8 item 5)."""
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
        app = self.model.release_next(order is CompletionOrder.NEWEST_FIRST)
        before = self._expect_unchanged(app, released=True)
        answered = self.sink.release_next(order)
        agree(
            f"release_next({order.name})",
            None if app is None else PendingWriteId(app.op_id),
            answered,
        )
        if app is None:
            self._label("ReleaseNoop")
        else:
            self._label("Released")
            self._check_unchanged(before, app.op_id)

    def _release_specific(self, op_id: int) -> None:
        app = self.model.release_specific(op_id)
        before = self._expect_unchanged(app, released=True)
        answered = self.sink.release_specific(PendingWriteId(op_id))
        agree(f"release_specific({op_id})", app is not None, answered)
        if app is None:
            self._label("ReleaseNoop")
        else:
            self._label("Released")
            self._check_unchanged(before, op_id)

    def _release_all(self, order: CompletionOrder) -> dict[int, object]:
        """LED-7: release every pending op; the predicted outcome of each, by op id."""
        apps = self.model.release_all(order is CompletionOrder.NEWEST_FIRST)
        outcomes = {app.op_id: self._applied(app, released=True) for app in apps}
        agree(f"release_all({order.name})", len(apps), self.sink.release_all(order))
        return outcomes

    # -- HYP-16 building blocks of the one-step compound rules

    def _accepted(self, batch: FindingsUpsertBatch) -> SubmittedWrite[FindingsUpsertBatch]:
        """Submit a batch that passes the pre-submit checks until the store accepts it
        (ST-8): every rejection consumes one armed submission fault (capped, HYP-16)."""
        agree("pre-submit check of a compound rule's batch", None, presubmit_error(batch))
        for _ in range(MAX_SUBMIT_ATTEMPTS):
            written = self._submit(batch)
            if written is not None:
                return written
        raise AssertionError("submission faults kept firing beyond their cap")

    def _delay(self, n: int) -> None:
        """Top ``delay_next`` up to ``n`` (never beyond, so delays do not pile up)."""
        missing = n - self.model.delay_next
        if missing > 0:
            self.model.delay_next_writes(missing)
            agree("delay_next_writes returns None", None, self.sink.delay_next_writes(missing))
            self._label("FaultConfigured")

    def _apply_now(self, batch: FindingsUpsertBatch) -> object:
        """Submit and, if delayed, release exactly that op by id; the predicted outcome."""
        written = self._accepted(batch)
        if written.op_id in self.model.payloads:
            self._release_specific(written.op_id)
        return self.model.results[written.op_id]

    def _released_until_done(self, written: SubmittedWrite[FindingsUpsertBatch]) -> object:
        """Release a delayed write by id (LED-6); while its apply fails on an injected
        commit fault, submit the same payload delayed again and release it (ST-11).
        Commit faults are capped, so this ends; the last predicted outcome."""
        for _ in range(MAX_COMMIT_ATTEMPTS):
            if written.op_id in self.model.payloads:
                self._release_specific(written.op_id)
            outcome = self.model.results[written.op_id]
            if not isinstance(outcome, InjectedCommitFailure):
                return outcome
            self._delay(1)
            written = self._accepted(written.payload)
        raise AssertionError("commit faults kept firing beyond their cap")

    # -- initialize: the findings analogue of PT-7 (FSM-5)

    @initialize(target=observations)
    @guarded
    def start(self) -> ObservationRecord:
        """FSM-5: delayed chain invisible; its release fails on a commit fault; retry commits."""
        f, o, b = chain_records(
            FS_TENANTS[0], FS_ITEMS[0], FS_RULES[0], FS_SECRETS[0], FS_VERSIONS[0], 0, 1,
            FS_POLICIES[0], FS_OVIDS[0], 1, None,
        )  # fmt: skip
        self._register(o, f)
        self._register_observation(b, o)
        chain = FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(b,))
        tenant = f.tenant_id

        def lookups() -> list[object]:
            return [
                self.sink.get_finding(tenant, f.finding_id),
                self.sink.get_occurrence(tenant, o.occurrence_id),
                self.sink.get_observation(tenant, b.observation_id),
            ]

        # 1. delayed: op 1, pending, invisible.
        self.model.delay_next_writes(1)
        self.sink.delay_next_writes(1)
        first = self._submit(chain)
        agree("prefix op id", 1, None if first is None else first.op_id)
        agree("prefix pending_ids", [PendingWriteId(1)], self.sink.pending_ids())
        agree("prefix lookups of the pending chain", [None, None, None], lookups())
        # 2. its release fails on an injected commit fault; still invisible.
        self.model.fail_next_commits(1)
        self.sink.fail_next_commits(1)
        self._release_next(CompletionOrder.OLDEST_FIRST)
        agree(
            "prefix failed release result", InjectedCommitFailure(KIND), self.model.results.get(1)
        )
        self._collect(1)
        agree("prefix lookups after the failed release", [None, None, None], lookups())
        agree("prefix durable_counts", (0, 0, 0), counts_of(self.sink.durable_counts()))
        # 3. the same chain again: op 2, auto-completed, receipt (1, 1, 1).
        second = self._submit(chain)
        agree("prefix retry op id", 2, None if second is None else second.op_id)
        agree("prefix retry receipt", FindingsCommitReceipt(1, 1, 1), self.model.results.get(2))
        self._collect(2)
        agree("prefix lookups after the retry", [f, o, b], lookups())
        agree("prefix pending_count", 0, self.sink.pending_count())
        return b

    # -- record builders (FSM-6)

    @rule(target=findings, tenant=fs_tenants, item=fs_items, rule_fp=fs_rules, secret=fs_secrets)
    @guarded
    def new_finding(self, tenant: int, item: int, rule_fp: int, secret: int) -> FindingRecord:
        """``FindingRecord.new`` at these FSM-3 pool positions."""
        return FindingRecord.new(
            FS_TENANTS[tenant], FS_ITEMS[item], FS_RULES[rule_fp], FS_SECRETS[secret]
        )

    @rule(
        target=occurrences,
        parent=findings,
        version=fs_versions,
        offset=fs_offsets,
        length=fs_lengths,
    )
    @guarded
    def new_occurrence(
        self, parent: FindingRecord, version: int, offset: int, length: int
    ) -> OccurrenceRecord:
        o = OccurrenceRecord.new(
            parent.tenant_id, parent.finding_id, FS_VERSIONS[version], offset, length
        )
        self._register(o, parent)
        return o

    @rule(
        target=observations,
        parent=occurrences,
        policy=fs_policies,
        ovid=fs_ovids,
        run=fs_small,
        shard=fs_small,
        fence=fs_small,
        seen_at=fs_seen_at,
        location=fs_locations,
    )
    @guarded
    def new_observation(
        self,
        parent: OccurrenceRecord,
        policy: int,
        ovid: int,
        run: int,
        shard: int,
        fence: int,
        seen_at: int,
        location: int,
    ) -> ObservationRecord:
        b = ObservationRecord.new(
            parent.tenant_id, parent.occurrence_id, FS_POLICIES[policy], FS_OVIDS[ovid],
            RunId(run), ShardId(shard), FenceEpoch(fence), LogicalTime(seen_at),
            FS_LOCATIONS[location],
        )  # fmt: skip
        self._register_observation(b, parent)
        return b

    def _resend(
        self, base: ObservationRecord, delta: int, run: int, location: Location | None
    ) -> ObservationRecord:
        b = ObservationRecord.new(
            base.tenant_id, base.occurrence_id, base.policy_hash, base.ovid_hash, RunId(run),
            ShardId(run), FenceEpoch(run), LogicalTime(max(0, int(base.seen_at) + delta)),
            location,
        )  # fmt: skip
        self._register_observation(b, self.occurrence_of[observation_key(base)])
        return b

    @rule(
        target=observations,
        base=observations,
        delta=st.sampled_from((-1, 0, 1)),
        run=fs_small,
        location=fs_locations,
    )
    @guarded
    def resend_observation(
        self, base: ObservationRecord, delta: int, run: int, location: int
    ) -> ObservationRecord:
        """Same identity as ``base``, ``seen_at`` earlier, equal or later (FSM-9)."""
        return self._resend(base, delta, run, FS_LOCATIONS[location])

    # -- batch builders (FSM-6)

    @rule(
        target=batches, leaf=observations, shape=st.sampled_from(SHAPES), duplicate=st.booleans()
    )
    @guarded
    def batch_chain(
        self, leaf: ObservationRecord, shape: str, duplicate: bool
    ) -> FindingsUpsertBatch:
        """The leaf's ancestry limited to ``shape``; ``duplicate`` repeats each record (FSM-7)."""
        o = self.occurrence_of[observation_key(leaf)]
        f = self.finding_of[occurrence_key(o)]
        copies = 2 if duplicate else 1
        batch = FindingsUpsertBatch(
            findings=(f,) * copies if shape in ("full", "parents_only") else (),
            occurrences=(o,) * copies if shape in ("full", "no_finding", "parents_only") else (),
            observations=(leaf,) * copies if shape != "parents_only" else (),
        )
        try:
            batch.validate_referential_integrity()
            closed = True
        except OrphanedReference:
            closed = False
        agree(
            f"validate_referential_integrity of a {shape!r} chain",
            shape in ("full", "parents_only"),
            closed,
        )
        return batch

    @rule(target=batches, first=findings, more=st.lists(findings, max_size=3))
    @guarded
    def batch_findings(
        self, first: FindingRecord, more: list[FindingRecord]
    ) -> FindingsUpsertBatch:
        """Findings only; replays, duplicates and mixed tenants arise naturally."""
        return FindingsUpsertBatch(findings=(first, *more))

    @rule(target=batches, base=findings, step=st.integers(1, 3), together=st.booleans())
    @guarded
    def batch_conflicting_finding(
        self, base: FindingRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        """A stored-form twin (same tenant and id, other item): ``FindingConflict``."""
        return self._conflicting_finding(base, step, together)

    def _conflicting_finding(
        self, base: FindingRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        twin = FindingRecord(
            base.tenant_id,
            base.finding_id,
            FS_ITEMS[_rotate(FS_ITEMS, base.stable_item_id, step)],
            base.rule_fingerprint,
            base.secret_hash,
        )
        return FindingsUpsertBatch(findings=(base, twin) if together else (twin,))

    @rule(target=batches, base=occurrences, step=st.integers(1, 3), together=st.booleans())
    @guarded
    def batch_conflicting_occurrence(
        self, base: OccurrenceRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        """A stored-form twin (other offset) plus the parent: ``OccurrenceConflict``."""
        return self._conflicting_occurrence(base, step, together)

    def _conflicting_occurrence(
        self, base: OccurrenceRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        twin = OccurrenceRecord(
            base.tenant_id,
            base.occurrence_id,
            base.finding_id,
            base.object_version_id,
            (base.byte_offset + step) % 4,
            base.byte_length,
        )
        f = self.finding_of[occurrence_key(base)]
        return FindingsUpsertBatch(
            findings=(f,), occurrences=(base, twin) if together else (twin,)
        )

    @rule(target=batches, base=observations, step=st.integers(1, 2), together=st.booleans())
    @guarded
    def batch_conflicting_observation(
        self, base: ObservationRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        """Same id, another ovid hash, plus base's ancestry: ``ObservationConflict``."""
        return self._conflicting_observation(base, step, together)

    def _conflicting_observation(
        self, base: ObservationRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        other = ObservationRecord.new(
            base.tenant_id, base.occurrence_id, base.policy_hash,
            FS_OVIDS[_rotate(FS_OVIDS, base.ovid_hash, step)], base.run_id, base.shard_id,
            base.fence_epoch, base.seen_at, base.location,
        )  # fmt: skip
        o = self.occurrence_of[observation_key(base)]
        f = self.finding_of[occurrence_key(o)]
        return FindingsUpsertBatch(
            findings=(f,), occurrences=(o,), observations=(base, other) if together else (other,)
        )

    @rule(
        target=batches,
        f=findings,
        cross_tenant=st.booleans(),
        version=fs_versions,
        offset=fs_offsets,
        length=fs_lengths,
    )
    @guarded
    def batch_orphan_occurrence(
        self, f: FindingRecord, cross_tenant: bool, version: int, offset: int, length: int
    ) -> FindingsUpsertBatch:
        """``MissingFinding``: an unknown finding id, or ``f``'s id under the other tenant."""
        return self._orphan_occurrence(f, cross_tenant, FS_VERSIONS[version], offset, length)

    def _orphan_occurrence(
        self,
        f: FindingRecord,
        cross_tenant: bool,
        version: ObjectVersionId,
        offset: int,
        length: int,
    ) -> FindingsUpsertBatch:
        if cross_tenant:
            o = OccurrenceRecord.new(
                other_tenant(f.tenant_id), f.finding_id, version, offset, length
            )
            return FindingsUpsertBatch(occurrences=(o,))
        o = OccurrenceRecord.new(f.tenant_id, FindingId(b"\xee" * 32), version, offset, length)
        return FindingsUpsertBatch(findings=(f,), occurrences=(o,))

    @rule(
        target=batches,
        o=occurrences,
        cross_tenant=st.booleans(),
        policy=fs_policies,
        ovid=fs_ovids,
    )
    @guarded
    def batch_orphan_observation(
        self, o: OccurrenceRecord, cross_tenant: bool, policy: int, ovid: int
    ) -> FindingsUpsertBatch:
        """``MissingOccurrence``: an unknown occurrence id, or ``o``'s under the other tenant."""
        return self._orphan_observation(o, cross_tenant, FS_POLICIES[policy], FS_OVIDS[ovid])

    def _orphan_observation(
        self, o: OccurrenceRecord, cross_tenant: bool, policy: PolicyHash, ovid: OvidHash
    ) -> FindingsUpsertBatch:
        if cross_tenant:
            tenant, parent = other_tenant(o.tenant_id), o.occurrence_id
        else:
            tenant, parent = o.tenant_id, OccurrenceId(b"\xef" * 32)
        b = ObservationRecord.new(
            tenant, parent, policy, ovid, RunId(1), ShardId(1), FenceEpoch(1), LogicalTime(1)
        )
        return FindingsUpsertBatch(observations=(b,))

    @rule(target=batches, f=findings, item=fs_items, rule_fp=fs_rules, secret=fs_secrets)
    @guarded
    def batch_mixed_tenant(
        self, f: FindingRecord, item: int, rule_fp: int, secret: int
    ) -> FindingsUpsertBatch:
        """Rejected before submission with ``BatchValidation(InconsistentTenant())`` (FS-3)."""
        other = FindingRecord.new(
            other_tenant(f.tenant_id), FS_ITEMS[item], FS_RULES[rule_fp], FS_SECRETS[secret]
        )
        return FindingsUpsertBatch(findings=(f, other))

    @rule(target=batches, b=observations)
    @guarded
    def batch_bad_observation_id(self, b: ObservationRecord) -> FindingsUpsertBatch:
        """Rejected before submission with ``ObservationIdMismatch`` (FS-2)."""
        bad = ObservationRecord(
            b.tenant_id, ObservationId(b"\xed" * 32), b.occurrence_id, b.policy_hash, b.ovid_hash,
            b.run_id, b.shard_id, b.fence_epoch, b.seen_at, b.location,
        )  # fmt: skip
        return FindingsUpsertBatch(observations=(bad,))

    @rule(target=batches)
    @guarded
    def batch_empty(self) -> FindingsUpsertBatch:
        """A valid no-op batch: receipt (0, 0, 0) (FS-14)."""
        return FindingsUpsertBatch()

    # -- submissions

    @precondition(lambda self: self.model.submit_is_rejected)
    @rule(batch=batches)
    @guarded
    def submit_rejected(self, batch: FindingsUpsertBatch) -> None:
        """Pre-submit failure as predicted, else ``InjectedSubmissionFailure`` (FS-4, ST-6)."""
        agree("rejected submit", None, self._submit(batch))

    @precondition(lambda self: self.model.submit_is_delayed)
    @rule(targets=(pending, handles), batch=batches)
    @guarded
    def submit_delayed(
        self, batch: FindingsUpsertBatch
    ) -> (
        SubmittedWrite[FindingsUpsertBatch] | MultipleResults[SubmittedWrite[FindingsUpsertBatch]]
    ):
        """Queued last in ``pending_ids()``, invisible; pre-submit failures return nothing."""
        written = self._submit(batch)
        return multiple() if written is None else written

    @precondition(lambda self: self.model.submit_is_immediate)
    @rule(target=handles, batch=batches)
    @guarded
    def submit_immediate(
        self, batch: FindingsUpsertBatch
    ) -> (
        SubmittedWrite[FindingsUpsertBatch] | MultipleResults[SubmittedWrite[FindingsUpsertBatch]]
    ):
        """Applied now by the model (FSM-2); a failed apply leaves every snapshot unchanged."""
        written = self._submit(batch)
        return multiple() if written is None else written

    @rule(
        target=observations,
        tenant=fs_tenants,
        item=st.integers(0, 1),
        version=st.integers(0, 1),
        policy=fs_policies,
        seen_at=fs_seen_at,
        run=fs_small,
        location=fs_locations,
    )
    @guarded
    def upsert_chain(
        self,
        tenant: int,
        item: int,
        version: int,
        policy: int,
        seen_at: int,
        run: int,
        location: int,
    ) -> ObservationRecord:
        """HYP-16: build a full chain from a small sub-pool and submit it in one step."""
        f, o, b = chain_records(
            FS_TENANTS[tenant], FS_ITEMS[item], FS_RULES[0], FS_SECRETS[0], FS_VERSIONS[version],
            0, 1, FS_POLICIES[policy], FS_OVIDS[0], seen_at, FS_LOCATIONS[location], run,
        )  # fmt: skip
        self._register(o, f)
        self._register_observation(b, o)
        self._submit(FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(b,)))
        return b

    @rule(
        target=observations,
        base=observations,
        delta=st.sampled_from((-1, 0, 1)),
        run=fs_small,
        location=fs_locations,
    )
    @guarded
    def upsert_resend(
        self, base: ObservationRecord, delta: int, run: int, location: int
    ) -> ObservationRecord:
        """HYP-16: re-send an observation alone, in one step (merges once durable)."""
        b = self._resend(base, delta, run, FS_LOCATIONS[location])
        self._submit(FindingsUpsertBatch(observations=(b,)))
        return b

    @rule(
        target=batches,
        base=observations,
        layer=st.sampled_from(("finding", "occurrence", "observation")),
        step=st.integers(1, 2),
    )
    @guarded
    def upsert_conflicting(
        self, base: ObservationRecord, layer: str, step: int
    ) -> FindingsUpsertBatch:
        """HYP-16 (e): base's chain plus a twin at ``layer`` in one batch, submitted in one
        step; its apply always fails with the layer's ``*Conflict`` and changes nothing."""
        o = self.occurrence_of[observation_key(base)]
        f = self.finding_of[occurrence_key(o)]
        if layer == "finding":
            batch = self._conflicting_finding(f, step, True)
        elif layer == "occurrence":
            batch = self._conflicting_occurrence(o, step, True)
        else:
            batch = self._conflicting_observation(base, step, True)
        self._submit(batch)
        return batch

    @rule(
        target=batches,
        base=observations,
        layer=st.sampled_from(("occurrence", "observation")),
        cross_tenant=st.booleans(),
    )
    @guarded
    def upsert_orphan(
        self, base: ObservationRecord, layer: str, cross_tenant: bool
    ) -> FindingsUpsertBatch:
        """HYP-16 (e): an orphan occurrence or observation built from base's chain,
        submitted in one step: ``MissingFinding`` / ``MissingOccurrence``."""
        o = self.occurrence_of[observation_key(base)]
        if layer == "occurrence":
            f = self.finding_of[occurrence_key(o)]
            batch = self._orphan_occurrence(
                f, cross_tenant, o.object_version_id, o.byte_offset, o.byte_length
            )
        else:
            batch = self._orphan_observation(o, cross_tenant, base.policy_hash, base.ovid_hash)
        self._submit(batch)
        return batch

    # -- HYP-16 one-step compound rules (each reaches a depth situation by itself)

    @rule(
        target=observations,
        tenant=fs_tenants,
        item=st.integers(0, 1),
        version=st.integers(0, 1),
        policy=fs_policies,
        seen_at=fs_seen_at,
        location=fs_locations,
        layer=st.sampled_from(("finding", "occurrence", "observation")),
    )
    @guarded
    def delay_chain_then_release(
        self,
        tenant: int,
        item: int,
        version: int,
        policy: int,
        seen_at: int,
        location: int,
        layer: str,
    ) -> ObservationRecord:
        """HYP-16 (d)+(e): build a full chain from the ``upsert_chain`` sub-pool, submit
        it delayed, release it by id (LED-6) and, after an injected commit fault, again
        until it is applied (ST-11); it commits unless a stored twin conflicts. Then a
        stored-form twin at ``layer`` is applied alone: a ``*Conflict`` abort that
        changes nothing, since the chain is durable (FSM-6)."""
        f, o, b = chain_records(
            FS_TENANTS[tenant], FS_ITEMS[item], FS_RULES[0], FS_SECRETS[0], FS_VERSIONS[version],
            0, 1, FS_POLICIES[policy], FS_OVIDS[0], seen_at, FS_LOCATIONS[location],
        )  # fmt: skip
        self._register(o, f)
        self._register_observation(b, o)
        self._delay(1)
        chain = FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(b,))
        self._released_until_done(self._accepted(chain))
        if layer == "finding":
            twin = self._conflicting_finding(f, 1, False)
        elif layer == "occurrence":
            twin = self._conflicting_occurrence(o, 1, False)
        else:
            twin = self._conflicting_observation(b, 1, False)
        self._apply_now(twin)
        return b

    @rule(
        target=observations,
        tenant=fs_tenants,
        item=st.integers(0, 1),
        version=st.integers(0, 1),
        policy=fs_policies,
        delta=st.sampled_from((-1, 0, 1)),
        run=fs_small,
        location=fs_locations,
    )
    @guarded
    def delay_chain_and_resend_newest_first(
        self,
        tenant: int,
        item: int,
        version: int,
        policy: int,
        delta: int,
        run: int,
        location: int,
    ) -> ObservationRecord:
        """HYP-16 (d)+(e): delay a full chain and then a child batch (the chain's finding
        and a re-send of its observation, without the occurrence), then
        ``release_next(NEWEST_FIRST)``: the child is applied before its parent's batch
        and aborts with ``MissingOccurrence`` unless the occurrence is already durable
        (FSM-6: state unchanged, the finding included). Then the chain is released by
        id (retried after a commit fault) and an aborted child is applied again (now
        it merges, FSM-9)."""
        f, o, b = chain_records(
            FS_TENANTS[tenant], FS_ITEMS[item], FS_RULES[0], FS_SECRETS[0], FS_VERSIONS[version],
            0, 1, FS_POLICIES[policy], FS_OVIDS[0], 3, None,
        )  # fmt: skip
        self._register(o, f)
        self._register_observation(b, o)
        resend = self._resend(b, delta, run, FS_LOCATIONS[location])
        self._delay(2)
        chain = self._accepted(
            FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(b,))
        )
        child = self._accepted(FindingsUpsertBatch(findings=(f,), observations=(resend,)))
        self._release_next(CompletionOrder.NEWEST_FIRST)
        self._released_until_done(chain)
        if not isinstance(self.model.results[child.op_id], FindingsCommitReceipt):
            self._apply_now(child.payload)
        return resend

    @rule(leaf=observations, cross_tenant=st.booleans())
    @guarded
    def delay_full_chain_release_all(self, leaf: ObservationRecord, cross_tenant: bool) -> None:
        """HYP-16 (d)+(e): the leaf's full ancestry as one batch (``batch_chain`` shape
        ``full``) and an orphan observation under the leaf's occurrence id (or its
        other tenant), both delayed, then ``release_all(OLDEST_FIRST)`` (LED-7): the
        orphan aborts with ``MissingOccurrence``; the chain, after an injected commit
        fault, is released by id again until applied (ST-11)."""
        o = self.occurrence_of[observation_key(leaf)]
        f = self.finding_of[occurrence_key(o)]
        self._delay(2)
        written = self._accepted(
            FindingsUpsertBatch(findings=(f,), occurrences=(o,), observations=(leaf,))
        )
        self._accepted(self._orphan_observation(o, cross_tenant, leaf.policy_hash, leaf.ovid_hash))
        self._release_all(CompletionOrder.OLDEST_FIRST)
        self._label("ReleasedAll")
        self._released_until_done(written)

    # -- handles and releases

    @rule(w=handles)
    @guarded
    def wait_handle(self, w: SubmittedWrite[FindingsUpsertBatch]) -> None:
        """As DLM ``wait_handle`` with store kind FINDINGS."""
        self._collect(w.op_id)

    @rule()
    @guarded
    def release_oldest(self) -> None:
        self._release_next(CompletionOrder.OLDEST_FIRST)

    @rule()
    @guarded
    def release_newest(self) -> None:
        """NEWEST_FIRST may apply a child before its parent: ``Missing*`` as predicted."""
        self._release_next(CompletionOrder.NEWEST_FIRST)

    @rule(w=consumes(pending))
    @guarded
    def release_pending(self, w: SubmittedWrite[FindingsUpsertBatch]) -> None:
        self._release_specific(w.op_id)

    @rule(raw=st.integers(1, 64))
    @guarded
    def release_raw(self, raw: int) -> None:
        self._release_specific(raw)

    @rule(order=_orders)
    @guarded
    def release_all(self, order: CompletionOrder) -> None:
        self._release_all(order)
        self._label("ReleasedAll")

    # -- faults

    @precondition(lambda self: self.model.fail_submit == 0)
    @rule(n=st.integers(1, 2))
    @guarded
    def inject_submit_failures(self, n: int) -> None:
        self.model.fail_next_submissions(n)
        agree("fail_next_submissions returns None", None, self.sink.fail_next_submissions(n))
        self._label("FaultConfigured")

    @precondition(lambda self: self.model.fail_commit == 0)
    @rule(n=st.integers(1, 2))
    @guarded
    def inject_commit_failures(self, n: int) -> None:
        self.model.fail_next_commits(n)
        agree("fail_next_commits returns None", None, self.sink.fail_next_commits(n))
        self._label("FaultConfigured")

    @precondition(lambda self: self.model.delay_next == 0)
    @rule(n=st.integers(1, 3))
    @guarded
    def delay_writes(self, n: int) -> None:
        self.model.delay_next_writes(n)
        agree("delay_next_writes returns None", None, self.sink.delay_next_writes(n))
        self._label("FaultConfigured")

    @rule(flag=st.booleans())
    @guarded
    def set_auto_complete(self, flag: bool) -> None:
        self.model.set_auto_complete(flag)
        agree("set_auto_complete returns None", None, self.sink.set_auto_complete(flag))
        self._label("FaultConfigured")

    # -- reads

    @rule()
    @guarded
    def read_snapshots(self) -> None:
        """FS-15 / FS-17: the three snapshots and ``durable_counts()``."""
        agree("snapshots", self._model_snapshots(), self._snapshots())
        agree("durable_counts()", self.durable.counts(), counts_of(self.sink.durable_counts()))
        self._label("Read")

    @rule(f=findings, other=st.booleans())
    @guarded
    def read_finding(self, f: FindingRecord, other: bool) -> None:
        """FS-16: tenant-scoped point lookup (the other tenant sees only its own key)."""
        tenant = other_tenant(f.tenant_id) if other else f.tenant_id
        agree(
            "get_finding",
            self.durable.findings.get((tenant, f.finding_id)),
            self.sink.get_finding(tenant, f.finding_id),
        )
        self._label("Read")

    @rule(o=occurrences, other=st.booleans())
    @guarded
    def read_occurrence(self, o: OccurrenceRecord, other: bool) -> None:
        tenant = other_tenant(o.tenant_id) if other else o.tenant_id
        agree(
            "get_occurrence",
            self.durable.occurrences.get((tenant, o.occurrence_id)),
            self.sink.get_occurrence(tenant, o.occurrence_id),
        )
        self._label("Read")

    @rule(b=observations, other=st.booleans())
    @guarded
    def read_observation(self, b: ObservationRecord, other: bool) -> None:
        tenant = other_tenant(b.tenant_id) if other else b.tenant_id
        agree(
            "get_observation",
            self.durable.observations.get((tenant, b.observation_id)),
            self.sink.get_observation(tenant, b.observation_id),
        )
        self._label("Read")

    # -- invariants (FSM-8)

    @invariant()
    @guarded
    def durable_matches_model(self) -> None:
        """FSM-8.1: three snapshots and ``durable_counts()`` equal the model."""
        agree("snapshots vs model", self._model_snapshots(), self._snapshots())
        agree(
            "durable_counts() vs model",
            self.durable.counts(),
            counts_of(self.sink.durable_counts()),
        )

    @invariant()
    @guarded
    def referential_integrity(self) -> None:
        """FSM-8.2: every durable child has a durable parent under the same tenant."""
        findings, occurrences, observations = self._snapshots()
        finding_keys = {finding_key(f) for f in findings}
        occurrence_keys = {occurrence_key(o) for o in occurrences}
        for o in occurrences:
            if (o.tenant_id, o.finding_id) not in finding_keys:
                agree(f"parent finding of durable {o!r}", "durable", None)
        for b in observations:
            if (b.tenant_id, b.occurrence_id) not in occurrence_keys:
                agree(f"parent occurrence of durable {b!r}", "durable", None)

    @invariant()
    @guarded
    def pending_matches_model(self) -> None:
        """FSM-8.3: ``pending_ids()`` is the model's queue; ``pending_count()`` its length."""
        predicted = [PendingWriteId(i) for i in self.model.queue]
        agree("pending_ids()", predicted, self.sink.pending_ids())
        agree("pending_count()", len(predicted), self.sink.pending_count())

    @invariant()
    @guarded
    def aborted_batches_leave_no_trace(self) -> None:
        """FSM-8.4: keys seen only in rejected or failed batches are absent from the store."""
        for tenant, fid in sorted(self.aborted_findings, key=id_order):
            agree("get_finding of an aborted-only key", None, self.sink.get_finding(tenant, fid))
        for tenant, oid in sorted(self.aborted_occurrences, key=id_order):
            agree(
                "get_occurrence of an aborted-only key",
                None,
                self.sink.get_occurrence(tenant, oid),
            )
        for tenant, bid in sorted(self.aborted_observations, key=id_order):
            agree(
                "get_observation of an aborted-only key",
                None,
                self.sink.get_observation(tenant, bid),
            )

    # -- teardown (FSM-10)

    def teardown(self) -> None:
        """Drain, collect every outstanding result, re-check FSM-8 items 1, 2 and 4."""
        if self.broken:
            return
        self._release_all(CompletionOrder.OLDEST_FIRST)
        for op_id in self.model.uncollected_ids():
            self._collect(op_id)
        agree("pending_ids() after the drain", [], self.sink.pending_ids())
        self.durable_matches_model()
        self.referential_integrity()
        self.aborted_batches_leave_no_trace()
        for label in sorted(self.depth):
            self._label(label)
        # HYP-16: first, so the targeting phase climbs from the deepest example found.
        target(float(len(self.depth)), label="depth situations reached")
        target(float(self.model.max_queue), label="largest pending queue")
        target(float(self.aborted_batches), label="aborted batches")


__all__ = ["FindingsSinkMachine", "FindingsSinkUnderTest", "chain_records"]
