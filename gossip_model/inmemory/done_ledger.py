"""The in-memory done ledger (inmemory.md §4, DL-1..DL-15; contracts.md DL-40..DL-50, BE-1).

Three parts, kept apart so other backends can reuse the first:

* pure domain logic over a plain dict of rows (:data:`DoneLedgerRows`):
  :func:`validate_and_fold` (DL-3, DL-4), :func:`merge_into_rows` (DL-5),
  :func:`apply_done_ledger_batch` (DL-2..DL-7 without the fault counter) and
  the read helpers :func:`rows_for_ovids`, :func:`sorted_rows`,
  :func:`terminal_ovids`;
* :class:`DoneLedgerBackend`, the :class:`StoreBackend` plug-in (commit-fault
  check first, then the pure apply);
* the public facade :class:`InMemoryDoneLedger` and its handle.

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

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory.arguments import check_arg, records_arg
from gossip_model.inmemory.errors import InMemoryStoreKind
from gossip_model.inmemory.store import (
    FaultCounters,
    InMemoryStoreCore,
    StoreBackend,
    StoreFacade,
    StoreHandle,
)
from gossip_model.persistence.done_ledger import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.errors import ProvenanceOrdering

RowKey = tuple[bytes, bytes, bytes]
"""The raw bytes of a ``DoneLedgerKey``: ``(tenant_id, policy_hash, ovid_hash)``."""
DoneLedgerRows = dict[RowKey, DoneLedgerRecord]
"""Durable done-ledger state: one merged record per key."""
DoneLedgerPayload = tuple[DoneLedgerRecord, ...]

_FAILED_RETRYABLE = DoneLedgerStatus.FAILED_RETRYABLE


# --- pure domain logic ------------------------------------------------------------


def row_key(key: DoneLedgerKey) -> RowKey:
    """The :data:`RowKey` of ``key``."""
    return (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)


def validate_and_fold(records: Iterable[DoneLedgerRecord]) -> DoneLedgerRows:
    """DL-3 + DL-4: validate every record, folding same-key records in input order.

    Per record: the strict ``validate()`` checks (DL-32), then
    ``started_at <= finished_at`` (else ``ProvenanceOrdering`` with plain
    ints). The first record of a key enters the scratch dict as is; a later
    one replaces it with ``entry.merge(later)`` (DL-9). The first failure is
    raised; nothing outside the returned scratch dict is touched.
    """
    folded: DoneLedgerRows = {}
    setdefault = folded.setdefault
    for record in records:
        error = record.strict_error()
        if error is not None:
            raise error
        provenance = record.provenance
        started = provenance.started_at.value
        finished = provenance.finished_at.value
        if started > finished:
            raise ProvenanceOrdering(started, finished)
        key = record.key
        k = (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)
        previous = setdefault(k, record)
        if previous is not record:
            folded[k] = previous.merge(record)
    return folded


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


# --- backend plug-in --------------------------------------------------------------


class DoneLedgerBackend(StoreBackend[DoneLedgerRows, DoneLedgerPayload, DoneLedgerCommitReceipt]):
    """The done-ledger plug-in of the store core (P-1, DL-2..DL-7)."""

    kind = InMemoryStoreKind.DONE_LEDGER

    def new_durable(self) -> DoneLedgerRows:
        return {}

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        """DL-2 (commit fault first, ST-9), then :func:`apply_done_ledger_batch`."""
        counters.check_commit_fault(self.kind)
        return apply_done_ledger_batch(durable, payload)


_BACKEND = DoneLedgerBackend()


# --- argument checks (TH-6) --------------------------------------------------------


def _check_arg(method: str, name: str, value: object, expected: type) -> None:
    check_arg("InMemoryDoneLedger", method, name, value, expected)


def _records_payload(records: Iterable[DoneLedgerRecord]) -> DoneLedgerPayload:
    payload = records_arg("InMemoryDoneLedger", records)
    return payload


# --- public facade -----------------------------------------------------------------


class InMemoryDoneLedgerHandle(StoreHandle[DoneLedgerCommitReceipt]):
    """Commit handle of one ``batch_upsert`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class InMemoryDoneLedger(StoreFacade[DoneLedgerRows, DoneLedgerPayload, DoneLedgerCommitReceipt]):
    """In-memory ``DoneLedger`` with delayed completion and fault injection (§4).

    ``InMemoryDoneLedger()`` auto-completes every write (ST-1);
    ``InMemoryDoneLedger(auto_complete=False)`` queues every write until it is
    released (ST-2). ``clone()`` / ``copy.copy`` share the state (ST-3). Reads
    see durable rows only. Controls and releases: see :class:`StoreFacade`
    (DL-14). See the module docstring for the choices made on open points.
    """

    __slots__ = ()

    def __init__(self, auto_complete: bool = True) -> None:
        self._core = InMemoryStoreCore(_BACKEND, auto_complete=auto_complete)

    # -- write ---------------------------------------------------------------------

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> InMemoryDoneLedgerHandle:
        """DL-1: copy ``records`` into a tuple and submit it (ST-6); no domain validation.

        Raises only ``TypeError`` (TH-6), ``InjectedSubmissionFailure`` and
        ``Poisoned``; record problems are raised by ``wait()`` as
        ``BatchValidation``. An empty batch is a valid op with receipt (0, 0, 0).
        """
        payload = _records_payload(records)
        core = self._core
        return InMemoryDoneLedgerHandle(core, core.submit(payload))

    # -- reads ---------------------------------------------------------------------

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Iterable[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        """DL-10: positional lookup of ``(tenant_id, policy_hash, ovid)`` per input."""
        _check_arg("batch_get", "tenant_id", tenant_id, TenantId)
        _check_arg("batch_get", "policy_hash", policy_hash, PolicyHash)
        ovids = tuple(ovid_hashes)
        for index, ovid in enumerate(ovids):
            if not isinstance(ovid, OvidHash):
                raise TypeError(
                    f"InMemoryDoneLedger.batch_get: ovid_hashes[{index}] must be OvidHash, "
                    f"got {type(ovid).__name__} (TH-6)"
                )
        return self._core.read(lambda rows: rows_for_ovids(rows, tenant_id, policy_hash, ovids))

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        """DL-11: the durable row for ``key`` or ``None``."""
        _check_arg("get_record", "key", key, DoneLedgerKey)
        k = row_key(key)
        return self._core.read(lambda rows: rows.get(k))

    def snapshot(self) -> list[DoneLedgerRecord]:
        """DL-12: every durable row, sorted by tenant, policy, ovid bytes."""
        return self._core.read(sorted_rows)

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        """DL-13: terminal ovid hashes of exactly this scope, no duplicates, sorted by bytes."""
        _check_arg("list_done_hashes", "tenant_id", tenant_id, TenantId)
        _check_arg("list_done_hashes", "policy_hash", policy_hash, PolicyHash)
        return self._core.read(lambda rows: terminal_ovids(rows, tenant_id, policy_hash))

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int:
        """DL-15: the exact ``len(list_done_hashes(...))``, under one hold of the lock."""
        _check_arg("count_done_hashes", "tenant_id", tenant_id, TenantId)
        _check_arg("count_done_hashes", "policy_hash", policy_hash, PolicyHash)
        return self._core.read(lambda rows: len(terminal_ovids(rows, tenant_id, policy_hash)))

    # -- repr (TH-5) -----------------------------------------------------------------

    def _describe(self, durable: DoneLedgerRows, pending: int, auto_complete: bool) -> str:
        return (
            f"InMemoryDoneLedger(durable_rows={len(durable)}, pending_ops={pending}, "
            f"auto_complete={auto_complete})"
        )


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
