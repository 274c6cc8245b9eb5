"""Database backend errors (backends.md §5, DBE-1..DBE-3).

All but the migration errors subclass ``InMemoryPersistenceError`` so the
store core keeps them as an op's result instead of poisoning (TH-3). None of
them quotes driver text (DBE-2): a PostgreSQL DETAIL line can carry key values,
including ``secret_hash``; backends raise these ``from None``.
"""

from __future__ import annotations

from gossip_model.errorbase import ValueEquality
from gossip_model.inmemory.errors import InMemoryPersistenceError, InMemoryStoreKind


class BatchTooLarge(InMemoryPersistenceError):
    """DBL-1, DBL-7, DBF-1: more than ``RECOMMENDED_MAX_BATCH_SIZE`` records or hashes."""

    _fields = ("store", "operation", "size", "max")
    store: InMemoryStoreKind
    operation: str
    size: int
    max: int

    def __init__(self, store: InMemoryStoreKind, operation: str, size: int, max: int) -> None:
        self._init_fields(store=store, operation=operation, size=size, max=max)

    def _message(self) -> str:
        return f"{self.operation} batch of {self.size} records exceeds the limit of {self.max}"


class ValueOutOfRange(InMemoryPersistenceError):
    """ENC-6: a value the database cannot hold (ENC-2..ENC-4); stored, raised by ``wait``."""

    _fields = ("store", "field", "position", "value", "max")
    store: InMemoryStoreKind
    field: str
    position: int
    value: int
    max: int

    def __init__(
        self, store: InMemoryStoreKind, field: str, position: int, value: int, max: int
    ) -> None:
        self._init_fields(store=store, field=field, position=position, value=value, max=max)

    def _message(self) -> str:
        return (
            f"{self.field} of record {self.position} is {self.value}, "
            f"above the database limit {self.max}"
        )


class DatabaseBackendError(InMemoryPersistenceError):
    """DBE-2: a driver error reduced to its code, table and constraint (no driver text)."""

    _fields = ("store", "operation", "code", "table", "constraint")
    store: InMemoryStoreKind
    operation: str
    code: str | None
    table: str | None
    constraint: str | None

    def __init__(
        self,
        store: InMemoryStoreKind,
        operation: str,
        code: str | None,
        table: str | None = None,
        constraint: str | None = None,
    ) -> None:
        self._init_fields(
            store=store, operation=operation, code=code, table=table, constraint=constraint
        )

    def _message(self) -> str:
        return (
            f"{self.store} database {self.operation} failed "
            f"(code {self.code}, table {self.table}, constraint {self.constraint})"
        )


class CorruptRow(InMemoryPersistenceError):
    """DBL-7: a stored row that does not decode into a valid record."""

    _fields = ("store", "table", "column")
    store: InMemoryStoreKind
    table: str
    column: str

    def __init__(self, store: InMemoryStoreKind, table: str, column: str) -> None:
        self._init_fields(store=store, table=table, column=column)

    def _message(self) -> str:
        return f"stored {self.table} row is invalid at column {self.column}"


class SchemaMigrationError(ValueEquality, RuntimeError):
    """MIG-3, MIG-5: a migration could not be applied or validated (raised by constructors)."""

    _fields = ("backend", "version", "step")
    backend: str
    version: str
    step: str

    def __init__(self, backend: str, version: str, step: str) -> None:
        self._init_fields(backend=backend, version=version, step=step)

    def _message(self) -> str:
        return f"{self.backend} migration {self.version} failed at {self.step}"


class ChecksumMismatch(SchemaMigrationError):
    """MIG-3 step 5: an applied migration's stored checksum differs from the file's."""


class CorruptedHistoryRecord(SchemaMigrationError):
    """MIG-3 step 5: a stored checksum of the wrong length."""


__all__ = [
    "BatchTooLarge",
    "ChecksumMismatch",
    "CorruptRow",
    "CorruptedHistoryRecord",
    "DatabaseBackendError",
    "SchemaMigrationError",
    "ValueOutOfRange",
]
