"""Database backend errors (backends.md §5, DBE-1..DBE-3).

All but the migration errors subclass ``InMemoryPersistenceError`` so the
store core keeps them as an op's result instead of poisoning (TH-3). None of
them quotes driver text (DBE-2): a PostgreSQL DETAIL line can carry key values,
including ``secret_hash``; backends raise these ``from None``.
"""

from __future__ import annotations

from typing import Any, ClassVar

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


def _rebuild_migration_error(
    cls: type[SchemaMigrationError], values: tuple[Any, ...], detail: str | None
) -> SchemaMigrationError:
    """Unpickle a migration error with its fields and its driver detail (ERR-4)."""
    error = cls(*values)
    error.detail = detail
    error.args = (error._message(),)
    return error


class SchemaMigrationError(ValueEquality, RuntimeError):
    """MIG-3, MIG-5: a migration could not be applied or validated (raised by constructors).

    ``detail`` is the driver's primary message when a driver error caused the
    failure (e.g. ``permission denied for schema public``), which is then also
    the exception's ``__cause__``. Open point (DBE-2 forbids driver text in
    data-path errors because a DETAIL line may quote key values): a migration
    runs DDL and history statements only, so no tenant value can appear in its
    primary message; we show that message (never the DETAIL line) so the real
    cause of a failed migration is visible. ``detail`` is not a field: equality
    compares backend, version and step.
    """

    _fields: ClassVar[tuple[str, ...]] = ("backend", "version", "step")
    backend: str
    version: str
    step: str
    detail: str | None

    def __init__(
        self, backend: str, version: str, step: str, *, detail: str | None = None
    ) -> None:
        self.detail = detail
        self._init_fields(backend=backend, version=version, step=step)

    def _message(self) -> str:
        base = f"{self.backend} migration {self.version} failed at {self.step}"
        return base if self.detail is None else f"{base}: {self.detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_migration_error, (type(self), self._values(), self.detail))


class ChecksumMismatch(SchemaMigrationError):
    """MIG-3 step 5: an applied migration's stored checksum differs from the file's.

    ``expected`` is this migration's BLAKE3 digest and ``found`` the stored
    one, both as lowercase hex (empty when unknown), like the reference's
    error. A checksum is a digest of migration text, never of tenant data.
    """

    _fields: ClassVar[tuple[str, ...]] = ("backend", "version", "step", "expected", "found")
    expected: str
    found: str

    def __init__(
        self,
        backend: str,
        version: str,
        step: str,
        expected: str = "",
        found: str = "",
        *,
        detail: str | None = None,
    ) -> None:
        self.expected = expected
        self.found = found
        super().__init__(backend, version, step, detail=detail)

    def _message(self) -> str:
        base = super()._message()
        if not (self.expected or self.found):
            return base
        return (
            f"{base}: stored checksum {self.found} differs from expected {self.expected} "
            "and is no known upstream checksum of this version (an applied migration was "
            "edited, or the database comes from another schema; never edit an applied "
            "migration, add a version)"
        )


class CorruptedHistoryRecord(SchemaMigrationError):
    """MIG-3 step 5: a stored checksum of the wrong length (``found_len`` bytes, not 32)."""

    _fields: ClassVar[tuple[str, ...]] = ("backend", "version", "step", "found_len")
    found_len: int | None

    def __init__(
        self,
        backend: str,
        version: str,
        step: str,
        found_len: int | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        self.found_len = found_len
        super().__init__(backend, version, step, detail=detail)

    def _message(self) -> str:
        base = super()._message()
        if self.found_len is None:
            return base
        return f"{base}: stored checksum is {self.found_len} bytes, expected 32"


class SchemaStructureMismatch(SchemaMigrationError):
    """Adoption (issue 13): history names a known upstream checksum, but the catalog differs.

    ``differences`` lists each structural difference between the database and
    what this package's migrations create (tables, columns, types,
    constraints, foreign keys, indexes, triggers), one line each.
    """

    _fields: ClassVar[tuple[str, ...]] = ("backend", "version", "step", "differences")
    differences: tuple[str, ...]

    def __init__(
        self,
        backend: str,
        version: str,
        step: str,
        differences: tuple[str, ...] = (),
        *,
        detail: str | None = None,
    ) -> None:
        self.differences = tuple(differences)
        super().__init__(backend, version, step, detail=detail)

    def _message(self) -> str:
        lines = "".join(f"\n  - {line}" for line in self.differences)
        return (
            f"{super()._message()}: the stored checksum is a known upstream one, but the "
            f"schema differs from what this package's migration creates, so it is not "
            f"adopted; differences (database vs expected):{lines}"
        )


__all__ = [
    "BatchTooLarge",
    "ChecksumMismatch",
    "CorruptRow",
    "CorruptedHistoryRecord",
    "DatabaseBackendError",
    "SchemaMigrationError",
    "SchemaStructureMismatch",
    "ValueOutOfRange",
]
