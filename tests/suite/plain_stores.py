"""Plain done ledgers (the protocol's four methods, no controls) for the battery tests.

``PlainLedger`` is correct; each ``Plain*`` subclass plants one bug a
stores-only author could write, which the restricted machine
(:class:`rules.plain_done_ledger.PlainDoneLedgerMachine`) must catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.persistence import (
    DoneLedgerKey,
    DoneLedgerRecord,
    OvidHash,
    PolicyHash,
    ReadyCommitHandle,
    TenantId,
)


class PlainLedger:
    """A DoneLedger with the protocol's four methods and no controls."""

    def __init__(self) -> None:
        self._inner = InMemoryDoneLedger()

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> Any:
        return self._inner.batch_upsert(records)

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        return self._inner.batch_get(tenant_id, policy_hash, ovid_hashes)

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        return self._inner.list_done_hashes(tenant_id, policy_hash)

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None:
        return self._inner.count_done_hashes(tenant_id, policy_hash)


class PlainBytesLastWriterWins(PlainLedger):
    """Bug: ``bytes_scanned`` is the last write's, not the maximum (DL-34, I2)."""

    def __init__(self) -> None:
        super().__init__()
        self._last_bytes: dict[DoneLedgerKey, int] = {}

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> Any:
        try:
            receipt = super().batch_upsert(records).wait(timeout=5.0)
        except Exception as err:  # a refused batch records nothing
            return ReadyCommitHandle.err(err)
        for record in records:
            self._last_bytes[record.key] = record.bytes_scanned
        return ReadyCommitHandle.ok(receipt)

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        rows = super().batch_get(tenant_id, policy_hash, ovid_hashes)
        return [
            None if row is None else replace(row, bytes_scanned=self._last_bytes[row.key])
            for row in rows
        ]


class PlainListsNonTerminal(PlainLedger):
    """Bug: ``list_done_hashes`` lists every stored key, terminal or not (DL-13)."""

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        rows = self._inner.snapshot()
        return [
            r.key.ovid_hash
            for r in rows
            if r.key.tenant_id == tenant_id and r.key.policy_hash == policy_hash
        ]


class PlainNotAtomic(PlainLedger):
    """Bug: a batch refused for one invalid record still writes its valid ones (DL-6)."""

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> Any:
        try:
            return ReadyCommitHandle.ok(super().batch_upsert(records).wait(timeout=5.0))
        except Exception as err:
            for record in records:
                try:
                    self._inner.batch_upsert([record]).wait(timeout=5.0)
                except Exception:  # the invalid record alone stays refused
                    continue
            return ReadyCommitHandle.err(err)
