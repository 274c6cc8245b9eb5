"""A small universe of keys and records for concurrent programs (issue 14 item 3).

Concurrency bugs show up when clients collide, so programs draw from a few
*hot* slots: ``hot_key(slot)`` is a done-ledger key of tenant ``TENANT`` and
policy ``POLICY``; ``done_record(slot, status, nbytes, run)`` a valid record
for it (a draw repeated is a replay, two draws on one slot conflict and must
merge). For the findings sink, ``finding_batch(tenant, slot, variant, depth,
seen_at)`` builds a finding, then its occurrence (``depth >= 2``) and
observation (``depth == 3``); ``variant 1`` is a *different* finding under
slot's id, which must be rejected with ``FindingConflict`` (FS-5).

Every value is a pure function of small integers, so a program prints and
replays exactly.
"""

from __future__ import annotations

from dataclasses import replace

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingRecord,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)

STATUSES = DoneLedgerStatus.ALL
TENANTS = (TenantId(b"\x11" * 32), TenantId(b"\x12" * 32))
TENANT = TENANTS[0]
POLICY = PolicyHash(b"\x21" * 32)
_RULE = RuleFingerprint(b"\x31" * 32)
_CODE = DoneLedgerErrorCode("STRESS_FAILURE")


def _fill(slot: int, salt: int) -> bytes:
    # Low byte of the slot first, so short renderings (two bytes) tell slots apart.
    return (slot.to_bytes(4, "little") + bytes([salt])) * 6 + b"\x00\x00"


def hot_ovid(slot: int) -> OvidHash:
    return OvidHash(_fill(slot, 0x41))


def hot_key(slot: int) -> DoneLedgerKey:
    return DoneLedgerKey(TENANT, POLICY, hot_ovid(slot))


def done_record(slot: int, status: int, nbytes: int, run: int) -> DoneLedgerRecord:
    """A valid record (DL-32): findings count and error code follow the status."""
    kind = STATUSES[status % len(STATUSES)]
    findings = 1 + nbytes % 3 if kind is DoneLedgerStatus.SCANNED_WITH_FINDINGS else 0
    code = None if kind.is_scanned() else _CODE
    prov = DoneLedgerProvenance(
        RunId(run), ShardId(1), FenceEpoch(1), LogicalTime(run), LogicalTime(run + nbytes % 5)
    )
    return DoneLedgerRecord(hot_key(slot), kind, nbytes, findings, prov, code)


def finding_of(tenant: int, slot: int, variant: int = 0) -> FindingRecord:
    """The finding of ``slot`` (``variant 1``: different content under the same id)."""
    t = TENANTS[tenant % len(TENANTS)]
    secret = key_secret_hash(TenantSecretKey(t.raw), NormHash.from_digest(_fill(slot, 0x51)))
    finding = FindingRecord.new(t, StableItemId(_fill(slot, 0x61)), _RULE, secret)
    if variant:
        return replace(finding, stable_item_id=StableItemId(_fill(slot, 0x62)))
    return finding


def occurrence_of(tenant: int, slot: int) -> OccurrenceRecord:
    finding = finding_of(tenant, slot)
    return OccurrenceRecord.new(
        finding.tenant_id, finding.finding_id, ObjectVersionId(_fill(slot, 0x71)), 64, 16
    )


def observation_of(tenant: int, slot: int, seen_at: int) -> ObservationRecord:
    occurrence = occurrence_of(tenant, slot)
    return ObservationRecord.new(
        occurrence.tenant_id,
        occurrence.occurrence_id,
        POLICY,
        hot_ovid(slot),
        RunId(seen_at),
        ShardId(1),
        FenceEpoch(1),
        LogicalTime(seen_at),
    )


def finding_batch(
    tenant: int, slot: int, variant: int, depth: int, seen_at: int
) -> FindingsUpsertBatch:
    """Finding, then occurrence (``depth >= 2``), then observation (``depth >= 3``)."""
    finding = finding_of(tenant, slot, variant)
    occurrences = (occurrence_of(tenant, slot),) if depth >= 2 else ()
    observations = (observation_of(tenant, slot, seen_at),) if depth >= 3 else ()
    return FindingsUpsertBatch((finding,), occurrences, observations)


__all__ = [
    "POLICY",
    "STATUSES",
    "TENANT",
    "TENANTS",
    "done_record",
    "finding_batch",
    "finding_of",
    "hot_key",
    "hot_ovid",
    "observation_of",
    "occurrence_of",
]
