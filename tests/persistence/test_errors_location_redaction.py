"""Input errors (ERR-1 .. ERR-5), Location (LOC-1 .. LOC-3) and composite
redaction (RED-4 .. RED-7), from contracts.md §3 - §5.

``passes_red5`` below is the RED-5 predicate written from the spec; it is
itself checked against renderings that must fail it, so it cannot pass
vacuously.
"""

from __future__ import annotations

import base64
import inspect

import pytest

from gossip_model.identity import (
    FenceEpoch,
    FindingId,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    ObservationId,
    OccurrenceId,
    OvidHash,
    PolicyHash,
    RunId,
    SecretHash,
    ShardId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence import (
    MAX_LOCATION_DISPLAY_SIZE,
    MAX_LOCATION_URL_SIZE,
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
    VersionId,
    WriteContext,
)
from gossip_model.persistence import errors as errors_module
from gossip_model.persistence.errors import (
    Empty,
    InconsistentFindingsCount,
    InconsistentTenant,
    InvalidByte,
    KeyMismatch,
    MissingErrorCode,
    ObservationIdMismatch,
    OrphanedReference,
    PersistenceInputError,
    ProvenanceOrdering,
    TooLarge,
    UnexpectedErrorCode,
    ZeroSpanLength,
)
from tests.builders import fill, finding_record, key, tenant

FR = DoneLedgerStatus.FAILED_RETRYABLE
FP = DoneLedgerStatus.FAILED_PERMANENT
SK = DoneLedgerStatus.SKIPPED
SC = DoneLedgerStatus.SCANNED_CLEAN
SWF = DoneLedgerStatus.SCANNED_WITH_FINDINGS

ALL_ERROR_CLASSES = (
    Empty,
    TooLarge,
    InvalidByte,
    ZeroSpanLength,
    ObservationIdMismatch,
    InconsistentFindingsCount,
    MissingErrorCode,
    UnexpectedErrorCode,
    OrphanedReference,
    InconsistentTenant,
    ProvenanceOrdering,
    KeyMismatch,
)

OBS_A = ObservationId(fill(0xA1))
OBS_B = ObservationId(fill(0xB2))
KEY_A = key(1, 2, 3)
KEY_B = key(9, 8, 7)

# Distinctive secret bytes: no run of repeated bytes, so a leak is unambiguous.
SECRET_RAW = bytes((0x3C + 7 * i) % 256 for i in range(32))


def passes_red5(rendering: str, raw: bytes) -> bool:
    """RED-5: (a) no full hex, (b) no 8-byte hex prefix (both case-insensitive),
    (c) no unpadded standard base64 (case-sensitive)."""
    lowered = rendering.lower()
    if raw.hex() in lowered:
        return False
    if raw[:8].hex() in lowered:
        return False
    return base64.b64encode(raw).decode().rstrip("=") not in rendering


# ---------------------------------------------------------------------------
# ERR-1 .. ERR-4: the twelve PersistenceInputError classes
# ---------------------------------------------------------------------------

# (instance, attributes, exact message or None when the message embeds reprs)
CASES: list[tuple[PersistenceInputError, dict[str, object], str | None]] = [
    (
        Empty(field="DoneLedgerErrorCode"),
        {"field": "DoneLedgerErrorCode"},
        "DoneLedgerErrorCode must not be empty",
    ),
    (
        TooLarge(field="Location.url", size=5000, max=4096),
        {"field": "Location.url", "size": 5000, "max": 4096},
        "Location.url too large (5000 bytes, max 4096)",
    ),
    (
        InvalidByte(field="DoneLedgerErrorCode", index=7, byte=0x0A),
        {"field": "DoneLedgerErrorCode", "index": 7, "byte": 0x0A},
        "DoneLedgerErrorCode contains invalid byte 0x0A at index 7",
    ),
    (ZeroSpanLength(), {}, "OccurrenceRecord.byte_length must be non-zero"),
    (
        ObservationIdMismatch(expected=OBS_A, actual=OBS_B),
        {"expected": OBS_A, "actual": OBS_B},
        None,
    ),
    (
        InconsistentFindingsCount(status=SWF, findings_count=0),
        {"status": SWF, "findings_count": 0},
        "findings_count 0 is inconsistent with status ScannedWithFindings",
    ),
    (
        MissingErrorCode(status=SK),
        {"status": SK},
        "status Skipped requires an error code, but none was provided",
    ),
    (
        UnexpectedErrorCode(status=SC),
        {"status": SC},
        "status ScannedClean must not carry an error code",
    ),
    (
        OrphanedReference(child_type="OccurrenceRecord", parent_type="FindingRecord"),
        {"child_type": "OccurrenceRecord", "parent_type": "FindingRecord"},
        "OccurrenceRecord references a FindingRecord not present in the batch",
    ),
    (InconsistentTenant(), {}, "records in the batch belong to different tenants"),
    (
        ProvenanceOrdering(started_at=200, finished_at=100),
        {"started_at": 200, "finished_at": 100},
        "provenance started_at (200) must not exceed finished_at (100)",
    ),
    (KeyMismatch(existing=KEY_A, incoming=KEY_B), {"existing": KEY_A, "incoming": KEY_B}, None),
]


def case_id(case: tuple[PersistenceInputError, dict[str, object], str | None]) -> str:
    return type(case[0]).__name__


def test_err_the_set_has_twelve_variants() -> None:
    """§4.1: exactly 12 PersistenceInputError variants, all ValueErrors."""
    assert len(ALL_ERROR_CLASSES) == 12
    assert {type(c[0]) for c in CASES} == set(ALL_ERROR_CLASSES)
    assert issubclass(PersistenceInputError, ValueError)
    defined = {
        obj
        for _, obj in inspect.getmembers(errors_module, inspect.isclass)
        if issubclass(obj, PersistenceInputError)
        and obj is not PersistenceInputError
        and not obj.__name__.startswith("_")
    }
    assert defined == set(ALL_ERROR_CLASSES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_err1_err4_attributes_and_isinstance(
    case: tuple[PersistenceInputError, dict[str, object], str | None],
) -> None:
    """ERR-1 / ERR-4 / §1.3: fields as attributes; PersistenceInputError and ValueError;
    status attributes hold DoneLedgerStatus members."""
    err, attrs, _ = case
    assert isinstance(err, PersistenceInputError)
    assert isinstance(err, ValueError)
    assert isinstance(err, Exception)
    for name, value in attrs.items():
        assert getattr(err, name) == value, name
        if name == "status":
            assert isinstance(getattr(err, name), DoneLedgerStatus)
            assert getattr(err, name) is value


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is not None], ids=case_id)
def test_err3_exact_messages(
    case: tuple[PersistenceInputError, dict[str, object], str | None],
) -> None:
    """ERR-3: str(err) is exactly the template over the attributes (the two messages
    that embed reprs are checked in the dedicated tests below)."""
    err, _, message = case
    assert str(err) == message


def test_err3_observation_id_mismatch_message() -> None:
    """ERR-3: fixed text and both embedded renderings, expected before actual."""
    text = str(ObservationIdMismatch(expected=OBS_A, actual=OBS_B))
    assert text.startswith("observation_id does not match canonical derivation (expected ")
    assert ", got " in text
    assert text.endswith(")")
    assert repr(OBS_A) in text
    assert repr(OBS_B) in text
    assert text == (
        f"observation_id does not match canonical derivation (expected {OBS_A!r}, got {OBS_B!r})"
    )


def test_err3_key_mismatch_message() -> None:
    """ERR-3: fixed text and both embedded key renderings, existing before incoming."""
    text = str(KeyMismatch(existing=KEY_A, incoming=KEY_B))
    assert text.startswith("merge requires records with the same key (existing: ")
    assert ", incoming: " in text
    assert text.endswith(")")
    assert repr(KEY_A) in text
    assert repr(KEY_B) in text
    assert text.index(repr(KEY_A)) < text.index(repr(KEY_B))


@pytest.mark.parametrize(
    ("byte", "shown"), [(0x00, "0x00"), (0x2A, "0x2A"), (0xC3, "0xC3"), (0xFF, "0xFF")]
)
def test_err3_invalid_byte_uses_two_uppercase_hex_digits(byte: int, shown: str) -> None:
    """ERR-3: InvalidByte renders the byte as 0x + two uppercase hex digits."""
    err = InvalidByte("Field", 0, byte)
    assert str(err) == f"Field contains invalid byte {shown} at index 0"


@pytest.mark.parametrize("status", DoneLedgerStatus.ALL, ids=lambda s: s.variant_name)
def test_err1_status_written_as_variant_name(status: DoneLedgerStatus) -> None:
    """ERR-1: every status-bearing message uses the variant name."""
    name = status.variant_name
    assert str(MissingErrorCode(status)) == (
        f"status {name} requires an error code, but none was provided"
    )
    assert str(UnexpectedErrorCode(status)) == f"status {name} must not carry an error code"
    assert str(InconsistentFindingsCount(status, 3)) == (
        f"findings_count 3 is inconsistent with status {name}"
    )


def test_err2_orphan_type_strings() -> None:
    """ERR-2: the observation -> occurrence orphan message."""
    err = OrphanedReference(child_type="ObservationRecord", parent_type="OccurrenceRecord")
    assert str(err) == "ObservationRecord references a OccurrenceRecord not present in the batch"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_err4_equality_and_hash_by_type_and_fields(
    case: tuple[PersistenceInputError, dict[str, object], str | None],
) -> None:
    """ERR-4: equal iff same class and equal attributes; hash consistent with ==."""
    err, attrs, _ = case
    twin = type(err)(**attrs)
    assert twin == err
    assert not (twin != err)  # noqa: SIM202 - exercises __ne__
    assert hash(twin) == hash(err)
    assert twin is not err
    assert len({err, twin}) == 1
    assert err != ValueError(str(err))
    assert err != object()


def test_err4_positional_construction_matches_keywords() -> None:
    """ERR-4 / API.md: the constructors take the fields in the listed order."""
    assert Empty("f") == Empty(field="f")
    assert TooLarge("f", 2, 1) == TooLarge(field="f", size=2, max=1)
    assert InvalidByte("f", 3, 0x2A) == InvalidByte(field="f", index=3, byte=0x2A)
    assert ObservationIdMismatch(OBS_A, OBS_B) == ObservationIdMismatch(
        expected=OBS_A, actual=OBS_B
    )
    assert InconsistentFindingsCount(SC, 5) == InconsistentFindingsCount(
        status=SC, findings_count=5
    )
    assert MissingErrorCode(FR) == MissingErrorCode(status=FR)
    assert UnexpectedErrorCode(SWF) == UnexpectedErrorCode(status=SWF)
    assert OrphanedReference("A", "B") == OrphanedReference(child_type="A", parent_type="B")
    assert ProvenanceOrdering(2, 1) == ProvenanceOrdering(started_at=2, finished_at=1)
    assert KeyMismatch(KEY_A, KEY_B) == KeyMismatch(existing=KEY_A, incoming=KEY_B)


def test_err4_different_fields_or_classes_are_unequal() -> None:
    """ERR-4: a differing attribute or class breaks equality."""
    pairs: list[tuple[PersistenceInputError, PersistenceInputError]] = [
        (Empty("a"), Empty("b")),
        (TooLarge("f", 1, 2), TooLarge("f", 1, 3)),
        (TooLarge("f", 1, 2), TooLarge("g", 1, 2)),
        (InvalidByte("f", 1, 2), InvalidByte("f", 2, 2)),
        (InvalidByte("f", 1, 2), InvalidByte("f", 1, 3)),
        (ObservationIdMismatch(OBS_A, OBS_B), ObservationIdMismatch(OBS_B, OBS_A)),
        (InconsistentFindingsCount(SC, 1), InconsistentFindingsCount(SC, 2)),
        (InconsistentFindingsCount(SC, 0), InconsistentFindingsCount(SWF, 0)),
        (MissingErrorCode(FR), MissingErrorCode(FP)),
        (MissingErrorCode(SC), UnexpectedErrorCode(SC)),
        (OrphanedReference("A", "B"), OrphanedReference("B", "A")),
        (ProvenanceOrdering(2, 1), ProvenanceOrdering(3, 1)),
        (KeyMismatch(KEY_A, KEY_B), KeyMismatch(KEY_B, KEY_A)),
        (ZeroSpanLength(), InconsistentTenant()),
    ]
    for left, right in pairs:
        assert left != right, (left, right)
        assert not (left == right)  # noqa: SIM201 - exercises __eq__


def test_err_errors_are_raisable_and_catchable_as_value_error() -> None:
    """§1.3: raised as exceptions, caught as ValueError."""
    for err, _, _ in CASES:
        with pytest.raises(ValueError) as info:  # noqa: PT011 - any subclass is the point
            raise err
        assert info.value is err


# ---------------------------------------------------------------------------
# ERR-5, LOC-1 .. LOC-3, RED-7: Location
# ---------------------------------------------------------------------------


def test_loc_constants() -> None:
    """LOC-2: both limits are 4096 bytes."""
    assert MAX_LOCATION_DISPLAY_SIZE == 4096
    assert MAX_LOCATION_URL_SIZE == 4096


def test_loc1_fields_and_defaults() -> None:
    """LOC-1: display required, url optional (None)."""
    loc = Location("src/lib.rs:10")
    assert loc.display == "src/lib.rs:10"
    assert loc.url is None
    full = Location(display="d", url="https://example.test/x")
    assert full.url == "https://example.test/x"


def test_loc2_empty_url_becomes_none() -> None:
    """LOC-2: an empty url string becomes None."""
    assert Location("d", "").url is None
    assert Location("d", "") == Location("d")


def test_loc2_err5_empty_display() -> None:
    """LOC-2 / ERR-5: Empty(field="Location.display"), also when url is empty."""
    for url in (None, "", "https://x"):
        with pytest.raises(Empty) as info:
            Location("", url)
        assert info.value == Empty(field="Location.display")
        assert str(info.value) == "Location.display must not be empty"


def test_loc2_err5_display_too_large_counts_utf8_bytes() -> None:
    """LOC-2 / ERR-5: UTF-8 length over 4096 -> TooLarge("Location.display", n, 4096)."""
    with pytest.raises(TooLarge) as info:
        Location("a" * 4097)
    assert info.value == TooLarge(field="Location.display", size=4097, max=4096)
    assert str(info.value) == "Location.display too large (4097 bytes, max 4096)"
    with pytest.raises(TooLarge) as info:
        Location("é" * 2049)
    assert info.value == TooLarge("Location.display", 4098, 4096)


def test_loc2_err5_url_too_large() -> None:
    """LOC-2 / ERR-5: TooLarge("Location.url", n, 4096)."""
    with pytest.raises(TooLarge) as info:
        Location("d", "u" * 4097)
    assert info.value == TooLarge(field="Location.url", size=4097, max=4096)
    with pytest.raises(TooLarge) as info:
        Location("d", "€" * 1366)  # 3 bytes each: 4098 bytes
    assert info.value == TooLarge("Location.url", 4098, 4096)


def test_loc2_exact_limits_accepted() -> None:
    """LOC-2: exactly 4096 bytes is accepted for both fields."""
    loc = Location("a" * 4096, "u" * 4096)
    assert len(loc.display) == 4096
    assert loc.url is not None
    assert len(loc.url) == 4096
    assert Location("é" * 2048).display == "é" * 2048


def test_loc2_validation_order() -> None:
    """LOC-2: empty display, then display size, then url size."""
    with pytest.raises(Empty):
        Location("", "u" * 5000)
    with pytest.raises(TooLarge) as info:
        Location("d" * 5000, "u" * 5000)
    assert info.value.field == "Location.display"


def test_loc2_no_trimming_and_no_url_parsing() -> None:
    """LOC-2: spaces-only display is valid; nothing trimmed; url not parsed."""
    assert Location("   ").display == "   "
    assert Location("  a  ").display == "  a  "
    assert Location("d", "not a url at all").url == "not a url at all"


def test_loc3_equality_and_hash_over_both_fields() -> None:
    """LOC-3."""
    assert Location("a", "u") == Location("a", "u")
    assert hash(Location("a", "u")) == hash(Location("a", "u"))
    assert Location("a", "u") != Location("a", "v")
    assert Location("a", "u") != Location("b", "u")
    assert Location("a") != Location("a", "u")
    assert len({Location("a"), Location("a", None), Location("a", "")}) == 1
    with pytest.raises((AttributeError, TypeError)):
        Location("a").display = "b"  # type: ignore[misc]


def test_red7_location_is_not_redacted() -> None:
    """RED-7: display and url shown in full."""
    display = "repo/path/to/file.py:120 (token=ghp_abcdefghijklmnop)"
    url = "https://example.test/org/repo/blob/abc123/file.py#L120"
    text = repr(Location(display, url))
    assert display in text
    assert url in text


# ---------------------------------------------------------------------------
# RED-4 .. RED-6: composite renderings
# ---------------------------------------------------------------------------


def test_red5_predicate_rejects_leaks() -> None:
    """RED-5: the predicate used below fails on each kind of leak."""
    raw = SECRET_RAW
    assert passes_red5("SecretHash([redacted])", raw)
    assert not passes_red5(f"x{raw.hex()}x", raw)
    assert not passes_red5(raw.hex().upper(), raw)
    assert not passes_red5(f"SecretHash({raw[:8].hex()}..)", raw)
    assert not passes_red5(f"SecretHash({raw[:8].hex().upper()})", raw)
    assert not passes_red5(base64.b64encode(raw).decode().rstrip("="), raw)
    assert not passes_red5(base64.b64encode(raw).decode(), raw)
    assert passes_red5(base64.b64encode(raw).decode().rstrip("=").swapcase(), raw)


def test_red5_norm_and_secret_hash_renderings_pass() -> None:
    """RED-5 / RED-2: NormHash and SecretHash against their own bytes."""
    norm = NormHash.from_digest(SECRET_RAW)
    sec = SecretHash._from_raw(SECRET_RAW)
    for value in (norm, sec):
        for rendering in (repr(value), str(value), f"{value}", f"{value!r}"):
            assert passes_red5(rendering, SECRET_RAW)
    derived = key_secret_hash(TenantSecretKey(SECRET_RAW), norm)
    assert passes_red5(repr(derived), bytes(derived))
    assert passes_red5(repr(TenantSecretKey(SECRET_RAW)), SECRET_RAW)


def test_red4_finding_record_rendering_is_redacted() -> None:
    """RED-4 / RED-5: FindingRecord shows SecretHash([redacted]) and never the bytes."""
    f = finding_record(tenant(0x11), item=0x22, rule=0x33, secret=SECRET_RAW)
    for rendering in (repr(f), str(f)):
        assert "SecretHash([redacted])" in rendering
        assert passes_red5(rendering, SECRET_RAW)
        assert "TenantId(11111111..)" in rendering
        assert "StableItemId(22222222..)" in rendering
        assert "RuleFingerprint(33333333..)" in rendering
        assert f"FindingId({bytes(f.finding_id)[:4].hex()}..)" in rendering
        assert bytes(f.finding_id).hex() not in rendering


def test_red4_batch_rendering_is_redacted() -> None:
    """RED-4: a FindingsUpsertBatch renders its findings through the field renderings."""
    f = finding_record(tenant(0x11), item=0x22, rule=0x33, secret=SECRET_RAW)
    o = OccurrenceRecord.new(f.tenant_id, f.finding_id, ObjectVersionId(fill(0x44)), 1, 2)
    batch = FindingsUpsertBatch((f,), (o,), ())
    text = repr(batch)
    assert "SecretHash([redacted])" in text
    assert passes_red5(text, SECRET_RAW)
    assert "ObjectVersionId(44444444..)" in text


def test_red4_occurrence_and_observation_renderings() -> None:
    """RED-4: field-by-field, each id in its RED-1 form, u64 ids in the RED-3 form."""
    o = OccurrenceRecord(
        TenantId(fill(0x11)),
        OccurrenceId(fill(0x55)),
        FindingId(fill(0x66)),
        ObjectVersionId(fill(0x77)),
        12,
        34,
    )
    text = repr(o)
    for piece in (
        "TenantId(11111111..)",
        "OccurrenceId(55555555..)",
        "FindingId(66666666..)",
        "ObjectVersionId(77777777..)",
        "12",
        "34",
    ):
        assert piece in text
    assert fill(0x55).hex() not in text
    obs = ObservationRecord(
        TenantId(fill(0x11)),
        ObservationId(fill(0x88)),
        OccurrenceId(fill(0x55)),
        PolicyHash(fill(0x99)),
        OvidHash(fill(0xAA)),
        RunId(1),
        ShardId(2),
        FenceEpoch(3),
        LogicalTime(4),
        Location("file.txt:9"),
    )
    text = repr(obs)
    for piece in (
        "ObservationId(88888888..)",
        "PolicyHash(99999999..)",
        "OvidHash(aaaaaaaa..)",
        "RunId(1)",
        "ShardId(2)",
        "FenceEpoch(3)",
        "LogicalTime(4)",
        "file.txt:9",
    ):
        assert piece in text
    assert fill(0x88).hex() not in text


def test_red4_red6_done_ledger_renderings() -> None:
    """RED-4 / RED-6: key, provenance and record render by field; the code as
    DoneLedgerErrorCode("TIMEOUT")."""
    prov = DoneLedgerProvenance(
        RunId(5), ShardId(6), FenceEpoch(7), LogicalTime(8), LogicalTime(9)
    )
    rec = DoneLedgerRecord(KEY_A, FR, 10, 0, prov, DoneLedgerErrorCode("TIMEOUT"))
    key_text = repr(KEY_A)
    assert "TenantId(01010101..)" in key_text
    assert "PolicyHash(02020202..)" in key_text
    assert "OvidHash(03030303..)" in key_text
    assert fill(0x01).hex() not in key_text
    prov_text = repr(prov)
    for piece in ("RunId(5)", "ShardId(6)", "FenceEpoch(7)", "LogicalTime(8)", "LogicalTime(9)"):
        assert piece in prov_text
    rec_text = repr(rec)
    assert 'DoneLedgerErrorCode("TIMEOUT")' in rec_text
    assert key_text in rec_text or "TenantId(01010101..)" in rec_text
    assert "LogicalTime(9)" in rec_text
    assert repr(DoneLedgerErrorCode("TIMEOUT")) == 'DoneLedgerErrorCode("TIMEOUT")'
    assert str(DoneLedgerErrorCode("HTTP 403/X")) == "HTTP 403/X"


def test_red4_other_composites_render_by_field() -> None:
    """RED-4: WriteContext, VersionId and the receipts use the field renderings."""
    wc = WriteContext(
        TenantId(fill(0xAB)), PolicyHash(fill(0xCD)), RunId(1), ShardId(2), FenceEpoch(3)
    )
    assert "TenantId(abababab..)" in repr(wc)
    assert fill(0xAB).hex() not in repr(wc)
    assert "ObjectVersionId(0b0b0b0b..)" in repr(VersionId.strong(ObjectVersionId(fill(0x0B))))
    assert "1" in repr(DoneLedgerCommitReceipt(1, 0, 0))
    assert "FindingsCommitReceipt" in repr(FindingsCommitReceipt(0, 0, 0))
