"""The public done-ledger kit: :class:`DoneLedgerStoreBackend` and :class:`ControlledDoneLedger`.

A backend author writes the storage part only (a :class:`DoneLedgerStoreBackend`:
empty durable state, ``apply`` a batch, the reads) and gets the whole
in-memory control surface on top (delays, the three releases in both
orders, submission and commit faults, auto-complete, handles with
``wait(timeout)``, ``clone()``, ``reset()``, a ``repr``), exactly as the
in-memory, SQLite and PostgreSQL ledgers do: each of them is a
:class:`ControlledDoneLedger` subclass over its own backend.

Domain helpers for ``apply`` (the reference's rules, so a backend gets them
right by reusing them):

* :func:`validate_and_fold` (DL-43 "reference behaviour", inmemory.md DL-3 and
  DL-4): validate every record, then fold same-key records in input order;
* ``DoneLedgerCommitReceipt.for_folded(folded.values())`` (DL-50): the
  receipt, computed from the folded batch, never from stored rows;
* ``stored.merge(incoming)`` (DL-34): the merge of a folded record into the
  stored row.

Choices (not settled by the reference):

* ``get_record`` and ``count_done_hashes`` are optional on the backend: the
  facade falls back to ``batch_get`` of one hash and to
  ``len(list_done_hashes(...))``.
* Every read result is copied into a fresh ``list``, so a backend may return
  any sequence (or its own list) without the caller being able to mutate it.
* ``snapshot()`` is sorted by key bytes (tenant, policy, ovid) by the facade,
  as the in-memory store's (DL-12), so a backend may return rows in any order.
* ``_check_size`` is the hook for backends with size limits (the database
  ledgers raise ``BatchTooLarge`` there, before the lock, DBL-1, DBL-7).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from gossip_model.core.arguments import check_arg, check_flag, ovids_arg, records_arg
from gossip_model.core.errors import InMemoryStoreKind
from gossip_model.core.store import (
    FaultCounters,
    InMemoryStoreCore,
    StoreBackend,
    StoreFacade,
    StoreHandle,
)
from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.persistence.done_ledger import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
)
from gossip_model.persistence.errors import ProvenanceOrdering

D = TypeVar("D")

DoneLedgerPayload = tuple[DoneLedgerRecord, ...]
"""What ``apply`` receives: the submitted records, materialised into a tuple."""
RowKey = tuple[bytes, bytes, bytes]
"""The raw bytes of a ``DoneLedgerKey``: ``(tenant_id, policy_hash, ovid_hash)``."""
FoldedBatch = dict[RowKey, DoneLedgerRecord]
"""A validated batch folded per key (:func:`validate_and_fold`), in first-seen key order."""

KIND = InMemoryStoreKind.DONE_LEDGER
_REQUIRED = ("new_durable", "apply", "batch_get", "snapshot", "list_done_hashes")


def row_key(key: DoneLedgerKey) -> RowKey:
    """The :data:`RowKey` of ``key`` (equal keys give equal tuples; tuple order is byte order)."""
    return (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)


def validate_and_fold(records: Iterable[DoneLedgerRecord]) -> FoldedBatch:
    """DL-43 / inmemory.md DL-3, DL-4: validate every record, folding same-key records.

    Per record, in input order: the strict ``validate()`` checks (DL-32), then
    ``started_at <= finished_at`` (else ``ProvenanceOrdering`` with plain
    ints). The first record of a key enters the result as is; a later one
    replaces it with ``entry.merge(later)`` (DL-34). The first failure is
    raised (a ``PersistenceInputError``, which the core reports from
    ``wait()`` as ``BatchValidation``); nothing but the returned dict is
    built, so a backend that calls this before touching storage is atomic
    (DL-6).

    Validation and folding run in one pass. That is observably identical to
    "validate all, then fold": the fold only touches the scratch dict, and
    ``merge`` cannot fail for two validated records with one key.
    """
    folded: FoldedBatch = {}
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


@runtime_checkable
class DoneLedgerStoreBackend(
    StoreBackend[D, DoneLedgerPayload, DoneLedgerCommitReceipt], Protocol[D]
):
    """The storage part of a done ledger, plugged into :class:`ControlledDoneLedger`.

    ``D`` is whatever holds the durable state (a dict, a connection). Every
    method runs under the store's lock (TH-1), one at a time, so it needs no
    locking of its own; pending (delayed) writes never reach it before their
    release (FC-2).

    Required:

    * ``new_durable() -> D``: empty durable state (called once, by the store's
      constructor, and by ``reset()`` unless ``reset(durable)`` is defined);
    * ``apply(durable, counters, records) -> DoneLedgerCommitReceipt``:
      ``counters.check_commit_fault()`` FIRST (ST-9, a commit fault must leave
      storage untouched), then validate and fold (:func:`validate_and_fold`),
      compute the receipt from the folded batch (DL-50), merge each folded
      record into its stored row (``stored.merge(folded)``, DL-34) and persist,
      all or nothing (DL-6);
    * ``batch_get(durable, tenant_id, policy_hash, ovid_hashes)``: one answer
      per hash, positionally, ``None`` where nothing is stored (DL-40);
    * ``snapshot(durable)``: every stored record (any order; the in-memory
      store sorts by key bytes);
    * ``list_done_hashes(durable, tenant_id, policy_hash)``: the ovid hash of
      each terminal key of exactly that scope, once (DL-41).

    Optional: ``get_record(durable, key)``, ``count_done_hashes(durable,
    tenant_id, policy_hash)`` (module docstring), ``reset(durable)`` and
    ``describe(durable) -> str`` (see :class:`~gossip_model.core.store.StoreBackend`).
    """

    @abstractmethod
    def batch_get(
        self,
        durable: D,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: tuple[OvidHash, ...],
    ) -> Sequence[DoneLedgerRecord | None]:
        """DL-40: positional answers for ``(tenant_id, policy_hash, ovid)``."""

    @abstractmethod
    def snapshot(self, durable: D) -> Sequence[DoneLedgerRecord]:
        """Every stored record."""

    @abstractmethod
    def list_done_hashes(
        self, durable: D, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> Sequence[OvidHash]:
        """DL-41: terminal ovid hashes of exactly this scope, each once."""


def check_backend(where: str, backend: object, required: Sequence[str]) -> None:
    """FC-1: the backend offers every required method, else ``TypeError`` naming the missing ones.

    ``where`` is the ``Owner.method`` prefix of the message.
    """
    missing = [name for name in required if not callable(getattr(backend, name, None))]
    if missing:
        raise TypeError(
            f"{where}: backend {type(backend).__name__} lacks {', '.join(missing)}; pass a "
            f"backend with {', '.join(required)} (see gossip_model.backend)"
        )


class ControlledDoneLedgerHandle(StoreHandle[DoneLedgerCommitReceipt]):
    """Commit handle of one ``batch_upsert`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class ControlledDoneLedger(StoreFacade[D, DoneLedgerPayload, DoneLedgerCommitReceipt]):
    """A ``DoneLedger`` over any :class:`DoneLedgerStoreBackend`, with the full control surface.

    ``ControlledDoneLedger(backend)`` auto-completes every write (ST-1);
    ``auto_complete=False`` queues every write until released (ST-2). The
    controls (``set_auto_complete``, ``delay_next_writes``,
    ``fail_next_submissions``, ``fail_next_commits``), releases
    (``release_next``, ``release_specific``, ``release_all``), queries
    (``pending_count``, ``pending_ids``), ``clone()`` / ``copy.copy`` (ST-3)
    and ``reset()`` are those of the in-memory store. ``repr`` shows the class
    name, the backend's ``describe(durable)`` if it has one, the pending ops
    and the auto-complete flag, never a record.
    """

    __slots__ = ()

    handle_class: ClassVar[type[ControlledDoneLedgerHandle]] = ControlledDoneLedgerHandle

    def __init__(self, backend: DoneLedgerStoreBackend[D], auto_complete: bool = True) -> None:
        where = f"{type(self).__name__}.__init__"
        check_flag(where, "auto_complete", auto_complete)
        check_backend(where, backend, _REQUIRED)
        self._core = InMemoryStoreCore(backend, auto_complete=auto_complete, kind=KIND)

    @property
    def backend(self) -> DoneLedgerStoreBackend[D]:
        """The backend this ledger (and each of its clones) drives."""
        backend: DoneLedgerStoreBackend[D] = self._core.backend  # type: ignore[assignment]
        return backend

    def _check_size(self, method: str, size: int) -> None:
        """Hook for size limits, run before the lock (DBL-1, DBL-7); no limit by default."""

    def _arg(self, method: str, name: str, value: object, expected: type) -> None:
        check_arg(type(self).__name__, method, name, value, expected)

    # -- write ---------------------------------------------------------------------

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> ControlledDoneLedgerHandle:
        """DL-43: copy ``records`` into a tuple and submit it (ST-6); no domain validation here.

        Raises only ``TypeError`` (TH-6), the size hook's error,
        ``InjectedSubmissionFailure`` and ``Poisoned``; record problems are
        raised by ``wait()`` as ``BatchValidation``. An empty batch is a valid
        op (receipt (0, 0, 0) from a reference-conforming backend).
        """
        payload = records_arg(type(self).__name__, records)
        self._check_size("batch_upsert", len(payload))
        core = self._core
        return self.handle_class(core, core.submit(payload))

    # -- reads ---------------------------------------------------------------------

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Iterable[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        """DL-40: positional lookup of ``(tenant_id, policy_hash, ovid)`` per input."""
        self._arg("batch_get", "tenant_id", tenant_id, TenantId)
        self._arg("batch_get", "policy_hash", policy_hash, PolicyHash)
        ovids = ovids_arg(type(self).__name__, ovid_hashes)
        self._check_size("batch_get", len(ovids))
        if not ovids:  # still under the lock, so a poisoned store raises (TH-3)
            return self._core.read(_no_rows)
        backend: Any = self._core.backend
        return self._core.read(
            lambda durable: list(backend.batch_get(durable, tenant_id, policy_hash, ovids))
        )

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        """DL-11: the stored record for ``key`` or ``None``."""
        self._arg("get_record", "key", key, DoneLedgerKey)
        backend: Any = self._core.backend
        get = getattr(backend, "get_record", None)
        if get is not None:
            return self._core.read(lambda durable: get(durable, key))  # type: ignore[no-any-return]
        one = (key.ovid_hash,)
        rows = self._core.read(
            lambda durable: backend.batch_get(durable, key.tenant_id, key.policy_hash, one)
        )
        return rows[0]  # type: ignore[no-any-return]

    def snapshot(self) -> list[DoneLedgerRecord]:
        """DL-12: every stored record, sorted by tenant, policy, ovid bytes."""
        backend: Any = self._core.backend
        rows: list[DoneLedgerRecord] = self._core.read(lambda d: list(backend.snapshot(d)))
        rows.sort(key=_key_bytes)
        return rows

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        """DL-41: terminal ovid hashes of exactly this scope, each once."""
        self._arg("list_done_hashes", "tenant_id", tenant_id, TenantId)
        self._arg("list_done_hashes", "policy_hash", policy_hash, PolicyHash)
        backend: Any = self._core.backend
        return self._core.read(
            lambda durable: list(backend.list_done_hashes(durable, tenant_id, policy_hash))
        )

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None:
        """DL-42: the backend's count, else ``len(list_done_hashes(...))`` in one lock hold."""
        self._arg("count_done_hashes", "tenant_id", tenant_id, TenantId)
        self._arg("count_done_hashes", "policy_hash", policy_hash, PolicyHash)
        backend: Any = self._core.backend
        count = getattr(backend, "count_done_hashes", None)
        if count is not None:
            return self._core.read(  # type: ignore[no-any-return]
                lambda durable: count(durable, tenant_id, policy_hash)
            )
        return self._core.read(
            lambda durable: len(backend.list_done_hashes(durable, tenant_id, policy_hash))
        )


def _key_bytes(record: DoneLedgerRecord) -> RowKey:
    return row_key(record.key)


def _no_rows(durable: object) -> list[DoneLedgerRecord | None]:
    return []


__all__ = [
    "ControlledDoneLedger",
    "ControlledDoneLedgerHandle",
    "DoneLedgerPayload",
    "DoneLedgerStoreBackend",
    "FaultCounters",
    "FoldedBatch",
    "RowKey",
    "check_backend",
    "row_key",
    "validate_and_fold",
]
