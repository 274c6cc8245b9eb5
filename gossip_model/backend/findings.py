"""The public findings kit: :class:`FindingsStoreBackend` and :class:`ControlledFindingsSink`.

Like the done-ledger kit: the backend author writes the storage part (empty
durable state, ``apply`` a batch, the reads) and :class:`ControlledFindingsSink`
adds the in-memory control surface. The in-memory, SQLite and PostgreSQL
sinks are subclasses over their own backends.

Domain helpers for ``apply``:

* :func:`check_pre_submit` (BE-3, inmemory.md FS-2/FS-3) runs in
  ``upsert_batch`` itself, before the lock: observation identity, then a
  single tenant; a backend's ``apply`` never sees such a batch;
* :func:`merge_observation` (BE-5): the merge of two observations sharing a
  key, raising ``ObservationConflict`` when an identity field differs;
* ``FindingsCommitReceipt(len(findings), len(occurrences), len(observations))``
  over the DISTINCT keys of each layer of the batch (FS-31).

Choices (not settled by the reference):

* Snapshots are sorted by (tenant, id) bytes by the facade, as the
  in-memory sink's (FS-15), so a backend may return rows in any order.
* ``get_finding``, ``get_occurrence``, ``get_observation`` and
  ``durable_counts`` are optional on the backend: the facade falls back to a
  scan of the matching snapshot (linear, fine for tests).
* :func:`merge_observation` keeps the EXISTING record's ``observation_id``
  instead of re-deriving it: both operands passed the identity check and
  agree on tenant, policy and occurrence, so the derivation would be equal.
  When the existing record wins and keeps its own location, the existing
  object itself is returned.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from gossip_model.backend.done_ledger import check_backend
from gossip_model.core.arguments import check_arg, check_flag
from gossip_model.core.errors import BatchValidation, InMemoryStoreKind, ObservationConflict
from gossip_model.core.store import InMemoryStoreCore, StoreBackend, StoreFacade, StoreHandle
from gossip_model.identity import FindingId, ObservationId, OccurrenceId, TenantId
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.errors import PersistenceInputError
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)

D = TypeVar("D")

FindingKey = tuple[TenantId, FindingId]
OccurrenceKey = tuple[TenantId, OccurrenceId]
ObservationKey = tuple[TenantId, ObservationId]

KIND = InMemoryStoreKind.FINDINGS
_REQUIRED = (
    "new_durable",
    "apply",
    "findings_snapshot",
    "occurrences_snapshot",
    "observations_snapshot",
)


def check_pre_submit(batch: FindingsUpsertBatch) -> None:
    """BE-3 / inmemory.md FS-2 then FS-3: observation identity, then single tenant.

    Raises ``BatchValidation(ObservationIdMismatch(...))`` or
    ``BatchValidation(InconsistentTenant())``; the facade runs it before the
    lock, so a rejected batch consumes no op id and no fault counter (FS-4).
    """
    try:
        batch.validate_observation_identity()
        batch.validate_tenant_consistency()
    except PersistenceInputError as source:
        raise BatchValidation(source) from source


def merge_observation(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord:
    """BE-5 / inmemory.md FS-8..FS-10: merge two observations that share a key.

    Identity: tenant, observation id, occurrence, policy and ovid hash must
    all agree, else ``ObservationConflict`` with the incoming record's tenant
    and id. Provenance winner: the later ``seen_at``; on a tie, incoming only
    if it has a location and existing has none. The result keeps existing's
    identity and takes run, shard, fence and ``seen_at`` from the winner.
    Location: the winner's, else existing's, else incoming's, so a merge
    never loses a location.
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


@runtime_checkable
class FindingsStoreBackend(
    StoreBackend[D, FindingsUpsertBatch, FindingsCommitReceipt], Protocol[D]
):
    """The storage part of a findings sink, plugged into :class:`ControlledFindingsSink`.

    Every method runs under the store's lock (TH-1). Required:

    * ``new_durable() -> D``: empty durable state;
    * ``apply(durable, counters, batch) -> FindingsCommitReceipt``:
      ``counters.check_commit_fault()`` FIRST (ST-9); then, as BE-4: findings,
      occurrences, observations in that order, each checked against batch and
      storage (identical duplicates dedupe, different content under one key
      is ``FindingConflict`` / ``OccurrenceConflict``, a missing parent is
      ``MissingFinding`` / ``MissingOccurrence``, observations merge with
      :func:`merge_observation`), and storage changed only if everything
      passed (FS-30 item 4); receipt = distinct keys per layer (FS-31);
    * ``findings_snapshot(durable)``, ``occurrences_snapshot(durable)``,
      ``observations_snapshot(durable)``: every stored record of the layer.

    Optional: ``get_finding(durable, tenant_id, finding_id)``,
    ``get_occurrence(...)``, ``get_observation(...)``,
    ``durable_counts(durable) -> DurableFindingsCounts``, ``reset(durable)``,
    ``describe(durable) -> str``.
    """

    @abstractmethod
    def findings_snapshot(self, durable: D) -> Sequence[FindingRecord]:
        """Every stored finding."""

    @abstractmethod
    def occurrences_snapshot(self, durable: D) -> Sequence[OccurrenceRecord]:
        """Every stored occurrence."""

    @abstractmethod
    def observations_snapshot(self, durable: D) -> Sequence[ObservationRecord]:
        """Every stored observation."""


class ControlledFindingsHandle(StoreHandle[FindingsCommitReceipt]):
    """Commit handle of one ``upsert_batch`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class ControlledFindingsSink(StoreFacade[D, FindingsUpsertBatch, FindingsCommitReceipt]):
    """A ``FindingsSink`` over any :class:`FindingsStoreBackend`, with the full control surface.

    Same controls, releases, handles, ``clone()``, ``reset()`` and ``repr`` as
    :class:`~gossip_model.backend.ControlledDoneLedger`. ``upsert_batch`` runs
    the type check, the size hook and :func:`check_pre_submit` before the
    lock (FS-1..FS-4). Reads are tenant-scoped and see durable rows only.
    """

    __slots__ = ()

    handle_class: ClassVar[type[ControlledFindingsHandle]] = ControlledFindingsHandle

    def __init__(self, backend: FindingsStoreBackend[D], auto_complete: bool = True) -> None:
        where = f"{type(self).__name__}.__init__"
        check_flag(where, "auto_complete", auto_complete)
        check_backend(where, backend, _REQUIRED)
        self._core = InMemoryStoreCore(backend, auto_complete=auto_complete, kind=KIND)

    @property
    def backend(self) -> FindingsStoreBackend[D]:
        """The backend this sink (and each of its clones) drives."""
        backend: FindingsStoreBackend[D] = self._core.backend  # type: ignore[assignment]
        return backend

    def _check_size(self, method: str, size: int) -> None:
        """Hook for size limits, run before the lock (DBF-1); no limit by default."""

    def _arg(self, method: str, name: str, value: object, expected: type) -> None:
        check_arg(type(self).__name__, method, name, value, expected)

    # -- write ---------------------------------------------------------------------

    def upsert_batch(self, batch: FindingsUpsertBatch) -> ControlledFindingsHandle:
        """FS-30: type check, size hook, FS-2, FS-3 (all before the lock), then submit (ST-6).

        Raises ``TypeError``, the size hook's error, ``BatchValidation``
        (FS-2/FS-3; nothing consumed, FS-4), ``InjectedSubmissionFailure`` or
        ``Poisoned``. Integrity errors and commit faults are raised by ``wait()``.
        """
        self._arg("upsert_batch", "batch", batch, FindingsUpsertBatch)
        self._check_size("upsert_batch", batch.total_records())
        check_pre_submit(batch)
        core = self._core
        return self.handle_class(core, core.submit(batch))

    # -- reads ---------------------------------------------------------------------

    def _read(self, method: str, id_field: str) -> Any:
        backend: Any = self._core.backend
        read = getattr(backend, method)
        rows: list[Any] = self._core.read(lambda durable: list(read(durable)))
        rows.sort(key=lambda r: (r.tenant_id.raw, getattr(r, id_field).raw))
        return rows

    def findings_snapshot(self) -> list[FindingRecord]:
        """FS-15: stored findings, sorted by (tenant, finding id) bytes."""
        rows: list[FindingRecord] = self._read("findings_snapshot", "finding_id")
        return rows

    def occurrences_snapshot(self) -> list[OccurrenceRecord]:
        """FS-15: stored occurrences, sorted by (tenant, occurrence id) bytes."""
        rows: list[OccurrenceRecord] = self._read("occurrences_snapshot", "occurrence_id")
        return rows

    def observations_snapshot(self) -> list[ObservationRecord]:
        """FS-15: stored observations, sorted by (tenant, observation id) bytes."""
        rows: list[ObservationRecord] = self._read("observations_snapshot", "observation_id")
        return rows

    def _get(
        self, method: str, snapshot: str, attribute: str, tenant_id: TenantId, id_: Any
    ) -> Any:
        backend: Any = self._core.backend
        get = getattr(backend, method, None)
        if get is not None:
            return self._core.read(lambda durable: get(durable, tenant_id, id_))
        scan = getattr(backend, snapshot)

        def find(durable: Any) -> Any:
            for record in scan(durable):
                if record.tenant_id == tenant_id and getattr(record, attribute) == id_:
                    return record
            return None

        return self._core.read(find)

    def get_finding(self, tenant_id: TenantId, finding_id: FindingId) -> FindingRecord | None:
        """FS-16: the stored finding for exactly this tenant-scoped key, or ``None``."""
        self._arg("get_finding", "tenant_id", tenant_id, TenantId)
        self._arg("get_finding", "finding_id", finding_id, FindingId)
        found: FindingRecord | None = self._get(
            "get_finding", "findings_snapshot", "finding_id", tenant_id, finding_id
        )
        return found

    def get_occurrence(
        self, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        """FS-16: the stored occurrence for exactly this tenant-scoped key, or ``None``."""
        self._arg("get_occurrence", "tenant_id", tenant_id, TenantId)
        self._arg("get_occurrence", "occurrence_id", occurrence_id, OccurrenceId)
        found: OccurrenceRecord | None = self._get(
            "get_occurrence", "occurrences_snapshot", "occurrence_id", tenant_id, occurrence_id
        )
        return found

    def get_observation(
        self, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        """FS-16: the stored observation for exactly this tenant-scoped key, or ``None``."""
        self._arg("get_observation", "tenant_id", tenant_id, TenantId)
        self._arg("get_observation", "observation_id", observation_id, ObservationId)
        found: ObservationRecord | None = self._get(
            "get_observation",
            "observations_snapshot",
            "observation_id",
            tenant_id,
            observation_id,
        )
        return found

    def durable_counts(self) -> DurableFindingsCounts:
        """FS-17 (``FindingsConformanceProbe``): stored rows per layer, pending ones excluded."""
        backend: Any = self._core.backend
        counts = getattr(backend, "durable_counts", None)
        if counts is not None:
            result: DurableFindingsCounts = self._core.read(counts)
            return result
        return self._core.read(
            lambda durable: DurableFindingsCounts(
                len(backend.findings_snapshot(durable)),
                len(backend.occurrences_snapshot(durable)),
                len(backend.observations_snapshot(durable)),
            )
        )


__all__ = [
    "ControlledFindingsHandle",
    "ControlledFindingsSink",
    "FindingKey",
    "FindingsStoreBackend",
    "ObservationKey",
    "OccurrenceKey",
    "check_pre_submit",
    "merge_observation",
]
