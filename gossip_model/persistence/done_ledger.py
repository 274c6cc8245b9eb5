"""The done ledger contract: key, status lattice, record, merge, receipt, protocol.

contracts.md §7 (DL-1..DL-50). The merge (DL-34) is a pure function on
immutable records; backends only decide where the merged record is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from gossip_model.identity import (
    I64_SIGN_BIT,
    U32_MAX,
    U64_MAX,
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
    check_int,
    check_type,
)
from gossip_model.persistence.commit import CommitHandle
from gossip_model.persistence.done_ledger_types import DoneLedgerKey as DoneLedgerKey
from gossip_model.persistence.done_ledger_types import DoneLedgerStatus as DoneLedgerStatus
from gossip_model.persistence.errors import (
    Empty,
    InconsistentFindingsCount,
    InvalidByte,
    KeyMismatch,
    MissingErrorCode,
    PersistenceInputError,
    TooLarge,
    UnexpectedErrorCode,
)
from gossip_model.persistence.write_context import WriteContext

#: DL-1: the longest error code, in UTF-8 bytes.
MAX_DONE_LEDGER_ERROR_CODE_SIZE = 128
#: DL-2: a SHOULD for callers; never enforced by the value types or in-memory stores.
RECOMMENDED_MAX_BATCH_SIZE = 10_000

_SCANNED_CLEAN = DoneLedgerStatus.SCANNED_CLEAN
_SCANNED_WITH_FINDINGS = DoneLedgerStatus.SCANNED_WITH_FINDINGS


# --- Error code (DL-14, DL-15, RED-6) -----------------------------------------

_ERROR_CODE_BYTES = frozenset(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz _-.:/"
)


@dataclass(frozen=True, slots=True)
class DoneLedgerErrorCode:
    """DL-14: a bounded, display-safe failure reason, kept verbatim.

    Checks, in order: empty -> ``Empty``; over 128 UTF-8 bytes -> ``TooLarge``;
    first byte outside ``[0-9A-Za-z _-.:/]`` -> ``InvalidByte``; all spaces ->
    ``Empty``. ``repr`` is ``DoneLedgerErrorCode("TIMEOUT")``, ``str`` the code.
    """

    code: str

    def __post_init__(self) -> None:
        check_type("DoneLedgerErrorCode", "code", self.code, str)
        data = self.code.encode("utf-8")
        if not data:
            raise Empty("DoneLedgerErrorCode")
        if len(data) > MAX_DONE_LEDGER_ERROR_CODE_SIZE:
            raise TooLarge("DoneLedgerErrorCode", len(data), MAX_DONE_LEDGER_ERROR_CODE_SIZE)
        for index, byte in enumerate(data):
            if byte not in _ERROR_CODE_BYTES:
                raise InvalidByte("DoneLedgerErrorCode", index, byte)
        if data.count(b" ") == len(data):
            raise Empty("DoneLedgerErrorCode")

    def as_str(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f'DoneLedgerErrorCode("{self.code}")'

    def __str__(self) -> str:
        return self.code


# --- Provenance (DL-20..DL-22) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoneLedgerProvenance:
    """DL-20: who wrote a record and when (logical time); not part of the key.

    Open point (DL-21, §13 item 11): the constructor accepts ``started_at >
    finished_at`` (the reference checks it only in debug builds); backends
    reject it at upsert with ``ProvenanceOrdering``.
    """

    run_id: RunId
    shard_id: ShardId
    fence_epoch: FenceEpoch
    started_at: LogicalTime
    finished_at: LogicalTime

    def __post_init__(self) -> None:
        check_type("DoneLedgerProvenance", "run_id", self.run_id, RunId)
        check_type("DoneLedgerProvenance", "shard_id", self.shard_id, ShardId)
        check_type("DoneLedgerProvenance", "fence_epoch", self.fence_epoch, FenceEpoch)
        check_type("DoneLedgerProvenance", "started_at", self.started_at, LogicalTime)
        check_type("DoneLedgerProvenance", "finished_at", self.finished_at, LogicalTime)

    @classmethod
    def from_write_context(
        cls, wc: WriteContext, started_at: LogicalTime, finished_at: LogicalTime
    ) -> DoneLedgerProvenance:
        """WC-3/DL-22: keep run, shard and fence of ``wc``."""
        check_type("DoneLedgerProvenance.from_write_context", "wc", wc, WriteContext)
        return cls(wc.run_id, wc.shard_id, wc.fence_epoch, started_at, finished_at)

    def is_ordered(self) -> bool:
        """DL-21: ``started_at <= finished_at``."""
        return self.started_at.value <= self.finished_at.value


def _s64(value: int) -> int:
    """The u64 bits read as two's-complement i64 (PostgreSQL BIGINT order, DL-34)."""
    return value - 2**64 if value >= I64_SIGN_BIT else value


# --- Record (DL-30..DL-36) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoneLedgerRecord:
    """The outcome of one scan of one key (DL-30).

    The constructor is the lenient ``try_new`` (DL-31: only the findings-count
    consistency of the two scanned statuses); ``validate()`` is strict (DL-32).
    ``merge`` is the lattice join of DL-34.
    """

    key: DoneLedgerKey
    status: DoneLedgerStatus
    bytes_scanned: int
    findings_count: int
    provenance: DoneLedgerProvenance
    error_code: DoneLedgerErrorCode | None = None
    # Derived once per immutable record, for the merge hot path (DL-34 step 7).
    _winner_key: tuple[int, int, int, int, int, int, bytes] = field(
        init=False, repr=False, compare=False
    )
    _strict_ok: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_type("DoneLedgerRecord", "key", self.key, DoneLedgerKey)
        check_type("DoneLedgerRecord", "status", self.status, DoneLedgerStatus)
        check_int("DoneLedgerRecord", "bytes_scanned", self.bytes_scanned, U64_MAX)
        check_int("DoneLedgerRecord", "findings_count", self.findings_count, U32_MAX)
        check_type("DoneLedgerRecord", "provenance", self.provenance, DoneLedgerProvenance)
        if self.error_code is not None:
            check_type("DoneLedgerRecord", "error_code", self.error_code, DoneLedgerErrorCode)
        status = self.status
        if (status is _SCANNED_WITH_FINDINGS and self.findings_count == 0) or (
            status is _SCANNED_CLEAN and self.findings_count > 0
        ):
            raise InconsistentFindingsCount(status, self.findings_count)
        self._set_derived()

    def _set_derived(self) -> None:
        object.__setattr__(self, "_strict_ok", self.strict_error() is None)
        prov = self.provenance
        code = self.error_code
        object.__setattr__(
            self,
            "_winner_key",
            (
                self.status.rank,
                prov.finished_at.value,
                prov.started_at.value,
                prov.fence_epoch.value,
                _s64(prov.run_id.value),
                _s64(prov.shard_id.value),
                code.code.encode("ascii") if code is not None else b"",
            ),
        )

    def strict_error(self) -> PersistenceInputError | None:
        """The error ``validate()`` would raise, or ``None`` (DL-32)."""
        status = self.status
        if status is _SCANNED_CLEAN or status is _SCANNED_WITH_FINDINGS:
            if (self.findings_count == 0) != (status is _SCANNED_CLEAN):
                return InconsistentFindingsCount(status, self.findings_count)
            if self.error_code is not None:
                return UnexpectedErrorCode(status)
        elif self.error_code is None:
            return MissingErrorCode(status)
        return None

    def validate(self) -> None:
        """DL-32: the strict per-status checks used by write paths and ``merge``."""
        error = self.strict_error()
        if error is not None:
            raise error

    def write_context(self) -> WriteContext:
        """WC-3/DL-33: tenant and policy from the key, run, shard and fence from provenance."""
        prov = self.provenance
        return WriteContext(
            self.key.tenant_id,
            self.key.policy_hash,
            prov.run_id,
            prov.shard_id,
            prov.fence_epoch,
        )

    def merge(self, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        """DL-34: join ``self`` (the stored row) with ``incoming`` (the new submission).

        Both operands are validated first (DL-36), then keys compared; the
        status is the lattice join, bytes the maximum, the findings count
        status-aware, and provenance plus error code come whole from the record
        with the larger ``W`` tuple (ties keep ``self``). The result always
        passes ``validate()``.
        """
        check_type("DoneLedgerRecord.merge", "incoming", incoming, DoneLedgerRecord)
        if not (self._strict_ok and incoming._strict_ok):
            self.validate()
            incoming.validate()
        if self.key is not incoming.key and self.key != incoming.key:
            raise KeyMismatch(self.key, incoming.key)
        if incoming._winner_key > self._winner_key:
            winner, loser = incoming, self
        else:
            winner, loser = self, incoming
        # The winner has the highest rank, so its status is the join (DL-34 step 4).
        status = winner.status
        if status is _SCANNED_CLEAN:
            count = 0
            code = None
        elif status is _SCANNED_WITH_FINDINGS:
            # Counts of lower statuses never leak into a SWF result (step 6).
            loser_count = loser.findings_count if loser.status is status else 0
            count = max(winner.findings_count, loser_count, 1)
            code = None
        else:
            count = max(winner.findings_count, loser.findings_count)
            code = winner.error_code if winner.error_code is not None else loser.error_code
        return _trusted_record(
            winner.key,
            status,
            max(self.bytes_scanned, incoming.bytes_scanned),
            count,
            winner.provenance,
            code,
            winner._winner_key if code is winner.error_code else None,
        )


_new_record = object.__new__
_set = object.__setattr__


def _trusted_record(
    key: DoneLedgerKey,
    status: DoneLedgerStatus,
    bytes_scanned: int,
    findings_count: int,
    provenance: DoneLedgerProvenance,
    error_code: DoneLedgerErrorCode | None,
    winner_key: tuple[int, int, int, int, int, int, bytes] | None,
) -> DoneLedgerRecord:
    """Build a merge result without re-checking fields that merge proved valid.

    DL-34 step 10 says the constructor "cannot fail for validated inputs"; this
    skips only the redundant type and range checks, which dominate merge cost.
    """
    record: DoneLedgerRecord = _new_record(DoneLedgerRecord)
    _set(record, "key", key)
    _set(record, "status", status)
    _set(record, "bytes_scanned", bytes_scanned)
    _set(record, "findings_count", findings_count)
    _set(record, "provenance", provenance)
    _set(record, "error_code", error_code)
    _set(record, "_strict_ok", True)
    if winner_key is None:
        record._set_derived()
    else:
        _set(record, "_winner_key", winner_key)
    return record


def fold_records(records: Iterable[DoneLedgerRecord]) -> dict[DoneLedgerKey, DoneLedgerRecord]:
    """DL-43: fold a batch per key with ``merge``, in input order (first as ``existing``).

    Insertion order of the result follows the first occurrence of each key.
    """
    folded: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    for record in records:
        previous = folded.get(record.key)
        folded[record.key] = record if previous is None else previous.merge(record)
    return folded


# --- Receipt (DL-50) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoneLedgerCommitReceipt:
    """DL-50: distinct keys, how many are scanned, and the summed findings count."""

    record_count: int
    scanned_count: int
    findings_count: int

    def __post_init__(self) -> None:
        check_int("DoneLedgerCommitReceipt", "record_count", self.record_count, U64_MAX)
        check_int("DoneLedgerCommitReceipt", "scanned_count", self.scanned_count, U64_MAX)
        check_int("DoneLedgerCommitReceipt", "findings_count", self.findings_count, U64_MAX)

    @classmethod
    def for_folded(cls, folded: Iterable[DoneLedgerRecord]) -> DoneLedgerCommitReceipt:
        """DL-50: computed from batch-folded records; findings saturate at u64 max."""
        records = scanned = findings = 0
        for record in folded:
            records += 1
            scanned += record.status.rank >= 10
            findings += record.findings_count
        return cls(records, scanned, min(findings, U64_MAX))


# --- Interface (DL-40..DL-43) ----------------------------------------------------


@runtime_checkable
class DoneLedger(Protocol):
    """The done-ledger interface: synchronous, thread-safe, durability via handles."""

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        """DL-40: one entry per input hash, positional (duplicates answered each time)."""
        ...

    def batch_upsert(
        self, records: Sequence[DoneLedgerRecord]
    ) -> CommitHandle[DoneLedgerCommitReceipt]:
        """DL-43: merge each record into storage; durable once ``wait()`` returns."""
        ...

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        """DL-41: each terminal key's ovid hash in exactly this scope, once; order free."""
        ...

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None:
        """DL-42: ``len(list_done_hashes(...))``, or ``None`` when counting is not cheap.

        Open point (§13 item 13): ``None`` is allowed; this default body serves
        classes that subclass the Protocol explicitly.
        """
        return None
