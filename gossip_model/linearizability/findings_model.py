"""Sequential specification of the findings sink for the checker (contracts.md FS-*).

State: :class:`SinkState`, three :class:`FrozenMap` s keyed ``(tenant, id)``.
The apply path is written here from the rules (inmemory.md FS-5..FS-14), on
the record types and id derivations of :mod:`gossip_model.persistence`, not
on any store: findings and occurrences are immutable (a different record under
a known id is ``FindingConflict`` / ``OccurrenceConflict``); an occurrence
needs its finding and an observation its occurrence (in the batch or
durable, same tenant); observations merge (FS-8..FS-10, the later
``seen_at`` wins, a location is never lost); any error aborts the batch. The
pre-submit checks FS-2 / FS-3 (identity, one tenant) do not depend on state
and are checked locally, as is the empty batch's receipt ``(0, 0, 0)``.

Partitioning: per tenant (a batch holds one tenant, FS-3; every read names
one). ``findings_snapshot`` spans tenants: each tenant checks its slice.
``partitioned=False`` checks everything as one partition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gossip_model.identity import TenantId
from gossip_model.linearizability.frozen_map import FrozenMap
from gossip_model.linearizability.history import (
    Failed,
    History,
    Maybe,
    Operation,
    Raised,
    Returned,
    describe_value,
)
from gossip_model.linearizability.spec import (
    Illegal,
    LocalViolation,
    Partition,
    Partitioning,
)
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.errors import InconsistentTenant, ObservationIdMismatch

UPSERT = "upsert_batch"
GET_FINDING = "get_finding"
GET_OCCURRENCE = "get_occurrence"
GET_OBSERVATION = "get_observation"
SNAPSHOT = "findings_snapshot"
KINDS = (UPSERT, GET_FINDING, GET_OCCURRENCE, GET_OBSERVATION, SNAPSHOT)

Key = tuple[TenantId, object]
_EMPTY_MAP: FrozenMap[Key, Any] = FrozenMap()


@dataclass(frozen=True, slots=True)
class SinkState:
    """The three durable maps (hashable: the checker memoizes states)."""

    findings: FrozenMap[Key, FindingRecord] = _EMPTY_MAP
    occurrences: FrozenMap[Key, OccurrenceRecord] = _EMPTY_MAP
    observations: FrozenMap[Key, ObservationRecord] = _EMPTY_MAP

    def describe(self) -> str:
        return (
            f"{len(self.findings)} findings, {len(self.occurrences)} occurrences, "
            f"{len(self.observations)} observations"
        )


EMPTY = SinkState()


def presubmit_error(batch: FindingsUpsertBatch) -> str | None:
    """FS-2 then FS-3: observation identity, then a single tenant (state-independent)."""
    for observation in batch.observations:
        if not observation.verify_id():
            return f"BatchValidation({ObservationIdMismatch.__name__})"
    tenants = {
        r.tenant_id
        for layer in (batch.findings, batch.occurrences, batch.observations)
        for r in layer
    }
    if len(tenants) > 1:
        return f"BatchValidation({InconsistentTenant.__name__})"
    return None


def merge_observation(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord | None:
    """FS-8..FS-10; ``None`` when the identities differ (``ObservationConflict``)."""
    same = (
        existing.occurrence_id == incoming.occurrence_id
        and existing.policy_hash == incoming.policy_hash
        and existing.ovid_hash == incoming.ovid_hash
    )
    if not same:
        return None
    if incoming.seen_at.value != existing.seen_at.value:
        incoming_wins = incoming.seen_at.value > existing.seen_at.value
    else:
        incoming_wins = existing.location is None and incoming.location is not None
    winner = incoming if incoming_wins else existing
    location = winner.location
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


def apply_batch(
    state: SinkState, batch: FindingsUpsertBatch
) -> tuple[SinkState, FindingsCommitReceipt | str]:
    """FS-5..FS-14: the new state and the receipt, or the unchanged state and an error kind."""
    findings: dict[Key, FindingRecord] = {}
    for f in batch.findings:
        key: Key = (f.tenant_id, f.finding_id)
        known = findings.get(key, state.findings.get(key))
        if known is not None and known != f:
            return state, "FindingConflict"
        findings[key] = f
    occurrences: dict[Key, OccurrenceRecord] = {}
    for o in batch.occurrences:
        parent: Key = (o.tenant_id, o.finding_id)
        if parent not in findings and parent not in state.findings:
            return state, "MissingFinding"
        key = (o.tenant_id, o.occurrence_id)
        known_o = occurrences.get(key, state.occurrences.get(key))
        if known_o is not None and known_o != o:
            return state, "OccurrenceConflict"
        occurrences[key] = o
    observations: dict[Key, ObservationRecord] = {}
    for b in batch.observations:
        parent = (b.tenant_id, b.occurrence_id)
        if parent not in occurrences and parent not in state.occurrences:
            return state, "MissingOccurrence"
        key = (b.tenant_id, b.observation_id)
        base = observations.get(key, state.observations.get(key))
        merged = b if base is None else merge_observation(base, b)
        if merged is None:
            return state, "ObservationConflict"
        observations[key] = merged
    after = SinkState(
        state.findings.updated({k: v for k, v in findings.items() if k not in state.findings}),
        state.occurrences.updated(
            {k: v for k, v in occurrences.items() if k not in state.occurrences}
        ),
        state.observations.updated(observations),
    )
    return after, FindingsCommitReceipt(len(findings), len(occurrences), len(observations))


def _point(state: SinkState, kind: str) -> Mapping[Key, object]:
    if kind == GET_FINDING:
        return state.findings
    if kind == GET_OCCURRENCE:
        return state.occurrences
    return state.observations


def make_step(tenant: TenantId | None) -> Callable[[SinkState, Operation], SinkState | Illegal]:
    """The step of the partition of ``tenant`` (``None``: every tenant)."""

    def step(state: SinkState, op: Operation) -> SinkState | Illegal:
        outcome = op.outcome
        if op.kind == UPSERT:
            after, result = apply_batch(state, op.args[0])
            if isinstance(outcome, Maybe):
                return after
            if isinstance(outcome, Raised):
                if result != outcome.kind:
                    return Illegal(
                        f"raised {outcome.kind}; in this state the batch gives "
                        f"{describe_value(result)}"
                    )
                return state
            assert isinstance(outcome, Returned)
            if result != op.value:
                return Illegal(
                    f"returned {describe_value(op.value)}; in this state the batch gives "
                    f"{describe_value(result)}"
                )
            return after
        assert isinstance(outcome, Returned)
        if op.kind == SNAPSHOT:
            rows = {
                (f.tenant_id, f.finding_id): f
                for f in op.value
                if tenant is None or f.tenant_id == tenant
            }
            if rows != dict(state.findings.items()):
                return Illegal(
                    f"findings_snapshot shows {len(rows)} findings, "
                    f"state holds {len(state.findings)}"
                )
            return state
        key = (op.args[0], op.args[1])
        expected = _point(state, op.kind).get(key)
        if op.value != expected:
            return Illegal(
                f"{op.kind} returned {describe_value(op.value)}, "
                f"state holds {describe_value(expected)}"
            )
        return state

    return step


def _local(op: Operation) -> LocalViolation | bool:
    """Local checks; ``True``: order-free and correct, ``False``: needs an order."""
    outcome = op.outcome
    if op.kind == UPSERT:
        batch: FindingsUpsertBatch = op.args[0]
        predicted = presubmit_error(batch)
        if predicted is not None:
            if isinstance(outcome, Raised | Maybe) and (
                isinstance(outcome, Maybe) or outcome.kind == predicted
            ):
                return True
            return LocalViolation(op, f"the model predicts {predicted} (FS-2/FS-3)")
        if batch.is_empty():
            if isinstance(outcome, Returned) and op.value != FindingsCommitReceipt(0, 0, 0):
                return LocalViolation(op, "an empty batch must give receipt (0, 0, 0) (FS-14)")
            return True
        return False
    if isinstance(outcome, Maybe | Raised):
        return True
    if op.kind == SNAPSHOT:
        ids = [(f.tenant_id.raw, f.finding_id.raw) for f in op.value]
        if ids != sorted(set(ids)):
            return LocalViolation(
                op, "findings_snapshot is not sorted by (tenant, id), once each (FS-15)"
            )
    return False


def _tenant_of(op: Operation) -> TenantId | None:
    if op.kind == SNAPSHOT:
        return None
    tenant: TenantId | None = op.args[0].tenant() if op.kind == UPSERT else op.args[0]
    return tenant


class FindingsModel:
    """The findings sink's sequential specification (``check(history, FINDINGS)``)."""

    name = "findings sink"

    def partition(self, history: History, *, partitioned: bool = True) -> Partitioning:
        local: list[LocalViolation] = []
        ordered: list[Operation] = []
        for op in history:
            if op.kind not in KINDS:
                raise ValueError(f"findings history: unknown operation kind {op.kind!r}")
            if isinstance(op.outcome, Failed):
                continue
            verdict = _local(op)
            if isinstance(verdict, LocalViolation):
                local.append(verdict)
            elif verdict is False:
                ordered.append(op)
        if not partitioned:
            whole = (Partition("all", tuple(ordered), EMPTY, make_step(None), SinkState.describe),)
            return Partitioning(whole if ordered else (), tuple(local))
        tenants: dict[bytes, TenantId] = {}
        for op in ordered:
            tenant = _tenant_of(op)
            if tenant is not None:
                tenants[tenant.raw] = tenant
            elif op.kind == SNAPSHOT:
                for f in op.value:
                    tenants[f.tenant_id.raw] = f.tenant_id
        partitions = []
        for raw in sorted(tenants):
            tenant = tenants[raw]
            ops = tuple(op for op in ordered if _tenant_of(op) in (tenant, None))
            partitions.append(
                Partition(f"tenant {tenant!r}", ops, EMPTY, make_step(tenant), SinkState.describe)
            )
        return Partitioning(tuple(partitions), tuple(local))


FINDINGS = FindingsModel()

__all__ = [
    "FINDINGS",
    "FindingsModel",
    "SinkState",
    "apply_batch",
    "merge_observation",
    "presubmit_error",
]
