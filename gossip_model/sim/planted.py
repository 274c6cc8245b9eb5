"""Planted-bug done ledgers: the simulation's power test (issue 5, "Power").

Each entry of ``PLANTED_BUGS`` is a small variant of ``InMemoryDoneLedger``:
either its backend (``DoneLedgerBackend`` with one wrong step of the apply
path) or its store core (``InMemoryStoreCore`` with one wrong submission or
release rule). Each names the invariant a stormy sweep of at most 20 seeds x
500 ops must report. They are importable so that the Hypothesis state
machines in ``rules/`` can reuse them (``make_planted_ledger(name)``), and
the command line selects them with the hidden test aid
``--ledger planted:NAME``.

These classes reach into the in-memory internals on purpose (a bug is a
change of internals); they are test aids, never a backend to use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.inmemory.done_ledger import (
    DoneLedgerBackend,
    DoneLedgerPayload,
    DoneLedgerRows,
    RowKey,
    merge_into_rows,
    row_key,
    validate_and_fold,
)
from gossip_model.inmemory.errors import (
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryPersistenceError,
)
from gossip_model.inmemory.store import FaultCounters, InMemoryStoreCore
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerProvenance,
    DoneLedgerRecord,
)

__all__ = [
    "DEEP_PLANTED_BUGS",
    "INVARIANT_PROBES",
    "INVARIANT_PROBE_FOR",
    "PLANTED_BUGS",
    "PlantedBug",
    "PlantedDoneLedger",
    "make_planted_ledger",
]

_Core = InMemoryStoreCore[DoneLedgerRows, DoneLedgerPayload, DoneLedgerCommitReceipt]


# --- backend variants: one wrong step of the apply path ------------------------------


class _PlantedBackend(DoneLedgerBackend):
    """The correct apply path, split so that a subclass can break one step.

    It counts successful commits per key (``key_commits``); while a key is
    merged, ``prior_commits`` holds that key's count before this commit, so a
    deep bug can stay correct for the first two commits on a key.
    """

    def __init__(self) -> None:
        self.key_commits: dict[RowKey, int] = {}
        self.prior_commits = 0

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        counters.check_commit_fault(self.kind)
        return self._apply(durable, payload)

    def _apply(
        self, durable: DoneLedgerRows, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        folded = validate_and_fold(payload)
        receipt = self.receipt(folded, payload)
        commits = self.key_commits
        for key, record in folded.items():
            existing = durable.get(key)
            self.prior_commits = commits.get(key, 0)
            durable[key] = record if existing is None else self.merge(existing, record)
            commits[key] = self.prior_commits + 1
        return receipt

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        return existing.merge(incoming)

    def receipt(
        self, folded: DoneLedgerRows, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        return DoneLedgerCommitReceipt.for_folded(folded.values())


def _rebuild(
    record: DoneLedgerRecord,
    *,
    bytes_scanned: int | None = None,
    provenance: DoneLedgerProvenance | None = None,
) -> DoneLedgerRecord:
    return DoneLedgerRecord(
        record.key,
        record.status,
        record.bytes_scanned if bytes_scanned is None else bytes_scanned,
        record.findings_count,
        record.provenance if provenance is None else provenance,
        record.error_code,
    )


class _StatusDowngradeBackend(_PlantedBackend):
    """A lower-ranked incoming record overwrites the durable row (status downgrade)."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        if incoming.status.rank < existing.status.rank:
            return incoming
        return existing.merge(incoming)


class _BytesLastWriterWinsBackend(_PlantedBackend):
    """``bytes_scanned`` is the incoming value instead of the maximum."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        return _rebuild(existing.merge(incoming), bytes_scanned=incoming.bytes_scanned)


class _ProvenanceFromLoserBackend(_PlantedBackend):
    """The merged record carries the losing record's (whole) provenance."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        merged = existing.merge(incoming)
        loser = incoming if merged.provenance == existing.provenance else existing
        return _rebuild(merged, provenance=loser.provenance)


class _MixedProvenanceBackend(_PlantedBackend):
    """The merged provenance takes the incoming run id and the winner's other fields."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        merged = existing.merge(incoming)
        prov = merged.provenance
        mixed = DoneLedgerProvenance(
            incoming.provenance.run_id,
            prov.shard_id,
            prov.fence_epoch,
            prov.started_at,
            prov.finished_at,
        )
        return _rebuild(merged, provenance=mixed)


class _ReceiptCountsRawBackend(_PlantedBackend):
    """The receipt counts raw batch records, not distinct keys."""

    def receipt(
        self, folded: DoneLedgerRows, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        return DoneLedgerCommitReceipt.for_folded(payload)


class _CommitFailureAppliedBackend(_PlantedBackend):
    """An injected commit failure is reported, but the batch was applied anyway."""

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        if counters.fail_commit_remaining > 0:
            counters.fail_commit_remaining -= 1
            self._apply(durable, payload)
            raise InjectedCommitFailure(self.kind)
        return self._apply(durable, payload)


# --- core variants: one wrong submission or release rule ---------------------------


class _SubmitFailureAppliesCore(_Core):
    """An injected submission failure consumes an op id and still applies the batch."""

    def submit(self, payload: DoneLedgerPayload) -> PendingWriteId:
        with self.section:
            if self.faults.fail_submit_remaining > 0:
                self.faults.fail_submit_remaining -= 1
                self.next_op_id += 1
                merge_into_rows(self.durable, validate_and_fold(payload))
                raise InjectedSubmissionFailure(self.kind)
        return super().submit(payload)


class _PendingVisibleCore(_Core):
    """A delayed write is merged into durable state at submission, before its release."""

    def submit(self, payload: DoneLedgerPayload) -> PendingWriteId:
        op_id = super().submit(payload)
        if op_id in self.pending_ids():
            with self.section:
                merge_into_rows(self.durable, validate_and_fold(payload))
        return op_id


class _NewestAsOldestCore(_Core):
    """``NEWEST_FIRST`` releases behave as ``OLDEST_FIRST``."""

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None:
        return super().release_next(CompletionOrder.OLDEST_FIRST)

    def release_all(self, order: CompletionOrder) -> int:
        return super().release_all(CompletionOrder.OLDEST_FIRST)


class _ReleaseAllSkipsOneCore(_Core):
    """``release_all`` finishes every op, but the last one's payload is applied to a scratch copy.

    Its handle reports a normal receipt (or the injected failure it drew), so
    the write looks committed while durable state never saw it.
    """

    _bulk_left = 0

    def release_all(self, order: CompletionOrder) -> int:
        self._bulk_left = self.pending_count()
        try:
            return super().release_all(order)
        finally:
            self._bulk_left = 0

    def _apply_locked(
        self, payload: DoneLedgerPayload
    ) -> tuple[DoneLedgerCommitReceipt | None, InMemoryPersistenceError | None]:
        if self._bulk_left > 0:
            self._bulk_left -= 1
            if self._bulk_left == 0:
                real = self.durable
                self.durable = dict(real)
                try:
                    return super()._apply_locked(payload)
                finally:
                    self.durable = real
        return super()._apply_locked(payload)


# --- deep bugs (issue 12): invisible in the first two commits on a key -----------------


def _commits(backend: object, key: RowKey) -> int:
    """Successful commits on ``key`` so far, as counted by a planted backend."""
    return backend.key_commits.get(key, 0) if isinstance(backend, _PlantedBackend) else 0


class _OpAwareCore(_Core):
    """A core that knows which op id an apply belongs to, and whether a release reorders.

    ``_current`` is the op being released (set around ``_finish_locked``); an
    apply outside a release is the auto-completed submission just allocated,
    ``next_op_id - 1``. ``_reordered`` is set while a release may overtake an
    older pending write (NEWEST_FIRST with two or more pending, or a specific
    id that is not the oldest pending one).
    """

    _current: PendingWriteId | None = None
    _reordered = False

    def _finish_locked(self, op_id: PendingWriteId) -> None:
        self._current = op_id
        try:
            super()._finish_locked(op_id)
        finally:
            self._current = None

    def _op_in_apply(self) -> int:
        return int(self._current) if self._current is not None else self.next_op_id - 1

    def _set_reordered(self, flag: bool) -> None:
        self._reordered = flag
        backend = self.backend
        if isinstance(backend, _ReorderAwareBackend):
            backend.reordered = flag

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None:
        self._set_reordered(order is CompletionOrder.NEWEST_FIRST and self.pending_count() >= 2)
        try:
            return super().release_next(order)
        finally:
            self._set_reordered(False)

    def release_specific(self, op_id: PendingWriteId) -> bool:
        pending = self.pending_ids()
        self._set_reordered(bool(pending) and pending[0] != op_id)
        try:
            return super().release_specific(op_id)
        finally:
            self._set_reordered(False)

    def release_all(self, order: CompletionOrder) -> int:
        self._set_reordered(order is CompletionOrder.NEWEST_FIRST and self.pending_count() >= 2)
        try:
            return super().release_all(order)
        finally:
            self._set_reordered(False)


class _ThirdMergeDowngradeBackend(_PlantedBackend):
    """On the third merge into a key (its fourth commit), a lower-ranked write replaces the row."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        if self.prior_commits == 3 and incoming.status.rank < existing.status.rank:
            return incoming
        return existing.merge(incoming)


class _ReorderAwareBackend(_PlantedBackend):
    """Base of backends told (by :class:`_OpAwareCore`) that the current release reorders."""

    reordered = False


class _ReorderedWinnerBytesBackend(_ReorderAwareBackend):
    """After a reordered release, a winning incoming record's bytes replace the maximum."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        merged = existing.merge(incoming)
        if (
            self.reordered
            and self.prior_commits >= 2
            and merged.provenance == incoming.provenance != existing.provenance
        ):
            return _rebuild(merged, bytes_scanned=incoming.bytes_scanned)
        return merged


class _RetryDroppedCore(_OpAwareCore):
    """A retried payload (one whose submission or commit failed before) that was delayed
    is dropped at release when another write to one of its keys committed meanwhile and
    that key already had two commits; its handle still reports a normal receipt."""

    def __init__(self, backend: DoneLedgerBackend, *, auto_complete: bool = True) -> None:
        super().__init__(backend, auto_complete=auto_complete)
        self.failed: set[DoneLedgerPayload] = set()
        self.commit_seq = 0
        self.key_seq: dict[RowKey, int] = {}
        self.retry_marks: dict[int, int] = {}

    def submit(self, payload: DoneLedgerPayload) -> PendingWriteId:
        retry = payload in self.failed
        try:
            op_id = super().submit(payload)
        except InjectedSubmissionFailure:
            self.failed.add(payload)
            raise
        if retry and op_id in self.pending_ids():
            self.retry_marks[int(op_id)] = self.commit_seq
        return op_id

    def _apply_locked(
        self, payload: DoneLedgerPayload
    ) -> tuple[DoneLedgerCommitReceipt | None, InMemoryPersistenceError | None]:
        mark = self.retry_marks.pop(self._op_in_apply(), None)
        keys = [row_key(record.key) for record in payload]
        if (
            mark is not None
            and self.faults.fail_commit_remaining == 0
            and any(
                self.key_seq.get(key, 0) > mark and _commits(self.backend, key) >= 2
                for key in keys
            )
        ):
            folded = validate_and_fold(payload)
            return DoneLedgerCommitReceipt.for_folded(folded.values()), None
        receipt, error = super()._apply_locked(payload)
        if error is not None:
            self.failed.add(payload)
        else:
            self.commit_seq += 1
            for key in keys:
                self.key_seq[key] = self.commit_seq
        return receipt, error


class _FailedAppliedAfterNewerCore(_OpAwareCore):
    """A release by id whose commit fails is applied anyway when a newer write had committed.

    Only the records of keys that already had two commits are applied (so the
    first two commits on a key are never affected); with none, it fails cleanly.
    """

    newest_committed = 0

    def release_specific(self, op_id: PendingWriteId) -> bool:
        self._by_id_after_newer = int(op_id) < self.newest_committed
        try:
            return super().release_specific(op_id)
        finally:
            self._by_id_after_newer = False

    _by_id_after_newer = False

    def _apply_locked(
        self, payload: DoneLedgerPayload
    ) -> tuple[DoneLedgerCommitReceipt | None, InMemoryPersistenceError | None]:
        if self._by_id_after_newer and self.faults.fail_commit_remaining > 0:
            folded = validate_and_fold(payload)
            deep = {k: r for k, r in folded.items() if _commits(self.backend, k) >= 2}
            if deep:
                self.faults.fail_commit_remaining -= 1
                merge_into_rows(self.durable, deep)
                return None, InjectedCommitFailure(self.kind)
        receipt, error = super()._apply_locked(payload)
        if error is None:
            self.newest_committed = max(self.newest_committed, self._op_in_apply())
        return receipt, error


# --- invariant probes (issue 12): one ledger per invariant that it reports first ---------


class _ImmediateAwareCore(_OpAwareCore):
    """Tells an :class:`_ImmediateAwareBackend` whether the apply is an auto-completion.

    An auto-completed upsert is the only apply the harness checks with a real
    pre-snapshot (I5, I8, I10, EXE-4); a probe that misbehaves only there is
    reported by its invariant before any read or the final I6 can see it.
    """

    def _apply_locked(
        self, payload: DoneLedgerPayload
    ) -> tuple[DoneLedgerCommitReceipt | None, InMemoryPersistenceError | None]:
        # Only ever built with an _ImmediateAwareBackend (INVARIANT_PROBES).
        cast(_ImmediateAwareBackend, self.backend).immediate = self._current is None
        return super()._apply_locked(payload)


class _ImmediateAwareBackend(_PlantedBackend):
    immediate = False


class _LostInsertBackend(_PlantedBackend):
    """In a batch of two or more keys, the insert of a new key is lost (receipt unchanged)."""

    def _apply(
        self, durable: DoneLedgerRows, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        folded = validate_and_fold(payload)
        receipt = self.receipt(folded, payload)
        for key, record in folded.items():
            existing = durable.get(key)
            if existing is None:
                if len(folded) < 2:
                    durable[key] = record
            else:
                durable[key] = self.merge(existing, record)
        return receipt


class _ImmediateCommitFailureAppliedBackend(_ImmediateAwareBackend):
    """An auto-completed write whose commit fails was applied anyway."""

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        if self.immediate and counters.fail_commit_remaining > 0:
            counters.fail_commit_remaining -= 1
            self._apply(durable, payload)
            raise InjectedCommitFailure(self.kind)
        return super().apply(durable, counters, payload)


class _ImmediateMixedProvenanceBackend(_ImmediateAwareBackend, _MixedProvenanceBackend):
    """On auto-completed merges, the provenance mixes the incoming run id into the winner's."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        if self.immediate:
            return _MixedProvenanceBackend.merge(self, existing, incoming)
        return existing.merge(incoming)


class _ReplayDoublesBytesBackend(_ImmediateAwareBackend):
    """An auto-completed replay of the identical record counts its bytes twice."""

    def merge(self, existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        merged = existing.merge(incoming)
        if self.immediate and existing == incoming:
            return _rebuild(merged, bytes_scanned=2 * merged.bytes_scanned + 1)
        return merged


# --- the ledger facade and the catalogue ---------------------------------------------


class PlantedDoneLedger(InMemoryDoneLedger):
    """``InMemoryDoneLedger`` over a planted core and backend; ``bug`` names the bug."""

    __slots__ = ("bug",)

    def __init__(
        self,
        bug: str,
        core_class: type[_Core],
        backend: DoneLedgerBackend,
        auto_complete: bool = True,
    ) -> None:
        self.bug = bug
        self._core = core_class(backend, auto_complete=auto_complete)

    def __repr__(self) -> str:
        return f"PlantedDoneLedger({self.bug!r}, {super().__repr__()})"


class _SnapshotDropsLastLedger(PlantedDoneLedger):
    """``snapshot()`` loses its last row (an off-by-one in paging); reads are right."""

    __slots__ = ()

    def snapshot(self) -> list[DoneLedgerRecord]:
        return super().snapshot()[:-1]


class _RepeatedReadNoneLedger(PlantedDoneLedger):
    """``batch_get`` answers a repeated position with None (deduplicated lookups)."""

    __slots__ = ()

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Iterable[OvidHash]
    ) -> list[DoneLedgerRecord | None]:
        ovids = list(ovid_hashes)
        results = super().batch_get(tenant_id, policy_hash, ovids)
        seen: set[OvidHash] = set()
        out: list[DoneLedgerRecord | None] = []
        for ovid, result in zip(ovids, results, strict=True):
            out.append(None if ovid in seen else result)
            seen.add(ovid)
        return out


@dataclass(frozen=True, slots=True)
class PlantedBug:
    """One planted bug: its name, what is wrong, and the invariant that must catch it."""

    name: str
    description: str
    invariant: str
    core_class: type[_Core]
    backend_class: type[DoneLedgerBackend]
    ledger_class: type[PlantedDoneLedger] | None = None
    """A facade subclass for read-path bugs; None means :class:`PlantedDoneLedger`."""

    def make(self, auto_complete: bool = True) -> PlantedDoneLedger:
        """A fresh planted ledger (empty, auto-complete on unless told otherwise)."""
        ledger_class = PlantedDoneLedger if self.ledger_class is None else self.ledger_class
        return ledger_class(
            self.name, self.core_class, self.backend_class(), auto_complete=auto_complete
        )


def _bugs(*bugs: PlantedBug) -> dict[str, PlantedBug]:
    return {bug.name: bug for bug in bugs}


PLANTED_BUGS: dict[str, PlantedBug] = _bugs(
    PlantedBug(
        "status_downgrade",
        "a lower-ranked write overwrites a higher-ranked durable status",
        "I1",
        _Core,
        _StatusDowngradeBackend,
    ),
    PlantedBug(
        "bytes_last_writer_wins",
        "bytes_scanned takes the incoming value instead of the maximum",
        "I2",
        _Core,
        _BytesLastWriterWinsBackend,
    ),
    PlantedBug(
        "release_all_skips_one",
        "release_all reports the last op committed but never applies its payload",
        "I6",
        _ReleaseAllSkipsOneCore,
        _PlantedBackend,
    ),
    PlantedBug(
        "submit_failure_applies",
        "an injected submission failure consumes an op id and still applies the batch",
        "I4",
        _SubmitFailureAppliesCore,
        _PlantedBackend,
    ),
    PlantedBug(
        "pending_visible",
        "a delayed write is visible in durable state before it is released",
        "I4",
        _PendingVisibleCore,
        _PlantedBackend,
    ),
    PlantedBug(
        "commit_failure_applied",
        "an injected commit failure is reported after the batch was applied",
        "I5",
        _Core,
        _CommitFailureAppliedBackend,
    ),
    PlantedBug(
        "provenance_from_loser",
        "the merged record carries the losing record's provenance",
        "I6",
        _Core,
        _ProvenanceFromLoserBackend,
    ),
    PlantedBug(
        "mixed_provenance",
        "the merged provenance mixes the incoming run id with the winner's other fields",
        "I8",
        _Core,
        _MixedProvenanceBackend,
    ),
    PlantedBug(
        "receipt_counts_raw",
        "the receipt counts raw batch records instead of distinct keys",
        "I9",
        _Core,
        _ReceiptCountsRawBackend,
    ),
    PlantedBug(
        "newest_as_oldest",
        "NEWEST_FIRST releases are applied oldest first",
        "I11",
        _NewestAsOldestCore,
        _PlantedBackend,
    ),
)
"""The catalogue, by name; ``invariant`` is the id a stormy sweep must report."""

DEEP_PLANTED_BUGS: dict[str, PlantedBug] = _bugs(
    PlantedBug(
        "third_merge_downgrade",
        "on the third merge into a key, a lower-ranked write overwrites the status",
        "I1",
        _Core,
        _ThirdMergeDowngradeBackend,
    ),
    PlantedBug(
        "reordered_winner_bytes",
        "a winning write released out of order keeps its own bytes_scanned, not the maximum",
        "I2",
        _OpAwareCore,
        _ReorderedWinnerBytesBackend,
    ),
    PlantedBug(
        "retry_dropped_after_concurrent_commit",
        "a delayed retry of a failed payload is dropped if another write to its key "
        "committed while it was pending",
        "I7",
        _RetryDroppedCore,
        _PlantedBackend,
    ),
    PlantedBug(
        "failed_release_applied_after_newer",
        "a write released by id whose commit fails is applied anyway when a newer write "
        "had already committed",
        "I7",
        _FailedAppliedAfterNewerCore,
        _PlantedBackend,
    ),
)
"""Deep bugs (issue 12): each needs a history (a third merge, a reordered release, a
retry racing another commit, a failed release by id after a newer commit), so it is
invisible in the first two commits on a key. ``invariant`` is the one the SWARM sweep
reports first in most seeds; I6 (or I7 for the byte bug) may come first in others.
Kept out of :data:`PLANTED_BUGS`, whose entries the state machines must also find
and shrink to a few steps (``tests/rules``)."""


def _catalogues() -> dict[str, PlantedBug]:
    return {**PLANTED_BUGS, **DEEP_PLANTED_BUGS, **INVARIANT_PROBES}


def make_planted_ledger(name: str, auto_complete: bool = True) -> PlantedDoneLedger:
    """A fresh planted ledger by name, from any catalogue (``ValueError`` if unknown)."""
    catalogue = _catalogues()
    try:
        bug = catalogue[name]
    except KeyError:
        known = ", ".join(catalogue)
        raise ValueError(f"unknown planted bug {name!r} (known: {known})") from None
    return bug.make(auto_complete=auto_complete)


INVARIANT_PROBES: dict[str, PlantedBug] = _bugs(
    PlantedBug(
        "probe_i3_lost_insert",
        "in a batch of two or more keys, the insert of a new key is lost",
        "I3",
        _Core,
        _LostInsertBackend,
    ),
    PlantedBug(
        "probe_i5_immediate_commit_failure_applied",
        "an auto-completed write whose commit fails was applied anyway",
        "I5",
        _ImmediateAwareCore,
        _ImmediateCommitFailureAppliedBackend,
    ),
    PlantedBug(
        "probe_i6_snapshot_drops_last",
        "snapshot() loses its last row; point and batch reads are right",
        "I6",
        _Core,
        _PlantedBackend,
        _SnapshotDropsLastLedger,
    ),
    PlantedBug(
        "probe_i7_repeated_read_none",
        "batch_get answers a repeated position with None",
        "I7",
        _Core,
        _PlantedBackend,
        _RepeatedReadNoneLedger,
    ),
    PlantedBug(
        "probe_i8_immediate_mixed_provenance",
        "on auto-completed merges the provenance mixes the incoming run id into the winner's",
        "I8",
        _ImmediateAwareCore,
        _ImmediateMixedProvenanceBackend,
    ),
    PlantedBug(
        "probe_i10_replay_doubles_bytes",
        "an auto-completed replay of the identical record counts its bytes twice",
        "I10",
        _ImmediateAwareCore,
        _ReplayDoublesBytesBackend,
    ),
)
"""Ledgers that exist to prove an invariant can fire (issue 12): with the bugs of
:data:`PLANTED_BUGS` they give, for each of I1..I11, a ledger whose first reported
violation in a SWARM sweep is that invariant (:data:`INVARIANT_PROBE_FOR`)."""

INVARIANT_PROBE_FOR: dict[str, str] = {
    "I1": "status_downgrade",
    "I2": "bytes_last_writer_wins",
    "I3": "probe_i3_lost_insert",
    "I4": "pending_visible",
    "I5": "probe_i5_immediate_commit_failure_applied",
    "I6": "probe_i6_snapshot_drops_last",
    "I7": "probe_i7_repeated_read_none",
    "I8": "probe_i8_immediate_mixed_provenance",
    "I9": "receipt_counts_raw",
    "I10": "probe_i10_replay_doubles_bytes",
    "I11": "newest_as_oldest",
}
"""Invariant id -> the planted ledger (any catalogue) that it reports first."""
