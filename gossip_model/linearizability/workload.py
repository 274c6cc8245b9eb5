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

The ids are the state machines' pools (``rules/strategies.py``: DLM-2 for
the done ledger, FSM-3 for the findings sink), copied here because the
library must not import ``rules`` (a Hypothesis module); the tests check
that both agree (``tests/linearizability/test_workload_pools.py``). The done
ledger's hot keys use tenant ``DLM_TENANTS[0]``, policy ``DLM_POLICIES[0]``
and ovids ``DLM_OVIDS`` (slots 0-7); the findings use ``FS_TENANTS``,
``FS_RULES[0]``, ``FS_ITEMS`` / ``FS_VERSIONS`` / ``FS_SECRETS`` (slots 0-3),
``FS_POLICIES[0]`` and ``FS_OVIDS`` (slots 0-2). Beyond a pool (the benchmark
uses 64 hot keys) a slot gets an id of its own that no pool holds.
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


def _same(byte: int) -> bytes:
    """32 copies of ``byte``: how the machines' pools build every id."""
    return bytes([byte]) * 32


#: DLM-2 pools (rules/strategies.py ``DLM_TENANTS[0]``, ``DLM_POLICIES[0]``, ``DLM_OVIDS``).
TENANT = TenantId(_same(0x01))
POLICY = PolicyHash(_same(0x02))
OVID_POOL = 8
#: FSM-3 pools (``FS_TENANTS``, ``FS_RULES[0]``, ``FS_POLICIES[0]``; items, versions and
#: secrets ``0x40 + i``, ``0x60 + v``, ``0x30 + s``, the secret key 32 x ``0x5A``).
TENANTS = (TenantId(_same(0x11)), TenantId(_same(0x22)))
FINDINGS_POLICY = PolicyHash(_same(0x70))
_RULE = RuleFingerprint(_same(0x50))
_SECRET_KEY = TenantSecretKey(_same(0x5A))
FINDINGS_POOL = 4
FINDINGS_OVID_POOL = 3
_CODE = DoneLedgerErrorCode("STRESS_FAILURE")


def _fill(slot: int, salt: int) -> bytes:
    # Beyond the pools. Low byte of the slot first, so short renderings (two bytes)
    # tell slots apart; never 32 equal bytes, so never a pool id.
    return (slot.to_bytes(4, "little") + bytes([salt])) * 6 + b"\x00\x00"


def _pooled(slot: int, pool: int, base: int, salt: int) -> bytes:
    return _same(base + slot) if 0 <= slot < pool else _fill(slot, salt)


def hot_ovid(slot: int) -> OvidHash:
    return OvidHash(_pooled(slot, OVID_POOL, 0x10, 0x41))


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
    norm = NormHash.from_digest(_pooled(slot, FINDINGS_POOL, 0x30, 0x51))
    secret = key_secret_hash(_SECRET_KEY, norm)
    item = StableItemId(_pooled(slot, FINDINGS_POOL, 0x40, 0x61))
    finding = FindingRecord.new(t, item, _RULE, secret)
    if variant:
        return replace(finding, stable_item_id=StableItemId(_fill(slot, 0x62)))
    return finding


def occurrence_of(tenant: int, slot: int) -> OccurrenceRecord:
    finding = finding_of(tenant, slot)
    return OccurrenceRecord.new(
        finding.tenant_id,
        finding.finding_id,
        ObjectVersionId(_pooled(slot, FINDINGS_POOL, 0x60, 0x71)),
        64,
        16,
    )


def observation_of(tenant: int, slot: int, seen_at: int) -> ObservationRecord:
    occurrence = occurrence_of(tenant, slot)
    return ObservationRecord.new(
        occurrence.tenant_id,
        occurrence.occurrence_id,
        FINDINGS_POLICY,
        OvidHash(_pooled(slot, FINDINGS_OVID_POOL, 0x80, 0x81)),
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
    "FINDINGS_POLICY",
    "FINDINGS_POOL",
    "FINDINGS_OVID_POOL",
    "OVID_POOL",
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
