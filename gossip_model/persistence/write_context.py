"""Write context: routing scope plus ownership (fencing) scope (contracts.md §6, WC-*)."""

from __future__ import annotations

from dataclasses import dataclass

from gossip_model.identity import FenceEpoch, PolicyHash, RunId, ShardId, TenantId, check_type


@dataclass(frozen=True, slots=True)
class WriteContext:
    """WC-1: five fields, equality and hashing over all five, no validation of values.

    ``tenant_id`` + ``policy_hash`` route a write; ``run_id``, ``shard_id`` and
    ``fence_epoch`` identify its owner so backends can reject stale writers (WC-2).
    Field types are checked so that a wrong argument fails here, not later.
    """

    tenant_id: TenantId
    policy_hash: PolicyHash
    run_id: RunId
    shard_id: ShardId
    fence_epoch: FenceEpoch

    def __post_init__(self) -> None:
        check_type("WriteContext", "tenant_id", self.tenant_id, TenantId)
        check_type("WriteContext", "policy_hash", self.policy_hash, PolicyHash)
        check_type("WriteContext", "run_id", self.run_id, RunId)
        check_type("WriteContext", "shard_id", self.shard_id, ShardId)
        check_type("WriteContext", "fence_epoch", self.fence_epoch, FenceEpoch)
