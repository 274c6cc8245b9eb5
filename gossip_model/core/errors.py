"""Errors and supporting types of the in-memory stores (inmemory.md §6, ERR-1..ERR-8).

Supporting types:

* :class:`InMemoryStoreKind` (ERR-1): which store produced an error; ``str()``
  is ``done-ledger`` / ``findings``.
* :class:`CompletionOrder` (ERR-2): which end of the delayed-op queue a release
  takes from.
* :class:`PendingWriteId` (ERR-3): the u64 id of one submitted operation.

Exceptions (ERR-4): every :class:`InMemoryPersistenceError` subclass carries
exactly the listed fields as attributes, compares equal (and hashes) by type
and fields, pickles by its fields, and renders the ERR-4 message. Embedded ids
use their redacted renderings (RED-1), so no message can carry secret bytes.
``BatchValidation`` is transparent (D-6): its message is ``str(source)`` and
its ``__cause__`` is ``source``.

The built-in ``TimeoutError`` raised by ``wait(timeout=...)`` is deliberately
not part of this hierarchy (ERR-8).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from gossip_model.errorbase import ValueEquality

if TYPE_CHECKING:
    from gossip_model.identity import (
        FindingId,
        ObservationId,
        OccurrenceId,
        TenantId,
    )
    from gossip_model.persistence.errors import PersistenceInputError

U64_MAX = 2**64 - 1


class InMemoryStoreKind(enum.Enum):
    """ERR-1: the store an error or an operation belongs to."""

    DONE_LEDGER = "done-ledger"
    FINDINGS = "findings"

    def __str__(self) -> str:
        return self.value


class CompletionOrder(enum.Enum):
    """ERR-2: release order for delayed operations.

    ``OLDEST_FIRST`` takes from the front of the queue (FIFO);
    ``NEWEST_FIRST`` from the back (LIFO: a later write becomes durable first).
    """

    OLDEST_FIRST = "oldest-first"
    NEWEST_FIRST = "newest-first"


@dataclass(frozen=True, slots=True, order=True, repr=False)
class PendingWriteId:
    """ERR-3: the id of one accepted submission, a u64.

    ``int(x)`` gives the value; ``repr(x) == str(x) == "PendingWriteId(<n>)"``.
    Open point (ERR-3), settled: ``PendingWriteId.ZERO`` (value 0) exists, and
    no store ever issues it (ids start at 1, ST-8), so it is safe to use as a
    "no operation" marker.
    """

    value: int

    ZERO: ClassVar[PendingWriteId]

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise TypeError(
                f"PendingWriteId: value must be an int, got {type(self.value).__name__}; "
                "pass an int in 0..=2**64-1"
            )
        if not 0 <= self.value <= U64_MAX:
            raise ValueError(
                f"PendingWriteId: value must be in 0..=2**64-1, got {self.value}; "
                "pass a value in that range"
            )

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"PendingWriteId({self.value})"

    __str__ = __repr__


PendingWriteId.ZERO = PendingWriteId(0)


class InMemoryPersistenceError(ValueEquality):
    """ERR-4: base class of every error raised by the in-memory stores.

    Categories (ERR-5): fault injection (``InjectedSubmissionFailure``,
    ``InjectedCommitFailure``); infrastructure (``Poisoned``,
    ``UnknownOperation``); data integrity (the other six).
    """


class InjectedSubmissionFailure(InMemoryPersistenceError):
    """Submit rejected before a handle existed (ST-6 step 2, also id overflow, step 3)."""

    _fields = ("store",)
    store: InMemoryStoreKind

    def __init__(self, store: InMemoryStoreKind) -> None:
        self._init_fields(store=store)

    def _message(self) -> str:
        return f"in-memory {self.store} submission failed via fault injection"


class InjectedCommitFailure(InMemoryPersistenceError):
    """Accepted write whose commit failed by injection (ST-9); raised by ``wait()``."""

    _fields = ("store",)
    store: InMemoryStoreKind

    def __init__(self, store: InMemoryStoreKind) -> None:
        self._init_fields(store=store)

    def _message(self) -> str:
        return f"in-memory {self.store} commit failed via fault injection"


class Poisoned(InMemoryPersistenceError):
    """The core was poisoned by an unexpected exception under its lock (TH-3)."""

    _fields = ("store",)
    store: InMemoryStoreKind

    def __init__(self, store: InMemoryStoreKind) -> None:
        self._init_fields(store=store)

    def _message(self) -> str:
        return f"in-memory {self.store} state lock poisoned"


class UnknownOperation(InMemoryPersistenceError):
    """Wait on (or finish of) an id not in the op table (ST-17, ST-20, ST-21)."""

    _fields = ("store", "op_id")
    store: InMemoryStoreKind
    op_id: PendingWriteId

    def __init__(self, store: InMemoryStoreKind, op_id: PendingWriteId) -> None:
        self._init_fields(store=store, op_id=op_id)

    def _message(self) -> str:
        return f"unknown in-memory {self.store} operation {self.op_id}"


class MissingFinding(InMemoryPersistenceError):
    """FS-6: an occurrence's parent finding is neither durable nor in the batch."""

    _fields = ("tenant_id", "finding_id", "occurrence_id")
    tenant_id: TenantId
    finding_id: FindingId
    occurrence_id: OccurrenceId

    def __init__(
        self, tenant_id: TenantId, finding_id: FindingId, occurrence_id: OccurrenceId
    ) -> None:
        self._init_fields(tenant_id=tenant_id, finding_id=finding_id, occurrence_id=occurrence_id)

    def _message(self) -> str:
        return (
            f"occurrence {self.occurrence_id!r} for tenant {self.tenant_id!r} "
            f"references missing finding {self.finding_id!r}"
        )


class MissingOccurrence(InMemoryPersistenceError):
    """FS-7: an observation's parent occurrence is neither durable nor in the batch."""

    _fields = ("tenant_id", "occurrence_id", "observation_id")
    tenant_id: TenantId
    occurrence_id: OccurrenceId
    observation_id: ObservationId

    def __init__(
        self, tenant_id: TenantId, occurrence_id: OccurrenceId, observation_id: ObservationId
    ) -> None:
        self._init_fields(
            tenant_id=tenant_id, occurrence_id=occurrence_id, observation_id=observation_id
        )

    def _message(self) -> str:
        return (
            f"observation {self.observation_id!r} for tenant {self.tenant_id!r} "
            f"references missing occurrence {self.occurrence_id!r}"
        )


class FindingConflict(InMemoryPersistenceError):
    """FS-5: same (tenant, finding id) with different immutable content."""

    _fields = ("tenant_id", "finding_id")
    tenant_id: TenantId
    finding_id: FindingId

    def __init__(self, tenant_id: TenantId, finding_id: FindingId) -> None:
        self._init_fields(tenant_id=tenant_id, finding_id=finding_id)

    def _message(self) -> str:
        return f"finding conflict for tenant {self.tenant_id!r}, finding {self.finding_id!r}"


class OccurrenceConflict(InMemoryPersistenceError):
    """FS-6: same (tenant, occurrence id) with different immutable content."""

    _fields = ("tenant_id", "occurrence_id")
    tenant_id: TenantId
    occurrence_id: OccurrenceId

    def __init__(self, tenant_id: TenantId, occurrence_id: OccurrenceId) -> None:
        self._init_fields(tenant_id=tenant_id, occurrence_id=occurrence_id)

    def _message(self) -> str:
        return (
            f"occurrence conflict for tenant {self.tenant_id!r}, occurrence {self.occurrence_id!r}"
        )


class ObservationConflict(InMemoryPersistenceError):
    """FS-8 / BE-5: identity fields of two observations with one key disagree."""

    _fields = ("tenant_id", "observation_id")
    tenant_id: TenantId
    observation_id: ObservationId

    def __init__(self, tenant_id: TenantId, observation_id: ObservationId) -> None:
        self._init_fields(tenant_id=tenant_id, observation_id=observation_id)

    def _message(self) -> str:
        return (
            f"observation conflict for tenant {self.tenant_id!r}, "
            f"observation {self.observation_id!r}"
        )


class BatchValidation(InMemoryPersistenceError):
    """A record or batch validation failure (ERR-4, ERR-7, D-6).

    Transparent wrapper: ``str(e) == str(e.source)`` and ``e.__cause__ is
    e.source``, so tracebacks show the input error that caused it.
    """

    _fields = ("source",)
    source: PersistenceInputError

    def __init__(self, source: PersistenceInputError) -> None:
        self._init_fields(source=source)
        self.__cause__ = source
        self.__suppress_context__ = True

    def _message(self) -> str:
        return str(self.source)


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
