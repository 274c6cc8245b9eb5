"""The ledger surface the simulation drives (LED-1..LED-10), as a Protocol.

``InMemoryDoneLedger`` satisfies it; so do the planted-bug ledgers of
``gossip_model.sim.planted`` and any other backend offering the same
controls. The simulation never reaches behind this surface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory import CompletionOrder, PendingWriteId
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord

__all__ = ["SimHandle", "SimLedger", "key_sort_key"]


class SimHandle(Protocol):
    """A write handle: ``op_id`` and ``wait(timeout)`` (LED-9)."""

    @property
    def op_id(self) -> PendingWriteId: ...

    def wait(self, timeout: float | None = None) -> DoneLedgerCommitReceipt: ...


class SimLedger(Protocol):
    """Reads, writes and controls of the in-memory done ledger used by the harness."""

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> SimHandle: ...
    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]: ...
    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None: ...
    def snapshot(self) -> list[DoneLedgerRecord]: ...
    def set_auto_complete(self, flag: bool) -> None: ...
    def delay_next_writes(self, n: int) -> None: ...
    def fail_next_submissions(self, n: int) -> None: ...
    def fail_next_commits(self, n: int) -> None: ...
    def release_next(self, order: CompletionOrder) -> PendingWriteId | None: ...
    def release_specific(self, op_id: PendingWriteId) -> bool: ...
    def release_all(self, order: CompletionOrder) -> int: ...
    def pending_count(self) -> int: ...
    def pending_ids(self) -> list[PendingWriteId]: ...


def key_sort_key(key: DoneLedgerKey) -> tuple[bytes, bytes, bytes]:
    """Snapshot order: (tenant bytes, policy bytes, ovid bytes) (LED-10)."""
    return (bytes(key.tenant_id), bytes(key.policy_hash), bytes(key.ovid_hash))
