"""InMemoryDoneLedger: DL-1..DL-15 of inmemory.md (contracts.md DL-40..DL-50, BE-1)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model.identity import OvidHash
from gossip_model.inmemory import (
    BatchValidation,
    CompletionOrder,
    InMemoryDoneLedger,
)
from gossip_model.inmemory.done_ledger import (
    DoneLedgerRows,
    apply_done_ledger_batch,
    validate_and_fold,
)
from gossip_model.persistence import (
    RECOMMENDED_MAX_BATCH_SIZE,
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
    MissingErrorCode,
    ProvenanceOrdering,
    UnexpectedErrorCode,
)
from tests.builders import FP, FR, SC, SK, SWF, done_record, key, ovid, policy, provenance, tenant

OLDEST = CompletionOrder.OLDEST_FIRST


def upsert(ledger: InMemoryDoneLedger, *records: DoneLedgerRecord) -> DoneLedgerCommitReceipt:
    return ledger.batch_upsert(list(records)).wait(timeout=5)


def stored(ledger: InMemoryDoneLedger, t: int = 1, p: int = 2, o: int = 3) -> DoneLedgerRecord:
    row = ledger.get_record(key(t, p, o))
    assert row is not None, f"no durable row for key ({t}, {p}, {o})"
    return row


# --- merge outcomes through the store (DL-5, DL-8, DL-9) -----------------------------------


def test_done_ledger_merge_is_monotonic_and_batch_get_is_positional() -> None:
    """Item 1 / DL-8, DL-9, DL-10: FR, SC, FP on one key -> SC with max bytes, SC provenance."""
    ledger = InMemoryDoneLedger()
    sc_prov = provenance(2, 2, 2, 20, 30)
    upsert(ledger, done_record(1, 2, 3, FR, 100, 0, provenance(1, 1, 1, 10, 11), "TIMEOUT"))
    upsert(ledger, done_record(1, 2, 3, SC, 90, 0, sc_prov))
    upsert(ledger, done_record(1, 2, 3, FP, 200, 0, provenance(3, 3, 3, 40, 50), "FATAL"))
    row = stored(ledger)
    assert (row.status, row.bytes_scanned, row.findings_count) == (SC, 200, 0)
    assert row.provenance == sc_prov
    assert row.error_code is None
    assert ledger.batch_get(tenant(1), policy(2), [ovid(3), ovid(4)]) == [row, None]


def test_done_ledger_snapshot_is_sorted_for_deterministic_assertions() -> None:
    """Item 2 / DL-12: ovid 9 written before ovid 1; snapshot lists ovid 1 first."""
    ledger = InMemoryDoneLedger()
    upsert(ledger, done_record(1, 2, 9, SC, 1))
    upsert(ledger, done_record(1, 2, 1, SC, 1))
    assert [r.key.ovid_hash for r in ledger.snapshot()] == [ovid(1), ovid(9)]


def test_dl12_snapshot_orders_by_tenant_then_policy_then_ovid() -> None:
    """DL-12: byte-wise order over the three key parts."""
    ledger = InMemoryDoneLedger()
    keys = [(2, 1, 1), (1, 2, 1), (1, 1, 2), (1, 1, 1), (0x80, 0, 0)]
    upsert(ledger, *(done_record(t, p, o, SC, 1) for t, p, o in keys))
    assert [r.key for r in ledger.snapshot()] == [key(*k) for k in sorted(keys)]


def test_done_ledger_empty_batch_returns_zero_receipt() -> None:
    """Item 10 / DL-1: empty batch -> (0, 0, 0), nothing stored, an id consumed."""
    ledger = InMemoryDoneLedger()
    handle = ledger.batch_upsert([])
    assert handle.wait(0) == DoneLedgerCommitReceipt(0, 0, 0)
    assert ledger.snapshot() == []
    assert ledger.batch_upsert([]).op_id != handle.op_id


def test_done_ledger_intra_batch_duplicate_keys_merge_correctly() -> None:
    """Item 15 / DL-4, DL-7, D-2: one batch [FR, SC] on one key -> record_count 1, SC."""
    ledger = InMemoryDoneLedger()
    receipt = upsert(
        ledger,
        done_record(1, 2, 3, FR, 100, 0, error_code="TIMEOUT"),
        done_record(1, 2, 3, SC, 200),
    )
    assert receipt == DoneLedgerCommitReceipt(1, 1, 0)
    row = stored(ledger)
    assert (row.status, row.bytes_scanned, row.error_code) == (SC, 200, None)
    assert len(ledger.snapshot()) == 1


def test_done_ledger_merge_failure_to_scanned_clean_clears_findings_count() -> None:
    """Item 16 / DL-9 step 4: FR with 3 findings, then SC -> 0 findings."""
    ledger = InMemoryDoneLedger()
    upsert(ledger, done_record(1, 2, 3, FR, 100, 3, error_code="TIMEOUT"))
    upsert(ledger, done_record(1, 2, 3, SC, 200))
    row = stored(ledger)
    assert (row.status, row.findings_count, row.bytes_scanned, row.error_code) == (
        SC,
        0,
        200,
        None,
    )


def test_batch_dedup_then_merge_agrees_with_two_phase_semantics() -> None:
    """Item 17 / DL-4, DL-5: fold the batch first, then merge once with durable state."""
    ledger = InMemoryDoneLedger()
    upsert(ledger, done_record(1, 2, 3, SWF, 500, 1))
    upsert(
        ledger,
        done_record(1, 2, 3, FR, 100, 3, error_code="TIMEOUT"),
        done_record(1, 2, 3, SC, 200),
    )
    row = stored(ledger)
    assert (row.status, row.findings_count, row.bytes_scanned) == (SWF, 1, 500)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Item 24: SKIPPED dominates FAILED_RETRYABLE.
        (
            (FR, 100, 0, "TIMEOUT"),
            (SK, 50, 0, "UNSUPPORTED_FORMAT"),
            (SK, 100, 0, "UNSUPPORTED_FORMAT"),
        ),
        # Item 25: SCANNED_CLEAN dominates SKIPPED.
        ((SK, 80, 0, "SIZE_CAP"), (SC, 200, 0, None), (SC, 200, 0, None)),
        # Item 26: SWF is not downgraded by SKIPPED.
        ((SWF, 300, 5, None), (SK, 50, 0, "FILTERED"), (SWF, 300, 5, None)),
        # Item 27: SWF is not downgraded by SCANNED_CLEAN.
        ((SWF, 250, 3, None), (SC, 400, 0, None), (SWF, 400, 3, None)),
    ],
    ids=[
        "skipped_dominates_failed_retryable",
        "scanned_clean_dominates_skipped",
        "scanned_with_findings_not_downgraded_by_skipped",
        "scanned_with_findings_not_downgraded_by_scanned_clean",
    ],
)
def test_lattice_dominance_items_24_to_27(
    first: tuple[DoneLedgerStatus, int, int, str | None],
    second: tuple[DoneLedgerStatus, int, int, str | None],
    expected: tuple[DoneLedgerStatus, int, int, str | None],
) -> None:
    """Items 24-27 / DL-8: status join, max bytes, status-aware findings count, code."""
    ledger = InMemoryDoneLedger()
    status, nbytes, count, code = first
    upsert(ledger, done_record(1, 2, 3, status, nbytes, count, provenance(1, 1, 1, 1, 2), code))
    status, nbytes, count, code = second
    upsert(ledger, done_record(1, 2, 3, status, nbytes, count, provenance(2, 2, 2, 3, 4), code))
    row = stored(ledger)
    code = expected[3]
    assert (row.status, row.bytes_scanned, row.findings_count, row.error_code) == (
        expected[0],
        expected[1],
        expected[2],
        DoneLedgerErrorCode(code) if code is not None else None,
    )


def test_dl7_receipt_counts_distinct_keys_scanned_and_findings_and_replays_equal() -> None:
    """DL-7 / CH-4: receipt from the folded batch; a replay returns the same receipt."""
    ledger = InMemoryDoneLedger()
    batch = [
        done_record(1, 2, 1, SWF, 10, 4),
        done_record(1, 2, 1, SWF, 10, 2, provenance(9, 9, 9, 9, 9)),
        done_record(1, 2, 2, SC, 10),
        done_record(1, 2, 3, FP, 10, 7, error_code="PERM"),
    ]
    first = upsert(ledger, *batch)
    assert first == DoneLedgerCommitReceipt(3, 2, 4 + 7)
    assert upsert(ledger, *batch) == first
    assert len(ledger.snapshot()) == 3


# --- validation at apply time (DL-3, DL-6, BE-1) -------------------------------------------


@pytest.mark.parametrize(
    ("bad", "source"),
    [
        (done_record(1, 2, 3, FR, 1), MissingErrorCode(FR)),
        (done_record(1, 2, 3, SC, 1, error_code="X"), UnexpectedErrorCode(SC)),
        (
            done_record(1, 2, 3, SC, 1, prov=provenance(started=9, finished=8)),
            ProvenanceOrdering(9, 8),
        ),
    ],
    ids=["missing_error_code", "unexpected_error_code", "provenance_ordering"],
)
def test_done_ledger_validation_errors_surface_from_wait(
    bad: DoneLedgerRecord, source: Exception
) -> None:
    """Item 49 / DL-3, DL-6, ST-7: submit returns a handle; wait raises BatchValidation."""
    ledger = InMemoryDoneLedger()
    valid = done_record(1, 2, 1, SC, 1)
    handle = ledger.batch_upsert([valid, bad])
    assert ledger._core.next_op_id == 2
    with pytest.raises(BatchValidation) as info:
        handle.wait(0)
    assert info.value == BatchValidation(source)  # type: ignore[arg-type]
    assert info.value.source == source
    assert info.value.__cause__ is info.value.source
    assert str(info.value) == str(source)
    assert ledger.snapshot() == []


def test_dl3_first_invalid_record_in_input_order_wins() -> None:
    """DL-3: records are validated in input order; the first failure is reported."""
    ledger = InMemoryDoneLedger()
    records = [
        done_record(1, 2, 1, SC, 1, prov=provenance(started=5, finished=4)),
        done_record(1, 2, 2, FR, 1),
    ]
    with pytest.raises(BatchValidation) as info:
        ledger.batch_upsert(records).wait(0)
    assert info.value.source == ProvenanceOrdering(5, 4)
    with pytest.raises(MissingErrorCode):
        validate_and_fold(records[::-1])


def test_dl6_equal_timestamps_are_valid_and_invalid_batches_leave_rows_untouched() -> None:
    """DL-3, DL-6: started == finished is accepted; a failing batch changes no durable row."""
    rows: DoneLedgerRows = {}
    receipt = apply_done_ledger_batch(
        rows, [done_record(1, 2, 3, SC, 7, prov=provenance(1, 1, 1, 5, 5))]
    )
    assert receipt == DoneLedgerCommitReceipt(1, 1, 0)
    before = dict(rows)
    with pytest.raises(MissingErrorCode):
        apply_done_ledger_batch(
            rows, [done_record(1, 2, 3, SWF, 99, 1), done_record(1, 2, 4, SK, 1)]
        )
    assert rows == before


# --- reads (DL-10..DL-15) ------------------------------------------------------------------


def test_dl1_batch_is_copied_and_dl10_pending_writes_are_invisible() -> None:
    """DL-1, DL-10: a later change to the caller's list has no effect; pending is invisible."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    records = [done_record(1, 2, 3, SC, 1)]
    handle = ledger.batch_upsert(records)
    records.append(done_record(1, 2, 4, SC, 1))
    assert ledger.batch_get(tenant(1), policy(2), [ovid(3)]) == [None]
    assert ledger.snapshot() == []
    assert ledger.count_done_hashes(tenant(1), policy(2)) == 0
    assert ledger.release_all(OLDEST) == 1
    assert handle.wait(1).record_count == 1
    assert ledger.batch_get(tenant(1), policy(2), (o for o in [ovid(4), ovid(3), ovid(3)])) == [
        None,
        stored(ledger),
        stored(ledger),
    ]
    assert ledger.batch_get(tenant(1), policy(2), []) == []


def test_done_ledger_batch_get_isolates_tenants() -> None:
    """Item 34 / DL-10: same (policy, ovid) under two tenants in one batch."""
    ledger = InMemoryDoneLedger()
    upsert(ledger, done_record(1, 2, 3, SC, 1), done_record(2, 2, 3, SWF, 1, 1))
    [first] = ledger.batch_get(tenant(1), policy(2), [ovid(3)])
    [second] = ledger.batch_get(tenant(2), policy(2), [ovid(3)])
    assert first is not None
    assert first.status is SC
    assert second is not None
    assert second.status is SWF
    assert ledger.batch_get(tenant(3), policy(2), [ovid(3)]) == [None]
    assert ledger.batch_get(tenant(1), policy(9), [ovid(3)]) == [None]


def test_get_record_returns_stored_row_or_none() -> None:
    """DL-11."""
    ledger = InMemoryDoneLedger()
    record = done_record(1, 2, 3, SC, 1)
    assert ledger.get_record(record.key) is None
    upsert(ledger, record)
    assert ledger.get_record(record.key) == record


def test_dl13_list_done_hashes_is_terminal_scoped_and_sorted() -> None:
    """DL-13, D-3: FAILED_RETRYABLE excluded, other scopes excluded, sorted by bytes."""
    ledger = InMemoryDoneLedger()
    upsert(
        ledger,
        done_record(1, 2, 9, SC, 1),
        done_record(1, 2, 5, FP, 1, error_code="E"),
        done_record(1, 2, 7, SK, 1, error_code="E"),
        done_record(1, 2, 1, SWF, 1, 1),
        done_record(1, 2, 3, FR, 1, error_code="E"),
        done_record(2, 2, 4, SC, 1),
        done_record(1, 3, 6, SC, 1),
    )
    expected = [ovid(1), ovid(5), ovid(7), ovid(9)]
    assert ledger.list_done_hashes(tenant(1), policy(2)) == expected
    assert ledger.count_done_hashes(tenant(1), policy(2)) == 4
    assert ledger.list_done_hashes(tenant(3), policy(2)) == []
    assert ledger.count_done_hashes(tenant(3), policy(2)) == 0


_STATUS_CODES = {FR: "TEST_RETRY", FP: "TEST_FATAL", SK: "TEST_SKIP", SC: None, SWF: None}


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.integers(1, 3),
            st.integers(1, 6),
            st.sampled_from(DoneLedgerStatus.ALL),
        ),
        max_size=30,
    )
)
def test_count_done_hashes_is_exact(rows: list[tuple[int, int, int, DoneLedgerStatus]]) -> None:
    """Item 42 / DL-13, DL-15: count == len(list), no duplicates, sorted, FR excluded."""
    ledger = InMemoryDoneLedger()
    records = [
        done_record(t, p, o, s, 1, 1 if s is SWF else 0, error_code=_STATUS_CODES[s])
        for t, p, o, s in rows
    ]
    upsert(ledger, *records)
    for t in range(1, 4):
        for p in range(1, 4):
            hashes = ledger.list_done_hashes(tenant(t), policy(p))
            count = ledger.count_done_hashes(tenant(t), policy(p))
            assert isinstance(count, int)
            assert count == len(hashes)
            assert hashes == sorted(set(hashes), key=bytes)
            expected = {
                r.key.ovid_hash
                for r in ledger.snapshot()
                if r.key.tenant_id == tenant(t)
                and r.key.policy_hash == policy(p)
                and r.status is not FR
            }
            assert set(hashes) == expected


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_recommended_max_batch_size_constant_is_documented() -> None:
    """Item 33 / DL-1: the constant is 10_000 and the in-memory backend does not enforce it."""
    assert RECOMMENDED_MAX_BATCH_SIZE == 10_000
    ledger = InMemoryDoneLedger()
    rng = random.Random(33)
    records = [
        DoneLedgerRecord(
            DoneLedgerKey(tenant(1), policy(2), OvidHash(rng.randbytes(32))),
            SC,
            i,
            0,
            provenance(),
        )
        for i in range(RECOMMENDED_MAX_BATCH_SIZE + 1)
    ]
    receipt = upsert(ledger, *records)
    assert receipt.record_count == len({r.key for r in records}) == 10_001
    assert len(ledger.snapshot()) == 10_001
