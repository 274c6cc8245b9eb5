"""Planted concurrency bugs the parallel tests must catch (issue 14 item 4).

Each bug is a small store that is correct for one client at a time and wrong
under concurrency; ``pause`` is called inside its race window (the seeded
scheduler's yield point; a no-op on real threads, where the lowered switch
interval and the database's own I/O open the window):

* ``lost-update``: an in-memory ledger whose apply reads the durable row,
  releases the lock, merges, then writes the merge back (a lost update);
* ``sqlite-select-then-write``: a SQLite ledger (one connection per client,
  autocommit) that reads each row with ``SELECT`` and writes the merge with a
  separate ``INSERT OR REPLACE``, with no transaction around them;
* ``findings-check-then-insert``: an in-memory findings sink whose conflict
  check and insert take the lock separately, so two different findings with
  one id can both be accepted;
* ``release-races-submit``: an in-memory ledger with delayed completion whose
  release applies the queue it saw, then marks every queued write done,
  including one submitted meanwhile, whose effect is lost;
* ``release-all-not-atomic`` (delayed mode only, :data:`PLANTED_DELAYED`): the
  real ``InMemoryDoneLedger`` facade and control surface over a core whose
  ``release_all`` is split over three holds of the lock (ST-16 asks for one):
  it applies the ops Pending when it looked, then marks every op Pending *now*
  Finished with the result of an apply to scratch state, so a write submitted
  in between gets its receipt but never reaches durable state. Only delayed
  mode (:mod:`gossip_model.linearizability.control`), where clients release
  while others submit, can find it.

Reads of every planted store are correct and atomic; only the write path is
broken, so any violation found is the planted one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from gossip_model.core.errors import CompletionOrder
from gossip_model.core.pending import PendingState
from gossip_model.core.store import FaultCounters, InMemoryStoreCore, check_order
from gossip_model.db.encoding import DONE_COLUMNS, encode_done_row
from gossip_model.identity import (
    FindingId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    TenantId,
)
from gossip_model.inmemory.errors import (
    BatchValidation,
    FindingConflict,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.linearizability.done_ledger_model import key_order
from gossip_model.linearizability.findings_model import (
    EMPTY,
    SinkState,
    apply_batch,
    presubmit_error,
)
from gossip_model.linearizability.targets import LEDGER, SINK, Pause
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
    ReadyCommitHandle,
    fold_records,
)
from gossip_model.persistence.errors import PersistenceInputError, ProvenanceOrdering


def _validated_fold(records: Iterable[DoneLedgerRecord]) -> dict[DoneLedgerKey, DoneLedgerRecord]:
    """DL-3 / DL-4 (correct): validate every record, then fold by key."""
    batch = list(records)
    for record in batch:
        error: PersistenceInputError | None = record.strict_error()
        if error is None and not record.provenance.is_ordered():
            error = ProvenanceOrdering(
                record.provenance.started_at.value, record.provenance.finished_at.value
            )
        if error is not None:
            raise BatchValidation(error)
    return fold_records(batch)


class _Rows:
    """Durable rows behind one lock, with correct atomic reads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[DoneLedgerKey, DoneLedgerRecord] = {}

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        with self.lock:
            return [self.rows.get(DoneLedgerKey(tenant_id, policy_hash, o)) for o in ovid_hashes]

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        with self.lock:
            return self.rows.get(key)

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]:
        with self.lock:
            return sorted(
                (
                    k.ovid_hash
                    for k, r in self.rows.items()
                    if k.tenant_id == tenant_id
                    and k.policy_hash == policy_hash
                    and r.status.is_terminal()
                ),
                key=lambda o: o.raw,
            )

    def snapshot(self) -> list[DoneLedgerRecord]:
        with self.lock:
            return [self.rows[k] for k in sorted(self.rows, key=key_order)]


class LostUpdateLedger:
    """Planted: read the row under the lock, merge outside it, write back (lost update)."""

    def __init__(self, rows: _Rows, pause: Pause) -> None:
        self._rows = rows
        self._pause = pause

    def batch_upsert(
        self, records: Sequence[DoneLedgerRecord]
    ) -> ReadyCommitHandle[DoneLedgerCommitReceipt]:
        try:
            folded = _validated_fold(records)
        except BatchValidation as error:
            return ReadyCommitHandle.err(error)
        rows = self._rows
        for key, record in folded.items():
            with rows.lock:
                prior = rows.rows.get(key)
            self._pause()  # the bug: another writer may update the row here
            merged = record if prior is None else prior.merge(record)
            with rows.lock:
                rows.rows[key] = merged
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt.for_folded(folded.values()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows, name)


class ReleaseRacesSubmitLedger:
    """Planted: delayed writes; a release marks done every queued write, even unapplied ones."""

    def __init__(self, shared: dict[str, Any], pause: Pause) -> None:
        self._shared = shared
        self._pause = pause

    @property
    def _rows(self) -> _Rows:
        rows: _Rows = self._shared["rows"]
        return rows

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> _QueuedHandle:
        try:
            folded = _validated_fold(records)
        except BatchValidation as error:
            return _QueuedHandle(self, None, error)
        entry: dict[str, Any] = {"folded": folded, "done": False}
        with self._rows.lock:
            self._shared["queue"].append(entry)
        return _QueuedHandle(self, entry, None)

    def release_all(self) -> None:
        rows = self._rows
        with rows.lock:
            seen = list(self._shared["queue"])
        self._pause()
        for entry in seen:
            with rows.lock:
                for key, record in entry["folded"].items():
                    prior = rows.rows.get(key)
                    rows.rows[key] = record if prior is None else prior.merge(record)
        self._pause()
        with rows.lock:
            # The bug: entries queued after ``seen`` was taken are marked done unapplied.
            for entry in self._shared["queue"]:
                entry["done"] = True
            self._shared["queue"].clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows, name)


class _QueuedHandle:
    def __init__(
        self,
        ledger: ReleaseRacesSubmitLedger,
        entry: dict[str, Any] | None,
        error: BaseException | None,
    ) -> None:
        self._ledger = ledger
        self._entry = entry
        self._error = error

    def wait(self, timeout: float | None = None) -> DoneLedgerCommitReceipt:
        if self._error is not None:
            raise self._error
        assert self._entry is not None
        if not self._entry["done"]:
            self._ledger.release_all()
        folded: dict[DoneLedgerKey, DoneLedgerRecord] = self._entry["folded"]
        return DoneLedgerCommitReceipt.for_folded(folded.values())


class SplitReleaseAllCore(InMemoryStoreCore[Any, Any, Any]):
    """Planted: ``release_all`` over three holds of the lock (see the module docstring)."""

    __slots__ = ("pause",)
    pause: Pause

    def release_all(self, order: CompletionOrder) -> int:
        check_order("release_all", order)
        pending = PendingState.PENDING
        with self.section:
            seen = [
                op_id
                for op_id in self.order
                if (op := self.ops.get(op_id)) is not None and op.state is pending
            ]
        if order is CompletionOrder.NEWEST_FIRST:
            seen.reverse()
        with self.section:
            for op_id in seen:
                self._finish_locked(op_id)
            self.cond.notify_all()
        self.pause()  # the bug: a submission may queue a new op here
        with self.section:
            for op_id in self.order:
                op = self.ops.get(op_id)
                if op is not None and op.state is pending:
                    # The bug: finished with a receipt computed on scratch state, never applied.
                    receipt, error = self._scratch_apply(op.payload)
                    op.finish(receipt, error)
                    self.pending_total -= 1
            self.order.clear()
            self.cond.notify_all()
        return len(seen)

    def _scratch_apply(self, payload: object) -> tuple[object, BatchValidation | None]:
        # Fresh counters: no commit fault can fire, so only validation can fail (DL-3).
        scratch = self.backend.new_durable()
        try:
            return self.backend.apply(scratch, FaultCounters(self.kind), payload), None
        except PersistenceInputError as source:
            return None, BatchValidation(source)


def split_release_ledger(pause: Pause) -> Any:
    """An ``InMemoryDoneLedger`` over :class:`SplitReleaseAllCore` (the real control surface)."""
    from gossip_model.inmemory import InMemoryDoneLedger
    from gossip_model.inmemory.done_ledger import DoneLedgerBackend

    core = SplitReleaseAllCore(DoneLedgerBackend())
    core.pause = pause
    return InMemoryDoneLedger._from_core(core)


def _error_for(kind: str, batch: FindingsUpsertBatch) -> Exception:
    """A contract exception of the kind the model names (the checker compares kinds only;
    ids other than the first record's are placeholders)."""
    tenant = batch.tenant()
    assert tenant is not None
    zero = b"\x00" * 32
    if kind == "FindingConflict":
        return FindingConflict(tenant, batch.findings[0].finding_id)
    if kind == "OccurrenceConflict":
        return OccurrenceConflict(tenant, batch.occurrences[0].occurrence_id)
    if kind == "MissingFinding":
        return MissingFinding(tenant, FindingId(zero), OccurrenceId(zero))
    if kind == "MissingOccurrence":
        return MissingOccurrence(tenant, OccurrenceId(zero), ObservationId(zero))
    return ObservationConflict(tenant, ObservationId(zero))


class CheckThenInsertSink:
    """Planted: the conflict check and the insert hold the lock separately."""

    def __init__(self, shared: dict[str, Any], pause: Pause) -> None:
        self._shared = shared
        self._pause = pause
        self._lock: threading.Lock = shared["lock"]

    def upsert_batch(self, batch: FindingsUpsertBatch) -> ReadyCommitHandle[FindingsCommitReceipt]:
        if presubmit_error(batch) is not None:
            raise _presubmit(batch)  # FS-4: before any state is read (correct)
        with self._lock:
            before: SinkState = self._shared["state"]
        checked, result = apply_batch(before, batch)
        if isinstance(result, str):
            return ReadyCommitHandle.err(_error_for(result, batch))
        self._pause()  # the bug: another writer may insert a conflicting record here
        with self._lock:
            now: SinkState = self._shared["state"]
            self._shared["state"] = SinkState(
                now.findings.updated(
                    {k: v for k, v in checked.findings.items() if k not in now.findings}
                ),
                now.occurrences.updated(
                    {k: v for k, v in checked.occurrences.items() if k not in now.occurrences}
                ),
                now.observations.updated(dict(checked.observations.items())),
            )
        return ReadyCommitHandle.ok(result)

    def _state(self) -> SinkState:
        with self._lock:
            state: SinkState = self._shared["state"]
            return state

    def get_finding(self, tenant_id: TenantId, finding_id: FindingId) -> FindingRecord | None:
        return self._state().findings.get((tenant_id, finding_id))

    def get_occurrence(
        self, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        return self._state().occurrences.get((tenant_id, occurrence_id))

    def get_observation(
        self, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        return self._state().observations.get((tenant_id, observation_id))

    def findings_snapshot(self) -> list[FindingRecord]:
        state = self._state()
        return [state.findings[k] for k in sorted(state.findings, key=_id_order)]


def _id_order(key: tuple[TenantId, object]) -> tuple[bytes, bytes]:
    return (key[0].raw, bytes(key[1]))  # type: ignore[call-overload]


def _presubmit(batch: FindingsUpsertBatch) -> BatchValidation:
    try:
        batch.validate_observation_identity()
        batch.validate_tenant_consistency()
    except PersistenceInputError as error:
        return BatchValidation(error)
    raise AssertionError("presubmit_error and the batch's own checks disagree")


class SelectThenWriteSqliteLedger:
    """Planted: ``SELECT`` the row, merge in Python, ``INSERT OR REPLACE`` in another statement."""

    def __init__(self, path: str, pause: Pause) -> None:
        from gossip_model.sqlite import SqliteDoneLedger

        self._reads = SqliteDoneLedger(path, synchronous="NORMAL")  # correct reads
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=5.0
        )
        self._pause = pause

    def batch_upsert(
        self, records: Sequence[DoneLedgerRecord]
    ) -> ReadyCommitHandle[DoneLedgerCommitReceipt]:
        try:
            folded = _validated_fold(records)
        except BatchValidation as error:
            return ReadyCommitHandle.err(error)
        columns = ", ".join(DONE_COLUMNS)
        marks = ", ".join("?" * len(DONE_COLUMNS))
        for key, record in folded.items():
            prior = self._reads.get_record(key)  # statement 1 (autocommit)
            self._pause()  # the bug: no transaction spans the read and the write
            merged = record if prior is None else prior.merge(record)
            self._conn.execute(
                f"INSERT OR REPLACE INTO done_ledger_entries ({columns}) VALUES ({marks})",
                encode_done_row(merged, 0),
            )
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt.for_folded(folded.values()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reads, name)

    def close(self) -> None:
        self._conn.close()
        self._reads.close()


def planted_interface(bug: str) -> str:
    """Which interface the planted bug ``bug`` implements."""
    return SINK if bug == "findings-check-then-insert" else LEDGER


class PlantedTarget:
    """A :class:`~gossip_model.linearizability.targets.Target` for one planted bug."""

    def __init__(self, bug: str, path: str | None = None) -> None:
        if bug not in PLANTED + PLANTED_DELAYED:
            known = ", ".join(PLANTED + PLANTED_DELAYED)
            raise ValueError(f"unknown planted concurrency bug {bug!r} (known: {known})")
        if bug == "sqlite-select-then-write" and path is None:
            raise ValueError("planted bug 'sqlite-select-then-write' needs a database file path")
        self.bug = bug
        self.path = path
        self.interface = planted_interface(bug)
        self.name = f"planted:{bug}"

    def open(self, clients: int, pause: Pause) -> list[Any]:
        if self.bug == "lost-update":
            rows = _Rows()
            return [LostUpdateLedger(rows, pause) for _ in range(clients)]
        if self.bug == "release-all-not-atomic":
            first = split_release_ledger(pause)
            return [first, *(first.clone() for _ in range(clients - 1))]
        if self.bug == "release-races-submit":
            shared: dict[str, Any] = {"rows": _Rows(), "queue": []}
            return [ReleaseRacesSubmitLedger(shared, pause) for _ in range(clients)]
        if self.bug == "findings-check-then-insert":
            state: dict[str, Any] = {"lock": threading.Lock(), "state": EMPTY}
            return [CheckThenInsertSink(state, pause) for _ in range(clients)]
        assert self.path is not None
        from gossip_model.sqlite import SqliteDoneLedger

        SqliteDoneLedger(self.path, synchronous="NORMAL").close()  # migrate
        with sqlite3.connect(self.path) as conn:
            conn.execute("DELETE FROM done_ledger_entries")
        return [SelectThenWriteSqliteLedger(self.path, pause) for _ in range(clients)]

    def close(self, handles: Sequence[Any]) -> None:
        for handle in handles:
            if isinstance(handle, SelectThenWriteSqliteLedger):
                handle.close()


PLANTED = (
    "lost-update",
    "sqlite-select-then-write",
    "findings-check-then-insert",
    "release-races-submit",
)

#: Planted bugs in the control surface itself: only delayed mode can find them.
PLANTED_DELAYED = ("release-all-not-atomic",)

__all__ = [
    "PLANTED",
    "PLANTED_DELAYED",
    "SplitReleaseAllCore",
    "CheckThenInsertSink",
    "LostUpdateLedger",
    "PlantedTarget",
    "ReleaseRacesSubmitLedger",
    "SelectThenWriteSqliteLedger",
    "planted_interface",
    "split_release_ledger",
]
