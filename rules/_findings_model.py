"""Pure findings-sink model: three durable maps and the apply path, from scratch (FSM-2).

This is a second implementation of the findings apply path of
``inmemory.md`` §5 (FS-1..FS-14), written only against the record types of
:mod:`gossip_model.persistence` and the id derivations of
:mod:`gossip_model.identity`, never against the store's internals, so that a
shared mistake is unlikely:

* :func:`presubmit_error` is FS-2 then FS-3 (observation identity, then single
  tenant): checks that run before any counter and consume no op id (FS-4);
* :func:`apply_findings_batch` is FS-5..FS-14 after the commit-fault check
  (which :mod:`rules._store_model` handles): findings, then occurrences
  (tenant-scoped parent check first), then observations (identity re-check,
  parent check, merge with the batch entry or the durable row); the first
  error aborts the whole batch and leaves the state unchanged (FS-11);
* :func:`merge_observation` is FS-8..FS-10.

State values are immutable from the caller's point of view: every function
returns new maps and never mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gossip_model.identity import (
    FindingId,
    ObservationId,
    ObservationIdInputs,
    OccurrenceId,
    TenantId,
    derive_observation_id,
)
from gossip_model.inmemory.errors import (
    BatchValidation,
    FindingConflict,
    InMemoryPersistenceError,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.errors import InconsistentTenant, ObservationIdMismatch

FindingKey = tuple[TenantId, FindingId]
OccurrenceKey = tuple[TenantId, OccurrenceId]
ObservationKey = tuple[TenantId, ObservationId]


def finding_key(f: FindingRecord) -> FindingKey:
    return (f.tenant_id, f.finding_id)


def occurrence_key(o: OccurrenceRecord) -> OccurrenceKey:
    return (o.tenant_id, o.occurrence_id)


def observation_key(b: ObservationRecord) -> ObservationKey:
    return (b.tenant_id, b.observation_id)


def id_order(
    key: tuple[TenantId, FindingId | OccurrenceId | ObservationId],
) -> tuple[bytes, bytes]:
    """FS-15 snapshot order: tenant bytes, then id bytes."""
    return (bytes(key[0]), bytes(key[1]))


@dataclass(frozen=True, slots=True)
class FindingsState:
    """The three durable maps of the sink (FSM-1 ``durable``)."""

    findings: Mapping[FindingKey, FindingRecord] = field(default_factory=dict)
    occurrences: Mapping[OccurrenceKey, OccurrenceRecord] = field(default_factory=dict)
    observations: Mapping[ObservationKey, ObservationRecord] = field(default_factory=dict)

    def findings_snapshot(self) -> list[FindingRecord]:
        return [self.findings[k] for k in sorted(self.findings, key=id_order)]

    def occurrences_snapshot(self) -> list[OccurrenceRecord]:
        return [self.occurrences[k] for k in sorted(self.occurrences, key=id_order)]

    def observations_snapshot(self) -> list[ObservationRecord]:
        return [self.observations[k] for k in sorted(self.observations, key=id_order)]

    def counts(self) -> tuple[int, int, int]:
        return (len(self.findings), len(self.occurrences), len(self.observations))


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """Outcome of one apply: the new state, the receipt or error, merge kinds seen."""

    state: FindingsState
    outcome: FindingsCommitReceipt | InMemoryPersistenceError
    merges: tuple[str, ...] = ()

    @property
    def committed(self) -> bool:
        return isinstance(self.outcome, FindingsCommitReceipt)


def canonical_observation_id(b: ObservationRecord) -> ObservationId:
    """ID-18: the id derived from (tenant, policy, occurrence)."""
    return derive_observation_id(ObservationIdInputs(b.tenant_id, b.policy_hash, b.occurrence_id))


def identity_error(b: ObservationRecord) -> BatchValidation | None:
    """FS-2 / FS-7 identity check of one observation."""
    expected = canonical_observation_id(b)
    if expected != b.observation_id:
        return BatchValidation(ObservationIdMismatch(expected, b.observation_id))
    return None


def presubmit_error(batch: FindingsUpsertBatch) -> BatchValidation | None:
    """FS-2 then FS-3: raised by ``upsert_batch`` itself, before any counter (FS-4)."""
    for b in batch.observations:
        error = identity_error(b)
        if error is not None:
            return error
    tenants = [
        r.tenant_id
        for layer in (batch.findings, batch.occurrences, batch.observations)
        for r in layer
    ]
    if tenants and any(t != tenants[0] for t in tenants):
        return BatchValidation(InconsistentTenant())
    return None


def merge_kind(existing: ObservationRecord, incoming: ObservationRecord) -> str:
    """Event label of one observation merge (FSM-11): incoming later / earlier / equal."""
    before, after = int(existing.seen_at), int(incoming.seen_at)
    if after > before:
        return "Merge:later"
    if after < before:
        return "Merge:earlier"
    return "Merge:equal"


def merge_observation(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord | ObservationConflict:
    """FS-8..FS-10: identity check, provenance winner by ``seen_at``, location kept."""
    if (
        existing.tenant_id != incoming.tenant_id
        or existing.observation_id != incoming.observation_id
        or existing.occurrence_id != incoming.occurrence_id
        or existing.policy_hash != incoming.policy_hash
        or existing.ovid_hash != incoming.ovid_hash
    ):
        return ObservationConflict(incoming.tenant_id, incoming.observation_id)
    before, after = int(existing.seen_at), int(incoming.seen_at)
    if after != before:
        incoming_wins = after > before
    else:
        incoming_wins = existing.location is None and incoming.location is not None
    winner = incoming if incoming_wins else existing
    location: Location | None = winner.location
    if location is None:
        location = existing.location if existing.location is not None else incoming.location
    return ObservationRecord(
        existing.tenant_id,
        existing.observation_id,
        existing.occurrence_id,
        existing.policy_hash,
        existing.ovid_hash,
        winner.run_id,
        winner.shard_id,
        winner.fence_epoch,
        winner.seen_at,
        location,
    )


def apply_findings_batch(state: FindingsState, batch: FindingsUpsertBatch) -> ApplyResult:
    """FS-5..FS-14: validate all three layers into scratch maps, then commit."""
    findings: dict[FindingKey, FindingRecord] = {}
    for f in batch.findings:
        fk = finding_key(f)
        known_f = findings.get(fk, state.findings.get(fk))
        if known_f is not None and known_f != f:
            return ApplyResult(state, FindingConflict(f.tenant_id, f.finding_id))
        findings[fk] = f
    occurrences: dict[OccurrenceKey, OccurrenceRecord] = {}
    for o in batch.occurrences:
        parent_f = (o.tenant_id, o.finding_id)
        if parent_f not in findings and parent_f not in state.findings:
            return ApplyResult(state, MissingFinding(o.tenant_id, o.finding_id, o.occurrence_id))
        ok = occurrence_key(o)
        known_o = occurrences.get(ok, state.occurrences.get(ok))
        if known_o is not None and known_o != o:
            return ApplyResult(state, OccurrenceConflict(o.tenant_id, o.occurrence_id))
        occurrences[ok] = o
    observations: dict[ObservationKey, ObservationRecord] = {}
    merges: list[str] = []
    for b in batch.observations:
        error = identity_error(b)
        if error is not None:
            return ApplyResult(state, error)
        parent_o = (b.tenant_id, b.occurrence_id)
        if parent_o not in occurrences and parent_o not in state.occurrences:
            return ApplyResult(
                state, MissingOccurrence(b.tenant_id, b.occurrence_id, b.observation_id)
            )
        bk = observation_key(b)
        base = observations.get(bk, state.observations.get(bk))
        if base is None:
            observations[bk] = b
            continue
        merged = merge_observation(base, b)
        if isinstance(merged, ObservationConflict):
            return ApplyResult(state, merged)
        merges.append(merge_kind(base, b))
        observations[bk] = merged
    new_state = FindingsState(
        {**findings, **state.findings},
        {**occurrences, **state.occurrences},
        {**state.observations, **observations},
    )
    receipt = FindingsCommitReceipt(len(findings), len(occurrences), len(observations))
    return ApplyResult(new_state, receipt, tuple(merges))


def batch_keys(
    batch: FindingsUpsertBatch,
) -> tuple[set[FindingKey], set[OccurrenceKey], set[ObservationKey]]:
    """The keys a batch touches, per layer (FSM-8 invariant 4 bookkeeping)."""
    return (
        {finding_key(f) for f in batch.findings},
        {occurrence_key(o) for o in batch.occurrences},
        {observation_key(b) for b in batch.observations},
    )


__all__ = [
    "ApplyResult",
    "FindingKey",
    "FindingsState",
    "ObservationKey",
    "OccurrenceKey",
    "apply_findings_batch",
    "batch_keys",
    "canonical_observation_id",
    "finding_key",
    "id_order",
    "identity_error",
    "merge_kind",
    "merge_observation",
    "observation_key",
    "occurrence_key",
    "presubmit_error",
]
