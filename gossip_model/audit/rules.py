"""The audit's rules: what it checks, with the spec rules each one enforces.

Each :class:`AuditRule` is one kind of violation the audit counts (its id
appears in the report). ``NOT_CHECKED`` says, in words, what the stored
columns do not allow to verify; the report repeats it so nobody reads a clean
audit as more than it is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuditRule:
    """One audit rule: its id, the table it reads, the spec rules it enforces, a summary."""

    id: str
    table: str
    spec: str
    summary: str


DL_DECODE = AuditRule(
    "DL-DECODE",
    "done_ledger_entries",
    "ENC-1..ENC-3, ENC-5, DL-11",
    "a column does not decode: 32-byte keys, known status rank, counts and times in range",
)
DL_SHAPE = AuditRule(
    "DL-SHAPE",
    "done_ledger_entries",
    "DL-32",
    "status, findings_count and error_code disagree (e.g. a scanned row with an error code)",
)
DL_CODE = AuditRule(
    "DL-CODE",
    "done_ledger_entries",
    "DL-14",
    "error_code is not a valid code (empty, over 128 bytes, or a byte outside the alphabet)",
)
DL_ORDER = AuditRule(
    "DL-ORDER",
    "done_ledger_entries",
    "DL-21, DL-43",
    "provenance started_at is after finished_at",
)
DL_LISTING = AuditRule(
    "DL-LISTING",
    "done_ledger_entries",
    "DL-41, FS-40",
    "a terminal SCANNED_WITH_FINDINGS key has no observation in its own (tenant, policy, "
    "ovid) scope; 'elsewhere' names rows whose observations sit under another policy",
)
FS_DECODE = AuditRule(
    "FS-DECODE",
    "findings, occurrences, observations",
    "ENC-1, ENC-2, ENC-4, ENC-5, FS-6",
    "a column does not decode: 32-byte ids, ranges, span end, url without display",
)
FINDING_ID = AuditRule(
    "FS-ID-FINDING",
    "findings",
    "FS-3, ID-16",
    "finding_id differs from its derivation (tenant, stable_item_id, rule, secret_hash)",
)
OCCURRENCE_ID = AuditRule(
    "FS-ID-OCCURRENCE",
    "occurrences",
    "FS-7, FS-8, ID-17",
    "occurrence_id differs from its derivation (finding_id, version, offset, length)",
)
OBSERVATION_ID = AuditRule(
    "FS-ID-OBSERVATION",
    "observations",
    "FS-16, ID-18",
    "observation_id differs from its derivation (tenant, policy_hash, occurrence_id)",
)
OCCURRENCE_ORPHAN = AuditRule(
    "FS-REF-OCCURRENCE",
    "occurrences",
    "FS-24, DBF-4",
    "an occurrence whose finding does not exist in its tenant",
)
OBSERVATION_ORPHAN = AuditRule(
    "FS-REF-OBSERVATION",
    "observations",
    "FS-24, DBF-4",
    "an observation whose occurrence does not exist in its tenant",
)
OCCURRENCE_TENANT = AuditRule(
    "TENANT-OCCURRENCE",
    "occurrences",
    "FS-23, WC-2",
    "an occurrence's finding_id exists under another tenant (cross-tenant reference)",
)
OBSERVATION_TENANT = AuditRule(
    "TENANT-OBSERVATION",
    "observations",
    "FS-23, WC-2",
    "an observation's occurrence_id exists under another tenant (cross-tenant reference)",
)

RULES: tuple[AuditRule, ...] = (
    DL_DECODE,
    DL_SHAPE,
    DL_CODE,
    DL_ORDER,
    DL_LISTING,
    FS_DECODE,
    FINDING_ID,
    OCCURRENCE_ID,
    OBSERVATION_ID,
    OCCURRENCE_ORPHAN,
    OBSERVATION_ORPHAN,
    OCCURRENCE_TENANT,
    OBSERVATION_TENANT,
)

NOT_CHECKED: tuple[str, ...] = (
    "ovid_hash and the done-ledger key cannot be re-derived: their inputs (object "
    "version, connector data) are not stored",
    "policy_hash and secret_hash are stored digests whose inputs are not stored",
    "merge history (DL-34) is not recorded: only the current row is checked",
    "DL-LISTING needs the done ledger and the findings in the same database; with either "
    "missing it is skipped",
    "the schema itself is compared by the stores when they open the database (adoption), "
    "not by the audit, which runs in a READ ONLY transaction",
)

__all__ = ["NOT_CHECKED", "RULES", "AuditRule"]
