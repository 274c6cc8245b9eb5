"""The oracle: expected durable state of the done ledger (ORA-1..ORA-8).

The oracle is plain data (two dicts) plus pure transition functions:
``fold_batch`` deduplicates a batch by key (LED-4) and ``merged_entries``
computes the new committed values of the keys a batch touches. The
``DoneLedgerOracle`` methods only wire those functions to the dicts, so a
commit costs time proportional to the batch, never to the whole state.

The oracle deliberately reuses the production ``DoneLedgerRecord.merge``
(ORA-3): it checks that the harness commits and aborts the right batches in
the right order, not the merge algorithm, which ``contracts.md`` tests on
its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from gossip_model.inmemory import PendingWriteId
from gossip_model.persistence import DoneLedgerKey, DoneLedgerRecord
from gossip_model.persistence.errors import PersistenceInputError
from gossip_model.sim.context import SimIntegrityError
from gossip_model.sim.ledger import SimLedger, key_sort_key
from gossip_model.sim.violations import DoneLedgerViolation, LatticeConvergence

__all__ = ["DoneLedgerOracle", "MergeObserver", "fold_batch", "merged_entries"]

MergeObserver = Callable[[DoneLedgerKey, DoneLedgerRecord | None, DoneLedgerRecord], None]
"""``observer(key, before, after)`` of :class:`DoneLedgerOracle` commits."""


def fold_batch(records: Iterable[DoneLedgerRecord]) -> dict[DoneLedgerKey, DoneLedgerRecord]:
    """Deduplicate a batch by key, folding ``merge`` left to right (LED-4, ORA-3).

    The first record of a key is kept as is; each later one replaces the
    entry with ``entry.merge(later)``. A merge error is a harness integrity
    failure (SIM-13): the simulation only builds valid records.
    """
    folded: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    for record in records:
        existing = folded.get(record.key)
        folded[record.key] = record if existing is None else _merge(existing, record)
    return folded


def merged_entries(
    committed: Mapping[DoneLedgerKey, DoneLedgerRecord],
    folded: Mapping[DoneLedgerKey, DoneLedgerRecord],
) -> dict[DoneLedgerKey, DoneLedgerRecord]:
    """New committed values of the keys in ``folded`` (LED-4 phase 3); pure.

    A key absent from ``committed`` takes the folded record; a present one
    becomes ``committed[key].merge(folded[key])``.
    """
    out: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    for key, incoming in folded.items():
        existing = committed.get(key)
        out[key] = incoming if existing is None else _merge(existing, incoming)
    return out


def _merge(existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
    try:
        return existing.merge(incoming)
    except PersistenceInputError as exc:
        raise SimIntegrityError(
            f"merge failed inside the oracle: {type(exc).__name__}: {exc}"
        ) from exc


@dataclass(slots=True)
class DoneLedgerOracle:
    """Committed and pending model of the ledger (ORA-1).

    ``committed`` holds only successful commits; ``pending`` the submitted,
    undecided batches. The harness commits to it in the ledger's exact apply
    order (ORA-6), so merge tie-breaks agree on both sides.
    """

    committed: dict[DoneLedgerKey, DoneLedgerRecord] = field(default_factory=dict)
    pending: dict[PendingWriteId, list[DoneLedgerRecord]] = field(default_factory=dict)
    observer: MergeObserver | None = field(default=None, compare=False, repr=False)
    """Called once per committed key with (key, record before or None, record after);
    the depth figures use it (``gossip_model.sim.depth``). It never changes a result."""

    def submit(self, op_id: PendingWriteId, records: Iterable[DoneLedgerRecord]) -> None:
        """Store a copy of the records under ``op_id``, replacing any entry (ORA-2)."""
        self.pending[op_id] = list(records)

    def commit(self, op_id: PendingWriteId) -> bool:
        """Fold and merge the pending batch into ``committed``; False if unknown (ORA-3)."""
        records = self.pending.pop(op_id, None)
        if records is None:
            return False
        folded = fold_batch(records)
        observer = self.observer
        if observer is None:
            self.committed.update(merged_entries(self.committed, folded))
            return True
        # Same result as merged_entries + update (folded keys are distinct), with one
        # lookup per key shared by the merge and the observer.
        committed = self.committed
        for key, incoming in folded.items():
            existing = committed.get(key)
            after = incoming if existing is None else _merge(existing, incoming)
            committed[key] = after
            observer(key, existing, after)
        return True

    def abort(self, op_id: PendingWriteId) -> None:
        """Drop the pending batch without merging (ORA-4)."""
        self.pending.pop(op_id, None)

    def expected_state(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        """The committed record for ``key`` or None (ORA-5)."""
        return self.committed.get(key)

    def committed_count(self) -> int:
        """Number of distinct committed keys (ORA-5)."""
        return len(self.committed)

    def committed_records(self) -> Iterator[DoneLedgerRecord]:
        """The committed records, in commit-insertion order (ORA-5)."""
        return iter(self.committed.values())

    def pending_batch_count(self) -> int:
        """Number of submitted, undecided batches (ORA-5)."""
        return len(self.pending)

    def pending_op_ids(self) -> list[PendingWriteId]:
        """Pending op ids, ascending (ORA-5)."""
        return sorted(self.pending, key=int)

    def verify_convergence(self, ledger: SimLedger) -> list[DoneLedgerViolation]:
        """I6 LatticeConvergence: full comparison with ``ledger.snapshot()`` (ORA-7).

        Aborts (SIM-13) while batches are pending. Reports an oracle key
        missing from the ledger with ``actual=None``, an unequal record with
        both, and a ledger-only key with ``oracle=None`` (ORA-8), in snapshot
        key order. An empty list means converged.
        """
        if self.pending:
            raise SimIntegrityError(
                f"verify_convergence called with {len(self.pending)} pending batch(es): "
                f"{[int(i) for i in self.pending_op_ids()]}"
            )
        actual = {record.key: record for record in ledger.snapshot()}
        violations: list[DoneLedgerViolation] = []
        for key in sorted(actual.keys() | self.committed.keys(), key=key_sort_key):
            expected = self.committed.get(key)
            found = actual.get(key)
            if expected != found:
                violations.append(LatticeConvergence(key, oracle=expected, actual=found))
        return violations
