"""``FindingsSinkMachine``: a Hypothesis state machine for any findings sink (sim.md §11.3).

The control rules (submit, wait, releases, faults, auto-complete, the pending
invariant, teardown) come from :class:`rules._control.ControlMachine`; the
depth scenarios of HYP-16 from :class:`rules.depth.FindingsDepth`. The model
is :mod:`rules._findings_model`, an independent implementation of the apply
path (FSM-2). This module holds the findings contract:

=================================  ===================================  =================
rule                               builds or calls                      spec
=================================  ===================================  =================
``start``                          the findings fault prefix            FSM-5
``new_finding/occurrence/obs...``  records from the FSM-3 pools         FSM-6
``resend_observation``             same id, earlier/equal/later         FSM-9
``batch_chain``                    ancestry limited to a shape          FSM-6, FSM-7
``batch_findings``                 findings only                        FS-5
``batch_conflicting_*``            a stored-form twin                   FS-5..FS-8
``batch_orphan_*``                 a missing or cross-tenant parent     FS-6, FS-7
``batch_mixed_tenant``             two tenants: rejected at submit      FS-3
``batch_bad_observation_id``       a wrong id: rejected at submit       FS-2
``batch_empty``                    receipt (0, 0, 0)                    FS-14
``read_snapshots``                 three snapshots, ``durable_counts``  FS-15, FS-17
``read_finding/occurrence/obs..``  tenant-scoped point lookups          FS-16
invariants                         model, parents, aborted keys         FSM-8.1, .2, .4
=================================  ===================================  =================

Testing another backend (HYP-2): subclass :class:`FindingsSinkMachine` and
override :meth:`~FindingsContract.make_sink` (one fresh sink per example,
offering :class:`FindingsSinkUnderTest`); wire its ``TestCase`` as in
:mod:`rules.done_ledger`.

Choices: labels are exactly those of FSM-11; FSM-7 is adopted (``batch_chain``
cross-checks ``validate_referential_integrity()`` against its shape);
``batch_orphan_occurrence`` keeps ``f`` in the batch when the orphan stays in
``f``'s tenant, so a store that only checks "some parent is in the batch" is
caught; receipts and errors (FSM-8.5) are compared where results are
collected, since invariants never call ``wait``.
"""

from __future__ import annotations

from typing import Protocol

from hypothesis import note, target
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from gossip_model.identity import FindingId, ObservationId, OccurrenceId, TenantId
from gossip_model.inmemory import InMemoryFindingsSink
from gossip_model.inmemory.errors import (
    CompletionOrder,
    InjectedCommitFailure,
    InMemoryStoreKind,
    PendingWriteId,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.errors import OrphanedReference

from ._checks import HandleLike, StoreControls, agree, guarded
from ._control import BATCHES, ControlMachine, committed
from ._findings_batches import (
    Lineage,
    bad_observation_id,
    chain_records,
    finding_twin,
    full_chain,
    mixed_tenant,
    observation,
    observation_twin,
    occurrence_twin,
    orphan_observation,
    orphan_occurrence,
    resend,
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
    occurrence_key,
    presubmit_error,
)
from ._store_model import Application
from .depth import FindingsDepth
from .strategies import (
    FINDINGS,
    FLAGS,
    FS_ITEMS,
    FS_LOCATIONS,
    FS_OVIDS,
    FS_POLICIES,
    FS_RULES,
    FS_SECRETS,
    FS_TENANTS,
    FS_VERSIONS,
    OBSERVATIONS,
    OCCURRENCES,
    FindingFields,
    ObservationFields,
    OccurrenceFields,
    ResendFields,
    finding_fields,
    fs_items,
    fs_ovids,
    fs_policies,
    fs_rules,
    fs_secrets,
    observation_fields,
    occurrence_fields,
    other_tenant,
    resend_fields,
    small_ints,
)

SHAPES = ("full", "no_finding", "observation_only", "parents_only")
"""FSM-6 ``batch_chain`` shapes; only ``full`` and ``parents_only`` are closed."""

Batch = FindingsUpsertBatch


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


class FindingsContract(ControlMachine[Batch]):
    """The findings rules of FSM-1..FSM-11 on top of the shared control rules."""

    KIND = InMemoryStoreKind.FINDINGS
    LABEL_PENDING = "Pending"
    LABEL_SUBMIT_FAILED = "SubmitFailed"

    findings = FINDINGS
    occurrences = OCCURRENCES
    observations = OBSERVATIONS

    def build_store(self) -> FindingsSinkUnderTest:
        self.durable = FindingsState()
        self._snapshot_cache: tuple[FindingsState | None, Snapshots] = (None, ([], [], []))
        self.lineage = Lineage()
        self.committed_keys: tuple[set[FindingKey], set[OccurrenceKey], set[ObservationKey]] = (
            set(),
            set(),
            set(),
        )
        self.aborted_keys: tuple[set[FindingKey], set[OccurrenceKey], set[ObservationKey]] = (
            set(),
            set(),
            set(),
        )
        self.aborted_batches = 0
        # What the two model-side invariants last checked (their preconditions, HYP-8):
        # the model's state object (replaced on every commit, FSM-2) and the aborted
        # keys' sizes (sets that only grow, bar keys that later commit).
        self._integrity_checked: FindingsState | None = None
        self._aborted_checked: tuple[FindingsState, tuple[int, int, int]] | None = None
        self.sink: FindingsSinkUnderTest = self.make_sink()
        return self.sink

    def make_sink(self) -> FindingsSinkUnderTest:
        """HYP-2: the store under test; override in a subclass to test another backend."""
        return InMemoryFindingsSink()

    # -- domain hooks of ControlMachine

    def send(self, payload: Batch) -> HandleLike:
        return self.sink.upsert_batch(payload)

    def presubmit_error(self, payload: Batch) -> BaseException | None:
        """FS-2 then FS-3, before any counter (FS-4)."""
        return presubmit_error(payload)

    def apply_payload(self, payload: Batch) -> object:
        """FSM-2 on the pure model; merge kinds are labelled (FSM-11)."""
        result = apply_findings_batch(self.durable, payload)
        self.durable = result.state
        for label in result.merges:
            self._label(label)
        return result.outcome

    def durable_reads(self) -> object:
        return self._snapshots()

    def after_apply(self, app: Application[Batch], outcome: object, released: bool) -> None:
        """FSM-11 labels and the FSM-8 item 4 bookkeeping."""
        if isinstance(outcome, InjectedCommitFailure):
            self._label("CommitFailed")
        elif committed(outcome):
            self._label("Committed")
        else:
            self._label(type(outcome).__name__)
        if released:
            self._label("Released")
        if committed(outcome):
            for committed_layer, aborted_layer, keys in zip(
                self.committed_keys, self.aborted_keys, batch_keys(app.payload), strict=True
            ):
                committed_layer |= keys  # type: ignore[operator]
                aborted_layer -= keys  # type: ignore[operator]
        else:
            self.after_rejection(app.payload)

    def after_rejection(self, payload: Batch) -> None:
        """FSM-8 item 4: keys of a rejected or failed batch that never committed."""
        self.aborted_batches += 1
        for committed_layer, aborted_layer, keys in zip(
            self.committed_keys, self.aborted_keys, batch_keys(payload), strict=True
        ):
            aborted_layer |= keys - committed_layer  # type: ignore[operator]

    def _aborted_version(self) -> tuple[FindingsState, tuple[int, int, int]]:
        findings, occurrences, observations = self.aborted_keys
        return self.durable, (len(findings), len(occurrences), len(observations))

    def _aborted_keys_unchecked(self) -> bool:
        """The model state or the aborted keys changed since the last FSM-8.4 check."""
        checked, (state, sizes) = self._aborted_checked, self._aborted_version()
        return checked is None or checked[0] is not state or checked[1] != sizes

    def converged(self) -> None:
        # Called directly, the invariants run whatever their preconditions say.
        self.durable_matches_model()
        self.referential_integrity()
        self.aborted_batches_leave_no_trace()

    def final_targets(self) -> None:
        target(float(self.aborted_batches), label="aborted batches")

    def _snapshots(self) -> Snapshots:
        return (
            self.sink.findings_snapshot(),
            self.sink.occurrences_snapshot(),
            self.sink.observations_snapshot(),
        )

    def _model_snapshots(self) -> Snapshots:
        """The model's three snapshots, computed once per model state (states are
        replaced on every commit, FSM-2), so the per-step invariant stays cheap."""
        state, snapshots = self._snapshot_cache
        if state is not self.durable:
            snapshots = (
                self.durable.findings_snapshot(),
                self.durable.occurrences_snapshot(),
                self.durable.observations_snapshot(),
            )
            self._snapshot_cache = (self.durable, snapshots)
        return snapshots

    def _agree_snapshots(self, what: str) -> None:
        """One comparison per layer, so a failure names the layer and the record."""
        predicted = self._model_snapshots()
        answered = self._snapshots()
        for layer, p, a in zip(
            ("findings", "occurrences", "observations"), predicted, answered, strict=True
        ):
            agree(f"{what}: {layer}_snapshot()", p, a)
        agree(
            f"{what}: durable_counts()",
            self.durable.counts(),
            counts_of(self.sink.durable_counts()),
        )

    # -- initialize: the findings analogue of PT-7 (FSM-5)

    @initialize(target=OBSERVATIONS)
    @guarded
    def start(self) -> ObservationRecord:
        """FSM-5: delayed chain invisible; its release fails on a commit fault; retry commits."""
        f, o, b = chain_records(
            tenant=FS_TENANTS[0],
            item=FS_ITEMS[0],
            rule_fp=FS_RULES[0],
            secret=FS_SECRETS[0],
            version=FS_VERSIONS[0],
            offset=0,
            length=1,
            policy=FS_POLICIES[0],
            ovid=FS_OVIDS[0],
            seen_at=1,
            location=None,
        )
        note(
            f"start() writes the chain C = ({f!r}, {o!r}, {b!r}) twice:"
            " first delayed, its release failing, then committed"
        )
        self.lineage.add(f, o, b)
        chain = full_chain(f, o, b)
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
            "prefix failed release result",
            InjectedCommitFailure(self.KIND),
            self.model.results.get(1),
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

    @rule(target=FINDINGS, fields=finding_fields)
    @guarded
    def new_finding(self, fields: FindingFields) -> FindingRecord:
        """``FindingRecord.new`` at these FSM-3 pool positions."""
        return FindingRecord.new(
            FS_TENANTS[fields.tenant],
            FS_ITEMS[fields.item],
            FS_RULES[fields.rule],
            FS_SECRETS[fields.secret],
        )

    @rule(target=OCCURRENCES, parent=FINDINGS, fields=occurrence_fields)
    @guarded
    def new_occurrence(self, parent: FindingRecord, fields: OccurrenceFields) -> OccurrenceRecord:
        o = OccurrenceRecord.new(
            parent.tenant_id,
            parent.finding_id,
            FS_VERSIONS[fields.version],
            fields.offset,
            fields.length,
        )
        self.lineage.add(parent, o)
        return o

    @rule(target=OBSERVATIONS, parent=OCCURRENCES, fields=observation_fields)
    @guarded
    def new_observation(
        self, parent: OccurrenceRecord, fields: ObservationFields
    ) -> ObservationRecord:
        b = observation(
            parent,
            policy=FS_POLICIES[fields.policy],
            ovid=FS_OVIDS[fields.ovid],
            run=fields.run,
            shard=fields.shard,
            fence=fields.fence,
            seen_at=fields.seen_at,
            location=FS_LOCATIONS[fields.location],
        )
        self.lineage.add_observation(b, parent)
        return b

    def _resend(self, base: ObservationRecord, fields: ResendFields) -> ObservationRecord:
        b = resend(base, fields.delta, fields.run, FS_LOCATIONS[fields.location])
        self.lineage.add_observation(b, self.lineage.parents(base)[1])
        return b

    @rule(target=OBSERVATIONS, base=OBSERVATIONS, fields=resend_fields)
    @guarded
    def resend_observation(
        self, base: ObservationRecord, fields: ResendFields
    ) -> ObservationRecord:
        """Same identity as ``base``, ``seen_at`` earlier, equal or later (FSM-9)."""
        return self._resend(base, fields)

    # -- batch builders (FSM-6)

    @rule(
        target=BATCHES,
        leaf=OBSERVATIONS,
        shape=st.sampled_from(SHAPES),
        duplicate=FLAGS,
    )
    @guarded
    def batch_chain(self, leaf: ObservationRecord, shape: str, duplicate: bool) -> Batch:
        """The leaf's ancestry limited to ``shape``; ``duplicate`` repeats each record (FSM-7)."""
        f, o = self.lineage.parents(leaf)
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

    @rule(target=BATCHES, first=FINDINGS, more=st.lists(FINDINGS, max_size=3))
    @guarded
    def batch_findings(self, first: FindingRecord, more: list[FindingRecord]) -> Batch:
        """Findings only; replays, duplicates and mixed tenants arise naturally."""
        return FindingsUpsertBatch(findings=(first, *more))

    @rule(
        target=BATCHES,
        base=FINDINGS,
        step=small_ints(1, 3),
        together=FLAGS,
    )
    @guarded
    def batch_conflicting_finding(self, base: FindingRecord, step: int, together: bool) -> Batch:
        """A stored-form twin (same tenant and id, other item): ``FindingConflict``."""
        return finding_twin(base, step, together)

    @rule(
        target=BATCHES,
        base=OCCURRENCES,
        step=small_ints(1, 3),
        together=FLAGS,
    )
    @guarded
    def batch_conflicting_occurrence(
        self, base: OccurrenceRecord, step: int, together: bool
    ) -> Batch:
        """A stored-form twin (other offset) plus the parent: ``OccurrenceConflict``."""
        return occurrence_twin(base, self.lineage.finding_of[occurrence_key(base)], step, together)

    @rule(
        target=BATCHES,
        base=OBSERVATIONS,
        step=small_ints(1, 2),
        together=FLAGS,
    )
    @guarded
    def batch_conflicting_observation(
        self, base: ObservationRecord, step: int, together: bool
    ) -> Batch:
        """Same id, another ovid hash, plus base's ancestry: ``ObservationConflict``."""
        return observation_twin(base, self.lineage, step, together)

    @rule(
        target=BATCHES,
        f=FINDINGS,
        cross_tenant=FLAGS,
        fields=occurrence_fields,
    )
    @guarded
    def batch_orphan_occurrence(
        self, f: FindingRecord, cross_tenant: bool, fields: OccurrenceFields
    ) -> Batch:
        """``MissingFinding``: an unknown finding id, or ``f``'s id under the other tenant."""
        return orphan_occurrence(
            f, cross_tenant, FS_VERSIONS[fields.version], fields.offset, fields.length
        )

    @rule(
        target=BATCHES,
        o=OCCURRENCES,
        cross_tenant=FLAGS,
        policy=fs_policies,
        ovid=fs_ovids,
    )
    @guarded
    def batch_orphan_observation(
        self, o: OccurrenceRecord, cross_tenant: bool, policy: int, ovid: int
    ) -> Batch:
        """``MissingOccurrence``: an unknown occurrence id, or ``o``'s under the other tenant."""
        return orphan_observation(o, cross_tenant, FS_POLICIES[policy], FS_OVIDS[ovid])

    @rule(
        target=BATCHES,
        f=FINDINGS,
        item=fs_items,
        rule_fp=fs_rules,
        secret=fs_secrets,
    )
    @guarded
    def batch_mixed_tenant(self, f: FindingRecord, item: int, rule_fp: int, secret: int) -> Batch:
        """Rejected before submission with ``BatchValidation(InconsistentTenant())`` (FS-3)."""
        return mixed_tenant(f, FS_ITEMS[item], FS_RULES[rule_fp], FS_SECRETS[secret])

    @rule(target=BATCHES, b=OBSERVATIONS)
    @guarded
    def batch_bad_observation_id(self, b: ObservationRecord) -> Batch:
        """Rejected before submission with ``ObservationIdMismatch`` (FS-2)."""
        return bad_observation_id(b)

    @rule(target=BATCHES)
    @guarded
    def batch_empty(self) -> Batch:
        """A valid no-op batch: receipt (0, 0, 0) (FS-14)."""
        return FindingsUpsertBatch()

    # -- reads

    @rule()
    @guarded
    def read_snapshots(self) -> None:
        """FS-15 / FS-17: the three snapshots and ``durable_counts()``."""
        self._agree_snapshots("read_snapshots")
        self._label("Read")

    @rule(f=FINDINGS, other=FLAGS)
    @guarded
    def read_finding(self, f: FindingRecord, other: bool) -> None:
        """FS-16: tenant-scoped point lookup (the other tenant sees only its own key)."""
        tenant = other_tenant(f.tenant_id) if other else f.tenant_id
        predicted = self.durable.findings.get((tenant, f.finding_id))
        agree("get_finding", predicted, self.sink.get_finding(tenant, f.finding_id))
        self._label("Read")

    @rule(o=OCCURRENCES, other=FLAGS)
    @guarded
    def read_occurrence(self, o: OccurrenceRecord, other: bool) -> None:
        tenant = other_tenant(o.tenant_id) if other else o.tenant_id
        predicted = self.durable.occurrences.get((tenant, o.occurrence_id))
        agree("get_occurrence", predicted, self.sink.get_occurrence(tenant, o.occurrence_id))
        self._label("Read")

    @rule(b=OBSERVATIONS, other=FLAGS)
    @guarded
    def read_observation(self, b: ObservationRecord, other: bool) -> None:
        tenant = other_tenant(b.tenant_id) if other else b.tenant_id
        predicted = self.durable.observations.get((tenant, b.observation_id))
        agree("get_observation", predicted, self.sink.get_observation(tenant, b.observation_id))
        self._label("Read")

    # -- invariants (FSM-8; pending_matches_model comes from ControlMachine)

    @precondition(lambda self: self._store_touched_since("durable_matches_model"))
    @invariant()
    @guarded
    def durable_matches_model(self) -> None:
        """FSM-8.1: three snapshots and ``durable_counts()`` equal the model, at every step
        that called the store (see ``ControlMachine._store_touched_since``)."""
        self._checked("durable_matches_model")
        self._agree_snapshots("durable_matches_model")

    @precondition(lambda self: self.durable is not self._integrity_checked)
    @invariant()
    @guarded
    def referential_integrity(self) -> None:
        """FSM-8.2: every durable child has a durable parent under the same tenant.

        Checked on the model's snapshots, once per model state: ``durable_matches_model``
        (run before it, invariants run in name order) has just found the store's equal
        to them."""
        self._integrity_checked = self.durable
        findings, occurrences, observations = self._model_snapshots()
        finding_keys = {finding_key(f) for f in findings}
        occurrence_keys = {occurrence_key(o) for o in occurrences}
        for o in occurrences:
            if (o.tenant_id, o.finding_id) not in finding_keys:
                agree(f"parent finding of durable {o!r}", "durable", None)
        for b in observations:
            if (b.tenant_id, b.occurrence_id) not in occurrence_keys:
                agree(f"parent occurrence of durable {b!r}", "durable", None)

    @precondition(lambda self: self._aborted_keys_unchecked())
    @invariant()
    @guarded
    def aborted_batches_leave_no_trace(self) -> None:
        """FSM-8.4: keys seen only in rejected or failed batches are absent from the store.

        The point lookups run again only after a step that changed the model's state or
        the aborted keys: durable state changes only by an apply, which the model
        predicts (and ``durable_matches_model`` catches a store that changed anyway)."""
        self._aborted_checked = self._aborted_version()
        findings, occurrences, observations = self.aborted_keys
        for tenant, fid in sorted(findings, key=id_order):
            agree("get_finding of an aborted-only key", None, self.sink.get_finding(tenant, fid))
        for tenant, oid in sorted(occurrences, key=id_order):
            agree(
                "get_occurrence of an aborted-only key",
                None,
                self.sink.get_occurrence(tenant, oid),
            )
        for tenant, bid in sorted(observations, key=id_order):
            agree(
                "get_observation of an aborted-only key",
                None,
                self.sink.get_observation(tenant, bid),
            )


class FindingsSinkMachine(FindingsDepth, FindingsContract):
    """FSM-1..FSM-11 plus the HYP-16 depth scenarios; see the module docstring."""


__all__ = [
    "FindingsContract",
    "FindingsSinkMachine",
    "FindingsSinkUnderTest",
    "chain_records",
    "counts_of",
]
