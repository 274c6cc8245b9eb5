"""Oracle unit tests (TST-12, ORA-1..ORA-8): plain data, pure transitions."""

from __future__ import annotations

import pytest

from gossip_model.inmemory import InMemoryDoneLedger, PendingWriteId
from gossip_model.persistence import DoneLedgerStatus
from gossip_model.sim import (
    DoneLedgerOracle,
    LatticeConvergence,
    SimIntegrityError,
    fold_batch,
    merged_entries,
)
from tests.builders import key, valid_done_record

S = DoneLedgerStatus
P1, P2, P3 = PendingWriteId(1), PendingWriteId(2), PendingWriteId(3)


def test_submit_commit_promotes_by_merge() -> None:
    """ORA-2/ORA-3: commit folds the batch, then merges into committed (status join)."""
    oracle = DoneLedgerOracle()
    failed = valid_done_record(0, S.FAILED_RETRYABLE, bytes_scanned=500, run=1)
    clean = valid_done_record(0, S.SCANNED_CLEAN, bytes_scanned=100, run=2)
    oracle.submit(P1, [failed])
    assert oracle.pending_batch_count() == 1
    assert oracle.expected_state(key(o=0)) is None  # pending is not committed
    assert oracle.commit(P1)
    assert oracle.expected_state(key(o=0)) == failed
    oracle.submit(P2, [clean])
    assert oracle.commit(P2)
    merged = oracle.expected_state(key(o=0))
    assert merged is not None
    assert merged.status is S.SCANNED_CLEAN  # scanned dominates failure (LED-12)
    assert merged.bytes_scanned == 500  # max of both
    assert merged.provenance == clean.provenance  # the winner's whole provenance
    assert merged.error_code is None
    assert oracle.committed_count() == 1
    assert oracle.pending_batch_count() == 0


def test_commit_unknown_returns_false() -> None:
    """ORA-3: no pending entry means False and no change."""
    oracle = DoneLedgerOracle()
    assert not oracle.commit(P1)
    assert oracle.committed_count() == 0


def test_abort_drops_without_merging() -> None:
    """ORA-4."""
    oracle = DoneLedgerOracle()
    oracle.submit(P1, [valid_done_record(0)])
    oracle.abort(P1)
    assert oracle.pending_batch_count() == 0
    assert oracle.expected_state(key(o=0)) is None
    assert not oracle.commit(P1)
    oracle.abort(P2)  # aborting an unknown id is harmless
    assert oracle.pending_batch_count() == 0


def test_submit_copies_and_replaces() -> None:
    """ORA-2: a copy is stored; a second submit under the same id replaces it."""
    oracle = DoneLedgerOracle()
    records = [valid_done_record(0)]
    oracle.submit(P1, records)
    records.append(valid_done_record(1))
    oracle.submit(P2, [valid_done_record(2)])
    oracle.submit(P2, [valid_done_record(3)])
    assert oracle.commit(P1)
    assert oracle.commit(P2)
    assert {r.key for r in oracle.committed_records()} == {key(o=0), key(o=3)}


def test_pending_op_ids_sorted() -> None:
    """ORA-5: ascending."""
    oracle = DoneLedgerOracle()
    for op in (P3, P1, P2):
        oracle.submit(op, [])
    assert oracle.pending_op_ids() == [P1, P2, P3]


def test_batch_dedup_folds_left_to_right() -> None:
    """ORA-3 / LED-4: same-key records fold with merge in batch order."""
    a = valid_done_record(0, S.SCANNED_WITH_FINDINGS, bytes_scanned=10, findings_count=4, run=1)
    b = valid_done_record(
        0, S.SCANNED_WITH_FINDINGS, bytes_scanned=30, findings_count=2, run=2, finished=30
    )
    c = valid_done_record(1, S.SKIPPED, run=3)
    folded = fold_batch([a, c, b])
    assert list(folded) == [key(o=0), key(o=1)]
    assert folded[key(o=0)] == a.merge(b)
    assert folded[key(o=0)].findings_count == 4
    assert folded[key(o=1)] == c


def test_merged_entries_is_pure() -> None:
    """The transition returns new values only for the batch's keys and mutates nothing."""
    committed = {key(o=0): valid_done_record(0, S.FAILED_PERMANENT, bytes_scanned=900, run=1)}
    before = dict(committed)
    folded = fold_batch(
        [
            valid_done_record(0, S.SCANNED_CLEAN, bytes_scanned=5, run=2),
            valid_done_record(1, run=3),
        ]
    )
    out = merged_entries(committed, folded)
    assert committed == before
    assert set(out) == {key(o=0), key(o=1)}
    assert out[key(o=0)].status is S.SCANNED_CLEAN
    assert out[key(o=0)].bytes_scanned == 900
    assert out[key(o=1)] == valid_done_record(1, run=3)


def test_merge_failure_is_integrity_error() -> None:
    """SIM-13: an invalid record in a batch aborts the oracle's dedup."""
    invalid = valid_done_record(0, S.SCANNED_CLEAN)
    from gossip_model.persistence import DoneLedgerRecord

    broken = DoneLedgerRecord(
        invalid.key,
        S.FAILED_RETRYABLE,
        1,
        0,
        invalid.provenance,
        None,  # failed without an error code: merge rejects it (DL-36)
    )
    with pytest.raises(SimIntegrityError, match="merge failed"):
        fold_batch([invalid, broken])


def test_convergence_synced_state_passes() -> None:
    """ORA-7: the same commits on both sides give no violations."""
    ledger = InMemoryDoneLedger()
    oracle = DoneLedgerOracle()
    batch = [
        valid_done_record(0),
        valid_done_record(1, S.SKIPPED, run=2),
        valid_done_record(0, S.SCANNED_WITH_FINDINGS, findings_count=1, run=3),
    ]
    ledger.batch_upsert(batch).wait(timeout=0)
    oracle.submit(P1, batch)
    assert oracle.commit(P1)
    assert oracle.verify_convergence(ledger) == []


def test_convergence_reports_each_side() -> None:
    """ORA-7/ORA-8: oracle-only -> actual=None; ledger-only -> oracle=None; unequal -> both.

    INV-6: these are the three I6 LatticeConvergence cases.
    """
    ledger = InMemoryDoneLedger()
    ledger.batch_upsert([valid_done_record(1, run=5), valid_done_record(2, run=6)]).wait(timeout=0)
    oracle = DoneLedgerOracle()
    oracle.submit(P1, [valid_done_record(0, run=1), valid_done_record(2, run=7)])
    assert oracle.commit(P1)
    violations = oracle.verify_convergence(ledger)
    assert violations == [
        LatticeConvergence(key(o=0), oracle=valid_done_record(0, run=1), actual=None),
        LatticeConvergence(key(o=1), oracle=None, actual=valid_done_record(1, run=5)),
        LatticeConvergence(
            key(o=2), oracle=valid_done_record(2, run=7), actual=valid_done_record(2, run=6)
        ),
    ]


def test_convergence_with_pending_aborts() -> None:
    """ORA-7: pending batches make verify_convergence a harness integrity failure."""
    oracle = DoneLedgerOracle()
    oracle.submit(P2, [valid_done_record(0)])
    with pytest.raises(SimIntegrityError, match="pending"):
        oracle.verify_convergence(InMemoryDoneLedger())
