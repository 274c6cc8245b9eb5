"""Checker unit tests (TST-12): each method on a fabricated bad state gives its variant."""

from __future__ import annotations

import pytest

from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord, DoneLedgerStatus
from gossip_model.sim import (
    ALL_VIOLATION_TYPES,
    BytesScanMonotonicity,
    CommitDurability,
    CommitRollback,
    DoneLedgerInvariantChecker,
    DoneLedgerOracle,
    DoneLedgerViolation,
    IdempotentUpsert,
    LatticeConvergence,
    ProvenanceFidelity,
    ReadConsistency,
    ReceiptAccuracy,
    ReleaseOrder,
    StatusMonotonicity,
    SubmitRollback,
)
from tests.builders import key, valid_done_record

S = DoneLedgerStatus


def ledger_with(*records: DoneLedgerRecord) -> InMemoryDoneLedger:
    ledger = InMemoryDoneLedger()
    if records:
        ledger.batch_upsert(records).wait(timeout=0)
    return ledger


def receipt_for(*records: DoneLedgerRecord) -> DoneLedgerCommitReceipt:
    return DoneLedgerCommitReceipt.for_folded(records)


def test_clean_commit_has_no_violation() -> None:
    checker = DoneLedgerInvariantChecker()
    r = valid_done_record(0, bytes_scanned=100)
    assert checker.check_after_committed_upsert(ledger_with(r), [r], receipt_for(r), [None]) == []
    assert checker.prev_status == {key(o=0): 10}
    assert checker.prev_bytes == {key(o=0): 100}


def test_i1_status_monotonicity() -> None:
    """INV-1: the rank went from 10 to 1; the history is then set to 1."""
    checker = DoneLedgerInvariantChecker()
    high, low = (
        valid_done_record(0, S.SCANNED_CLEAN, bytes_scanned=5),
        valid_done_record(0, S.FAILED_RETRYABLE, bytes_scanned=5, run=2),
    )
    checker.check_after_committed_upsert(ledger_with(high), [high], receipt_for(high), ())
    found = checker.check_after_committed_upsert(ledger_with(low), [low], receipt_for(low), ())
    assert found == [StatusMonotonicity(key(o=0), prev_rank=10, current_rank=1)]
    assert checker.prev_status[key(o=0)] == 1


def test_i2_bytes_scan_monotonicity() -> None:
    """INV-2."""
    checker = DoneLedgerInvariantChecker()
    big, small = (
        valid_done_record(0, bytes_scanned=900),
        valid_done_record(0, bytes_scanned=10, run=2),
    )
    checker.check_after_committed_upsert(ledger_with(big), [big], receipt_for(big), ())
    found = checker.check_after_committed_upsert(
        ledger_with(small), [small], receipt_for(small), ()
    )
    assert found == [BytesScanMonotonicity(key(o=0), prev_bytes=900, current_bytes=10)]
    assert checker.prev_bytes[key(o=0)] == 10


def test_i3_commit_durability_skips_other_checks() -> None:
    """INV-3: a committed key missing from the ledger; no history is recorded for it."""
    checker = DoneLedgerInvariantChecker()
    r = valid_done_record(0)
    found = checker.check_after_committed_upsert(ledger_with(), [r], receipt_for(r), [r])
    assert found == [CommitDurability(key(o=0))]
    assert key(o=0) not in checker.prev_status


def test_i9_receipt_accuracy_from_deduplicated_batch() -> None:
    """INV-9: 3 records on 2 keys: expected (2 keys, 1 scanned, 7 findings)."""
    a = valid_done_record(0, S.SCANNED_WITH_FINDINGS, findings_count=7)
    b = valid_done_record(0, S.SCANNED_WITH_FINDINGS, findings_count=3, run=2)
    c = valid_done_record(1, S.SKIPPED, findings_count=0, run=3)
    ledger = ledger_with(a, b, c)
    checker = DoneLedgerInvariantChecker()
    good = DoneLedgerCommitReceipt(2, 1, 7)
    assert checker.check_after_committed_upsert(ledger, [a, b, c], good, ()) == []
    raw = DoneLedgerCommitReceipt(3, 2, 10)
    assert DoneLedgerInvariantChecker().check_after_committed_upsert(
        ledger, [a, b, c], raw, ()
    ) == [ReceiptAccuracy(2, 3, 1, 2, 7, 10)]


def test_i8_provenance_fidelity() -> None:
    """INV-8: merged provenance equal to neither the pre-existing nor the incoming one."""
    pre = valid_done_record(0, run=1, started=10, finished=20)
    incoming = valid_done_record(0, run=2, started=30, finished=40)
    mixed = valid_done_record(0, run=2, started=10, finished=20)
    checker = DoneLedgerInvariantChecker()
    found = checker.check_after_committed_upsert(
        ledger_with(mixed), [incoming], receipt_for(incoming), [pre]
    )
    assert len(found) == 1
    violation = found[0]
    assert isinstance(violation, ProvenanceFidelity)
    assert violation.key == key(o=0)
    assert "run=1" in violation.message
    assert "run=2" in violation.message
    assert str(violation).startswith("I8 ProvenanceFidelity: ")
    # A whole-provenance winner on either side passes.
    for current in (pre, incoming):
        assert (
            DoneLedgerInvariantChecker.check_provenance_fidelity(key(o=0), pre, incoming, current)
            == []
        )


def test_i8_and_i10_only_with_a_pre_snapshot() -> None:
    """INV-8/INV-10 need a known pre-existing record; an empty pre-snapshot skips them."""
    incoming = valid_done_record(0, run=2, started=30, finished=40)
    mixed = valid_done_record(0, run=2, started=10, finished=20)
    checker = DoneLedgerInvariantChecker()
    assert (
        checker.check_after_committed_upsert(
            ledger_with(mixed), [incoming], receipt_for(incoming), []
        )
        == []
    )


def test_i10_idempotent_upsert() -> None:
    """INV-10: re-upserting the identical durable record must leave it unchanged."""
    same = valid_done_record(0, bytes_scanned=50)
    changed = valid_done_record(0, bytes_scanned=60)
    checker = DoneLedgerInvariantChecker()
    found = checker.check_after_committed_upsert(
        ledger_with(changed), [same], receipt_for(same), [same]
    )
    assert IdempotentUpsert(key(o=0), before=same, after=changed) in found
    assert DoneLedgerInvariantChecker.check_idempotent_upsert(key(o=0), same, same) == []
    assert DoneLedgerInvariantChecker.check_idempotent_upsert(key(o=0), same, changed) == [
        IdempotentUpsert(key(o=0), before=same, after=changed)
    ]


def test_pre_snapshot_keeps_first_record_per_key() -> None:
    """INV-0 step 3: duplicate keys take the first pre-snapshot entry."""
    first, second = (
        valid_done_record(0, bytes_scanned=5),
        valid_done_record(0, bytes_scanned=6, run=2),
    )
    incoming = valid_done_record(0, bytes_scanned=5)
    checker = DoneLedgerInvariantChecker()
    found = checker.check_after_committed_upsert(
        ledger_with(first), [incoming, incoming], receipt_for(incoming), [first, second]
    )
    assert found == []  # incoming == first: I10 holds against the first entry


def test_i4_submit_rollback_by_position() -> None:
    """INV-4: each position's current state vs its pre-snapshot; missing means None."""
    leaked = valid_done_record(0)
    ledger = ledger_with(leaked)
    found = DoneLedgerInvariantChecker.check_after_submit_failure(ledger, [leaked, leaked], [None])
    assert found == [
        SubmitRollback(key(o=0), expected=None, actual=leaked),
        SubmitRollback(key(o=0), expected=None, actual=leaked),
    ]
    assert DoneLedgerInvariantChecker.check_after_submit_failure(ledger, [leaked], [leaked]) == []


def test_i5_commit_rollback() -> None:
    """INV-5: same comparison, variant CommitRollback."""
    before, after = (
        valid_done_record(1, bytes_scanned=1),
        valid_done_record(1, bytes_scanned=2, run=2),
    )
    found = DoneLedgerInvariantChecker.check_after_commit_failure(
        ledger_with(after), [after], [before]
    )
    assert found == [CommitRollback(key(o=1), expected=before, actual=after)]


def test_i7_read_consistency() -> None:
    """INV-7: differ, lost write, leaked write; equal or both absent pass."""
    oracle = DoneLedgerOracle()
    oracle.submit(PendingWriteId(1), [valid_done_record(0), valid_done_record(1)])
    assert oracle.commit(PendingWriteId(1))
    keys = [key(o=0), key(o=1), key(o=2), key(o=3)]
    results = [valid_done_record(0), valid_done_record(1, run=9), None, valid_done_record(3)]
    found = DoneLedgerInvariantChecker.check_read_consistency(oracle, keys, results)
    assert found == [
        ReadConsistency(key(o=1), oracle=valid_done_record(1), actual=valid_done_record(1, run=9)),
        ReadConsistency(key(o=3), oracle=None, actual=valid_done_record(3)),
    ]
    short = DoneLedgerInvariantChecker.check_read_consistency(oracle, keys[:1], [])
    assert short == [ReadConsistency(key(o=0), oracle=valid_done_record(0), actual=None)]


@pytest.mark.parametrize(
    ("violation", "prefix"),
    [
        (StatusMonotonicity(key(o=0x40), 10, 1), "I1 StatusMonotonicity: "),
        (BytesScanMonotonicity(key(o=0x40), 9, 1), "I2 BytesScanMonotonicity: "),
        (CommitDurability(key(o=0x40)), "I3 CommitDurability: "),
        (SubmitRollback(key(o=0x40), None, valid_done_record(0x40)), "I4 SubmitRollback: "),
        (CommitRollback(key(o=0x40), valid_done_record(0x40), None), "I5 CommitRollback: "),
        (
            LatticeConvergence(key(o=0x40), valid_done_record(0x40), None),
            "I6 LatticeConvergence: ",
        ),
        (ReadConsistency(key(o=0x40), None, valid_done_record(0x40)), "I7 ReadConsistency: "),
        (ProvenanceFidelity(key(o=0x40), "m"), "I8 ProvenanceFidelity: "),
        (ReceiptAccuracy(1, 2, 3, 4, 5, 6), "I9 ReceiptAccuracy: "),
        (
            IdempotentUpsert(key(o=0x40), valid_done_record(0x40), valid_done_record(0x40, run=2)),
            "I10 IdempotentUpsert: ",
        ),
        (
            ReleaseOrder(CompletionOrder.NEWEST_FIRST, (PendingWriteId(2),), (PendingWriteId(1),)),
            "I11 ReleaseOrder: ",
        ),
    ],
)
def test_violation_text_names_invariant_expected_and_actual(
    violation: DoneLedgerViolation, prefix: str
) -> None:
    """Section 8: str() starts with id and name, then names the key, expected and actual."""
    text = str(violation)
    assert text.startswith(prefix)
    assert prefix.split()[0] == violation.invariant
    assert prefix.split()[1].rstrip(":") == violation.variant_name
    assert "expected" in text or "ProvenanceFidelity" in text
    if hasattr(violation, "key"):
        assert "ovid=40404040.." in text  # key(o=0x40) above
    assert getattr(DoneLedgerViolation, violation.variant_name) is type(violation)


def test_violation_catalogue() -> None:
    """Ten reference invariants I1..I10 plus the project's I11, in order, equal by value."""
    assert [v.invariant for v in ALL_VIOLATION_TYPES] == [f"I{i}" for i in range(1, 12)]
    assert CommitDurability(key(o=0)) == CommitDurability(key(o=0))
    assert CommitDurability(key(o=0)) != CommitDurability(key(o=1))
    assert "actual (ledger) None" in str(LatticeConvergence(key(o=0), valid_done_record(0), None))
    assert "error_code='SIM_ERROR'" in str(
        CommitRollback(key(o=0), valid_done_record(0, S.SKIPPED, error_code="SIM_ERROR"), None)
    )
