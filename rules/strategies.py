"""Identity pools and record strategies of the state machines (HYP-1, DLM-2, DLM-5, FSM-3).

Pools are deliberately tiny so that keys collide, replays happen and merge
tie-breaks are frequent:

* done ledger (DLM-2): tenants ``0x01``/``0x03``, policies ``0x02``/``0x04``
  and ``PROPTEST_OVID_POOL_SIZE`` ovid hashes ``0x10 + i`` (each id is 32
  copies of that byte). Open point 1 (PT-3): the pool size is 8, so at most
  2 x 2 x 8 = 32 keys exist.
* findings sink (FSM-3): tenants ``0x11``/``0x22``, items ``0x40 + i``, rules
  ``0x50 + r``, versions ``0x60 + v`` (``i, r, v`` in ``0..=3``), secret
  hashes keyed with 32 bytes of ``0x5A`` over norm digests ``0x30 + s``,
  policies ``0x70 + p`` (``p`` in ``0..=1``), ovid hashes ``0x80 + o``
  (``o`` in ``0..=2``), three locations.

Importing this module registers and loads no Hypothesis profile (HYP-1).
"""

from __future__ import annotations

from hypothesis import strategies as st

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
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
    Location,
)

PROPTEST_OVID_POOL_SIZE = 8
"""Open point 1 (PT-3): 8 ovid slots; <= 50 and small, so keys collide."""


def _fill(byte: int) -> bytes:
    return bytes([byte]) * 32


# -- done ledger (DLM-2) -------------------------------------------------------

DLM_TENANTS: tuple[TenantId, ...] = (TenantId(_fill(0x01)), TenantId(_fill(0x03)))
DLM_POLICIES: tuple[PolicyHash, ...] = (PolicyHash(_fill(0x02)), PolicyHash(_fill(0x04)))
DLM_OVIDS: tuple[OvidHash, ...] = tuple(
    OvidHash(_fill(0x10 + i)) for i in range(PROPTEST_OVID_POOL_SIZE)
)
PREFIX_KEY = DoneLedgerKey(DLM_TENANTS[0], DLM_POLICIES[0], DLM_OVIDS[0])
"""DLM-2: the key of the PT-7 / DLM-4 fault prefix (same tenant and policy as the sim)."""

SIM_ERROR = DoneLedgerErrorCode("SIM_ERROR")

# Pool positions are drawn as small ints (and mapped inside the rules) so that a
# printed failing program stays short and readable (HYP-11).
dl_tenants = st.integers(0, len(DLM_TENANTS) - 1)
dl_policies = st.integers(0, len(DLM_POLICIES) - 1)
dl_slots = st.integers(0, PROPTEST_OVID_POOL_SIZE - 1)


def pool_key(tenant: int, policy: int, slot: int) -> DoneLedgerKey:
    """The DLM-2 key at these pool positions."""
    return DoneLedgerKey(DLM_TENANTS[tenant], DLM_POLICIES[policy], DLM_OVIDS[slot])


def derived_findings(status: DoneLedgerStatus, bytes_scanned: int) -> int:
    """PT-2: findings are derived, not drawn (clean 0, with-findings 1..=5, else 0..=3)."""
    if status is DoneLedgerStatus.SCANNED_CLEAN:
        return 0
    if status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        return bytes_scanned % 5 + 1
    return bytes_scanned % 4


def make_dl_record(
    key: DoneLedgerKey,
    status: DoneLedgerStatus,
    bytes_scanned: int,
    run: int,
    shard: int,
    fence: int,
    started_at: int,
    duration: int,
) -> DoneLedgerRecord:
    """A valid record (DLM-5): derived findings, ``"SIM_ERROR"`` on failed/SKIPPED."""
    return DoneLedgerRecord(
        key,
        status,
        bytes_scanned,
        derived_findings(status, bytes_scanned),
        DoneLedgerProvenance(
            RunId(run),
            ShardId(shard),
            FenceEpoch(fence),
            LogicalTime(started_at),
            LogicalTime(started_at + duration),
        ),
        None if status.is_scanned() else SIM_ERROR,
    )


_record_fields = {
    "status": st.sampled_from(DoneLedgerStatus.ALL),
    "bytes_scanned": st.integers(0, 10_000),
    "run": st.integers(1, 4),
    "shard": st.integers(1, 2),
    "fence": st.integers(1, 2),
    "started_at": st.integers(1, 1_000),
    "duration": st.integers(1, 200),
}


def dl_record(keys: st.SearchStrategy[DoneLedgerKey]) -> st.SearchStrategy[DoneLedgerRecord]:
    """DLM-5 ``dl_record(keys)``: small run/shard/fence pools make tie-breaks frequent."""
    return st.builds(make_dl_record, key=keys, **_record_fields)


def make_pool_record(
    tenant: int,
    policy: int,
    slot: int,
    status: DoneLedgerStatus,
    bytes_scanned: int,
    run: int,
    shard: int,
    fence: int,
    started_at: int,
    duration: int,
) -> DoneLedgerRecord:
    """``make_dl_record`` for the key at these pool positions (prints compactly)."""
    key = pool_key(tenant, policy, slot)
    return make_dl_record(key, status, bytes_scanned, run, shard, fence, started_at, duration)


def pool_record() -> st.SearchStrategy[DoneLedgerRecord]:
    """Like :func:`dl_record` with the key drawn straight from the DLM-2 pools."""
    return st.builds(
        make_pool_record, tenant=dl_tenants, policy=dl_policies, slot=dl_slots, **_record_fields
    )


# -- findings sink (FSM-3) -----------------------------------------------------

FS_TENANTS: tuple[TenantId, ...] = (TenantId(_fill(0x11)), TenantId(_fill(0x22)))
FS_ITEMS: tuple[StableItemId, ...] = tuple(StableItemId(_fill(0x40 + i)) for i in range(4))
FS_RULES: tuple[RuleFingerprint, ...] = tuple(RuleFingerprint(_fill(0x50 + r)) for r in range(4))
FS_VERSIONS: tuple[ObjectVersionId, ...] = tuple(
    ObjectVersionId(_fill(0x60 + v)) for v in range(4)
)
_SECRET_KEY = TenantSecretKey(_fill(0x5A))
FS_SECRETS: tuple[SecretHash, ...] = tuple(
    key_secret_hash(_SECRET_KEY, NormHash.from_digest(_fill(0x30 + s))) for s in range(4)
)
FS_POLICIES: tuple[PolicyHash, ...] = tuple(PolicyHash(_fill(0x70 + p)) for p in range(2))
FS_OVIDS: tuple[OvidHash, ...] = tuple(OvidHash(_fill(0x80 + o)) for o in range(3))
FS_LOCATIONS: tuple[Location | None, ...] = (
    None,
    Location("repo/a"),
    Location("repo/b", url="https://example.invalid/b"),
)


def other_tenant(tenant: TenantId) -> TenantId:
    """The other tenant of the pair (parents are tenant-scoped, FS-6/FS-7)."""
    return FS_TENANTS[1] if tenant == FS_TENANTS[0] else FS_TENANTS[0]


# Pool positions as small ints, mapped inside the rules (short printed programs).
fs_tenants = st.integers(0, len(FS_TENANTS) - 1)
fs_items = st.integers(0, len(FS_ITEMS) - 1)
fs_rules = st.integers(0, len(FS_RULES) - 1)
fs_versions = st.integers(0, len(FS_VERSIONS) - 1)
fs_secrets = st.integers(0, len(FS_SECRETS) - 1)
fs_policies = st.integers(0, len(FS_POLICIES) - 1)
fs_ovids = st.integers(0, len(FS_OVIDS) - 1)
fs_offsets = st.integers(0, 3)
fs_lengths = st.integers(1, 3)
fs_small = st.integers(1, 3)
fs_seen_at = st.integers(1, 5)
fs_locations = st.integers(0, len(FS_LOCATIONS) - 1)

__all__ = [
    "DLM_OVIDS",
    "DLM_POLICIES",
    "DLM_TENANTS",
    "FS_ITEMS",
    "FS_LOCATIONS",
    "FS_OVIDS",
    "FS_POLICIES",
    "FS_RULES",
    "FS_SECRETS",
    "FS_TENANTS",
    "FS_VERSIONS",
    "PREFIX_KEY",
    "PROPTEST_OVID_POOL_SIZE",
    "SIM_ERROR",
    "derived_findings",
    "dl_policies",
    "dl_record",
    "dl_slots",
    "dl_tenants",
    "fs_items",
    "fs_lengths",
    "fs_locations",
    "fs_offsets",
    "fs_ovids",
    "fs_policies",
    "fs_rules",
    "fs_secrets",
    "fs_seen_at",
    "fs_small",
    "fs_tenants",
    "fs_versions",
    "make_dl_record",
    "make_pool_record",
    "other_tenant",
    "pool_key",
    "pool_record",
]
