"""The in-memory findings sink (inmemory.md §5, FS-1..FS-18; contracts.md BE-2..BE-6).

Three parts:

* pure domain logic over :class:`FindingsState` (three dicts keyed by
  ``(TenantId, FindingId)``, ``(TenantId, OccurrenceId)`` and
  ``(TenantId, ObservationId)``, BE-2): :func:`apply_findings_batch`
  (FS-5..FS-14, validate every layer into scratch dicts, then mutate); the
  backend-neutral :func:`check_pre_submit` (FS-2, FS-3) and
  :func:`merge_observation` (FS-8..FS-10, BE-5) live in the public kit
  (:mod:`gossip_model.backend`) and are re-exported here;
* :class:`FindingsBackend`, a :class:`~gossip_model.backend.FindingsStoreBackend`
  over that state (commit-fault check first, FS-13; the reads);
* :class:`InMemoryFindingsSink`, a :class:`~gossip_model.backend.ControlledFindingsSink`
  over that backend.

Choices (documented as the spec asks):

* FS-9 / BE-5: see :func:`merge_observation` (the existing record's id is
  kept; an unchanged merge returns the existing object).
* ``RECOMMENDED_MAX_BATCH_SIZE`` is not enforced (as for the done ledger).
"""

from __future__ import annotations

from typing import cast

from gossip_model.backend.findings import (
    ControlledFindingsHandle,
    ControlledFindingsSink,
    FindingKey,
    ObservationKey,
    OccurrenceKey,
    check_pre_submit,
    merge_observation,
)
from gossip_model.core.errors import (
    FindingConflict,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    OccurrenceConflict,
)
from gossip_model.core.store import FaultCounters
from gossip_model.identity import FindingId, ObservationId, OccurrenceId, TenantId
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)


class FindingsState:
    """Durable findings state: one dict per layer, keyed tenant-scoped (BE-2)."""

    __slots__ = ("findings", "observations", "occurrences")

    def __init__(self) -> None:
        self.findings: dict[FindingKey, FindingRecord] = {}
        self.occurrences: dict[OccurrenceKey, OccurrenceRecord] = {}
        self.observations: dict[ObservationKey, ObservationRecord] = {}

    def counts(self) -> DurableFindingsCounts:
        """FS-17: the number of durable rows per layer."""
        return DurableFindingsCounts(
            len(self.findings), len(self.occurrences), len(self.observations)
        )

    def __repr__(self) -> str:
        return (
            f"FindingsState(findings={len(self.findings)}, "
            f"occurrences={len(self.occurrences)}, observations={len(self.observations)})"
        )


# --- pure domain logic ------------------------------------------------------------


def apply_findings_batch(
    state: FindingsState, batch: FindingsUpsertBatch
) -> FindingsCommitReceipt:
    """FS-5..FS-14 / BE-4: three layers validated into scratch dicts, then committed.

    Layer 1 (FS-5) findings and layer 2 (FS-6) occurrences: an identical
    in-batch duplicate is skipped, a different record under a key already in
    the batch or durable is a conflict; occurrences first need their finding
    (tenant-scoped) in the batch or durable. Layer 3 (FS-7): identity re-check,
    parent occurrence check, then a left-to-right merge starting from the
    durable row. Any error aborts the whole batch before any mutation (FS-11).
    Commit (FS-12): findings and occurrences only where absent, observations
    overwritten. Receipt (FS-14): the distinct keys per layer, including keys
    that were already durable.
    """
    durable_findings = state.findings
    durable_occurrences = state.occurrences
    durable_observations = state.observations

    findings: dict[FindingKey, FindingRecord] = {}
    for finding in batch.findings:
        finding_key = (finding.tenant_id, finding.finding_id)
        seen_finding = findings.get(finding_key)
        if seen_finding is None:
            seen_finding = durable_findings.get(finding_key)
            if seen_finding is None or seen_finding == finding:
                findings[finding_key] = finding
                continue
        if seen_finding != finding:
            raise FindingConflict(finding.tenant_id, finding.finding_id)

    occurrences: dict[OccurrenceKey, OccurrenceRecord] = {}
    for occurrence in batch.occurrences:
        parent = (occurrence.tenant_id, occurrence.finding_id)
        if parent not in findings and parent not in durable_findings:
            raise MissingFinding(
                occurrence.tenant_id, occurrence.finding_id, occurrence.occurrence_id
            )
        occurrence_key = (occurrence.tenant_id, occurrence.occurrence_id)
        seen_occurrence = occurrences.get(occurrence_key)
        if seen_occurrence is None:
            seen_occurrence = durable_occurrences.get(occurrence_key)
            if seen_occurrence is None or seen_occurrence == occurrence:
                occurrences[occurrence_key] = occurrence
                continue
        if seen_occurrence != occurrence:
            raise OccurrenceConflict(occurrence.tenant_id, occurrence.occurrence_id)

    observations: dict[ObservationKey, ObservationRecord] = {}
    for observation in batch.observations:
        observation.validate_identity()
        tenant = observation.tenant_id
        parent_occurrence = (tenant, observation.occurrence_id)
        if parent_occurrence not in occurrences and parent_occurrence not in durable_occurrences:
            raise MissingOccurrence(tenant, observation.occurrence_id, observation.observation_id)
        observation_key = (tenant, observation.observation_id)
        base = observations.get(observation_key)
        if base is None:
            base = durable_observations.get(observation_key)
        observations[observation_key] = (
            observation if base is None else merge_observation(base, observation)
        )

    # Commit: every check has passed (FS-12).
    for finding_key, finding in findings.items():
        durable_findings.setdefault(finding_key, finding)
    for occurrence_key, occurrence in occurrences.items():
        durable_occurrences.setdefault(occurrence_key, occurrence)
    durable_observations.update(observations)
    return FindingsCommitReceipt(len(findings), len(occurrences), len(observations))


def sorted_findings(state: FindingsState) -> list[FindingRecord]:
    """FS-15: findings sorted by (tenant, finding id) bytes."""
    return sorted(state.findings.values(), key=lambda r: (r.tenant_id.raw, r.finding_id.raw))


def sorted_occurrences(state: FindingsState) -> list[OccurrenceRecord]:
    """FS-15: occurrences sorted by (tenant, occurrence id) bytes."""
    return sorted(state.occurrences.values(), key=lambda r: (r.tenant_id.raw, r.occurrence_id.raw))


def sorted_observations(state: FindingsState) -> list[ObservationRecord]:
    """FS-15: observations sorted by (tenant, observation id) bytes."""
    return sorted(
        state.observations.values(), key=lambda r: (r.tenant_id.raw, r.observation_id.raw)
    )


# --- backend ----------------------------------------------------------------------


class FindingsBackend:
    """The in-memory findings backend over :class:`FindingsState` (P-1, FS-13, FS-5..FS-17).

    A :class:`~gossip_model.backend.FindingsStoreBackend`; planted-bug
    variants (``rules.planted``) subclass it and break one step.
    """

    kind = InMemoryStoreKind.FINDINGS

    def new_durable(self) -> FindingsState:
        return FindingsState()

    def apply(
        self, durable: FindingsState, counters: FaultCounters, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        """FS-13: commit fault first (ST-9), then :func:`apply_findings_batch`."""
        counters.check_commit_fault(self.kind)
        return apply_findings_batch(durable, payload)

    def findings_snapshot(self, durable: FindingsState) -> list[FindingRecord]:
        return sorted_findings(durable)

    def occurrences_snapshot(self, durable: FindingsState) -> list[OccurrenceRecord]:
        return sorted_occurrences(durable)

    def observations_snapshot(self, durable: FindingsState) -> list[ObservationRecord]:
        return sorted_observations(durable)

    def get_finding(
        self, durable: FindingsState, tenant_id: TenantId, finding_id: FindingId
    ) -> FindingRecord | None:
        return durable.findings.get((tenant_id, finding_id))

    def get_occurrence(
        self, durable: FindingsState, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        return durable.occurrences.get((tenant_id, occurrence_id))

    def get_observation(
        self, durable: FindingsState, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        return durable.observations.get((tenant_id, observation_id))

    def durable_counts(self, durable: FindingsState) -> DurableFindingsCounts:
        return durable.counts()

    def describe(self, durable: FindingsState) -> str:
        return (
            f"durable_findings={len(durable.findings)}, "
            f"durable_occurrences={len(durable.occurrences)}, "
            f"durable_observations={len(durable.observations)}"
        )


_BACKEND = FindingsBackend()


# --- public facade -----------------------------------------------------------------


class InMemoryFindingsHandle(ControlledFindingsHandle):
    """Commit handle of one ``upsert_batch`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class InMemoryFindingsSink(ControlledFindingsSink[FindingsState]):
    """In-memory ``FindingsSink`` with delayed completion and fault injection (§5).

    ``InMemoryFindingsSink()`` auto-completes (ST-1); ``auto_complete=False``
    queues every write (ST-2); ``clone()`` shares the state (ST-3). Reads see
    durable rows only and are tenant-scoped. Controls and releases: see
    :class:`~gossip_model.backend.ControlledFindingsSink` (FS-18).
    Open-point choices: module docstring.
    """

    __slots__ = ()

    repr_name = "InMemoryFindingsSink"
    handle_class = InMemoryFindingsHandle

    def __init__(self, auto_complete: bool = True) -> None:
        super().__init__(_BACKEND, auto_complete=auto_complete)

    def upsert_batch(self, batch: FindingsUpsertBatch) -> InMemoryFindingsHandle:
        """FS-1: see :meth:`ControlledFindingsSink.upsert_batch`."""
        return cast(InMemoryFindingsHandle, super().upsert_batch(batch))


__all__ = [
    "FindingKey",
    "FindingsBackend",
    "FindingsState",
    "InMemoryFindingsHandle",
    "InMemoryFindingsSink",
    "ObservationKey",
    "OccurrenceKey",
    "apply_findings_batch",
    "check_pre_submit",
    "merge_observation",
    "sorted_findings",
    "sorted_observations",
    "sorted_occurrences",
]
