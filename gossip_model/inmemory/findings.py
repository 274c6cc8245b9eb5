"""The in-memory findings sink (inmemory.md §5, FS-1..FS-18; contracts.md BE-2..BE-6).

Three parts, kept apart so other backends can reuse the first:

* pure domain logic over :class:`FindingsState` (three dicts keyed by
  ``(TenantId, FindingId)``, ``(TenantId, OccurrenceId)`` and
  ``(TenantId, ObservationId)``, BE-2): :func:`check_pre_submit` (FS-2, FS-3),
  :func:`merge_observation` (FS-8..FS-10, BE-5) and
  :func:`apply_findings_batch` (FS-5..FS-14, validate every layer into
  scratch dicts, then mutate);
* :class:`FindingsBackend`, the :class:`StoreBackend` plug-in (commit-fault
  check first, FS-13);
* the public facade :class:`InMemoryFindingsSink` and its handle.

Choices (documented as the spec asks):

* FS-9 / BE-5: the merged observation keeps the EXISTING record's
  ``observation_id`` instead of re-deriving it. Both operands passed the
  identity check (FS-2/FS-7) and agree on tenant, policy and occurrence
  (FS-8), so the re-derived id would be equal; skipping the hash keeps the
  merge cheap.
* When a merge changes nothing (the existing record wins and keeps its own
  location), the existing object itself is the result.
* ``RECOMMENDED_MAX_BATCH_SIZE`` is not enforced (as for the done ledger).
"""

from __future__ import annotations

from gossip_model.identity import FindingId, ObservationId, OccurrenceId, TenantId
from gossip_model.inmemory.arguments import check_arg
from gossip_model.inmemory.errors import (
    BatchValidation,
    FindingConflict,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.inmemory.store import (
    FaultCounters,
    InMemoryStoreCore,
    StoreBackend,
    StoreFacade,
    StoreHandle,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.errors import PersistenceInputError
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)

FindingKey = tuple[TenantId, FindingId]
OccurrenceKey = tuple[TenantId, OccurrenceId]
ObservationKey = tuple[TenantId, ObservationId]


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


def check_pre_submit(batch: FindingsUpsertBatch) -> None:
    """FS-2 then FS-3 (D-5): observation identity, then single tenant.

    Raises ``BatchValidation(ObservationIdMismatch(...))`` or
    ``BatchValidation(InconsistentTenant())``; runs before the lock, so a
    rejected batch consumes no op id and no fault counter (FS-4).
    """
    try:
        batch.validate_observation_identity()
        batch.validate_tenant_consistency()
    except PersistenceInputError as source:
        raise BatchValidation(source) from source


def merge_observation(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord:
    """FS-8..FS-10 / BE-5: merge two observations that share a key.

    Identity (FS-8): tenant, observation id, occurrence, policy and ovid hash
    must all agree, else ``ObservationConflict`` with the incoming record's
    tenant and id. Provenance winner (FS-9): the later ``seen_at``; on a tie,
    incoming only if it has a location and existing has none. The result keeps
    existing's identity and takes run, shard, fence and ``seen_at`` from the
    winner. Location (FS-10): the winner's, else existing's, else incoming's,
    so a merge never loses a location.
    """
    if (
        incoming.tenant_id != existing.tenant_id
        or incoming.observation_id != existing.observation_id
        or incoming.occurrence_id != existing.occurrence_id
        or incoming.policy_hash != existing.policy_hash
        or incoming.ovid_hash != existing.ovid_hash
    ):
        raise ObservationConflict(incoming.tenant_id, incoming.observation_id)
    incoming_seen = incoming.seen_at.value
    existing_seen = existing.seen_at.value
    if incoming_seen != existing_seen:
        incoming_wins = incoming_seen > existing_seen
    else:
        incoming_wins = existing.location is None and incoming.location is not None
    winner = incoming if incoming_wins else existing
    location = winner.location
    if location is None:
        location = existing.location if existing.location is not None else incoming.location
    if winner is existing and location is existing.location:
        return existing
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


# --- backend plug-in --------------------------------------------------------------


class FindingsBackend(StoreBackend[FindingsState, FindingsUpsertBatch, FindingsCommitReceipt]):
    """The findings plug-in of the store core (P-1, FS-13, FS-5..FS-14)."""

    kind = InMemoryStoreKind.FINDINGS

    def new_durable(self) -> FindingsState:
        return FindingsState()

    def apply(
        self, durable: FindingsState, counters: FaultCounters, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        """FS-13: commit fault first (ST-9), then :func:`apply_findings_batch`."""
        counters.check_commit_fault(self.kind)
        return apply_findings_batch(durable, payload)


_BACKEND = FindingsBackend()


def _check_arg(method: str, name: str, value: object, expected: type) -> None:
    check_arg("InMemoryFindingsSink", method, name, value, expected)


# --- public facade -----------------------------------------------------------------


class InMemoryFindingsHandle(StoreHandle[FindingsCommitReceipt]):
    """Commit handle of one ``upsert_batch`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class InMemoryFindingsSink(StoreFacade[FindingsState, FindingsUpsertBatch, FindingsCommitReceipt]):
    """In-memory ``FindingsSink`` with delayed completion and fault injection (§5).

    ``InMemoryFindingsSink()`` auto-completes (ST-1); ``auto_complete=False``
    queues every write (ST-2); ``clone()`` shares the state (ST-3). Reads see
    durable rows only and are tenant-scoped. Controls and releases: see
    :class:`StoreFacade` (FS-18). Open-point choices: module docstring.
    """

    __slots__ = ()

    def __init__(self, auto_complete: bool = True) -> None:
        self._core = InMemoryStoreCore(_BACKEND, auto_complete=auto_complete)

    # -- write ---------------------------------------------------------------------

    def upsert_batch(self, batch: FindingsUpsertBatch) -> InMemoryFindingsHandle:
        """FS-1: type check, FS-2, FS-3 (all before the lock), then submit (ST-6).

        Raises ``TypeError``, ``BatchValidation`` (FS-2/FS-3; nothing consumed,
        FS-4), ``InjectedSubmissionFailure`` or ``Poisoned``. Integrity errors
        (FS-5..FS-10) and commit faults are raised by ``wait()``.
        """
        _check_arg("upsert_batch", "batch", batch, FindingsUpsertBatch)
        check_pre_submit(batch)
        core = self._core
        return InMemoryFindingsHandle(core, core.submit(batch))

    # -- reads ---------------------------------------------------------------------

    def findings_snapshot(self) -> list[FindingRecord]:
        """FS-15: durable findings sorted by (tenant, finding id) bytes."""
        return self._core.read(sorted_findings)

    def occurrences_snapshot(self) -> list[OccurrenceRecord]:
        """FS-15: durable occurrences sorted by (tenant, occurrence id) bytes."""
        return self._core.read(sorted_occurrences)

    def observations_snapshot(self) -> list[ObservationRecord]:
        """FS-15: durable observations sorted by (tenant, observation id) bytes."""
        return self._core.read(sorted_observations)

    def get_finding(self, tenant_id: TenantId, finding_id: FindingId) -> FindingRecord | None:
        """FS-16: the durable finding for exactly this tenant-scoped key, or ``None``."""
        _check_arg("get_finding", "tenant_id", tenant_id, TenantId)
        _check_arg("get_finding", "finding_id", finding_id, FindingId)
        return self._core.read(lambda state: state.findings.get((tenant_id, finding_id)))

    def get_occurrence(
        self, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        """FS-16: the durable occurrence for exactly this tenant-scoped key, or ``None``."""
        _check_arg("get_occurrence", "tenant_id", tenant_id, TenantId)
        _check_arg("get_occurrence", "occurrence_id", occurrence_id, OccurrenceId)
        return self._core.read(lambda state: state.occurrences.get((tenant_id, occurrence_id)))

    def get_observation(
        self, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        """FS-16: the durable observation for exactly this tenant-scoped key, or ``None``."""
        _check_arg("get_observation", "tenant_id", tenant_id, TenantId)
        _check_arg("get_observation", "observation_id", observation_id, ObservationId)
        return self._core.read(lambda state: state.observations.get((tenant_id, observation_id)))

    def durable_counts(self) -> DurableFindingsCounts:
        """FS-17 (``FindingsConformanceProbe``): durable row counts, pending batches excluded."""
        return self._core.read(FindingsState.counts)

    # -- repr (TH-5) -----------------------------------------------------------------

    def _describe(self, durable: FindingsState, pending: int, auto_complete: bool) -> str:
        return (
            f"InMemoryFindingsSink(durable_findings={len(durable.findings)}, "
            f"durable_occurrences={len(durable.occurrences)}, "
            f"durable_observations={len(durable.observations)}, "
            f"pending_ops={pending}, auto_complete={auto_complete})"
        )


__all__ = [
    "FindingsBackend",
    "FindingsState",
    "InMemoryFindingsHandle",
    "InMemoryFindingsSink",
    "apply_findings_batch",
    "check_pre_submit",
    "merge_observation",
    "sorted_findings",
    "sorted_observations",
    "sorted_occurrences",
]
