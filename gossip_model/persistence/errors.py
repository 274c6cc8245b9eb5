"""Persistence input errors (contracts.md §4, ERR-1..ERR-5).

Twelve classes named exactly as the upstream variants, all deriving from
``PersistenceInputError(ValueError)``. Each carries its fields as attributes,
compares and hashes by class and fields (ERR-4) and renders the ERR-3 message.
Embedded ids and keys use their redacted renderings (RED-1, RED-4), so no
message can carry secret bytes.
"""

from __future__ import annotations

from gossip_model.errorbase import ValueEquality
from gossip_model.identity import ObservationId
from gossip_model.persistence.done_ledger_types import DoneLedgerKey, DoneLedgerStatus


class PersistenceInputError(ValueEquality, ValueError):
    """Base class: invalid input to a persistence value type or backend."""


class Empty(PersistenceInputError):
    _fields = ("field",)
    field: str

    def __init__(self, field: str) -> None:
        self._init_fields(field=field)

    def _message(self) -> str:
        return f"{self.field} must not be empty"


class TooLarge(PersistenceInputError):
    _fields = ("field", "size", "max")
    field: str
    size: int
    max: int

    def __init__(self, field: str, size: int, max: int) -> None:
        self._init_fields(field=field, size=size, max=max)

    def _message(self) -> str:
        return f"{self.field} too large ({self.size} bytes, max {self.max})"


class InvalidByte(PersistenceInputError):
    _fields = ("field", "index", "byte")
    field: str
    index: int
    byte: int

    def __init__(self, field: str, index: int, byte: int) -> None:
        self._init_fields(field=field, index=index, byte=byte)

    def _message(self) -> str:
        return f"{self.field} contains invalid byte 0x{self.byte:02X} at index {self.index}"


class ZeroSpanLength(PersistenceInputError):
    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return "OccurrenceRecord.byte_length must be non-zero"


class ObservationIdMismatch(PersistenceInputError):
    """``expected`` is the freshly derived id, ``actual`` the stored one."""

    _fields = ("expected", "actual")
    expected: ObservationId
    actual: ObservationId

    def __init__(self, expected: ObservationId, actual: ObservationId) -> None:
        self._init_fields(expected=expected, actual=actual)

    def _message(self) -> str:
        return (
            "observation_id does not match canonical derivation "
            f"(expected {self.expected!r}, got {self.actual!r})"
        )


class InconsistentFindingsCount(PersistenceInputError):
    _fields = ("status", "findings_count")
    status: DoneLedgerStatus
    findings_count: int

    def __init__(self, status: DoneLedgerStatus, findings_count: int) -> None:
        self._init_fields(status=status, findings_count=findings_count)

    def _message(self) -> str:
        return (
            f"findings_count {self.findings_count} is inconsistent with "
            f"status {self.status.variant_name}"
        )


class MissingErrorCode(PersistenceInputError):
    _fields = ("status",)
    status: DoneLedgerStatus

    def __init__(self, status: DoneLedgerStatus) -> None:
        self._init_fields(status=status)

    def _message(self) -> str:
        return f"status {self.status.variant_name} requires an error code, but none was provided"


class UnexpectedErrorCode(PersistenceInputError):
    _fields = ("status",)
    status: DoneLedgerStatus

    def __init__(self, status: DoneLedgerStatus) -> None:
        self._init_fields(status=status)

    def _message(self) -> str:
        return f"status {self.status.variant_name} must not carry an error code"


class OrphanedReference(PersistenceInputError):
    """ERR-2: the child/parent type names of the orphaned layer."""

    _fields = ("child_type", "parent_type")
    child_type: str
    parent_type: str

    def __init__(self, child_type: str, parent_type: str) -> None:
        self._init_fields(child_type=child_type, parent_type=parent_type)

    def _message(self) -> str:
        return f"{self.child_type} references a {self.parent_type} not present in the batch"


class InconsistentTenant(PersistenceInputError):
    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return "records in the batch belong to different tenants"


class ProvenanceOrdering(PersistenceInputError):
    """Raised by backends at upsert, never by the value types (DL-21, DL-43)."""

    _fields = ("started_at", "finished_at")
    started_at: int
    finished_at: int

    def __init__(self, started_at: int, finished_at: int) -> None:
        self._init_fields(started_at=started_at, finished_at=finished_at)

    def _message(self) -> str:
        return (
            f"provenance started_at ({self.started_at}) must not exceed "
            f"finished_at ({self.finished_at})"
        )


class KeyMismatch(PersistenceInputError):
    _fields = ("existing", "incoming")
    existing: DoneLedgerKey
    incoming: DoneLedgerKey

    def __init__(self, existing: DoneLedgerKey, incoming: DoneLedgerKey) -> None:
        self._init_fields(existing=existing, incoming=incoming)

    def _message(self) -> str:
        return (
            "merge requires records with the same key "
            f"(existing: {self.existing!r}, incoming: {self.incoming!r})"
        )


__all__ = [
    "Empty",
    "InconsistentFindingsCount",
    "InconsistentTenant",
    "InvalidByte",
    "KeyMismatch",
    "MissingErrorCode",
    "ObservationIdMismatch",
    "OrphanedReference",
    "PersistenceInputError",
    "ProvenanceOrdering",
    "TooLarge",
    "UnexpectedErrorCode",
    "ZeroSpanLength",
]
