"""Persistence contracts: the done ledger and the findings sink (contracts.md §4-§9).

Everything API.md lists under ``gossip_model.persistence`` is importable from here.
"""

from __future__ import annotations

from gossip_model.persistence.commit import CommitHandle, ReadyCommitHandle
from gossip_model.persistence.conformance import (
    DurableFindingsCounts,
    FindingsConformanceProbe,
    PersistenceConformanceError,
    PersistenceConformanceReport,
    run_conformance,
)
from gossip_model.persistence.done_ledger import (
    MAX_DONE_LEDGER_ERROR_CODE_SIZE,
    RECOMMENDED_MAX_BATCH_SIZE,
    DoneLedger,
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    fold_records,
)
from gossip_model.persistence.errors import (
    Empty,
    InconsistentFindingsCount,
    InconsistentTenant,
    InvalidByte,
    KeyMismatch,
    MissingErrorCode,
    ObservationIdMismatch,
    OrphanedReference,
    PersistenceInputError,
    ProvenanceOrdering,
    TooLarge,
    UnexpectedErrorCode,
    ZeroSpanLength,
)
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsSink,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.location import (
    MAX_LOCATION_DISPLAY_SIZE,
    MAX_LOCATION_URL_SIZE,
    Location,
)
from gossip_model.persistence.ovid import OvidHashInputs, VersionId, derive_ovid_hash
from gossip_model.persistence.write_context import WriteContext

__all__ = [
    "MAX_DONE_LEDGER_ERROR_CODE_SIZE",
    "MAX_LOCATION_DISPLAY_SIZE",
    "MAX_LOCATION_URL_SIZE",
    "RECOMMENDED_MAX_BATCH_SIZE",
    "CommitHandle",
    "DoneLedger",
    "DoneLedgerCommitReceipt",
    "DoneLedgerErrorCode",
    "DoneLedgerKey",
    "DoneLedgerProvenance",
    "DoneLedgerRecord",
    "DoneLedgerStatus",
    "DurableFindingsCounts",
    "Empty",
    "FindingRecord",
    "FindingsConformanceProbe",
    "FindingsCommitReceipt",
    "FindingsSink",
    "FindingsUpsertBatch",
    "InconsistentFindingsCount",
    "InconsistentTenant",
    "InvalidByte",
    "KeyMismatch",
    "Location",
    "MissingErrorCode",
    "ObservationIdMismatch",
    "ObservationRecord",
    "OccurrenceRecord",
    "OrphanedReference",
    "OvidHashInputs",
    "PersistenceConformanceError",
    "PersistenceConformanceReport",
    "PersistenceInputError",
    "ProvenanceOrdering",
    "ReadyCommitHandle",
    "TooLarge",
    "UnexpectedErrorCode",
    "VersionId",
    "WriteContext",
    "ZeroSpanLength",
    "derive_ovid_hash",
    "fold_records",
    "run_conformance",
]
