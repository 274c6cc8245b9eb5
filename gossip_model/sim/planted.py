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

from dataclasses import dataclass

from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.inmemory.done_ledger import (
    DoneLedgerBackend,
    DoneLedgerPayload,
    DoneLedgerRows,
    merge_into_rows,
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

__all__ = ["PLANTED_BUGS", "PlantedBug", "PlantedDoneLedger", "make_planted_ledger"]

_Core = InMemoryStoreCore[DoneLedgerRows, DoneLedgerPayload, DoneLedgerCommitReceipt]


# --- backend variants: one wrong step of the apply path ------------------------------


class _PlantedBackend(DoneLedgerBackend):
    """The correct apply path, split so that a subclass can break one step."""

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
        for key, record in folded.items():
            existing = durable.get(key)
            durable[key] = record if existing is None else self.merge(existing, record)
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


@dataclass(frozen=True, slots=True)
class PlantedBug:
    """One planted bug: its name, what is wrong, and the invariant that must catch it."""

    name: str
    description: str
    invariant: str
    core_class: type[_Core]
    backend_class: type[DoneLedgerBackend]

    def make(self, auto_complete: bool = True) -> PlantedDoneLedger:
        """A fresh planted ledger (empty, auto-complete on unless told otherwise)."""
        return PlantedDoneLedger(
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


def make_planted_ledger(name: str, auto_complete: bool = True) -> PlantedDoneLedger:
    """A fresh planted ledger by catalogue name (``ValueError`` for an unknown name)."""
    try:
        bug = PLANTED_BUGS[name]
    except KeyError:
        known = ", ".join(PLANTED_BUGS)
        raise ValueError(f"unknown planted bug {name!r} (known: {known})") from None
    return bug.make(auto_complete=auto_complete)
