"""Errors and supporting types of the stores (inmemory.md §6, ERR-1..ERR-8).

The definitions live in :mod:`gossip_model.core.errors` (the generic store
core, shared by every backend); this module keeps the names where API.md pins
them, so ``gossip_model.inmemory.errors.X is gossip_model.core.errors.X``.
"""

from __future__ import annotations

from gossip_model.core.errors import (
    U64_MAX,
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

__all__ = [
    "U64_MAX",
    "BatchValidation",
    "CompletionOrder",
    "FindingConflict",
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
