"""One value class per invariant I1..I10 (INV section 8, open point 8), plus I11.

I11 ``ReleaseOrder`` is a project addition, not in the Rust reference: see
``gossip_model.sim.runner`` for why the harness checks release order.

Each violation is a frozen dataclass, compares by value, carries
``invariant`` (``"I1"``..``"I10"``) and ``variant_name``, and its ``str()``
starts with both (``"I3 CommitDurability: "``) followed by the key, the
expected and the actual value. How to replay (seed and command) is added by
the sweep and the command line, which know the run's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gossip_model.inmemory import CompletionOrder, PendingWriteId
from gossip_model.persistence import (
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

__all__ = [
    "BytesScanMonotonicity",
    "CommitDurability",
    "CommitRollback",
    "DoneLedgerViolation",
    "IdempotentUpsert",
    "LatticeConvergence",
    "ProvenanceFidelity",
    "ReadConsistency",
    "ReceiptAccuracy",
    "ReleaseOrder",
    "StatusMonotonicity",
    "SubmitRollback",
    "format_key",
    "format_provenance",
    "format_rank",
    "format_record",
]


def format_key(key: DoneLedgerKey) -> str:
    """Render a key with 4-byte prefixes of its three ids (tenant/policy/ovid)."""
    return (
        f"(tenant={bytes(key.tenant_id)[:4].hex()}.., "
        f"policy={bytes(key.policy_hash)[:4].hex()}.., "
        f"ovid={bytes(key.ovid_hash)[:4].hex()}..)"
    )


def format_rank(rank: int) -> str:
    """A status rank as its name and rank, e.g. ``ScannedClean (rank 10)``."""
    for status in DoneLedgerStatus.ALL:
        if status.rank == rank:
            return f"{status.variant_name} (rank {rank})"
    return f"unknown status (rank {rank})"


def format_provenance(provenance: DoneLedgerProvenance) -> str:
    """Render a provenance as ``(run=.., shard=.., fence=.., started=.., finished=..)``."""
    return (
        f"(run={int(provenance.run_id)}, shard={int(provenance.shard_id)}, "
        f"fence={int(provenance.fence_epoch)}, started={int(provenance.started_at)}, "
        f"finished={int(provenance.finished_at)})"
    )


def format_record(record: DoneLedgerRecord | None) -> str:
    """Render a record's value fields compactly, or ``None``."""
    if record is None:
        return "None"
    prov = record.provenance
    code = record.error_code.as_str() if record.error_code is not None else None
    return (
        f"{{status={record.status.variant_name}, bytes={record.bytes_scanned}, "
        f"findings={record.findings_count}, run={int(prov.run_id)}, shard={int(prov.shard_id)}, "
        f"fence={int(prov.fence_epoch)}, started={int(prov.started_at)}, "
        f"finished={int(prov.finished_at)}, error_code={code!r}}}"
    )


class DoneLedgerViolation:
    """Base of the ten invariant violations."""

    __slots__ = ()
    invariant: ClassVar[str]
    variant_name: ClassVar[str]

    # Variants, reachable as attributes (assigned below).
    StatusMonotonicity: ClassVar[type[StatusMonotonicity]]
    BytesScanMonotonicity: ClassVar[type[BytesScanMonotonicity]]
    CommitDurability: ClassVar[type[CommitDurability]]
    SubmitRollback: ClassVar[type[SubmitRollback]]
    CommitRollback: ClassVar[type[CommitRollback]]
    LatticeConvergence: ClassVar[type[LatticeConvergence]]
    ReadConsistency: ClassVar[type[ReadConsistency]]
    ProvenanceFidelity: ClassVar[type[ProvenanceFidelity]]
    ReceiptAccuracy: ClassVar[type[ReceiptAccuracy]]
    IdempotentUpsert: ClassVar[type[IdempotentUpsert]]
    ReleaseOrder: ClassVar[type[ReleaseOrder]]

    def _details(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return f"{self.invariant} {self.variant_name}: {self._details()}"


@dataclass(frozen=True, slots=True)
class StatusMonotonicity(DoneLedgerViolation):
    """I1: a key's durable status rank went down between two commits."""

    invariant: ClassVar[str] = "I1"
    variant_name: ClassVar[str] = "StatusMonotonicity"
    key: DoneLedgerKey
    prev_rank: int
    current_rank: int

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} expected status >= {format_rank(self.prev_rank)}, "
            f"actual {format_rank(self.current_rank)}"
        )


@dataclass(frozen=True, slots=True)
class BytesScanMonotonicity(DoneLedgerViolation):
    """I2: a key's durable ``bytes_scanned`` went down between two commits."""

    invariant: ClassVar[str] = "I2"
    variant_name: ClassVar[str] = "BytesScanMonotonicity"
    key: DoneLedgerKey
    prev_bytes: int
    current_bytes: int

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} expected bytes_scanned >= {self.prev_bytes}, "
            f"actual {self.current_bytes}"
        )


@dataclass(frozen=True, slots=True)
class CommitDurability(DoneLedgerViolation):
    """I3: a key of a committed batch is not readable."""

    invariant: ClassVar[str] = "I3"
    variant_name: ClassVar[str] = "CommitDurability"
    key: DoneLedgerKey

    def _details(self) -> str:
        return f"key={format_key(self.key)} expected a durable record after commit, actual None"


@dataclass(frozen=True, slots=True)
class SubmitRollback(DoneLedgerViolation):
    """I4: a failed or delayed submission changed visible state."""

    invariant: ClassVar[str] = "I4"
    variant_name: ClassVar[str] = "SubmitRollback"
    key: DoneLedgerKey
    expected: DoneLedgerRecord | None
    actual: DoneLedgerRecord | None

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} state changed by a failed or delayed submission: "
            f"expected {format_record(self.expected)}, actual {format_record(self.actual)}"
        )


@dataclass(frozen=True, slots=True)
class CommitRollback(DoneLedgerViolation):
    """I5: an auto-completed write whose commit failed changed visible state."""

    invariant: ClassVar[str] = "I5"
    variant_name: ClassVar[str] = "CommitRollback"
    key: DoneLedgerKey
    expected: DoneLedgerRecord | None
    actual: DoneLedgerRecord | None

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} state changed by a failed commit: "
            f"expected {format_record(self.expected)}, actual {format_record(self.actual)}"
        )


@dataclass(frozen=True, slots=True)
class LatticeConvergence(DoneLedgerViolation):
    """I6: after the drain, the ledger and the oracle disagree on a key."""

    invariant: ClassVar[str] = "I6"
    variant_name: ClassVar[str] = "LatticeConvergence"
    key: DoneLedgerKey
    oracle: DoneLedgerRecord | None
    actual: DoneLedgerRecord | None

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} expected (oracle) {format_record(self.oracle)}, "
            f"actual (ledger) {format_record(self.actual)}"
        )


@dataclass(frozen=True, slots=True)
class ReadConsistency(DoneLedgerViolation):
    """I7: ``batch_get`` disagrees with the oracle's committed state."""

    invariant: ClassVar[str] = "I7"
    variant_name: ClassVar[str] = "ReadConsistency"
    key: DoneLedgerKey
    oracle: DoneLedgerRecord | None
    actual: DoneLedgerRecord | None

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} expected (oracle) {format_record(self.oracle)}, "
            f"actual (batch_get) {format_record(self.actual)}"
        )


@dataclass(frozen=True, slots=True)
class ProvenanceFidelity(DoneLedgerViolation):
    """I8: merged provenance is neither the pre-existing nor the incoming one."""

    invariant: ClassVar[str] = "I8"
    variant_name: ClassVar[str] = "ProvenanceFidelity"
    key: DoneLedgerKey
    message: str

    def _details(self) -> str:
        return f"key={format_key(self.key)} {self.message}"


@dataclass(frozen=True, slots=True)
class ReceiptAccuracy(DoneLedgerViolation):
    """I9: receipt counts differ from the deduplicated incoming batch."""

    invariant: ClassVar[str] = "I9"
    variant_name: ClassVar[str] = "ReceiptAccuracy"
    key_count_expected: int
    key_count_actual: int
    scanned_expected: int
    scanned_actual: int
    findings_expected: int
    findings_actual: int

    def _details(self) -> str:
        return (
            "receipt (record_count, scanned_count, findings_count) expected "
            f"({self.key_count_expected}, {self.scanned_expected}, {self.findings_expected}), "
            f"actual ({self.key_count_actual}, {self.scanned_actual}, {self.findings_actual})"
        )


@dataclass(frozen=True, slots=True)
class IdempotentUpsert(DoneLedgerViolation):
    """I10: re-upserting the identical durable record changed it."""

    invariant: ClassVar[str] = "I10"
    variant_name: ClassVar[str] = "IdempotentUpsert"
    key: DoneLedgerKey
    before: DoneLedgerRecord
    after: DoneLedgerRecord

    def _details(self) -> str:
        return (
            f"key={format_key(self.key)} identical re-upsert changed the record: "
            f"expected {format_record(self.before)}, actual {format_record(self.after)}"
        )


@dataclass(frozen=True, slots=True)
class ReleaseOrder(DoneLedgerViolation):
    """I11 (project addition): the ledger applied releases out of the declared order.

    ``release_next`` must return the oldest (OLDEST_FIRST) or newest
    (NEWEST_FIRST) pending id; in a ``release_all`` the commit failures must be
    the first K ops of the declared apply order (LED-5, LED-7).
    ``expected`` and ``actual`` are the released id (single release) or the
    failed ids (bulk release), in apply order.
    """

    invariant: ClassVar[str] = "I11"
    variant_name: ClassVar[str] = "ReleaseOrder"
    order: CompletionOrder
    expected: tuple[PendingWriteId, ...]
    actual: tuple[PendingWriteId, ...]

    def _details(self) -> str:
        return (
            f"order={self.order.name} expected op ids {[int(i) for i in self.expected]}, "
            f"actual {[int(i) for i in self.actual]}"
        )


DoneLedgerViolation.StatusMonotonicity = StatusMonotonicity
DoneLedgerViolation.BytesScanMonotonicity = BytesScanMonotonicity
DoneLedgerViolation.CommitDurability = CommitDurability
DoneLedgerViolation.SubmitRollback = SubmitRollback
DoneLedgerViolation.CommitRollback = CommitRollback
DoneLedgerViolation.LatticeConvergence = LatticeConvergence
DoneLedgerViolation.ReadConsistency = ReadConsistency
DoneLedgerViolation.ProvenanceFidelity = ProvenanceFidelity
DoneLedgerViolation.ReceiptAccuracy = ReceiptAccuracy
DoneLedgerViolation.IdempotentUpsert = IdempotentUpsert
DoneLedgerViolation.ReleaseOrder = ReleaseOrder

ALL_VIOLATION_TYPES: tuple[type[DoneLedgerViolation], ...] = (
    StatusMonotonicity,
    BytesScanMonotonicity,
    CommitDurability,
    SubmitRollback,
    CommitRollback,
    LatticeConvergence,
    ReadConsistency,
    ProvenanceFidelity,
    ReceiptAccuracy,
    IdempotentUpsert,
    ReleaseOrder,
)
"""The variants in invariant order: the reference's I1..I10, then the project's I11."""

INVARIANT_NAMES: dict[str, str] = {v.invariant: v.variant_name for v in ALL_VIOLATION_TYPES}
"""``{"I1": "StatusMonotonicity", ...}`` in invariant order."""
