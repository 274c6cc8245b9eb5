"""Per-step invariant checks I1..I5, I7..I10 (INV-0..INV-10) and the project's I11.

The checker is incremental: each check reads only the keys of the batch or
read at hand (``get_record`` per key), never the whole ledger. The full-state
comparison I6 runs once per run, in ``DoneLedgerOracle.verify_convergence``.

It keeps two histories, ``prev_status`` (last observed rank) and
``prev_bytes`` (last observed ``bytes_scanned``) per key; only
``check_after_committed_upsert`` updates them, reads never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gossip_model.inmemory import CompletionOrder, PendingWriteId
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord
from gossip_model.sim.ledger import SimLedger
from gossip_model.sim.oracle import DoneLedgerOracle, fold_batch
from gossip_model.sim.violations import (
    BytesScanMonotonicity,
    CommitDurability,
    CommitRollback,
    DoneLedgerViolation,
    IdempotentUpsert,
    ProvenanceFidelity,
    ReadConsistency,
    ReceiptAccuracy,
    ReleaseOrder,
    StatusMonotonicity,
    SubmitRollback,
    format_provenance,
)

__all__ = ["DoneLedgerInvariantChecker"]

PreSnapshot = Sequence[DoneLedgerRecord | None]
"""``get_record`` of each batch position before submission (EXE-1)."""


class DoneLedgerInvariantChecker:
    """Checks run after each simulation step (section 8.4)."""

    __slots__ = ("prev_bytes", "prev_status")

    def __init__(self) -> None:
        self.prev_status: dict[DoneLedgerKey, int] = {}
        self.prev_bytes: dict[DoneLedgerKey, int] = {}

    # -- 8.1 ----------------------------------------------------------------
    def check_after_committed_upsert(
        self,
        ledger: SimLedger,
        records: Sequence[DoneLedgerRecord],
        receipt: DoneLedgerCommitReceipt,
        pre_snapshot: PreSnapshot,
    ) -> list[DoneLedgerViolation]:
        """I9, then per key I3, I1, I2, I8, I10 (INV-0).

        With an empty ``pre_snapshot`` (releases, EXE-6) I8 and I10 are
        skipped; I1, I2, I3 and I9 always run.
        """
        violations: list[DoneLedgerViolation] = []
        folded = fold_batch(records)
        violations.extend(self.check_receipt_accuracy(folded.values(), receipt))
        pre_by_key: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        for position, record in enumerate(records):
            if position < len(pre_snapshot):
                pre = pre_snapshot[position]
                if pre is not None:
                    pre_by_key.setdefault(record.key, pre)
        for key, incoming in folded.items():
            current = ledger.get_record(key)
            if current is None:
                violations.append(CommitDurability(key))
                continue
            violations.extend(self._check_monotonic(key, current))
            pre = pre_by_key.get(key)
            if pre is not None:
                violations.extend(self.check_provenance_fidelity(key, pre, incoming, current))
                if incoming == pre:
                    violations.extend(self.check_idempotent_upsert(key, pre, current))
        return violations

    def _check_monotonic(
        self, key: DoneLedgerKey, current: DoneLedgerRecord
    ) -> list[DoneLedgerViolation]:
        """I1 and I2 against the histories, which are then set (even when violated)."""
        out: list[DoneLedgerViolation] = []
        rank = current.status.rank
        prev_rank = self.prev_status.get(key)
        if prev_rank is not None and rank < prev_rank:
            out.append(StatusMonotonicity(key, prev_rank=prev_rank, current_rank=rank))
        self.prev_status[key] = rank
        scanned = current.bytes_scanned
        prev_bytes = self.prev_bytes.get(key)
        if prev_bytes is not None and scanned < prev_bytes:
            out.append(BytesScanMonotonicity(key, prev_bytes=prev_bytes, current_bytes=scanned))
        self.prev_bytes[key] = scanned
        return out

    @staticmethod
    def check_receipt_accuracy(
        folded: Iterable[DoneLedgerRecord], receipt: DoneLedgerCommitReceipt
    ) -> list[DoneLedgerViolation]:
        """I9: counts of the deduplicated incoming batch vs the receipt (INV-9)."""
        key_count = scanned = findings = 0
        for record in folded:
            key_count += 1
            scanned += 1 if record.status.is_scanned() else 0
            findings += record.findings_count
        actual = (receipt.record_count, receipt.scanned_count, receipt.findings_count)
        if (key_count, scanned, findings) == actual:
            return []
        return [
            ReceiptAccuracy(
                key_count_expected=key_count,
                key_count_actual=receipt.record_count,
                scanned_expected=scanned,
                scanned_actual=receipt.scanned_count,
                findings_expected=findings,
                findings_actual=receipt.findings_count,
            )
        ]

    @staticmethod
    def check_provenance_fidelity(
        key: DoneLedgerKey,
        existing: DoneLedgerRecord,
        incoming: DoneLedgerRecord,
        merged: DoneLedgerRecord,
    ) -> list[DoneLedgerViolation]:
        """I8: merged provenance equals, as a whole, the existing or the incoming one."""
        if merged.provenance in (existing.provenance, incoming.provenance):
            return []
        return [
            ProvenanceFidelity(
                key,
                message=(
                    f"expected the provenance of existing {format_provenance(existing.provenance)}"
                    f" or of incoming {format_provenance(incoming.provenance)}, "
                    f"actual merged {format_provenance(merged.provenance)}"
                ),
            )
        ]

    @staticmethod
    def check_idempotent_upsert(
        key: DoneLedgerKey, before: DoneLedgerRecord, after: DoneLedgerRecord
    ) -> list[DoneLedgerViolation]:
        """I10: reports iff ``before != after`` (INV-10)."""
        if before == after:
            return []
        return [IdempotentUpsert(key, before=before, after=after)]

    # -- 8.2 ----------------------------------------------------------------
    @staticmethod
    def check_after_submit_failure(
        ledger: SimLedger, records: Sequence[DoneLedgerRecord], pre_snapshot: PreSnapshot
    ) -> list[DoneLedgerViolation]:
        """I4: every position's key reads as its pre-snapshot (INV-4).

        Also the leak check after a delayed submission. A missing position
        means "expect None"; duplicate keys can give duplicate violations.
        """
        out: list[DoneLedgerViolation] = []
        for position, record in enumerate(records):
            expected = pre_snapshot[position] if position < len(pre_snapshot) else None
            actual = ledger.get_record(record.key)
            if actual != expected:
                out.append(SubmitRollback(record.key, expected=expected, actual=actual))
        return out

    @staticmethod
    def check_after_commit_failure(
        ledger: SimLedger, records: Sequence[DoneLedgerRecord], pre_snapshot: PreSnapshot
    ) -> list[DoneLedgerViolation]:
        """I5: as I4, after an auto-completed commit failure (INV-5)."""
        out: list[DoneLedgerViolation] = []
        for position, record in enumerate(records):
            expected = pre_snapshot[position] if position < len(pre_snapshot) else None
            actual = ledger.get_record(record.key)
            if actual != expected:
                out.append(CommitRollback(record.key, expected=expected, actual=actual))
        return out

    # -- I11 (project addition, see gossip_model.sim.runner) ------------------
    @staticmethod
    def check_release_next_order(
        order: CompletionOrder, tracked: Sequence[PendingWriteId], released: PendingWriteId
    ) -> list[DoneLedgerViolation]:
        """I11: ``release_next`` applies the oldest / newest tracked id (LED-5).

        ``tracked`` are the ids pending before the release, ascending; it is
        non-empty because ``released`` was one of them.
        """
        expected = tracked[0] if order is CompletionOrder.OLDEST_FIRST else tracked[-1]
        if released == expected:
            return []
        return [ReleaseOrder(order, expected=(expected,), actual=(released,))]

    @staticmethod
    def check_release_failure_prefix(
        order: CompletionOrder, outcomes: Sequence[tuple[PendingWriteId, bool]]
    ) -> list[DoneLedgerViolation]:
        """I11: in a bulk release the injected commit failures are the first K applies (LED-7).

        ``outcomes`` are (op id, failed on an injected commit fault) in the
        declared apply order. The commit-fault counter is consumed by the
        first K applies (it is checked before validation, ST-9), so injected
        failures form a prefix; other apply errors take no part in the check.
        """
        failed = tuple(op_id for op_id, injected in outcomes if injected)
        expected = tuple(op_id for op_id, _ in outcomes[: len(failed)])
        if failed == expected:
            return []
        return [ReleaseOrder(order, expected=expected, actual=failed)]

    # -- 8.3 ----------------------------------------------------------------
    @staticmethod
    def check_read_consistency(
        oracle: DoneLedgerOracle,
        keys: Sequence[DoneLedgerKey],
        results: Sequence[DoneLedgerRecord | None],
    ) -> list[DoneLedgerViolation]:
        """I7: each position's ledger result equals the oracle's committed record (INV-7).

        A result list shorter than ``keys`` counts the missing positions as None.
        """
        out: list[DoneLedgerViolation] = []
        for position, key in enumerate(keys):
            actual = results[position] if position < len(results) else None
            expected = oracle.expected_state(key)
            if actual != expected:
                out.append(ReadConsistency(key, oracle=expected, actual=actual))
        return out
