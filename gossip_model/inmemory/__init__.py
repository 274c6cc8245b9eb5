"""In-memory reference stores: done ledger and findings sink (inmemory.md §0).

Both stores are thin facades over one generic core
(:mod:`gossip_model.inmemory.store`) with a domain plug-in each; they support
delayed completion (``auto_complete=False``, ``delay_next_writes``), fault
injection (``fail_next_submissions``, ``fail_next_commits``) and explicit
release (``release_next`` / ``release_specific`` / ``release_all``).

Dependency policy (inmemory.md §0 open point): this package uses only the
standard library and ``gossip_model`` itself.
"""

from __future__ import annotations

from gossip_model.inmemory.done_ledger import InMemoryDoneLedger, InMemoryDoneLedgerHandle
from gossip_model.inmemory.errors import (
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
from gossip_model.inmemory.findings import InMemoryFindingsHandle, InMemoryFindingsSink

__all__ = [
    "BatchValidation",
    "CompletionOrder",
    "FindingConflict",
    "InMemoryDoneLedger",
    "InMemoryDoneLedgerHandle",
    "InMemoryFindingsHandle",
    "InMemoryFindingsSink",
    "InMemoryPersistenceError",
    "InMemoryStoreKind",
    "InjectedCommitFailure",
    "InjectedSubmissionFailure",
    "MissingFinding",
    "MissingOccurrence",
    "ObservationConflict",
    "OccurrenceConflict",
    "PendingWriteId",
    "Poisoned",
    "UnknownOperation",
]
