"""Depth scenarios (HYP-16), kept apart from the contract rules they drive.

A situation reached only through a chain of several rules is missing from
most examples when each step picks its rule at random (and from more under
Hypothesis's swarm testing, which the machines leave out: ``rules._rule_choice``).
Each scenario below is one rule that reaches one or more HYP-16
depth situations by itself; the exported machines combine these mixins with
the contract rules (``DoneLedgerMachine(DoneLedgerDepth, DoneLedgerContract)``),
and a mixin only records and labels depth (``Depth:...`` once per example,
from ``teardown``). The rules' predictions all go through the shared model.

Done ledger (:class:`DoneLedgerDepth`), situations (a) NEWEST_FIRST release
with two or more pending, (b) a committed retry of a payload that failed on an
injected commit fault, (c) three or more committed merges on one key:

=====================================  ====================================  ==============
rule                                   what it does                          situations
=====================================  ====================================  ==============
``upsert_same_key``                    2..=4 records for one key, at once    (c), DL-4
``delay_fault_release_newest``         delay 2..=3, fault, newest first      (a) (b) (c)
``commit_fault_then_retry``            fault, apply, retry until committed   (b) (c)
``delay_one_key_release_newest_each``  delay 3..=4 on one key, newest each   (a) (c)
``delay_two_batches_release_newest``   delay two batches, newest first       (a)
=====================================  ====================================  ==============

Findings sink (:class:`FindingsDepth`), situations (d) a full chain committed
after a delayed release, (e) an orphan or conflicting batch aborted with
durable state unchanged:

=======================================  ===================================  ============
rule                                     what it does                         situations
=======================================  ===================================  ============
``upsert_chain``                         a full chain, built and submitted    HYP-16
``upsert_resend``                        an observation re-send, submitted    FSM-9
``upsert_conflicting``                   a chain plus a twin in one batch     (e)
``upsert_orphan``                        an orphan occurrence or observation  (e)
``upsert_rejected_at_submit``            a mixed-tenant or bad-id batch       FS-2, FS-3
``delay_chain_then_release``             delay, release by id, then a twin    (d) (e)
``delay_chain_and_resend_newest_first``  child released before its parent     (d) (e)
``delay_full_chain_release_all``         chain plus orphan, ``release_all``   (d) (e)
=======================================  ===================================  ============

Choices: faults are armed only while the model's counter is 0 and delays are
topped up, never stacked, so most commits succeed (HYP-16); compound rules
draw hot keys (tenant 0, policy 0, slot 0 or 1; slot 0 is the prefix key) so
merges pile up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from hypothesis import strategies as st
from hypothesis.stateful import MultipleResults, multiple, rule

from gossip_model.inmemory.errors import (
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.persistence import (
    DoneLedgerKey,
    FindingRecord,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)

from ._checks import SubmittedWrite, guarded
from ._control import BATCHES, HANDLES, ControlMachine, committed
from ._findings_batches import (
    Lineage,
    bad_observation_id,
    chain_records,
    finding_twin,
    full_chain,
    mixed_tenant,
    observation_twin,
    occurrence_twin,
    orphan_observation,
    orphan_occurrence,
    resend,
)
from ._store_model import Application
from .strategies import (
    FLAGS,
    FS_ITEMS,
    FS_LOCATIONS,
    FS_OVIDS,
    FS_POLICIES,
    FS_RULES,
    FS_SECRETS,
    FS_TENANTS,
    FS_VERSIONS,
    KEYS,
    OBSERVATIONS,
    Batch,
    ChainFields,
    DlFields,
    KeyAt,
    ResendFields,
    chain_fields,
    dl_fields_lists,
    key_positions,
    make_dl_record,
    pool_key,
    resend_fields,
    small_ints,
)

HOT_SLOTS = small_ints(0, 1)
"""HYP-16 (c): compound rules write to the two hot keys (tenant 0, policy 0, slot 0 or 1)."""

_hot_records = dl_fields_lists(2, 3)
"""Record fields; the compound rules give them their (hot) key."""


def _keyed(key: DoneLedgerKey, records: Sequence[DlFields]) -> Batch:
    return tuple(make_dl_record(key, fields) for fields in records)


class DoneLedgerDepth(ControlMachine[Batch]):
    """HYP-16 (a)-(c) for the done ledger; combined into ``DoneLedgerMachine``."""

    def __init__(self, recorder: Callable[[str], object] | None = None) -> None:
        super().__init__(recorder)
        self.commits_per_key: Counter[DoneLedgerKey] = Counter()
        self.failed_payloads: set[Batch] = set()

    def before_release(self, newest_first: bool) -> None:
        super().before_release(newest_first)
        if newest_first and len(self.model.queue) >= 2:
            self.depth.add("Depth:newest-first-with-two-pending")

    def after_apply(self, app: Application[Batch], outcome: object, released: bool) -> None:
        super().after_apply(app, outcome, released)
        if isinstance(outcome, InjectedCommitFailure):
            self.failed_payloads.add(app.payload)
        elif committed(outcome):
            for key in {r.key for r in app.payload}:
                self.commits_per_key[key] += 1
                # The first commit inserts the key; each later one is a merge.
                if self.commits_per_key[key] >= 4:
                    self.depth.add("Depth:three-merges-on-one-key")
            if app.payload in self.failed_payloads:
                self.depth.add("Depth:retry-after-commit-fault")

    def _delayed_writes(
        self, key: DoneLedgerKey, records: Sequence[DlFields]
    ) -> list[SubmittedWrite[Batch]]:
        """Delay one single-record write per record, all for ``key`` (LED-2, LED-3)."""
        self._delay(len(records))
        return [self._accepted(_keyed(key, [r])) for r in records]

    def _retry_failed(
        self, writes: Sequence[SubmittedWrite[Batch]]
    ) -> list[SubmittedWrite[Batch]]:
        """ST-11: resubmit the payload of every write whose apply failed, until it commits."""
        return [
            retry
            for w in writes
            if isinstance(self.model.results.get(w.op_id), InjectedCommitFailure)
            for retry in self._until_committed(w.payload)
        ]

    @rule(target=BATCHES, at=key_positions, records=dl_fields_lists(2, 4))
    @guarded
    def upsert_same_key(self, at: KeyAt, records: list[DlFields]) -> Batch:
        """2..=4 records for one key submitted in one step (in-batch fold, DL-4)."""
        batch = _keyed(pool_key(*at), records)
        self._submit(batch)
        return batch

    @rule(target=HANDLES, slot=HOT_SLOTS, records=_hot_records, all_at_once=FLAGS)
    @guarded
    def delay_fault_release_newest(
        self, slot: int, records: list[DlFields], all_at_once: bool
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """Delay 2..=3 writes to a hot key and arm one commit fault; then either
        ``release_next(NEWEST_FIRST)`` (the newest absorbs the fault, LED-5) and the rest
        by id (LED-6), or ``release_all(NEWEST_FIRST)`` (LED-7, which also applies every
        older pending op); then retry every failed payload until it commits (ST-11)."""
        writes = self._delayed_writes(pool_key(0, 0, slot), records)
        self._arm_commit_fault()
        if all_at_once:
            self._release_all(CompletionOrder.NEWEST_FIRST)
            self._label("ReleasedAll")
        else:
            self._release_next(CompletionOrder.NEWEST_FIRST)
            for w in writes:
                if w.op_id in self.model.payloads:
                    self._release_specific(w.op_id)
        return multiple(*writes, *self._retry_failed(writes))

    @rule(
        target=HANDLES,
        slot=HOT_SLOTS,
        records=dl_fields_lists(1, 3),
    )
    @guarded
    def commit_fault_then_retry(
        self, slot: int, records: list[DlFields]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """Arm one commit fault, apply a batch for a hot key at once (released by id if
        delayed): ``InjectedCommitFailure``, invisible (I4); then the same payload again
        until it commits (ST-11)."""
        self._arm_commit_fault()
        return multiple(*self._until_committed(_keyed(pool_key(0, 0, slot), records)))

    @rule(
        target=HANDLES,
        key=KEYS,
        records=dl_fields_lists(3, 4),
    )
    @guarded
    def delay_one_key_release_newest_each(
        self, key: DoneLedgerKey, records: list[DlFields]
    ) -> MultipleResults[SubmittedWrite[Batch]]:
        """Delay 3..=4 single-record writes to one key and release them one at a time with
        ``release_next(NEWEST_FIRST)`` (LED-5): merges applied newest first (LED-12)."""
        writes = self._delayed_writes(key, records)
        while any(w.op_id in self.model.payloads for w in writes):
            self._release_next(CompletionOrder.NEWEST_FIRST)
        return multiple(*writes)

    @rule(first=BATCHES, second=BATCHES, all_at_once=FLAGS)
    @guarded
    def delay_two_batches_release_newest(
        self, first: Batch, second: Batch, all_at_once: bool
    ) -> None:
        """Delay two batches from ``batches`` (resubmissions, I10), then
        ``release_all(NEWEST_FIRST)`` (LED-7) or ``release_next(NEWEST_FIRST)`` and the
        older one by id (LED-5, LED-6)."""
        self._delay(2)
        older = self._accepted(first)
        self._accepted(second)
        if all_at_once:
            self._release_all(CompletionOrder.NEWEST_FIRST)
            self._label("ReleasedAll")
        else:
            self._release_next(CompletionOrder.NEWEST_FIRST)
            self._release_specific(older.op_id)


ABORT_KINDS = (
    MissingFinding,
    MissingOccurrence,
    FindingConflict,
    OccurrenceConflict,
    ObservationConflict,
)
"""Apply errors of orphan and conflicting batches (HYP-16 situation e)."""

_layers = st.sampled_from(("finding", "occurrence", "observation"))


class FindingsDepth(ControlMachine[FindingsUpsertBatch]):
    """HYP-16 (d) and (e) for the findings sink; combined into ``FindingsSinkMachine``."""

    lineage: Lineage  # built by the contract machine (FSM-1)

    def after_apply(
        self, app: Application[FindingsUpsertBatch], outcome: object, released: bool
    ) -> None:
        super().after_apply(app, outcome, released)
        batch = app.payload
        if committed(outcome):
            if released and batch.findings and batch.occurrences and batch.observations:
                self.depth.add("Depth:chain-committed-after-delayed-release")
        elif isinstance(outcome, ABORT_KINDS):
            self.depth.add("Depth:orphan-or-conflict-aborted")

    def _chain(
        self, fields: ChainFields, *, seen_at: int | None = None, location: bool = True
    ) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
        """A full chain from the sub-pool of ``fields``, registered in the lineage."""
        f, o, b = chain_records(
            tenant=FS_TENANTS[fields.tenant],
            item=FS_ITEMS[fields.item],
            rule_fp=FS_RULES[0],
            secret=FS_SECRETS[0],
            version=FS_VERSIONS[fields.version],
            offset=0,
            length=1,
            policy=FS_POLICIES[fields.policy],
            ovid=FS_OVIDS[0],
            seen_at=fields.seen_at if seen_at is None else seen_at,
            location=FS_LOCATIONS[fields.location] if location else None,
            run=fields.run,
        )
        self.lineage.add(f, o, b)
        return f, o, b

    def _twin(
        self, layer: str, b: ObservationRecord, step: int, together: bool
    ) -> FindingsUpsertBatch:
        """A stored-form twin of ``b``'s record at ``layer`` (with its ancestry)."""
        f, o = self.lineage.parents(b)
        if layer == "finding":
            return finding_twin(f, step, together)
        if layer == "occurrence":
            return occurrence_twin(o, f, step, together)
        return observation_twin(b, self.lineage, step, together)

    def _resent(self, base: ObservationRecord, fields: ResendFields) -> ObservationRecord:
        b = resend(base, fields.delta, fields.run, FS_LOCATIONS[fields.location])
        self.lineage.add_observation(b, self.lineage.parents(base)[1])
        return b

    @rule(target=OBSERVATIONS, fields=chain_fields)
    @guarded
    def upsert_chain(self, fields: ChainFields) -> ObservationRecord:
        """Build a full chain from a small sub-pool and submit it in one step."""
        f, o, b = self._chain(fields)
        self._submit(full_chain(f, o, b))
        return b

    @rule(target=OBSERVATIONS, base=OBSERVATIONS, fields=resend_fields)
    @guarded
    def upsert_resend(self, base: ObservationRecord, fields: ResendFields) -> ObservationRecord:
        """Re-send an observation alone, in one step (merges once durable, FSM-9)."""
        b = self._resent(base, fields)
        self._submit(FindingsUpsertBatch(observations=(b,)))
        return b

    @rule(target=BATCHES, base=OBSERVATIONS, layer=_layers, step=small_ints(1, 2))
    @guarded
    def upsert_conflicting(
        self, base: ObservationRecord, layer: str, step: int
    ) -> FindingsUpsertBatch:
        """(e): base's chain plus a twin at ``layer`` in one batch, submitted in one step;
        its apply always fails with the layer's ``*Conflict`` and changes nothing."""
        batch = self._twin(layer, base, step, together=True)
        self._submit(batch)
        return batch

    @rule(target=BATCHES, base=OBSERVATIONS, tenants=FLAGS)
    @guarded
    def upsert_rejected_at_submit(
        self, base: ObservationRecord, tenants: bool
    ) -> FindingsUpsertBatch:
        """FS-2 / FS-3 in one step: base's finding plus one of the other tenant
        (``InconsistentTenant``) or base with a wrong observation id
        (``ObservationIdMismatch``), submitted: rejected before any counter moves (FS-4)
        and absent afterwards (FSM-8.4)."""
        if tenants:
            f = self.lineage.parents(base)[0]
            batch = mixed_tenant(f, f.stable_item_id, f.rule_fingerprint, f.secret_hash)
        else:
            batch = bad_observation_id(base)
        self._submit(batch)
        return batch

    @rule(
        target=BATCHES,
        base=OBSERVATIONS,
        layer=st.sampled_from(("occurrence", "observation")),
        cross_tenant=FLAGS,
    )
    @guarded
    def upsert_orphan(
        self, base: ObservationRecord, layer: str, cross_tenant: bool
    ) -> FindingsUpsertBatch:
        """(e): an orphan occurrence or observation built from base's chain, submitted in
        one step: ``MissingFinding`` / ``MissingOccurrence``."""
        f, o = self.lineage.parents(base)
        if layer == "occurrence":
            batch = orphan_occurrence(
                f, cross_tenant, o.object_version_id, o.byte_offset, o.byte_length
            )
        else:
            batch = orphan_observation(o, cross_tenant, base.policy_hash, base.ovid_hash)
        self._submit(batch)
        return batch

    @rule(target=OBSERVATIONS, fields=chain_fields, layer=_layers)
    @guarded
    def delay_chain_then_release(self, fields: ChainFields, layer: str) -> ObservationRecord:
        """(d)+(e): a full chain submitted delayed, released by id (LED-6) and, after an
        injected commit fault, again until applied (ST-11); then a stored-form twin at
        ``layer`` applied alone: a ``*Conflict`` abort that changes nothing (FSM-6)."""
        f, o, b = self._chain(fields)
        self._delay(1)
        self._released_until_done(self._accepted(full_chain(f, o, b)))
        self._apply_now(self._twin(layer, b, 1, together=False))
        return b

    @rule(target=OBSERVATIONS, fields=chain_fields, resent=resend_fields)
    @guarded
    def delay_chain_and_resend_newest_first(
        self, fields: ChainFields, resent: ResendFields
    ) -> ObservationRecord:
        """(d)+(e): delay a full chain and then a child batch (the finding and a re-send of
        the observation, without the occurrence), then ``release_next(NEWEST_FIRST)``: the
        child is applied before its parent's batch and aborts with ``MissingOccurrence``
        unless the occurrence is durable (state unchanged, the finding included). Then the
        chain is released by id (retried after a commit fault) and an aborted child is
        applied again (now it merges, FSM-9)."""
        f, o, b = self._chain(fields, seen_at=3, location=False)
        child_b = self._resent(b, resent)
        self._delay(2)
        chain = self._accepted(full_chain(f, o, b))
        child = self._accepted(FindingsUpsertBatch(findings=(f,), observations=(child_b,)))
        self._release_next(CompletionOrder.NEWEST_FIRST)
        self._released_until_done(chain)
        if not committed(self.model.results[child.op_id]):
            self._apply_now(child.payload)
        return child_b

    @rule(leaf=OBSERVATIONS, cross_tenant=FLAGS)
    @guarded
    def delay_full_chain_release_all(self, leaf: ObservationRecord, cross_tenant: bool) -> None:
        """(d)+(e): the leaf's full ancestry and an orphan observation under the leaf's
        occurrence id (or its other tenant), both delayed, then ``release_all(OLDEST_FIRST)``
        (LED-7): the orphan aborts with ``MissingOccurrence``; the chain, after an injected
        commit fault, is released by id again until applied (ST-11)."""
        f, o = self.lineage.parents(leaf)
        self._delay(2)
        written = self._accepted(full_chain(f, o, leaf))
        self._accepted(orphan_observation(o, cross_tenant, leaf.policy_hash, leaf.ovid_hash))
        self._release_all(CompletionOrder.OLDEST_FIRST)
        self._label("ReleasedAll")
        self._released_until_done(written)


__all__ = ["ABORT_KINDS", "HOT_SLOTS", "DoneLedgerDepth", "FindingsDepth"]
