"""Row checks of the audit, one broken column at a time (ENC-*, DL-32, FS-3, FS-8, FS-16)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model.audit import AuditReport
from gossip_model.audit.checks import (
    _check_done_detail,
    _check_observation_detail,
    check_done_row,
    check_finding_row,
    check_observation_row,
    check_occurrence_row,
)
from gossip_model.db.encoding import (
    encode_done_row,
    encode_finding_row,
    encode_observation_row,
    encode_occurrence_row,
)
from tests.builders import fill

from .data import DoneLedgerStatus, chain, done

FINDING, OCCURRENCE, OBSERVATION = chain(0, 0, 2)
GOOD_DONE = encode_done_row(done(0, 0, OBSERVATION.ovid_hash, DoneLedgerStatus.SKIPPED, 0), 0)
GOOD_FINDING = encode_finding_row(FINDING)
GOOD_OCCURRENCE = encode_occurrence_row(OCCURRENCE, 0)
GOOD_OBSERVATION = encode_observation_row(OBSERVATION, 0)


def changed(row: tuple[Any, ...], index: int, value: object) -> tuple[Any, ...]:
    return (*row[:index], value, *row[index + 1 :])


def run(check: Any, row: tuple[Any, ...]) -> AuditReport:
    report = AuditReport("x")
    check(row, report)
    return report


def test_good_rows_are_clean() -> None:
    for check, row in (
        (check_done_row, GOOD_DONE),
        (check_finding_row, GOOD_FINDING),
        (check_occurrence_row, GOOD_OCCURRENCE),
        (check_observation_row, GOOD_OBSERVATION),
    ):
        assert run(check, row).counts == {}


@pytest.mark.parametrize(
    ("index", "value", "column"),
    [
        (1, b"x" * 31, "policy_hash"),
        (3, True, "status"),
        (4, -1, "bytes_scanned"),
        (5, 2**31, "findings_count"),
        (8, 2**63, "finished_at"),
        (10, 2**63, "shard_id"),
        (11, b"E_X", "error_code"),
    ],
)
def test_done_decode_names_the_column(index: int, value: object, column: str) -> None:
    report = run(check_done_row, changed(GOOD_DONE, index, value))
    assert report.counts == {"DL-DECODE": 1}
    assert report.examples["DL-DECODE"][0]["column"] == column


@pytest.mark.parametrize(
    ("status", "count", "code", "problem"),
    [
        (10, 1, None, "SCANNED_CLEAN with findings_count > 0"),
        (10, 0, "E_X", "SCANNED_CLEAN with an error_code"),
        (11, 0, None, "SCANNED_WITH_FINDINGS with findings_count 0"),
        (11, 2, "E_X", "SCANNED_WITH_FINDINGS with an error_code"),
        (2, 0, None, "status 2 without an error_code"),
    ],
)
def test_done_shape_dl32(status: int, count: int, code: str | None, problem: str) -> None:
    row = changed(changed(changed(GOOD_DONE, 3, status), 5, count), 11, code)
    report = run(check_done_row, row)
    assert report.counts == {"DL-SHAPE": 1}
    assert report.examples["DL-SHAPE"][0]["problem"] == problem


def test_done_code_dl14() -> None:
    report = run(check_done_row, changed(GOOD_DONE, 11, "BAD*CODE"))
    assert report.counts == {"DL-CODE": 1}
    assert report.examples["DL-CODE"][0]["problem"] == "InvalidByte"


@pytest.mark.parametrize("index", range(5))
def test_finding_decode(index: int) -> None:
    report = run(check_finding_row, changed(GOOD_FINDING, index, b"short"))
    assert report.counts == {"FS-DECODE": 1}


@pytest.mark.parametrize(
    ("index", "value", "column"),
    [
        (3, None, "object_version_id"),
        (4, -1, "byte_offset"),
        (5, 0, "byte_length"),
        (4, 2**63 - 2, "byte_offset + byte_length"),
    ],
)
def test_occurrence_decode(index: int, value: object, column: str) -> None:
    report = run(check_occurrence_row, changed(GOOD_OCCURRENCE, index, value))
    assert report.counts == {"FS-DECODE": 1}
    assert report.examples["FS-DECODE"][0]["column"] == column


def test_occurrence_and_observation_ids_are_rederived() -> None:
    report = run(check_occurrence_row, changed(GOOD_OCCURRENCE, 4, 11))
    assert report.counts == {"FS-ID-OCCURRENCE": 1}
    report = run(check_observation_row, changed(GOOD_OBSERVATION, 3, fill(0x09)))
    assert report.counts == {"FS-ID-OBSERVATION": 1}


@pytest.mark.parametrize(
    ("index", "value", "column"),
    [
        (5, 2**63, "run_id"),
        (6, "1", "shard_id"),
        (7, -1, "fence_epoch"),
        (8, 2**63, "seen_at"),
        (9, 5, "location_display"),
        (9, "", "location_display"),
        (9, "x" * 4097, "location_display"),
        (10, "", "location_url"),
    ],
)
def test_observation_decode(index: int, value: object, column: str) -> None:
    row = changed(changed(GOOD_OBSERVATION, 9, "d"), index, value)
    report = run(check_observation_row, row)
    assert report.counts == {"FS-DECODE": 1}
    assert report.examples["FS-DECODE"][0]["column"] == column


def test_observation_with_a_short_id_stops_at_decoding() -> None:
    report = run(check_observation_row, changed(GOOD_OBSERVATION, 4, b"x"))
    assert report.counts == {"FS-DECODE": 1}


# --- fast paths agree with the detailed checks ------------------------------------------------


def _mutations(good: tuple[Any, ...], values: list[object]) -> st.SearchStrategy[tuple[Any, ...]]:
    """``good`` with up to three columns replaced by edge values."""
    edits = st.lists(st.tuples(st.integers(0, len(good) - 1), st.sampled_from(values)), max_size=3)

    def apply(changes: list[tuple[int, object]]) -> tuple[Any, ...]:
        row = good
        for index, value in changes:
            row = changed(row, index, value)
        return row

    return edits.map(apply)


EDGE = [
    None,
    True,
    0,
    1,
    2,
    3,
    10,
    11,
    -1,
    2**31 - 1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    b"x" * 31,
    b"y" * 32,
    "",
    "E_X",
    "BAD*",
    "d" * 1025,
    "é" * 1500,
    "url",
]


@given(_mutations(GOOD_DONE, EDGE))
def test_done_fast_path_equals_detail(row: tuple[Any, ...]) -> None:
    fast, slow = AuditReport("x"), AuditReport("x")
    check_done_row(row, fast)
    _check_done_detail(row, slow)
    assert (fast.counts, fast.examples) == (slow.counts, slow.examples)


@given(_mutations(changed(GOOD_OBSERVATION, 9, "d"), EDGE))
def test_observation_fast_path_equals_detail(row: tuple[Any, ...]) -> None:
    fast, slow = AuditReport("x"), AuditReport("x")
    check_observation_row(row, fast)
    _check_observation_detail(row, slow)
    assert (fast.counts, fast.examples) == (slow.counts, slow.examples)


@given(st.binary(max_size=200))
def test_derivers_equal_identity_derive_key(material: bytes) -> None:
    """ID-16..ID-18: the audit's cached-context derivation is the package's derive_key."""
    from gossip_model.audit.checks import derive_finding, derive_observation, derive_occurrence
    from gossip_model.identity import (
        FINDING_ID_V1,
        OBSERVATION_ID_V1,
        OCCURRENCE_ID_V1,
        derive_key,
    )

    assert derive_finding(material) == derive_key(FINDING_ID_V1, material)
    assert derive_occurrence(material) == derive_key(OCCURRENCE_ID_V1, material)
    assert derive_observation(material) == derive_key(OBSERVATION_ID_V1, material)
