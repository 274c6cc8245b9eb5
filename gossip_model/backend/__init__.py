"""The public backend kit: put any storage behind the full control surface (API.md "Additions").

Write the storage part of a store as a backend object and wrap it:

* :class:`DoneLedgerStoreBackend` / :class:`FindingsStoreBackend` (both
  :class:`StoreBackend` protocols): ``new_durable()``, ``apply(durable,
  counters, payload)`` and the reads, each taking the durable state first;
* :class:`ControlledDoneLedger` (``backend, auto_complete=True``) /
  :class:`ControlledFindingsSink`: the ``DoneLedger`` / ``FindingsSink`` with
  every control, release, handle and read of the in-memory stores, a
  ``repr``, ``clone()`` and ``reset()``.

The in-memory, SQLite and PostgreSQL stores are built exactly this way.
``docs/backend-guide.md`` walks through a dict-backed ledger and sink; the
battery that checks one is ``pytest --pyargs gossip_model.suite
--gossip-ledger MODULE:FACTORY --gossip-sink MODULE:FACTORY``.

Helpers for ``apply`` (the reference rules, to reuse rather than rewrite):
:func:`validate_and_fold`, ``DoneLedgerCommitReceipt.for_folded``,
``DoneLedgerRecord.merge``, :func:`check_pre_submit`,
:func:`merge_observation`. The errors a backend raises from ``apply`` (the
core stores them and ``wait()`` raises them) are re-exported here too.
"""

from __future__ import annotations

from gossip_model.backend.done_ledger import (
    ControlledDoneLedger,
    ControlledDoneLedgerHandle,
    DoneLedgerPayload,
    DoneLedgerStoreBackend,
    FoldedBatch,
    RowKey,
    row_key,
    validate_and_fold,
)
from gossip_model.backend.findings import (
    ControlledFindingsHandle,
    ControlledFindingsSink,
    FindingKey,
    FindingsStoreBackend,
    ObservationKey,
    OccurrenceKey,
    check_pre_submit,
    merge_observation,
)
from gossip_model.core.errors import (
    BatchValidation,
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryPersistenceError,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
    Poisoned,
    UnknownOperation,
)
from gossip_model.core.store import FaultCounters, StoreBackend, StoreHandle

StoreKind = InMemoryStoreKind
"""The store an error belongs to (``DONE_LEDGER`` / ``FINDINGS``), whatever the backend."""

__all__ = [
    "BatchValidation",
    "CompletionOrder",
    "ControlledDoneLedger",
    "ControlledDoneLedgerHandle",
    "ControlledFindingsHandle",
    "ControlledFindingsSink",
    "DoneLedgerPayload",
    "DoneLedgerStoreBackend",
    "FaultCounters",
    "FindingConflict",
    "FindingKey",
    "FindingsStoreBackend",
    "FoldedBatch",
    "InMemoryPersistenceError",
    "InMemoryStoreKind",
    "InjectedCommitFailure",
    "InjectedSubmissionFailure",
    "MissingFinding",
    "MissingOccurrence",
    "ObservationConflict",
    "ObservationKey",
    "OccurrenceConflict",
    "OccurrenceKey",
    "PendingWriteId",
    "Poisoned",
    "RowKey",
    "StoreBackend",
    "StoreHandle",
    "StoreKind",
    "UnknownOperation",
    "check_pre_submit",
    "merge_observation",
    "row_key",
    "validate_and_fold",
]
