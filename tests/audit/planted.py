"""Planted corruptions the audit must find (issue 13, item 4), written directly with SQL.

Each :class:`Plant` names the corruption, the SQL that writes it into a
database holding :mod:`tests.audit.data` (bypassing the stores; CHECKs and
foreign keys must be off where noted), and the exact violation counts the
audit must report: the named rules with these counts, every other rule 0.
SQL differs between engines only in BLOB literals (``blob``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gossip_model.identity import OBSERVATION_ID_V1, derive_key
from tests.builders import fill

from .data import POLICIES, TENANTS, chain

Blob = Callable[[bytes], str]


@dataclass(frozen=True)
class Plant:
    name: str
    needs_bypass: bool
    statements: Callable[[Blob], list[str]]
    expected: dict[str, int]


def _first_chain_ovid() -> bytes:
    return chain(0, 0, 0)[2].ovid_hash.raw


def _scope(blob: Blob, t: int = 0, p: int = 0) -> str:
    return f"tenant_id = {blob(TENANTS[t].raw)} AND policy_hash = {blob(POLICIES[p].raw)}"


def scanned_with_code(blob: Blob) -> list[str]:
    return [
        f"UPDATE done_ledger_entries SET error_code = 'E_LEFTOVER' WHERE {_scope(blob)} "
        f"AND ovid_hash = {blob(_first_chain_ovid())}"
    ]


def wrong_scope(blob: Blob) -> list[str]:
    # The SCANNED_WITH_FINDINGS key moves to policy 1: list_done_hashes(T0, P1) now lists
    # it, while its observation stays under policy 0.
    return [
        f"UPDATE done_ledger_entries SET policy_hash = {blob(POLICIES[1].raw)} "
        f"WHERE {_scope(blob)} AND ovid_hash = {blob(_first_chain_ovid())}"
    ]


def orphan_occurrence(blob: Blob) -> list[str]:
    from gossip_model.identity import FindingId, ObjectVersionId
    from gossip_model.persistence import OccurrenceRecord

    missing = FindingId(fill(0xEE))
    occurrence = OccurrenceRecord.new(TENANTS[0], missing, ObjectVersionId(fill(0xEF)), 1, 2)
    return [
        "INSERT INTO occurrences VALUES ("
        f"{blob(TENANTS[0].raw)}, {blob(occurrence.occurrence_id.raw)}, {blob(missing.raw)}, "
        f"{blob(occurrence.object_version_id.raw)}, 1, 2)"
    ]


def cross_tenant_observation(blob: Blob) -> list[str]:
    occurrence = chain(0, 0, 1)[1]  # belongs to tenant 0
    tenant, policy = TENANTS[1], POLICIES[0]
    observation_id = derive_key(
        OBSERVATION_ID_V1, tenant.raw + policy.raw + occurrence.occurrence_id.raw
    )
    return [
        "INSERT INTO observations VALUES ("
        f"{blob(tenant.raw)}, {blob(observation_id)}, {blob(occurrence.occurrence_id.raw)}, "
        f"{blob(policy.raw)}, {blob(fill(0x55))}, 1, 2, 3, 4, NULL, NULL)"
    ]


def tampered_finding_id(blob: Blob) -> list[str]:
    finding = chain(1, 1, 2)[0]
    return [
        "INSERT INTO findings VALUES ("
        f"{blob(TENANTS[1].raw)}, {blob(fill(0xAB))}, {blob(fill(0xAC))}, "
        f"{blob(finding.rule_fingerprint.raw)}, {blob(finding.secret_hash.raw)})"
    ]


def started_after_finished(blob: Blob) -> list[str]:
    return [
        "UPDATE done_ledger_entries SET started_at = finished_at + 5 "
        f"WHERE {_scope(blob, 1, 0)} AND status = 1"
    ]


def unknown_status(blob: Blob) -> list[str]:
    return [f"UPDATE done_ledger_entries SET status = 7 WHERE {_scope(blob, 1, 1)} AND status = 3"]


def url_without_display(blob: Blob) -> list[str]:
    observation = chain(0, 1, 2)[2]
    return [
        "UPDATE observations SET location_display = NULL, location_url = 'https://x.invalid' "
        f"WHERE observation_id = {blob(observation.observation_id.raw)}"
    ]


PLANTS = (
    Plant("scanned row with an error code", True, scanned_with_code, {"DL-SHAPE": 1}),
    Plant("terminal row listed under the wrong scope", False, wrong_scope, {"DL-LISTING": 1}),
    Plant("orphan occurrence", True, orphan_occurrence, {"FS-REF-OCCURRENCE": 1}),
    Plant(
        "observation whose occurrence belongs to another tenant",
        True,
        cross_tenant_observation,
        {"FS-REF-OBSERVATION": 1, "TENANT-OBSERVATION": 1},
    ),
    Plant(
        "finding id not matching its derivation", False, tampered_finding_id, {"FS-ID-FINDING": 1}
    ),
    Plant("provenance started_at > finished_at", True, started_after_finished, {"DL-ORDER": 1}),
    Plant("unknown status rank", True, unknown_status, {"DL-DECODE": 1}),
    Plant("url without display", True, url_without_display, {"FS-DECODE": 1}),
)
