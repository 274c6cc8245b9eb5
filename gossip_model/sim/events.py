"""Events produced by each simulation step and the histogram keys (EV-1..EV-4)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from gossip_model.inmemory import PendingWriteId
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord

__all__ = ["DoneLedgerSimEvent", "DoneLedgerSimEventKind", "record_event"]


class DoneLedgerSimEventKind(enum.Enum):
    """The payload-free event kind and histogram key (EV-2).

    Declaration order is the sort order and the order of ``ALL``.
    """

    UPSERT_COMMITTED = "UpsertCommitted"
    UPSERT_PENDING = "UpsertPending"
    UPSERT_SUBMIT_FAILED = "UpsertSubmitFailed"
    UPSERT_COMMIT_FAILED = "UpsertCommitFailed"
    GET_OK = "GetOk"
    RELEASED = "Released"
    RELEASED_COMMIT_FAILED = "ReleasedCommitFailed"
    RELEASED_ALL = "ReleasedAll"
    RELEASE_NOOP = "ReleaseNoop"
    FAULT_CONFIGURED = "FaultConfigured"

    ALL: ClassVar[tuple[DoneLedgerSimEventKind, ...]]

    @property
    def variant_name(self) -> str:
        """The upstream CamelCase name, e.g. ``"ReleasedCommitFailed"``."""
        return str(self.value)

    @property
    def position(self) -> int:
        """Index in declaration order (the sort key)."""
        return _POSITION[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, DoneLedgerSimEventKind):
            return NotImplemented
        return self.position < other.position

    @classmethod
    def from_variant_name(cls, name: str) -> DoneLedgerSimEventKind:
        """Inverse of ``variant_name`` (``ValueError`` for an unknown name)."""
        return cls(name)


DoneLedgerSimEventKind.ALL = tuple(DoneLedgerSimEventKind)
_POSITION = {kind: index for index, kind in enumerate(DoneLedgerSimEventKind.ALL)}


class DoneLedgerSimEvent:
    """Base of the ten event variants (EV-1); each has a ``kind``."""

    __slots__ = ()
    kind: ClassVar[DoneLedgerSimEventKind]

    # Variants, reachable as attributes (assigned below).
    UpsertCommitted: ClassVar[type[UpsertCommitted]]
    UpsertPending: ClassVar[type[UpsertPending]]
    UpsertSubmitFailed: ClassVar[type[UpsertSubmitFailed]]
    UpsertCommitFailed: ClassVar[type[UpsertCommitFailed]]
    GetOk: ClassVar[type[GetOk]]
    Released: ClassVar[type[Released]]
    ReleasedCommitFailed: ClassVar[type[ReleasedCommitFailed]]
    ReleasedAll: ClassVar[type[ReleasedAll]]
    ReleaseNoop: ClassVar[type[ReleaseNoop]]
    FaultConfigured: ClassVar[type[FaultConfigured]]


@dataclass(frozen=True, slots=True)
class UpsertCommitted(DoneLedgerSimEvent):
    """An auto-completed upsert committed (EXE-4)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.UPSERT_COMMITTED
    op_id: PendingWriteId
    receipt: DoneLedgerCommitReceipt


@dataclass(frozen=True, slots=True)
class UpsertPending(DoneLedgerSimEvent):
    """An upsert was accepted and delayed (EXE-3)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.UPSERT_PENDING
    op_id: PendingWriteId


@dataclass(frozen=True, slots=True)
class UpsertSubmitFailed(DoneLedgerSimEvent):
    """The submission itself was rejected (EXE-2)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.UPSERT_SUBMIT_FAILED


@dataclass(frozen=True, slots=True)
class UpsertCommitFailed(DoneLedgerSimEvent):
    """An auto-completed upsert failed at commit (EXE-4)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.UPSERT_COMMIT_FAILED
    op_id: PendingWriteId


@dataclass(frozen=True, slots=True)
class GetOk(DoneLedgerSimEvent):
    """A BatchGet returned (EXE-5), always emitted even with violations."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.GET_OK
    results: tuple[DoneLedgerRecord | None, ...]


@dataclass(frozen=True, slots=True)
class Released(DoneLedgerSimEvent):
    """A delayed upsert was released and committed (EXE-6)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.RELEASED
    op_id: PendingWriteId
    receipt: DoneLedgerCommitReceipt


@dataclass(frozen=True, slots=True)
class ReleasedCommitFailed(DoneLedgerSimEvent):
    """A delayed upsert was released and its commit failed (EXE-6)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.RELEASED_COMMIT_FAILED
    op_id: PendingWriteId


@dataclass(frozen=True, slots=True)
class ReleasedAll(DoneLedgerSimEvent):
    """A bulk release (EXE-9): ``count`` from the ledger, per-batch outcomes counted."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.RELEASED_ALL
    count: int
    committed: int
    failed: int


@dataclass(frozen=True, slots=True)
class ReleaseNoop(DoneLedgerSimEvent):
    """A single release found nothing to apply (EXE-7, EXE-8)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.RELEASE_NOOP


@dataclass(frozen=True, slots=True)
class FaultConfigured(DoneLedgerSimEvent):
    """An Inject* op armed a fault counter (EXE-10)."""

    kind: ClassVar[DoneLedgerSimEventKind] = DoneLedgerSimEventKind.FAULT_CONFIGURED


DoneLedgerSimEvent.UpsertCommitted = UpsertCommitted
DoneLedgerSimEvent.UpsertPending = UpsertPending
DoneLedgerSimEvent.UpsertSubmitFailed = UpsertSubmitFailed
DoneLedgerSimEvent.UpsertCommitFailed = UpsertCommitFailed
DoneLedgerSimEvent.GetOk = GetOk
DoneLedgerSimEvent.Released = Released
DoneLedgerSimEvent.ReleasedCommitFailed = ReleasedCommitFailed
DoneLedgerSimEvent.ReleasedAll = ReleasedAll
DoneLedgerSimEvent.ReleaseNoop = ReleaseNoop
DoneLedgerSimEvent.FaultConfigured = FaultConfigured


def record_event(counts: dict[DoneLedgerSimEventKind, int], event: DoneLedgerSimEvent) -> None:
    """Add one event to a histogram (EV-3).

    ``ReleasedAll`` also adds its ``committed`` to RELEASED and its
    ``failed`` to RELEASED_COMMIT_FAILED, so bulk outcomes show per batch.
    Kinds are only added when they occur (absent kinds stay missing; adding
    0 for a bulk release with no commits does not create the key).
    """
    counts[event.kind] = counts.get(event.kind, 0) + 1
    if isinstance(event, ReleasedAll):
        _add(counts, DoneLedgerSimEventKind.RELEASED, event.committed)
        _add(counts, DoneLedgerSimEventKind.RELEASED_COMMIT_FAILED, event.failed)


def _add(counts: dict[DoneLedgerSimEventKind, int], kind: DoneLedgerSimEventKind, n: int) -> None:
    if n:
        counts[kind] = counts.get(kind, 0) + n


def ordered_counts(
    counts: dict[DoneLedgerSimEventKind, int],
) -> dict[DoneLedgerSimEventKind, int]:
    """The histogram with keys in declaration order, absent kinds left out (RUN-8)."""
    return {kind: counts[kind] for kind in DoneLedgerSimEventKind.ALL if counts.get(kind)}
