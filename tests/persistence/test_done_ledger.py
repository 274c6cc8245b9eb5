"""Done-ledger value types (contracts.md §7, WC-3) and the §12.1 checklist.

Each test of §12.1 keeps the reference test's name and cites the rules it
covers. Further tests cover the DL-14 examples, DL-50 receipts, the ERR-3
messages of the done-ledger errors, and bad-input handling of the u32 / u64
fields (§1.2).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

import blake3
import pytest

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    RunId,
    ShardId,
)
from gossip_model.persistence import (
    MAX_DONE_LEDGER_ERROR_CODE_SIZE,
    RECOMMENDED_MAX_BATCH_SIZE,
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    WriteContext,
)
from gossip_model.persistence.errors import (
    Empty,
    InconsistentFindingsCount,
    InvalidByte,
    KeyMismatch,
    MissingErrorCode,
    PersistenceInputError,
    ProvenanceOrdering,
    TooLarge,
    UnexpectedErrorCode,
)
from tests.builders import (
    FP,
    FR,
    SC,
    SK,
    SWF,
    done_record,
    key,
    ovid,
    policy,
    provenance,
    tenant,
)

ALL_STATUSES = (FR, FP, SK, SC, SWF)
U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1


#: Run 1, shard 2, fence 3, started 100, finished 200: the provenance most tests here share.
PROV = provenance(1, 2, 3, 100, 200)


# ---------------------------------------------------------------------------
# Constants (DL-1, DL-2)
# ---------------------------------------------------------------------------


def test_dl1_dl2_constants() -> None:
    """DL-1 / DL-2: 128-byte error codes, 10_000 recommended batch size."""
    assert MAX_DONE_LEDGER_ERROR_CODE_SIZE == 128
    assert RECOMMENDED_MAX_BATCH_SIZE == 10_000


# ---------------------------------------------------------------------------
# §12.1 items 1-2: write context round trips
# ---------------------------------------------------------------------------


def test_provenance_from_write_context_preserves_fence_fields() -> None:
    """§12.1 #1, WC-3 / DL-22: run, shard, fence kept; timestamps as given."""
    wc = WriteContext(tenant(1), policy(2), RunId(3), ShardId(4), FenceEpoch(5))
    p = DoneLedgerProvenance.from_write_context(wc, LogicalTime(100), LogicalTime(200))
    assert p.run_id == wc.run_id == RunId(3)
    assert p.shard_id == wc.shard_id == ShardId(4)
    assert p.fence_epoch == wc.fence_epoch == FenceEpoch(5)
    assert p.started_at == LogicalTime(100)
    assert p.finished_at == LogicalTime(200)
    assert p == provenance(3, 4, 5, 100, 200)


def test_done_ledger_record_reconstructs_write_context() -> None:
    """§12.1 #2, WC-3 / DL-33: record.write_context() rebuilds the WriteContext."""
    wc = WriteContext(tenant(7), policy(8), RunId(9), ShardId(10), FenceEpoch(11))
    r = DoneLedgerRecord(
        DoneLedgerKey(wc.tenant_id, wc.policy_hash, ovid(12)),
        SC,
        123,
        0,
        DoneLedgerProvenance.from_write_context(wc, LogicalTime(200), LogicalTime(300)),
    )
    assert r.write_context() == wc


# ---------------------------------------------------------------------------
# §12.1 items 3-8: status lattice
# ---------------------------------------------------------------------------


def test_dl10_status_ranks_and_variant_names() -> None:
    """DL-10 / §1.1 / ERR-1 / CB-7: ranks (one u8 byte each), variant names, ALL in rank
    order (not a member)."""
    expected = [
        (FR, 1, "FailedRetryable"),
        (FP, 2, "FailedPermanent"),
        (SK, 3, "Skipped"),
        (SC, 10, "ScannedClean"),
        (SWF, 11, "ScannedWithFindings"),
    ]
    for status, rank, name in expected:
        assert status.rank == rank
        assert bytes([status.rank]) == rank.to_bytes(1, "little")
        assert status.variant_name == name
    assert tuple(DoneLedgerStatus.ALL) == ALL_STATUSES
    assert len(list(DoneLedgerStatus)) == 5
    assert DoneLedgerStatus.ALL not in list(DoneLedgerStatus)


def test_done_ledger_status_merge_is_commutative_idempotent_and_monotonic() -> None:
    """§12.1 #3, DL-13: all 25 pairs."""
    for left in DoneLedgerStatus.ALL:
        assert left.merge(left) is left
        for right in DoneLedgerStatus.ALL:
            merged = left.merge(right)
            assert merged is right.merge(left), (left, right)
            assert merged.rank == max(left.rank, right.rank), (left, right)
            if left.is_scanned() or right.is_scanned():
                assert merged.is_scanned()


def test_done_ledger_status_merge_is_associative() -> None:
    """§12.1 #4, DL-13: all 125 triples."""
    for a, b, c in itertools.product(DoneLedgerStatus.ALL, repeat=3):
        assert a.merge(b.merge(c)) is a.merge(b).merge(c), (a, b, c)


def test_done_ledger_status_from_rank_round_trips_all_variants() -> None:
    """§12.1 #5, DL-11."""
    for status in DoneLedgerStatus.ALL:
        assert DoneLedgerStatus.from_rank(status.rank) is status


def test_done_ledger_status_from_rank_rejects_unknown_discriminants() -> None:
    """§12.1 #6, DL-11: 0, 4..=9, 12, 255 -> None."""
    for invalid in (0, 4, 5, 6, 7, 8, 9, 12, 255):
        assert DoneLedgerStatus.from_rank(invalid) is None, invalid


@pytest.mark.parametrize(
    ("status", "expected"), [(FR, False), (FP, True), (SK, True), (SC, True), (SWF, True)]
)
def test_done_ledger_status_is_terminal_matches_expected(
    status: DoneLedgerStatus, expected: bool
) -> None:
    """§12.1 #7, DL-12."""
    assert status.is_terminal() is expected


def test_done_ledger_status_terminal_is_a_superset_of_scanned() -> None:
    """§12.1 #8, DL-12."""
    scanned = [s for s in DoneLedgerStatus.ALL if s.is_scanned()]
    assert scanned == [SC, SWF]
    for status in scanned:
        assert status.is_terminal()


def test_dl12_predicates_over_all_statuses() -> None:
    """DL-12: is_scanned / is_failure / is_skipped for every member."""
    for status in DoneLedgerStatus.ALL:
        assert status.is_scanned() is (status in (SC, SWF))
        assert status.is_failure() is (status in (FR, FP))
        assert status.is_skipped() is (status is SK)
        assert status.is_terminal() is (status is not FR)


# ---------------------------------------------------------------------------
# §12.1 items 9-10: key digest (DL-3, DL-4, CB-8)
# ---------------------------------------------------------------------------


def test_done_ledger_key_canonical_digest_is_deterministic() -> None:
    """§12.1 #9, DL-4: equal keys give equal canonical digests."""
    a = DoneLedgerKey(tenant(5), policy(7), ovid(11))
    b = DoneLedgerKey(tenant(5), policy(7), ovid(11))
    assert a == b
    assert hash(a) == hash(b)
    assert (
        blake3.blake3(a.canonical_bytes()).digest() == blake3.blake3(b.canonical_bytes()).digest()
    )


def test_done_ledger_key_canonical_digest_golden_value() -> None:
    """§12.1 #10, CB-8 / DL-4: 96-byte encoding; digest = plain BLAKE3 of it.

    Expected value computed independently: blake3(32x05 || 32x07 || 32x0B).
    """
    k = DoneLedgerKey(tenant(5), policy(7), ovid(11))
    encoding = k.canonical_bytes()
    assert encoding == bytes([5]) * 32 + bytes([7]) * 32 + bytes([11]) * 32  # spelled out
    assert len(encoding) == 96
    assert blake3.blake3(encoding).hexdigest() == (
        "5e27eaa0abcf3d6a721958222ea7ee068b00bc182123d6beb5a467aaa1d8016b"
    )


def test_dl3_key_equality_covers_all_fields() -> None:
    """DL-3: policy and ovid each change the key; the key has exactly three fields."""
    base = key(1, 2, 3)
    assert key(1, 9, 3) != base
    assert key(1, 2, 9) != base
    assert key(9, 2, 3) != base
    assert len({base, key(1, 2, 3), key(1, 9, 3)}) == 2
    assert (base.tenant_id, base.policy_hash, base.ovid_hash) == (tenant(1), policy(2), ovid(3))


# ---------------------------------------------------------------------------
# §12.1 items 11-12 and DL-14 examples: error codes
# ---------------------------------------------------------------------------


def test_done_ledger_error_code_accepts_bounded_safe_bytes() -> None:
    """§12.1 #11, DL-14 / DL-15: accepted verbatim."""
    assert DoneLedgerErrorCode("HTTP 403/TIMEOUT:UPSTREAM").as_str() == (
        "HTTP 403/TIMEOUT:UPSTREAM"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", Empty("DoneLedgerErrorCode"), id="empty"),
        pytest.param("BAD*CODE", InvalidByte("DoneLedgerErrorCode", 3, 0x2A), id="invalid_byte"),
        pytest.param("A" * 129, TooLarge("DoneLedgerErrorCode", 129, 128), id="oversized"),
        pytest.param("   ", Empty("DoneLedgerErrorCode"), id="all_whitespace"),
    ],
)
def test_error_code_rejects_invalid_input(text: str, expected: PersistenceInputError) -> None:
    """§12.1 #12, DL-14: exact errors, compared with == (ERR-4)."""
    with pytest.raises(PersistenceInputError) as info:
        DoneLedgerErrorCode(text)
    assert info.value == expected
    assert type(info.value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  *", InvalidByte(field="DoneLedgerErrorCode", index=2, byte=0x2A)),
        ("é", InvalidByte(field="DoneLedgerErrorCode", index=0, byte=0xC3)),
        ("a\tb", InvalidByte(field="DoneLedgerErrorCode", index=1, byte=0x09)),
        ("ok\x00", InvalidByte(field="DoneLedgerErrorCode", index=2, byte=0x00)),
        ("A+B", InvalidByte(field="DoneLedgerErrorCode", index=1, byte=0x2B)),
        ("é" * 65, TooLarge(field="DoneLedgerErrorCode", size=130, max=128)),
        (" ", Empty(field="DoneLedgerErrorCode")),
    ],
)
def test_dl14_examples_and_check_order(text: str, expected: PersistenceInputError) -> None:
    """DL-14: step order empty -> size (UTF-8 bytes) -> first bad byte -> all spaces."""
    with pytest.raises(type(expected)) as info:
        DoneLedgerErrorCode(text)
    assert info.value == expected


@pytest.mark.parametrize(
    "text",
    [
        "A" * 128,
        "TIMEOUT",
        "  padded  ",
        "Mixed.Case_123-x:y/z",
        "0",
        " a",
    ],
)
def test_dl14_accepts_allowed_alphabet_verbatim(text: str) -> None:
    """DL-14 / DL-15: allowed bytes kept verbatim (no trimming, case preserved)."""
    c = DoneLedgerErrorCode(text)
    assert c.as_str() == text
    assert c == DoneLedgerErrorCode(text)
    assert hash(c) == hash(DoneLedgerErrorCode(text))
    assert c != DoneLedgerErrorCode(text[:-1] + ("Y" if text[-1] != "Y" else "Z"))


def test_dl14_every_single_byte() -> None:
    """DL-14: exactly [0-9A-Za-z _-.:/] are allowed, checked byte by byte."""
    allowed = set(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.:/")
    for byte in range(0x80):
        text = "X" + chr(byte)
        if byte in allowed or byte == 0x20:
            assert DoneLedgerErrorCode(text).as_str() == text
        else:
            with pytest.raises(InvalidByte) as info:
                DoneLedgerErrorCode(text)
            assert info.value == InvalidByte("DoneLedgerErrorCode", 1, byte)


def test_red6_error_code_rendering() -> None:
    """RED-6: repr with literal double quotes, str is the bare code."""
    assert repr(DoneLedgerErrorCode("TIMEOUT")) == 'DoneLedgerErrorCode("TIMEOUT")'
    assert str(DoneLedgerErrorCode("TIMEOUT")) == "TIMEOUT"


def test_dl14_error_code_rejects_non_str() -> None:
    """§1.2 / DL-14: the code is a str."""
    with pytest.raises((TypeError, ValueError)):
        DoneLedgerErrorCode(b"TIMEOUT")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# §12.1 items 13-14: constructor (lenient) and validate (strict)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "count", "ok"),
    [
        pytest.param(SWF, 0, False, id="swf_count_zero"),
        pytest.param(SC, 5, False, id="clean_count_nonzero"),
        pytest.param(SWF, 3, True, id="swf_count_positive"),
        pytest.param(SC, 0, True, id="clean_count_zero"),
        pytest.param(FR, 0, True, id="failed_retryable_count_zero"),
        pytest.param(FR, 5, True, id="failed_retryable_count_positive"),
        pytest.param(FP, 0, True, id="failed_permanent_count_zero"),
        pytest.param(FP, 5, True, id="failed_permanent_count_positive"),
        pytest.param(SK, 0, True, id="skipped_count_zero"),
        pytest.param(SK, 5, True, id="skipped_count_positive"),
    ],
)
def test_try_new_enforces_findings_count_consistency(
    status: DoneLedgerStatus, count: int, ok: bool
) -> None:
    """§12.1 #13, DL-31: only the findings-count checks, no error-code check."""
    if ok:
        r = done_record(1, 2, 3, status, findings_count=count)
        assert r.findings_count == count
        assert r.status is status
    else:
        with pytest.raises(InconsistentFindingsCount) as info:
            done_record(1, 2, 3, status, findings_count=count)
        assert info.value == InconsistentFindingsCount(status=status, findings_count=count)
        assert info.value.status is status


def test_dl31_constructor_does_not_check_error_code() -> None:
    """DL-31: a scanned record with a code, or a failure without one, can be built."""
    scanned = done_record(1, 2, 3, SC, error_code="STALE")
    failed = done_record(1, 2, 3, FR, error_code=None)
    assert scanned.error_code == DoneLedgerErrorCode("STALE")
    assert failed.error_code is None


@pytest.mark.parametrize(
    ("status", "count", "code_text", "expected"),
    [
        pytest.param(SC, 0, None, None, id="accept_scanned_clean"),
        pytest.param(SWF, 3, None, None, id="accept_scanned_with_findings"),
        pytest.param(FR, 0, "TIMEOUT", None, id="accept_failed_retryable_with_code"),
        pytest.param(FP, 0, "FATAL", None, id="accept_failed_permanent_with_code"),
        pytest.param(SK, 0, "UNSUPPORTED_FORMAT", None, id="accept_skipped_with_code"),
        pytest.param(SC, 0, "STALE", UnexpectedErrorCode(SC), id="reject_clean_with_code"),
        pytest.param(SWF, 5, "STALE", UnexpectedErrorCode(SWF), id="reject_swf_with_code"),
        pytest.param(FR, 0, None, MissingErrorCode(FR), id="reject_failed_retryable_no_code"),
        pytest.param(FP, 0, None, MissingErrorCode(FP), id="reject_failed_permanent_no_code"),
        pytest.param(SK, 0, None, MissingErrorCode(SK), id="reject_skipped_no_code"),
    ],
)
def test_validate_enforces_cross_field_invariants(
    status: DoneLedgerStatus,
    count: int,
    code_text: str | None,
    expected: PersistenceInputError | None,
) -> None:
    """§12.1 #14, DL-32: exact error with the exact status."""
    r = done_record(
        1, 2, 3, status, findings_count=count, error_code=code_text if code_text else None
    )
    if expected is None:
        assert r.validate() is None
    else:
        with pytest.raises(type(expected)) as info:
            r.validate()
        assert info.value == expected
        assert info.value.status is status  # type: ignore[attr-defined]


def test_dl32_failures_accept_any_findings_count() -> None:
    """DL-32: failure and skip statuses accept any findings_count under validate()."""
    for status in (FR, FP, SK):
        for count in (0, 1, U32_MAX):
            assert (
                done_record(1, 2, 3, status, findings_count=count, error_code="X").validate()
                is None
            )


# ---------------------------------------------------------------------------
# §12.1 items 15-22, 27: merge
# ---------------------------------------------------------------------------


def test_merge_scanned_dominates_failed() -> None:
    """§12.1 #15, DL-34: SC + FR -> SC in both orders."""
    failure = done_record(1, 2, 3, FR, 0, 0, PROV, "TIMEOUT")
    success = done_record(1, 2, 3, SC, 1024, 0, PROV)
    assert failure.merge(success).status is SC
    assert success.merge(failure).status is SC


def test_merge_takes_max_bytes_scanned() -> None:
    """§12.1 #16, DL-34 steps 5 and 9: bytes = max; a merged SWF clears the code."""
    a = done_record(1, 2, 3, FR, 9_000, 7, PROV, "X")
    b = done_record(1, 2, 3, SWF, 1_000, 1, PROV)
    merged = a.merge(b)
    assert merged.bytes_scanned == 9_000
    assert merged.error_code is None
    assert b.merge(a).bytes_scanned == 9_000


def test_merge_findings_count_is_status_aware() -> None:
    """§12.1 #17, DL-34 step 6: FR(5)+SC -> 0; SWF(3)+SWF(7) -> 7; FP(9)+SWF(3) -> 3."""
    a = done_record(1, 2, 3, FR, 0, 5, PROV, "X")
    b = done_record(1, 2, 3, SC, 0, 0, PROV)
    assert a.merge(b).findings_count == 0
    c = done_record(1, 2, 3, SWF, 0, 3, PROV)
    d = done_record(1, 2, 3, SWF, 0, 7, PROV)
    assert c.merge(d).findings_count == 7
    assert d.merge(c).findings_count == 7
    e = done_record(1, 2, 3, FP, 0, 9, PROV, "FAILED")
    assert e.merge(c).findings_count == 3
    assert c.merge(e).findings_count == 3


def test_dl34_step6_failure_statuses_take_max_raw_count() -> None:
    """DL-34 step 6: merged failure/skip status -> max of the two raw counts."""
    a = done_record(1, 2, 3, FR, 0, 9, PROV, "A")
    b = done_record(1, 2, 3, FP, 0, 4, PROV, "B")
    assert a.merge(b).findings_count == 9
    assert a.merge(b).status is FP
    c = done_record(1, 2, 3, SK, 0, 2, PROV, "C")
    assert c.merge(a).findings_count == 9
    assert c.merge(a).status is SK


def test_dl34_step6_scanned_with_findings_ignores_clean_and_lower_counts() -> None:
    """DL-34 step 6: SC contributes 0 to an SWF result, lower statuses never leak in."""
    swf = done_record(1, 2, 3, SWF, 0, 2, PROV)
    sc = done_record(1, 2, 3, SC, 0, 0, provenance(1, 2, 3, 100, 999))
    fp = done_record(1, 2, 3, FP, 0, 50, PROV, "F")
    assert swf.merge(sc).status is SWF
    assert swf.merge(sc).findings_count == 2
    assert sc.merge(swf).findings_count == 2
    assert fp.merge(swf).findings_count == 2


def test_merge_equal_rank_prefers_newer_finished_then_started() -> None:
    """§12.1 #18, DL-34 step 7: later finished_at wins provenance and code."""
    prov_old = provenance(1, 1, 1, 100, 200)
    prov_newer_finished = provenance(2, 2, 2, 80, 300)
    a = done_record(1, 2, 3, FP, 100, 3, prov_old, "A")
    b = done_record(1, 2, 3, FP, 90, 1, prov_newer_finished, "B")
    for merged in (a.merge(b), b.merge(a)):
        assert merged.provenance == prov_newer_finished
        assert merged.error_code == DoneLedgerErrorCode("B")
        assert merged.bytes_scanned == 100
        assert merged.findings_count == 3


def test_merge_different_keys_returns_key_mismatch_error() -> None:
    """§12.1 #19, DL-34 step 3: KeyMismatch(existing, incoming) in call order."""
    key_a = key(1, 2, 3)
    key_b = key(9, 8, 7)
    a = done_record(1, 2, 3, SC, 100, 0, PROV)
    b = done_record(9, 8, 7, SC, 200, 0, PROV)
    with pytest.raises(KeyMismatch) as info:
        a.merge(b)
    assert info.value == KeyMismatch(existing=key_a, incoming=key_b)
    with pytest.raises(KeyMismatch) as info:
        b.merge(a)
    assert info.value == KeyMismatch(existing=key_b, incoming=key_a)
    assert info.value.existing == key_b
    assert info.value.incoming == key_a


def test_merge_fail_then_scan_uses_scanned_findings_and_provenance() -> None:
    """§12.1 #20, DL-34."""
    prov_fail = provenance(10, 11, 12, 100, 200)
    prov_scan = provenance(20, 21, 22, 150, 250)
    failed = done_record(1, 2, 3, FR, 9_000, 7, prov_fail, "IO_TIMEOUT")
    scanned = done_record(1, 2, 3, SWF, 1_000, 1, prov_scan)
    merged = failed.merge(scanned)
    assert merged.status is SWF
    assert merged.bytes_scanned == 9_000
    assert merged.findings_count == 1
    assert merged.provenance == prov_scan
    assert merged.error_code is None
    assert merged.key == key()


def test_merge_scan_then_fail_keeps_scanned_findings_and_provenance() -> None:
    """§12.1 #21, DL-34: the scanned record keeps provenance despite an older finish."""
    prov_scan = provenance(30, 31, 32, 100, 500)
    prov_fail = provenance(40, 41, 42, 110, 120)
    scanned = done_record(4, 5, 6, SWF, 2_000, 2, prov_scan)
    failed = done_record(4, 5, 6, FP, 8_000, 5, prov_fail, "PERM_DENY")
    merged = scanned.merge(failed)
    assert merged.status is SWF
    assert merged.bytes_scanned == 8_000
    assert merged.findings_count == 2
    assert merged.provenance == prov_scan
    assert merged.error_code is None


def test_dl34_scanned_wins_provenance_even_when_finished_earlier() -> None:
    """DL-34 step 7: rank is the first element of W; scanned dominates either order."""
    scanned = done_record(1, 2, 3, SC, 0, 0, provenance(1, 1, 1, 0, 1))
    failed = done_record(1, 2, 3, FR, 0, 0, provenance(9, 9, 9, 500, 900), "LATE")
    for merged in (scanned.merge(failed), failed.merge(scanned)):
        assert merged.provenance == provenance(1, 1, 1, 0, 1)
        assert merged.status is SC
        assert merged.error_code is None


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        pytest.param(
            provenance(1, 1, 1, 100, 201), provenance(9, 9, 9, 199, 200), id="finished_at"
        ),
        pytest.param(
            provenance(1, 1, 1, 101, 200), provenance(9, 9, 9, 100, 200), id="started_at"
        ),
        pytest.param(
            provenance(1, 1, 6, 100, 200), provenance(9, 9, 5, 100, 200), id="fence_epoch"
        ),
        pytest.param(provenance(2, 1, 5, 100, 200), provenance(1, 9, 5, 100, 200), id="run_id"),
        pytest.param(provenance(1, 2, 5, 100, 200), provenance(1, 1, 5, 100, 200), id="shard_id"),
        pytest.param(
            provenance(0, 1, 5, 100, 200), provenance(U64_MAX, 1, 5, 100, 200), id="run_signed"
        ),
        pytest.param(
            provenance(2**63 - 1, 1, 5, 100, 200),
            provenance(2**63, 1, 5, 100, 200),
            id="run_signed_boundary",
        ),
        pytest.param(
            provenance(1, 0, 5, 100, 200), provenance(1, U64_MAX, 5, 100, 200), id="shard_signed"
        ),
        pytest.param(
            provenance(1, 2**63 - 1, 5, 100, 200),
            provenance(1, 2**63, 5, 100, 200),
            id="shard_signed_boundary",
        ),
    ],
)
def test_dl34_step7_tie_break_order(
    winner: DoneLedgerProvenance, loser: DoneLedgerProvenance
) -> None:
    """DL-34 step 7: finished, started, fence, signed run, signed shard; 2**64-1 is -1."""
    a = done_record(1, 2, 3, FR, 1, 1, winner, "WIN")
    b = done_record(1, 2, 3, FR, 1, 1, loser, "LOSE")
    for merged in (a.merge(b), b.merge(a)):
        assert merged.provenance == winner
        assert merged.error_code == DoneLedgerErrorCode("WIN")


def test_dl34_step7_error_code_bytes_break_full_provenance_ties() -> None:
    """DL-34 step 7: last tie-breaker is the code bytes; a proper prefix is smaller."""
    p = PROV
    for lo, hi in (("A", "B"), ("TIMEOUT", "TIMEOUT2"), ("Z", "a"), ("HTTP_403", "HTTP_5")):
        a = done_record(1, 2, 3, SK, 0, 0, p, lo)
        b = done_record(1, 2, 3, SK, 0, 0, p, hi)
        assert a.merge(b).error_code == DoneLedgerErrorCode(hi)
        assert b.merge(a).error_code == DoneLedgerErrorCode(hi)


def test_dl34_step8_provenance_is_never_mixed() -> None:
    """DL-34 step 8: all five provenance fields come from the winner together."""
    winner = provenance(1, 1, 1, 1, 500)
    loser = provenance(U64_MAX - 5, 2**63 - 1, U64_MAX, 400, 499)
    a = done_record(1, 2, 3, FP, 0, 0, winner, "W")
    b = done_record(1, 2, 3, FP, 0, 0, loser, "L")
    assert a.merge(b).provenance == winner
    assert b.merge(a).provenance == winner


def test_dl34_step10_merge_result_validates_and_is_a_record() -> None:
    """DL-34 step 10: the result passes validate()."""
    for s1, s2 in itertools.product(ALL_STATUSES, repeat=2):
        a = done_record(
            1, 2, 3, s1, 5, 1 if s1 is SWF else 0, PROV, None if s1.is_scanned() else "A"
        )
        b = done_record(
            1,
            2,
            3,
            s2,
            7,
            2 if s2 is SWF else 0,
            provenance(1, 2, 3, 100, 300),
            None if s2.is_scanned() else "B",
        )
        merged = a.merge(b)
        assert isinstance(merged, DoneLedgerRecord)
        assert merged.validate() is None
        assert merged.status is s1.merge(s2)


def test_merge_rejects_unvalidated_operand_missing_error_code() -> None:
    """§12.1 #22, DL-36 / DL-34 steps 1-2: FR without a code fails merge both ways."""
    unvalidated = done_record(1, 2, 3, FR, 100, 0, provenance(999, 1, 1, 100, 200), None)
    valid = done_record(1, 2, 3, FR, 100, 0, provenance(1, 1, 1, 100, 200), "TIMEOUT")
    with pytest.raises(MissingErrorCode) as info:
        unvalidated.merge(valid)
    assert info.value == MissingErrorCode(FR)
    with pytest.raises(MissingErrorCode) as info:
        valid.merge(unvalidated)
    assert info.value == MissingErrorCode(FR)


def test_dl34_invalid_operand_wins_over_key_mismatch() -> None:
    """DL-34 steps 1-3: existing validated first, then incoming, then keys."""
    bad_existing = done_record(1, 1, 1, SC, 0, 0, PROV, "STALE")
    bad_incoming = done_record(2, 2, 2, SK, 0, 0, PROV, None)
    with pytest.raises(UnexpectedErrorCode) as info:
        bad_existing.merge(bad_incoming)
    assert info.value == UnexpectedErrorCode(SC)
    with pytest.raises(MissingErrorCode) as info2:
        bad_incoming.merge(bad_existing)
    assert info2.value == MissingErrorCode(SK)
    good = done_record(3, 3, 3, SC, 0, 0, PROV, None)
    with pytest.raises(MissingErrorCode):
        good.merge(bad_incoming)


def test_merge_rejects_all_operands_in_associativity_counterexample() -> None:
    """§12.1 #27, DL-36: the historical counterexample operand is rejected both ways."""
    a = done_record(1, 2, 3, FR, 100, 0, provenance(5, 1, 1, 100, 200), None)
    b = done_record(1, 2, 3, FR, 100, 0, provenance(3, 1, 1, 100, 200), "ZZZZ")
    with pytest.raises(MissingErrorCode):
        a.merge(b)
    with pytest.raises(MissingErrorCode):
        b.merge(a)
    with pytest.raises(MissingErrorCode):
        a.merge(a)


# ---------------------------------------------------------------------------
# §12.1 items 23-26: provenance ordering and the strict fixture
# ---------------------------------------------------------------------------


def test_provenance_accepts_equal_timestamps() -> None:
    """§12.1 #23, DL-21."""
    t = LogicalTime(100)
    p = DoneLedgerProvenance(RunId(1), ShardId(2), FenceEpoch(3), t, t)
    assert p.started_at == t
    assert p.finished_at == t


def test_provenance_accepts_start_before_finish() -> None:
    """§12.1 #24, DL-21 / DL-20: stored as given."""
    p = provenance(1, 2, 3, 10, 20)
    assert int(p.started_at) == 10
    assert int(p.finished_at) == 20
    assert p == provenance(1, 2, 3, 10, 20)
    assert p != provenance(1, 2, 3, 10, 21)


def test_provenance_rejects_start_after_finish_in_debug() -> None:
    """§12.1 #25, DL-21: the constructor accepts 200 > 100 (release behaviour).

    The backend half (the in-memory ledger rejecting it with ProvenanceOrdering)
    is in ``test_provenance_rejects_start_after_finish_at_upsert``.
    """
    p = provenance(1, 2, 3, 200, 100)
    assert int(p.started_at) == 200
    assert int(p.finished_at) == 100
    r = done_record(1, 2, 3, SC, 0, 0, p)
    assert r.validate() is None


def test_provenance_rejects_start_after_finish_at_upsert() -> None:
    """§12.1 #25, DL-43 / DL-21: the in-memory ledger reports ProvenanceOrdering(200, 100)."""
    inmemory = pytest.importorskip("gossip_model.inmemory.errors")
    ledger_mod = pytest.importorskip("gossip_model.inmemory")
    ledger = ledger_mod.InMemoryDoneLedger()
    handle = ledger.batch_upsert([done_record(1, 2, 3, SC, 0, 0, provenance(1, 2, 3, 200, 100))])
    with pytest.raises(inmemory.BatchValidation) as info:
        handle.wait()
    assert info.value.source == ProvenanceOrdering(200, 100)
    assert ledger.get_record(key()) is None


def test_done_record_rejects_failure_status_without_error_code() -> None:
    """§12.1 #26, DL-32: strict validation rejects FR without a code."""
    r = done_record(1, 2, 3, FR, 0, 0, provenance(1, 1, 1, 1, 2), None)
    with pytest.raises(MissingErrorCode) as info:
        r.validate()
    assert info.value == MissingErrorCode(status=FR)


# ---------------------------------------------------------------------------
# DL-30 equality, immutability, rendering
# ---------------------------------------------------------------------------


def test_dl30_record_equality_over_all_six_fields() -> None:
    """DL-30: equality over key, status, bytes, count, provenance and code."""
    base = done_record(1, 2, 3, FR, 10, 1, PROV, "A")
    assert base == done_record(1, 2, 3, FR, 10, 1, PROV, "A")
    assert hash(base) == hash(done_record(1, 2, 3, FR, 10, 1, PROV, "A"))
    variants = [
        done_record(9, 2, 3, FR, 10, 1, PROV, "A"),
        done_record(1, 2, 3, FP, 10, 1, PROV, "A"),
        done_record(1, 2, 3, FR, 11, 1, PROV, "A"),
        done_record(1, 2, 3, FR, 10, 2, PROV, "A"),
        done_record(1, 2, 3, FR, 10, 1, provenance(7, 2, 3, 100, 200), "A"),
        done_record(1, 2, 3, FR, 10, 1, PROV, "B"),
        done_record(1, 2, 3, FR, 10, 1, PROV, None),
    ]
    for other in variants:
        assert other != base


def test_dl30_record_is_immutable() -> None:
    """API conventions: value types are immutable."""
    r = done_record(1, 2, 3, SC)
    with pytest.raises((AttributeError, TypeError)):
        r.bytes_scanned = 5  # type: ignore[misc]
    if dataclasses.is_dataclass(r):
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.status = SWF  # type: ignore[misc]


# ---------------------------------------------------------------------------
# §1.2: bad input for u32 / u64 fields and wrong types
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, 2**64, 2**70])
def test_bytes_scanned_out_of_range_names_field(value: int) -> None:
    """§1.2 / DL-30: bytes_scanned is a u64."""
    with pytest.raises(ValueError, match="bytes_scanned"):
        done_record(1, 2, 3, FR, value, 0, PROV, "X")


@pytest.mark.parametrize("value", [-1, 2**32, 2**40])
def test_findings_count_out_of_range_names_field(value: int) -> None:
    """§1.2 / DL-30: findings_count is a u32 (failure status: no consistency error)."""
    with pytest.raises(ValueError, match="findings_count") as info:
        done_record(1, 2, 3, FR, 0, value, PROV, "X")
    assert not isinstance(info.value, InconsistentFindingsCount)


def test_u32_u64_upper_bounds_are_accepted() -> None:
    """§1.2: the maxima themselves are valid."""
    r = done_record(1, 2, 3, SWF, U64_MAX, U32_MAX, PROV)
    assert r.bytes_scanned == U64_MAX
    assert r.findings_count == U32_MAX


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bytes_scanned", "5"),
        ("bytes_scanned", 1.5),
        ("findings_count", "1"),
        ("findings_count", 2.0),
    ],
)
def test_wrong_numeric_types_name_the_field(field: str, value: object) -> None:
    """§1.2: a non-int for a u32/u64 field raises TypeError or ValueError naming it."""
    kwargs: dict[str, object] = {
        "key": key(),
        "status": FR,
        "bytes_scanned": 0,
        "findings_count": 0,
        "provenance": PROV,
        "error_code": DoneLedgerErrorCode("X"),
    }
    kwargs[field] = value
    with pytest.raises((TypeError, ValueError), match=field):
        DoneLedgerRecord(**kwargs)  # type: ignore[arg-type]


def test_status_must_be_a_done_ledger_status() -> None:
    """DL-30: the rank int is not a status."""
    with pytest.raises((TypeError, ValueError), match="status"):
        DoneLedgerRecord(key(), 10, 0, 0, PROV)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# DL-50 / CM-1: done-ledger receipt
# ---------------------------------------------------------------------------


def test_dl50_receipt_value_type() -> None:
    """DL-50 / CM-1: three u64 fields, value equality, immutable, rendered by field."""
    r = DoneLedgerCommitReceipt(record_count=1, scanned_count=1, findings_count=1)
    assert (r.record_count, r.scanned_count, r.findings_count) == (1, 1, 1)
    assert r == DoneLedgerCommitReceipt(1, 1, 1)
    assert hash(r) == hash(DoneLedgerCommitReceipt(1, 1, 1))
    assert r != DoneLedgerCommitReceipt(1, 1, 2)
    with pytest.raises((AttributeError, TypeError)):
        r.record_count = 2  # type: ignore[misc]
    assert DoneLedgerCommitReceipt(U64_MAX, U64_MAX, U64_MAX).findings_count == U64_MAX


@pytest.mark.parametrize("field", ["record_count", "scanned_count", "findings_count"])
def test_dl50_receipt_rejects_out_of_range(field: str) -> None:
    """DL-50 / §1.2: each field is a u64."""
    kwargs = {"record_count": 0, "scanned_count": 0, "findings_count": 0}
    kwargs[field] = 2**64
    with pytest.raises(ValueError, match=field):
        DoneLedgerCommitReceipt(**kwargs)


def _inmemory_ledger() -> object:
    module = pytest.importorskip("gossip_model.inmemory")
    if not hasattr(module, "InMemoryDoneLedger"):
        pytest.skip("gossip_model.inmemory.InMemoryDoneLedger not available yet")
    return module.InMemoryDoneLedger()


def test_dl50_receipt_counts_distinct_keys_from_folded_batch() -> None:
    """DL-50 / DL-43: distinct keys, scanned keys, summed counts; replay gives the same."""
    ledger: object = _inmemory_ledger()
    upsert: Callable[[list[DoneLedgerRecord]], object] = ledger.batch_upsert  # type: ignore[attr-defined]
    single = done_record(1, 2, 3, SWF, 2048, 1, PROV)
    assert upsert([single]).wait() == DoneLedgerCommitReceipt(1, 1, 1)  # type: ignore[attr-defined]
    assert upsert([single]).wait() == DoneLedgerCommitReceipt(1, 1, 1)  # type: ignore[attr-defined]
    batch = [
        done_record(1, 2, 10, FR, 1, 4, PROV, "A"),
        done_record(1, 2, 10, SWF, 1, 3, provenance(1, 2, 3, 100, 300)),
        done_record(1, 2, 11, SC, 1, 0, PROV),
        done_record(1, 2, 12, SK, 1, 5, PROV, "S"),
    ]
    # Folded: key 10 -> SWF count 3; key 11 -> SC 0; key 12 -> SK 5.
    assert upsert(batch).wait() == DoneLedgerCommitReceipt(3, 2, 8)  # type: ignore[attr-defined]
    assert upsert([]).wait() == DoneLedgerCommitReceipt(0, 0, 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# ERR-1 / ERR-3: messages of the done-ledger errors as raised
# ---------------------------------------------------------------------------


def test_err3_messages_as_raised_by_done_ledger_types() -> None:
    """ERR-1 / ERR-3: messages use variant names and the exact templates."""
    with pytest.raises(InconsistentFindingsCount) as e1:
        done_record(1, 2, 3, SWF, 0, 0, PROV)
    assert str(e1.value) == "findings_count 0 is inconsistent with status ScannedWithFindings"
    with pytest.raises(InconsistentFindingsCount) as e2:
        done_record(1, 2, 3, SC, 0, 5, PROV)
    assert str(e2.value) == "findings_count 5 is inconsistent with status ScannedClean"
    with pytest.raises(MissingErrorCode) as e3:
        done_record(1, 2, 3, FP, 0, 0, PROV).validate()
    assert str(e3.value) == "status FailedPermanent requires an error code, but none was provided"
    with pytest.raises(UnexpectedErrorCode) as e4:
        done_record(1, 2, 3, SWF, 0, 1, PROV, "X").validate()
    assert str(e4.value) == "status ScannedWithFindings must not carry an error code"
    with pytest.raises(Empty) as e5:
        DoneLedgerErrorCode("")
    assert str(e5.value) == "DoneLedgerErrorCode must not be empty"
    with pytest.raises(TooLarge) as e6:
        DoneLedgerErrorCode("A" * 129)
    assert str(e6.value) == "DoneLedgerErrorCode too large (129 bytes, max 128)"
    with pytest.raises(InvalidByte) as e7:
        DoneLedgerErrorCode("BAD*CODE")
    assert str(e7.value) == "DoneLedgerErrorCode contains invalid byte 0x2A at index 3"
    with pytest.raises(InvalidByte) as e8:
        DoneLedgerErrorCode("é")
    assert str(e8.value) == "DoneLedgerErrorCode contains invalid byte 0xC3 at index 0"


def test_err3_key_mismatch_message_embeds_both_keys() -> None:
    """ERR-3: KeyMismatch message fixed text plus both key renderings."""
    ka, kb = key(1, 2, 3), key(9, 8, 7)
    with pytest.raises(KeyMismatch) as info:
        done_record(1, 2, 3, SC).merge(done_record(9, 8, 7, SC))
    message = str(info.value)
    assert message.startswith("merge requires records with the same key (existing: ")
    assert ", incoming: " in message
    assert message.endswith(")")
    assert repr(ka) in message
    assert repr(kb) in message
    assert message.index(repr(ka)) < message.index(repr(kb))


def test_dl40_dl41_dl42_read_interface_on_the_in_memory_ledger() -> None:
    """DL-40 / DL-41 / DL-42: positional batch_get (duplicates answered per position);
    list_done_hashes returns each terminal hash of exactly that scope once (FR excluded);
    count_done_hashes is None or the same number."""
    ledger: object = _inmemory_ledger()
    scope_records = [
        done_record(1, 2, 21, SWF, 1, 1, PROV),
        done_record(1, 2, 22, FR, 1, 0, PROV, "T"),
        done_record(1, 2, 23, FP, 1, 0, PROV, "P"),
        done_record(1, 2, 24, SK, 1, 0, PROV, "S"),
        done_record(1, 2, 25, SC, 1, 0, PROV),
        done_record(7, 2, 26, SC, 1, 0, PROV),  # other tenant
        done_record(1, 8, 27, SC, 1, 0, PROV),  # other policy
    ]
    ledger.batch_upsert(scope_records).wait()  # type: ignore[attr-defined]
    hashes = ledger.list_done_hashes(tenant(1), policy(2))  # type: ignore[attr-defined]
    assert len(hashes) == 4
    assert set(hashes) == {ovid(21), ovid(23), ovid(24), ovid(25)}
    count = ledger.count_done_hashes(tenant(1), policy(2))  # type: ignore[attr-defined]
    assert count is None or count == 4
    got = ledger.batch_get(  # type: ignore[attr-defined]
        tenant(1), policy(2), [ovid(21), ovid(99), ovid(21), ovid(26)]
    )
    assert got == [scope_records[0], None, scope_records[0], None]
