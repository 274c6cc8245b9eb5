"""Planted-bug findings sinks: the power test of ``FindingsSinkMachine`` (issue 6, "Power").

Each entry of :data:`PLANTED_FINDINGS_BUGS` is an ``InMemoryFindingsSink``
whose backend breaks exactly one step of the apply path of ``inmemory.md``
§5; everything else (core, controls, reads) is the real store:

* ``abort_keeps_findings`` -- FS-11 broken: when a later layer fails
  (``MissingFinding``, ``MissingOccurrence``, ``OccurrenceConflict``,
  ``ObservationConflict``) the batch's findings layer is committed anyway;
* ``orphan_check_trusts_batch`` -- FS-6 / FS-7 broken: the parent check is
  skipped for occurrences whenever the batch carries any finding, and for
  observations whenever it carries any occurrence ("the parents are in the
  same batch"), so an orphan next to an unrelated parent is committed;
* ``merge_drops_location`` -- FS-10 broken: the merged observation takes
  only the winner's location, so a later re-send without a location erases
  a stored one;
* ``conflict_ignores_ovid`` -- FS-8 broken: the identity check of the merge
  ignores ``ovid_hash``, so two observations with one key and different
  ovid hashes merge instead of conflicting.

The simulation's done-ledger catalogue lives in :mod:`gossip_model.sim.planted`
(``PLANTED_BUGS``, ``make_planted_ledger``) and is reused as is. Two more
done-ledger bugs are planted here (issue 11 item 7), realistic single-client
bugs that only a machine drawing invalid records and boundary values can see;
:data:`PLANTED_LEDGER_BUGS` holds them:

* ``apply_streams_records`` -- DL-6 broken: the apply validates and merges one
  record at a time, so a batch whose later record is invalid leaves the
  earlier records applied although the whole op fails with ``BatchValidation``;
* ``rejects_equal_timestamps`` -- DL-21 broken: ``started_at == finished_at``
  is rejected with ``ProvenanceOrdering`` although it is valid.

These classes reach into the in-memory internals on purpose (a bug is a
change of internals). The merge variants run the store's own
``apply_findings_batch`` with one global name rebound (a copy of the
function with patched globals; nothing global is mutated), so they track
the real apply path. They are test aids, never a backend to use.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from gossip_model.inmemory import InMemoryFindingsSink
from gossip_model.inmemory import findings as inmemory_findings
from gossip_model.inmemory.done_ledger import (
    DoneLedgerBackend,
    DoneLedgerPayload,
    DoneLedgerRows,
    apply_done_ledger_batch,
    merge_into_rows,
    validate_and_fold,
)
from gossip_model.inmemory.errors import (
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.inmemory.findings import FindingsBackend, FindingsState
from gossip_model.inmemory.store import FaultCounters, InMemoryStoreCore
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
)
from gossip_model.persistence.errors import ProvenanceOrdering
from gossip_model.sim.planted import PlantedDoneLedger

ApplyFn = Callable[[FindingsState, FindingsUpsertBatch], FindingsCommitReceipt]


def _apply_with(**rebound: object) -> ApplyFn:
    """The store's ``apply_findings_batch`` with some module globals rebound."""
    real = inmemory_findings.apply_findings_batch
    scope = {**real.__globals__, **rebound}
    clone = types.FunctionType(real.__code__, scope, real.__name__, real.__defaults__)
    return cast(ApplyFn, clone)


class _PlantedFindingsBackend(FindingsBackend):
    """The real backend; subclasses replace :meth:`_apply` (the step after the fault check)."""

    def apply(
        self, durable: FindingsState, counters: FaultCounters, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        counters.check_commit_fault(self.kind)
        return self._apply(durable, payload)

    def _apply(
        self, durable: FindingsState, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        return inmemory_findings.apply_findings_batch(durable, payload)


class _AbortKeepsFindingsBackend(_PlantedFindingsBackend):
    def _apply(
        self, durable: FindingsState, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        try:
            return inmemory_findings.apply_findings_batch(durable, payload)
        except (MissingFinding, MissingOccurrence, OccurrenceConflict, ObservationConflict):
            for f in payload.findings:  # BUG: layer 1 committed although the batch aborts
                durable.findings.setdefault((f.tenant_id, f.finding_id), f)
            raise


class _TrustingDict(dict[Any, Any]):
    """A durable layer whose ``in`` answers True while ``trusting`` is set."""

    trusting = False

    def __contains__(self, key: object) -> bool:
        return self.trusting or dict.__contains__(self, key)


class _OrphanCheckTrustsBatchBackend(_PlantedFindingsBackend):
    def new_durable(self) -> FindingsState:
        state = FindingsState()
        state.findings = _TrustingDict()
        state.occurrences = _TrustingDict()
        return state

    def _apply(
        self, durable: FindingsState, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        findings = cast(_TrustingDict, durable.findings)
        occurrences = cast(_TrustingDict, durable.occurrences)
        # BUG: "the parents are in this batch" whenever the batch has any parent at all.
        findings.trusting = bool(payload.findings)
        occurrences.trusting = bool(payload.occurrences)
        try:
            return inmemory_findings.apply_findings_batch(durable, payload)
        finally:
            findings.trusting = occurrences.trusting = False


def _merge_dropping_location(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord:
    merged = inmemory_findings.merge_observation(existing, incoming)
    winner_is_incoming = (
        merged.seen_at == incoming.seen_at
        and merged.run_id == incoming.run_id
        and merged.shard_id == incoming.shard_id
        and merged.fence_epoch == incoming.fence_epoch
    )
    winner = incoming if winner_is_incoming else existing
    return merged.with_location(winner.location)  # BUG: no fallback to the other location


def _merge_ignoring_ovid(
    existing: ObservationRecord, incoming: ObservationRecord
) -> ObservationRecord:
    if incoming.ovid_hash != existing.ovid_hash:  # BUG: ovid_hash treated as provenance
        incoming = dataclasses.replace(incoming, ovid_hash=existing.ovid_hash)
    return inmemory_findings.merge_observation(existing, incoming)


class _MergeDropsLocationBackend(_PlantedFindingsBackend):
    _planted = staticmethod(_apply_with(merge_observation=_merge_dropping_location))

    def _apply(
        self, durable: FindingsState, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        return self._planted(durable, payload)


class _ConflictIgnoresOvidBackend(_PlantedFindingsBackend):
    _planted = staticmethod(_apply_with(merge_observation=_merge_ignoring_ovid))

    def _apply(
        self, durable: FindingsState, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        return self._planted(durable, payload)


class PlantedFindingsSink(InMemoryFindingsSink):
    """``InMemoryFindingsSink`` over a planted backend; ``bug`` names the bug."""

    __slots__ = ("bug",)

    def __init__(self, bug: str, backend: FindingsBackend, auto_complete: bool = True) -> None:
        self.bug = bug
        self._core = InMemoryStoreCore(backend, auto_complete=auto_complete)

    def __repr__(self) -> str:
        return f"PlantedFindingsSink({self.bug!r})"


@dataclass(frozen=True, slots=True)
class PlantedFindingsBug:
    """One planted findings bug: name, what is wrong, and its backend class."""

    name: str
    description: str
    backend_class: type[FindingsBackend]

    def make(self, auto_complete: bool = True) -> PlantedFindingsSink:
        """A fresh planted sink (empty, auto-complete on unless told otherwise)."""
        return PlantedFindingsSink(self.name, self.backend_class(), auto_complete=auto_complete)


PLANTED_FINDINGS_BUGS: dict[str, PlantedFindingsBug] = {
    bug.name: bug
    for bug in (
        PlantedFindingsBug(
            "abort_keeps_findings",
            "an aborted batch leaves its findings layer committed",
            _AbortKeepsFindingsBackend,
        ),
        PlantedFindingsBug(
            "orphan_check_trusts_batch",
            "the parent check is skipped when the batch carries any parent",
            _OrphanCheckTrustsBatchBackend,
        ),
        PlantedFindingsBug(
            "merge_drops_location",
            "the observation merge keeps only the winner's location",
            _MergeDropsLocationBackend,
        ),
        PlantedFindingsBug(
            "conflict_ignores_ovid",
            "the observation conflict check ignores ovid_hash",
            _ConflictIgnoresOvidBackend,
        ),
    )
}
"""The findings catalogue, by name."""


def make_planted_sink(name: str, auto_complete: bool = True) -> PlantedFindingsSink:
    """A fresh planted sink by catalogue name (``ValueError`` for an unknown name)."""
    try:
        bug = PLANTED_FINDINGS_BUGS[name]
    except KeyError:
        known = ", ".join(PLANTED_FINDINGS_BUGS)
        raise ValueError(f"unknown planted findings bug {name!r} (known: {known})") from None
    return bug.make(auto_complete=auto_complete)


class _StreamingApplyBackend(DoneLedgerBackend):
    """DL-6 broken: records are validated and merged into durable state one by one."""

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        counters.check_commit_fault(self.kind)
        for record in payload:  # BUG: a later invalid record raises after earlier merges
            merge_into_rows(durable, validate_and_fold((record,)))
        return DoneLedgerCommitReceipt.for_folded(validate_and_fold(payload).values())


class _RejectsEqualTimestampsBackend(DoneLedgerBackend):
    """DL-21 broken: ``started_at == finished_at`` is rejected as out of order."""

    def apply(
        self, durable: DoneLedgerRows, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        counters.check_commit_fault(self.kind)
        for record in payload:
            started = record.provenance.started_at.value
            finished = record.provenance.finished_at.value
            if started >= finished:  # BUG: DL-21 allows started == finished
                raise ProvenanceOrdering(started, finished)
        return apply_done_ledger_batch(durable, payload)


@dataclass(frozen=True, slots=True)
class PlantedLedgerBug:
    """One planted done-ledger bug of this module: name, what is wrong, its backend."""

    name: str
    description: str
    backend_class: type[DoneLedgerBackend]

    def make(self, auto_complete: bool = True) -> PlantedDoneLedger:
        """A fresh planted ledger (empty, auto-complete on unless told otherwise)."""
        return PlantedDoneLedger(
            self.name, InMemoryStoreCore, self.backend_class(), auto_complete=auto_complete
        )


PLANTED_LEDGER_BUGS: dict[str, PlantedLedgerBug] = {
    bug.name: bug
    for bug in (
        PlantedLedgerBug(
            "apply_streams_records",
            "a batch failing validation leaves its earlier records applied",
            _StreamingApplyBackend,
        ),
        PlantedLedgerBug(
            "rejects_equal_timestamps",
            "a record with started_at == finished_at is rejected",
            _RejectsEqualTimestampsBackend,
        ),
    )
}
"""Done-ledger bugs only the machines' invalid and boundary draws expose (issue 11 item 7)."""


def make_planted_ledger_bug(name: str, auto_complete: bool = True) -> PlantedDoneLedger:
    """A fresh planted ledger of :data:`PLANTED_LEDGER_BUGS` (``ValueError`` if unknown)."""
    try:
        bug = PLANTED_LEDGER_BUGS[name]
    except KeyError:
        known = ", ".join(PLANTED_LEDGER_BUGS)
        raise ValueError(f"unknown planted ledger bug {name!r} (known: {known})") from None
    return bug.make(auto_complete=auto_complete)


__all__ = [
    "PLANTED_FINDINGS_BUGS",
    "PLANTED_LEDGER_BUGS",
    "PlantedLedgerBug",
    "make_planted_ledger_bug",
    "PlantedFindingsBug",
    "PlantedFindingsSink",
    "make_planted_sink",
]
