"""The in-memory done ledger (inmemory.md §4, DL-1..DL-15; contracts.md DL-40..DL-50, BE-1).

Three parts:

* pure domain logic over a plain dict of rows (:data:`DoneLedgerRows`):
  :func:`merge_into_rows` (DL-5), :func:`apply_done_ledger_batch` (DL-2..DL-7
  without the fault counter) and the read helpers :func:`rows_for_ovids`,
  :func:`sorted_rows`, :func:`terminal_ovids`; the backend-neutral
  :func:`validate_and_fold` (DL-3, DL-4) lives in the public kit
  (:mod:`gossip_model.backend`) and is re-exported here;
* :class:`DoneLedgerBackend`, a :class:`~gossip_model.backend.DoneLedgerStoreBackend`
  over that dict (commit-fault check first, then the pure apply; the reads);
* :class:`InMemoryDoneLedger`, a :class:`~gossip_model.backend.ControlledDoneLedger`
  over that backend, so the in-memory store uses exactly the public path.

Choices (documented as the spec asks):

* BE-1 open point: validation errors are reported by ``wait()`` wrapped as
  ``BatchValidation(source)``; ``batch_upsert`` does only type checks (TH-6).
* DL-3/DL-4 run in ONE pass (validate record i, then fold it). This is
  observably identical to "validate all, then fold": the fold only touches a
  scratch dict, and ``merge`` cannot fail for two validated records with one
  key, so the first invalid record in input order still wins and nothing
  durable changes.
* ``RECOMMENDED_MAX_BATCH_SIZE`` is deliberately not enforced (DL-1).
* ``list_done_hashes`` returns hashes sorted by bytes (DL-13); callers must
  not rely on the order. ``count_done_hashes`` is exact (DL-15, D-3).
* Rows are keyed by :data:`RowKey`, the raw bytes ``(tenant, policy, ovid)``
  of the ``DoneLedgerKey`` (:func:`row_key`), not by the key object itself.
  The two are interchangeable (a ``DoneLedgerKey`` holds exactly one id of
  each type, equal iff their bytes are equal) but the tuple hashes in C,
  which halves the cost of an apply, lets ``batch_get`` skip building key
  objects, and makes the natural tuple order the byte order of DL-12. The
  rows still store the submitted ``DoneLedgerRecord`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from gossip_model.backend.done_ledger import (
    ControlledDoneLedger,
    ControlledDoneLedgerHandle,
    DoneLedgerPayload,
    RowKey,
    row_key,
    validate_and_fold,
)
from gossip_model.core.errors import InMemoryStoreKind
from gossip_model.core.store import FaultCounters
from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.persistence.done_ledger import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

DoneLedgerRows = dict[RowKey, DoneLedgerRecord]
"""Durable done-ledger state: one merged record per key."""

_FAILED_RETRYABLE = DoneLedgerStatus.FAILED_RETRYABLE


# --- pure domain logic ------------------------------------------------------------


def merge_into_rows(rows: DoneLedgerRows, folded: DoneLedgerRows) -> None:
    """DL-5: each folded record becomes ``durable.merge(folded)``, or is inserted.

    A durable row that IS the folded record object (a replay of the very same
    immutable record) is left as is: ``r.merge(r) == r`` (DL-35 idempotence).
    """
    setdefault = rows.setdefault
    for key, record in folded.items():
        existing = setdefault(key, record)
        if existing is not record:
            rows[key] = existing.merge(record)


def apply_done_ledger_batch(
    rows: DoneLedgerRows, records: Iterable[DoneLedgerRecord]
) -> DoneLedgerCommitReceipt:
    """DL-3..DL-7: validate and fold, compute the receipt from the folded batch, merge.

    Atomic (DL-6): every check precedes the first durable mutation. The
    receipt counts DISTINCT keys, the scanned ones and their summed findings
    (capped at u64 max) over the folded BATCH, so a replay returns the same
    receipt as the first write (DL-7).
    """
    folded = validate_and_fold(records)
    receipt = DoneLedgerCommitReceipt.for_folded(folded.values())
    merge_into_rows(rows, folded)
    return receipt


def rows_for_ovids(
    rows: DoneLedgerRows, tenant_id: TenantId, policy_hash: PolicyHash, ovids: Iterable[OvidHash]
) -> list[DoneLedgerRecord | None]:
    """DL-10: one answer per ovid, positionally; ``None`` where no row exists."""
    get = rows.get
    tenant = tenant_id.raw
    policy = policy_hash.raw
    return [get((tenant, policy, ovid.raw)) for ovid in ovids]


def sorted_rows(rows: DoneLedgerRows) -> list[DoneLedgerRecord]:
    """DL-12: all rows, ascending by tenant, then policy, then ovid bytes."""
    return [rows[k] for k in sorted(rows)]


def terminal_ovids(
    rows: DoneLedgerRows, tenant_id: TenantId, policy_hash: PolicyHash
) -> list[OvidHash]:
    """DL-13: ovid hashes of the terminal rows of exactly one scope, sorted by bytes."""
    tenant = tenant_id.raw
    policy = policy_hash.raw
    found = sorted(
        (k[2], record.key.ovid_hash)
        for k, record in rows.items()
        if k[0] == tenant and k[1] == policy and record.status is not _FAILED_RETRYABLE
    )
    return [ovid for _, ovid in found]


# --- backend ----------------------------------------------------------------------


class DoneLedgerBackend:
    """The in-memory done-ledger backend: a dict of rows (P-1, DL-2..DL-15).

    A :class:`~gossip_model.backend.DoneLedgerStoreBackend`; planted-bug
    variants (``gossip_model.sim.planted``) subclass it and break one step.
    """

    kind = InMemoryStoreKind.DONE_LEDGER

    def new_durable(self) -> DoneLedgerRows:
        return {}

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        """DL-2 (commit fault first, ST-9), then :func:`apply_done_ledger_batch`."""
        counters.check_commit_fault(self.kind)
        return apply_done_ledger_batch(durable, payload)

    def batch_get(
        self,
        durable: DoneLedgerRows,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: tuple[OvidHash, ...],
    ) -> list[DoneLedgerRecord | None]:
        return rows_for_ovids(durable, tenant_id, policy_hash, ovid_hashes)

    def get_record(self, durable: DoneLedgerRows, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        return durable.get(row_key(key))

    def snapshot(self, durable: DoneLedgerRows) -> list[DoneLedgerRecord]:
        return sorted_rows(durable)

    def list_done_hashes(
        self, durable: DoneLedgerRows, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> list[OvidHash]:
        return terminal_ovids(durable, tenant_id, policy_hash)

    def count_done_hashes(
        self, durable: DoneLedgerRows, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> int:
        return len(terminal_ovids(durable, tenant_id, policy_hash))

    def describe(self, durable: DoneLedgerRows) -> str:
        return f"durable_rows={len(durable)}"


_BACKEND = DoneLedgerBackend()


# --- public facade -----------------------------------------------------------------


class InMemoryDoneLedgerHandle(ControlledDoneLedgerHandle):
    """Commit handle of one ``batch_upsert`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class InMemoryDoneLedger(ControlledDoneLedger[DoneLedgerRows]):
    """In-memory ``DoneLedger`` with delayed completion and fault injection (§4).

    ``InMemoryDoneLedger()`` auto-completes every write (ST-1);
    ``InMemoryDoneLedger(auto_complete=False)`` queues every write until it is
    released (ST-2). ``clone()`` / ``copy.copy`` share the state (ST-3). Reads
    see durable rows only. Controls and releases: see
    :class:`~gossip_model.backend.ControlledDoneLedger` (DL-14). See the
    module docstring for the choices made on open points.
    """

    __slots__ = ()

    repr_name = "InMemoryDoneLedger"
    handle_class = InMemoryDoneLedgerHandle

    def __init__(self, auto_complete: bool = True) -> None:
        super().__init__(_BACKEND, auto_complete=auto_complete)

    # Narrowed return types: this store always counts exactly (DL-15).
    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> InMemoryDoneLedgerHandle:
        """DL-1: see :meth:`ControlledDoneLedger.batch_upsert`."""
        return cast(InMemoryDoneLedgerHandle, super().batch_upsert(records))

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int:
        """DL-15: the exact ``len(list_done_hashes(...))``, under one hold of the lock."""
        return cast(int, super().count_done_hashes(tenant_id, policy_hash))


__all__ = [
    "DoneLedgerBackend",
    "DoneLedgerPayload",
    "DoneLedgerRows",
    "InMemoryDoneLedger",
    "InMemoryDoneLedgerHandle",
    "apply_done_ledger_batch",
    "merge_into_rows",
    "RowKey",
    "row_key",
    "rows_for_ovids",
    "sorted_rows",
    "terminal_ovids",
    "validate_and_fold",
]
