"""Row encoding shared by the SQLite and PostgreSQL backends (backends.md §1, ENC-1..ENC-6).

Encoders turn validated records into column tuples in the column order of
SCH-1/SCH-2 and raise ``ValueOutOfRange`` for values the engines cannot hold
(ENC-2..ENC-4). Decoders turn a row back into a record, re-checking lengths,
ranges and ranks, and raise ``CorruptRow`` naming the column (DBL-7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gossip_model.db.errors import CorruptRow, ValueOutOfRange
from gossip_model.identity import (
    I64_SIGN_BIT,
    FenceEpoch,
    FindingId,
    LogicalTime,
    ObjectVersionId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
)
from gossip_model.inmemory.errors import InMemoryStoreKind
from gossip_model.persistence.done_ledger import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.findings import FindingRecord, ObservationRecord, OccurrenceRecord
from gossip_model.persistence.location import Location

#: ENC-2: largest value of the checked BIGINT columns (stored unchanged).
I63_MAX = 2**63 - 1
#: ENC-3: PostgreSQL INTEGER bound for ``findings_count``.
I31_MAX = 2**31 - 1
#: ENC-4: ``occurrences_span_no_overflow_ck`` allows ``offset + length`` up to this.
SPAN_END_MAX = 2**63 - 2

DONE = InMemoryStoreKind.DONE_LEDGER
FINDINGS = InMemoryStoreKind.FINDINGS

DONE_COLUMNS = (
    "tenant_id",
    "policy_hash",
    "ovid_hash",
    "status",
    "bytes_scanned",
    "findings_count",
    "fence_epoch",
    "started_at",
    "finished_at",
    "run_id",
    "shard_id",
    "error_code",
)
FINDING_COLUMNS = ("tenant_id", "finding_id", "stable_item_id", "rule_fingerprint", "secret_hash")
OCCURRENCE_COLUMNS = (
    "tenant_id",
    "occurrence_id",
    "finding_id",
    "object_version_id",
    "byte_offset",
    "byte_length",
)
OBSERVATION_COLUMNS = (
    "tenant_id",
    "observation_id",
    "occurrence_id",
    "policy_hash",
    "ovid_hash",
    "run_id",
    "shard_id",
    "fence_epoch",
    "seen_at",
    "location_display",
    "location_url",
)


def s64(value: int) -> int:
    """ENC-2: the u64 bit pattern as a signed 64-bit integer."""
    return value - 2**64 if value >= I64_SIGN_BIT else value


def u64(value: int) -> int:
    """ENC-2: the inverse of :func:`s64`."""
    return value + 2**64 if value < 0 else value


def _checked(store: InMemoryStoreKind, field: str, position: int, value: int, limit: int) -> int:
    if value > limit:
        raise ValueOutOfRange(store, field, position, value, limit)
    return value


# --- done ledger --------------------------------------------------------------------


def encode_done_row(record: DoneLedgerRecord, position: int) -> tuple[Any, ...]:
    """ENC-1..ENC-3, ENC-5: the 12 columns of ``done_ledger_entries`` for one record."""
    prov = record.provenance
    key = record.key
    code = record.error_code
    return (
        key.tenant_id.raw,
        key.policy_hash.raw,
        key.ovid_hash.raw,
        record.status.rank,
        _checked(DONE, "bytes_scanned", position, record.bytes_scanned, I63_MAX),
        _checked(DONE, "findings_count", position, record.findings_count, I31_MAX),
        _checked(DONE, "fence_epoch", position, prov.fence_epoch.value, I63_MAX),
        _checked(DONE, "started_at", position, prov.started_at.value, I63_MAX),
        _checked(DONE, "finished_at", position, prov.finished_at.value, I63_MAX),
        s64(prov.run_id.value),
        s64(prov.shard_id.value),
        None if code is None else code.code,
    )


T = TypeVar("T")


class _Decoder:
    """Decode one row column by column; any failure names the column (DBL-7)."""

    __slots__ = ("row", "store", "table")

    def __init__(self, store: InMemoryStoreKind, table: str, row: Sequence[Any]) -> None:
        self.store = store
        self.table = table
        self.row = row

    def corrupt(self, column: str) -> CorruptRow:
        return CorruptRow(self.store, self.table, column)

    def id32(self, index: int, column: str, kind: Callable[[bytes], T]) -> T:
        value = self.row[index]
        if not isinstance(value, bytes | bytearray | memoryview) or len(value) != 32:
            raise self.corrupt(column) from None
        return kind(bytes(value))

    def int_in(self, index: int, column: str, low: int, high: int) -> int:
        value = self.row[index]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.corrupt(column) from None
        return value

    def u64_bits(self, index: int, column: str) -> int:
        return u64(self.int_in(index, column, -(2**63), I63_MAX))

    def text(self, index: int, column: str) -> str | None:
        value = self.row[index]
        if value is not None and not isinstance(value, str):
            raise self.corrupt(column) from None
        return value


def decode_done_row(row: Sequence[Any]) -> DoneLedgerRecord:
    """DBL-7: decode, then the lenient constructor, then ``validate()``; else ``CorruptRow``."""
    d = _Decoder(DONE, "done_ledger_entries", row)
    key = DoneLedgerKey(
        d.id32(0, "tenant_id", TenantId),
        d.id32(1, "policy_hash", PolicyHash),
        d.id32(2, "ovid_hash", OvidHash),
    )
    status = DoneLedgerStatus.from_rank(d.int_in(3, "status", 0, 255))
    if status is None:
        raise d.corrupt("status")
    bytes_scanned = d.int_in(4, "bytes_scanned", 0, I63_MAX)
    findings_count = d.int_in(5, "findings_count", 0, I31_MAX)
    provenance = DoneLedgerProvenance(
        RunId(d.u64_bits(9, "run_id")),
        ShardId(d.u64_bits(10, "shard_id")),
        FenceEpoch(d.int_in(6, "fence_epoch", 0, I63_MAX)),
        LogicalTime(d.int_in(7, "started_at", 0, I63_MAX)),
        LogicalTime(d.int_in(8, "finished_at", 0, I63_MAX)),
    )
    code_text = d.text(11, "error_code")
    try:
        code = None if code_text is None else DoneLedgerErrorCode(code_text)
    except ValueError:
        raise d.corrupt("error_code") from None
    try:
        record = DoneLedgerRecord(key, status, bytes_scanned, findings_count, provenance, code)
        record.validate()
    except ValueError:
        raise d.corrupt("status") from None
    return record


# --- findings ------------------------------------------------------------------------


def encode_finding_row(record: FindingRecord) -> tuple[bytes, ...]:
    """ENC-1: five 32-byte columns."""
    return (
        record.tenant_id.raw,
        record.finding_id.raw,
        record.stable_item_id.raw,
        record.rule_fingerprint.raw,
        record.secret_hash.raw,
    )


def decode_finding_row(row: Sequence[Any]) -> FindingRecord:
    d = _Decoder(FINDINGS, "findings", row)
    return FindingRecord(
        d.id32(0, "tenant_id", TenantId),
        d.id32(1, "finding_id", FindingId),
        d.id32(2, "stable_item_id", StableItemId),
        d.id32(3, "rule_fingerprint", RuleFingerprint),
        SecretHash._from_raw(d.id32(4, "secret_hash", bytes)),
    )


def encode_occurrence_row(record: OccurrenceRecord, position: int) -> tuple[Any, ...]:
    """ENC-2, ENC-4: offsets fit a signed BIGINT and the span end stays <= 2**63 - 2."""
    offset = _checked(FINDINGS, "byte_offset", position, record.byte_offset, I63_MAX)
    length = _checked(FINDINGS, "byte_length", position, record.byte_length, I63_MAX)
    _checked(FINDINGS, "byte_offset + byte_length", position, offset + length, SPAN_END_MAX)
    return (
        record.tenant_id.raw,
        record.occurrence_id.raw,
        record.finding_id.raw,
        record.object_version_id.raw,
        offset,
        length,
    )


def decode_occurrence_row(row: Sequence[Any]) -> OccurrenceRecord:
    d = _Decoder(FINDINGS, "occurrences", row)
    offset = d.int_in(4, "byte_offset", 0, I63_MAX)
    length = d.int_in(5, "byte_length", 1, I63_MAX)
    return OccurrenceRecord(
        d.id32(0, "tenant_id", TenantId),
        d.id32(1, "occurrence_id", OccurrenceId),
        d.id32(2, "finding_id", FindingId),
        d.id32(3, "object_version_id", ObjectVersionId),
        offset,
        length,
    )


def encode_observation_row(record: ObservationRecord, position: int) -> tuple[Any, ...]:
    """ENC-2, ENC-5: run/shard as bit patterns, checked fence and ``seen_at``, location split."""
    location = record.location
    return (
        record.tenant_id.raw,
        record.observation_id.raw,
        record.occurrence_id.raw,
        record.policy_hash.raw,
        record.ovid_hash.raw,
        s64(record.run_id.value),
        s64(record.shard_id.value),
        _checked(FINDINGS, "fence_epoch", position, record.fence_epoch.value, I63_MAX),
        _checked(FINDINGS, "seen_at", position, record.seen_at.value, I63_MAX),
        None if location is None else location.display,
        None if location is None else location.url,
    )


def decode_observation_row(row: Sequence[Any]) -> ObservationRecord:
    """ENC-5: a url without a display is corrupt; the stored id is not re-derived here."""
    d = _Decoder(FINDINGS, "observations", row)
    display = d.text(9, "location_display")
    url = d.text(10, "location_url")
    if display is None:
        if url is not None:
            raise d.corrupt("location_url")
        location = None
    else:
        try:
            location = Location(display, url)
        except ValueError:
            raise d.corrupt("location_display") from None
    return ObservationRecord(
        d.id32(0, "tenant_id", TenantId),
        d.id32(1, "observation_id", ObservationId),
        d.id32(2, "occurrence_id", OccurrenceId),
        d.id32(3, "policy_hash", PolicyHash),
        d.id32(4, "ovid_hash", OvidHash),
        RunId(d.u64_bits(5, "run_id")),
        ShardId(d.u64_bits(6, "shard_id")),
        FenceEpoch(d.int_in(7, "fence_epoch", 0, I63_MAX)),
        LogicalTime(d.int_in(8, "seen_at", 0, I63_MAX)),
        location,
    )
