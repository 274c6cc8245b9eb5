"""Per-row and per-relation checks of the audit (see :mod:`gossip_model.audit.rules`).

Row checks take one row in the column order of ``gossip_model.db.encoding``
(SCH-1/SCH-2) and add each violation to the report. They work on the raw
values instead of building records, so a row costs a few microseconds; the
rules are the same as the records' (DL-11, DL-14, DL-32, DL-43, FS-3, FS-8,
FS-16, ENC-*), and the tests compare the two on generated rows.

Relation checks are SQL anti-joins (the database joins, the client streams
only the violations); the same SQL runs on PostgreSQL and SQLite.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from typing import Any

import blake3

from gossip_model.audit import rules
from gossip_model.audit.report import AuditReport
from gossip_model.db.encoding import I31_MAX, I63_MAX, SPAN_END_MAX
from gossip_model.identity import FINDING_ID_V1, OBSERVATION_ID_V1, OCCURRENCE_ID_V1
from gossip_model.persistence import DoneLedgerStatus
from gossip_model.persistence.done_ledger import DoneLedgerErrorCode
from gossip_model.persistence.location import Location

Row = Sequence[Any]
I64_MIN = -(2**63)
RANKS = frozenset(status.rank for status in DoneLedgerStatus.ALL)
FAILURE_RANKS = frozenset({1, 2, 3})
SCANNED_CLEAN = 10
SCANNED_WITH_FINDINGS = 11
LOCATION_MAX = 4096


class _Deriver:
    """``identity.derive_key(context, material)`` with the context key derived once.

    BLAKE3's derive-key mode first hashes the context string; copying a
    hasher that already holds it saves that work on every row (tests compare
    with ``identity.derive_key``).
    """

    __slots__ = ("_base",)

    def __init__(self, context: str) -> None:
        self._base = blake3.blake3(derive_key_context=context)

    def __call__(self, material: bytes) -> bytes:
        hasher = self._base.copy()
        hasher.update(material)
        return bytes(hasher.digest())


derive_finding = _Deriver(FINDING_ID_V1)
derive_occurrence = _Deriver(OCCURRENCE_ID_V1)
derive_observation = _Deriver(OBSERVATION_ID_V1)


def _id32(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == 32


def _int(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _hex(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else repr(type(value).__name__)


def _done_key(row: Row) -> dict[str, str]:
    return {"tenant_id": _hex(row[0]), "policy_hash": _hex(row[1]), "ovid_hash": _hex(row[2])}


def _decode_problem_done(row: Row) -> str | None:
    """ENC-1..ENC-3, ENC-5, DL-11: the first column that does not decode, if any."""
    for index, column in ((0, "tenant_id"), (1, "policy_hash"), (2, "ovid_hash")):
        if not _id32(row[index]):
            return column
    if row[3] not in RANKS or type(row[3]) is not int:
        return "status"
    if not _int(row[4], 0, I63_MAX):
        return "bytes_scanned"
    if not _int(row[5], 0, I31_MAX):
        return "findings_count"
    for index, column in ((6, "fence_epoch"), (7, "started_at"), (8, "finished_at")):
        if not _int(row[index], 0, I63_MAX):
            return column
    for index, column in ((9, "run_id"), (10, "shard_id")):
        if not _int(row[index], I64_MIN, I63_MAX):
            return column
    if row[11] is not None and not isinstance(row[11], str):
        return "error_code"
    return None


@functools.lru_cache(maxsize=4096)
def _code_ok(code: str) -> bool:
    """DL-14, cached: a ledger holds few distinct codes."""
    try:
        DoneLedgerErrorCode(code)
    except ValueError:
        return False
    return True


def check_done_row(row: Row, report: AuditReport) -> None:
    """DL-DECODE, DL-SHAPE (DL-32), DL-CODE (DL-14), DL-ORDER (DL-43) for one stored row.

    A valid row passes one inline expression (the fast path); any other row
    goes through :func:`_check_done_detail`, which names each problem.
    """
    t, p, o, status, scanned, count, fence, started, finished, run, shard, code = row
    if (
        type(t) is bytes
        and len(t) == 32
        and type(p) is bytes
        and len(p) == 32
        and type(o) is bytes
        and len(o) == 32
        and type(status) is int
        and type(scanned) is int
        and 0 <= scanned <= I63_MAX
        and type(count) is int
        and 0 <= count <= I31_MAX
        and type(fence) is int
        and 0 <= fence <= I63_MAX
        and type(finished) is int
        and finished <= I63_MAX
        and type(started) is int
        and 0 <= started <= finished
        and type(run) is int
        and I64_MIN <= run <= I63_MAX
        and type(shard) is int
        and I64_MIN <= shard <= I63_MAX
        and (
            (status == SCANNED_CLEAN and count == 0 and code is None)
            or (status == SCANNED_WITH_FINDINGS and count > 0 and code is None)
            or (status in FAILURE_RANKS and type(code) is str and _code_ok(code))
        )
    ):
        return
    _check_done_detail(row, report)


def _check_done_detail(row: Row, report: AuditReport) -> None:
    problem = _decode_problem_done(row)
    if problem is not None:
        report.add(rules.DL_DECODE, {**_done_key(row), "column": problem})
        return
    status, count, code = row[3], row[5], row[11]
    shape: str | None = None
    if status == SCANNED_CLEAN:
        if count != 0:
            shape = "SCANNED_CLEAN with findings_count > 0"
        elif code is not None:
            shape = "SCANNED_CLEAN with an error_code"
    elif status == SCANNED_WITH_FINDINGS:
        if count == 0:
            shape = "SCANNED_WITH_FINDINGS with findings_count 0"
        elif code is not None:
            shape = "SCANNED_WITH_FINDINGS with an error_code"
    elif code is None:
        shape = f"status {status} without an error_code"
    if shape is not None:
        report.add(rules.DL_SHAPE, {**_done_key(row), "problem": shape})
    if code is not None and not _code_ok(code):
        try:
            DoneLedgerErrorCode(code)
        except ValueError as err:
            report.add(rules.DL_CODE, {**_done_key(row), "problem": type(err).__name__})
    if row[7] > row[8]:
        report.add(
            rules.DL_ORDER,
            {**_done_key(row), "started_at": str(row[7]), "finished_at": str(row[8])},
        )


def check_finding_row(row: Row, report: AuditReport) -> None:
    """FS-DECODE, FS-ID-FINDING (FS-3): 32-byte columns; the id equals its derivation."""
    for index, column in enumerate(
        ("tenant_id", "finding_id", "stable_item_id", "rule_fingerprint")
    ):
        if not _id32(row[index]):
            report.add(rules.FS_DECODE, {"table": "findings", "column": column})
            return
    if not _id32(row[4]):
        report.add(rules.FS_DECODE, {"table": "findings", "column": "secret_hash"})
        return
    tenant, finding, item, rule, secret = row[0], row[1], row[2], row[3], row[4]
    if derive_finding(tenant + item + rule + secret) != finding:
        report.add(rules.FINDING_ID, {"tenant_id": tenant.hex(), "finding_id": finding.hex()})


def check_occurrence_row(row: Row, report: AuditReport) -> None:
    """FS-DECODE (ENC-2, ENC-4, FS-6), FS-ID-OCCURRENCE (FS-8, ID-17)."""
    for index, column in enumerate(
        ("tenant_id", "occurrence_id", "finding_id", "object_version_id")
    ):
        if not _id32(row[index]):
            report.add(rules.FS_DECODE, {"table": "occurrences", "column": column})
            return
    offset, length = row[4], row[5]
    if not _int(offset, 0, I63_MAX) or not _int(length, 1, I63_MAX):
        column = "byte_offset" if not _int(offset, 0, I63_MAX) else "byte_length"
        report.add(rules.FS_DECODE, {"table": "occurrences", "column": column})
        return
    if offset + length > SPAN_END_MAX:
        report.add(
            rules.FS_DECODE, {"table": "occurrences", "column": "byte_offset + byte_length"}
        )
        return
    material = row[2] + row[3] + struct.pack("<QQ", offset, length)
    if derive_occurrence(material) != row[1]:
        report.add(rules.OCCURRENCE_ID, {"tenant_id": row[0].hex(), "occurrence_id": row[1].hex()})


def _location_problem(display: object, url: object) -> str | None:
    """ENC-5, LOC-2: a url needs a display; both are text of 1..4096 UTF-8 bytes."""
    if display is None:
        return None if url is None else "location_url"
    if not isinstance(display, str) or (url is not None and not isinstance(url, str)):
        return "location_display"
    try:
        Location(display, url)
    except ValueError:
        return "location_display"
    if url == "":
        return "location_url"  # stored empty url: the stores never write one (LOC-2)
    return None


def _text_ok(value: object) -> bool:
    """LOC-2 sizes: 1..4096 UTF-8 bytes (1024 characters can never exceed 4096 bytes)."""
    return (
        type(value) is str
        and len(value) > 0
        and (len(value) <= 1024 or len(value.encode("utf-8")) <= LOCATION_MAX)
    )


def check_observation_row(row: Row, report: AuditReport) -> None:
    """FS-DECODE (ENC-1, ENC-2, ENC-5), FS-ID-OBSERVATION (FS-16, ID-18).

    Fast path for rows that decode; others go through :func:`_check_observation_detail`.
    """
    t, oid, occ, pol, ovid, run, shard, fence, seen, display, url = row
    if not (
        type(t) is bytes
        and len(t) == 32
        and type(oid) is bytes
        and len(oid) == 32
        and type(occ) is bytes
        and len(occ) == 32
        and type(pol) is bytes
        and len(pol) == 32
        and type(ovid) is bytes
        and len(ovid) == 32
        and type(run) is int
        and I64_MIN <= run <= I63_MAX
        and type(shard) is int
        and I64_MIN <= shard <= I63_MAX
        and type(fence) is int
        and 0 <= fence <= I63_MAX
        and type(seen) is int
        and 0 <= seen <= I63_MAX
        and (
            (display is None and url is None)
            or (_text_ok(display) and (url is None or _text_ok(url)))
        )
    ):
        _check_observation_detail(row, report)
    elif derive_observation(t + pol + occ) != oid:
        report.add(rules.OBSERVATION_ID, {"tenant_id": t.hex(), "observation_id": oid.hex()})


def _check_observation_detail(row: Row, report: AuditReport) -> None:
    columns = ("tenant_id", "observation_id", "occurrence_id", "policy_hash", "ovid_hash")
    for index, column in enumerate(columns):
        if not _id32(row[index]):
            report.add(rules.FS_DECODE, {"table": "observations", "column": column})
            return
    problem: str | None = None
    for index, column in ((5, "run_id"), (6, "shard_id")):
        if not _int(row[index], I64_MIN, I63_MAX):
            problem = column
    for index, column in ((7, "fence_epoch"), (8, "seen_at")):
        if not _int(row[index], 0, I63_MAX):
            problem = column
    problem = problem or _location_problem(row[9], row[10])
    if problem is not None:
        report.add(
            rules.FS_DECODE,
            {"table": "observations", "column": problem, "observation_id": row[1].hex()},
        )
    if derive_observation(row[0] + row[3] + row[2]) != row[1]:
        report.add(
            rules.OBSERVATION_ID, {"tenant_id": row[0].hex(), "observation_id": row[1].hex()}
        )


RowCheck = Callable[[Row, AuditReport], None]

#: (table, the SELECT, the row check): every row of every data table.
ROW_SCANS: tuple[tuple[str, str, RowCheck], ...] = (
    (
        "done_ledger_entries",
        "SELECT tenant_id, policy_hash, ovid_hash, status, bytes_scanned, findings_count, "
        "fence_epoch, started_at, finished_at, run_id, shard_id, error_code "
        "FROM done_ledger_entries",
        check_done_row,
    ),
    (
        "findings",
        "SELECT tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash "
        "FROM findings",
        check_finding_row,
    ),
    (
        "occurrences",
        "SELECT tenant_id, occurrence_id, finding_id, object_version_id, byte_offset, "
        "byte_length FROM occurrences",
        check_occurrence_row,
    ),
    (
        "observations",
        "SELECT tenant_id, observation_id, occurrence_id, policy_hash, ovid_hash, run_id, "
        "shard_id, fence_epoch, seen_at, location_display, location_url FROM observations",
        check_observation_row,
    ),
)


def _relation(rule: rules.AuditRule, names: tuple[str, ...]) -> Callable[[Row, AuditReport], None]:
    def add(row: Row, report: AuditReport) -> None:
        example = {
            name: (_hex(v) if isinstance(v, bytes) else str(bool(v)))
            for name, v in zip(names, row, strict=True)
        }
        report.add(rule, example)

    return add


#: (tables needed, the anti-join streaming only violations, how to report a row).
RELATION_SCANS: tuple[tuple[frozenset[str], str, RowCheck], ...] = (
    (
        frozenset({"findings", "occurrences"}),
        "SELECT o.tenant_id, o.occurrence_id, o.finding_id FROM occurrences o "
        "LEFT JOIN findings f ON f.tenant_id = o.tenant_id AND f.finding_id = o.finding_id "
        "WHERE f.finding_id IS NULL",
        _relation(rules.OCCURRENCE_ORPHAN, ("tenant_id", "occurrence_id", "finding_id")),
    ),
    (
        frozenset({"occurrences", "observations"}),
        "SELECT b.tenant_id, b.observation_id, b.occurrence_id FROM observations b "
        "LEFT JOIN occurrences o ON o.tenant_id = b.tenant_id "
        "AND o.occurrence_id = b.occurrence_id WHERE o.occurrence_id IS NULL",
        _relation(rules.OBSERVATION_ORPHAN, ("tenant_id", "observation_id", "occurrence_id")),
    ),
    (
        frozenset({"findings", "occurrences"}),
        "SELECT o.tenant_id, o.occurrence_id, f.tenant_id FROM occurrences o "
        "JOIN findings f ON f.finding_id = o.finding_id AND f.tenant_id <> o.tenant_id",
        _relation(rules.OCCURRENCE_TENANT, ("tenant_id", "occurrence_id", "parent_tenant_id")),
    ),
    (
        frozenset({"occurrences", "observations"}),
        "SELECT b.tenant_id, b.observation_id, o.tenant_id FROM observations b "
        "JOIN occurrences o ON o.occurrence_id = b.occurrence_id "
        "AND o.tenant_id <> b.tenant_id",
        _relation(rules.OBSERVATION_TENANT, ("tenant_id", "observation_id", "parent_tenant_id")),
    ),
    (
        frozenset({"done_ledger_entries", "observations"}),
        "SELECT d.tenant_id, d.policy_hash, d.ovid_hash, EXISTS (SELECT 1 FROM observations x "
        "WHERE x.tenant_id = d.tenant_id AND x.ovid_hash = d.ovid_hash) "
        "FROM done_ledger_entries d "
        f"WHERE d.status = {DoneLedgerStatus.SCANNED_WITH_FINDINGS.rank} "
        "AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.tenant_id = d.tenant_id "
        "AND o.policy_hash = d.policy_hash AND o.ovid_hash = d.ovid_hash)",
        _relation(rules.DL_LISTING, ("tenant_id", "policy_hash", "ovid_hash", "elsewhere")),
    ),
)

__all__ = [
    "RELATION_SCANS",
    "ROW_SCANS",
    "RowCheck",
    "check_done_row",
    "check_finding_row",
    "check_observation_row",
    "check_occurrence_row",
]
