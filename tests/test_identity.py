"""Identity primitives, canonical encoding and derivations (contracts.md §2, §3).

Written from the spec, not from the implementation: every expected digest is
either a pinned §2.9 vector or computed here with the ``blake3`` package from
the formula of the rule being tested.

Covers ID-1 .. ID-26, CB-1 .. CB-9, RED-1, RED-2, RED-3, RED-9, the §2.9
vectors, the domain-tag registry invariants (ID-10) and the domain hasher
streaming equivalence (§1.4). Hypothesis properties (ID-24 .. ID-26) use the
active settings profile (see ``conftest.py``).
"""

from __future__ import annotations

import dataclasses
import re
import struct
import sys

import blake3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gossip_model import identity
from gossip_model.identity import (
    CONNECTOR_INSTANCE_ID_V1,
    DONE_LEDGER_KEY_V1,
    FINDING_ID_V1,
    ITEM_ID_V1,
    OBJECT_VERSION_V1,
    OBSERVATION_ID_V1,
    OCCURRENCE_ID_V1,
    OVID_V1,
    POLICY_HASH_V2,
    SECRET_HASH_V1,
    ConnectorInstanceIdHash,
    ConnectorTag,
    EmptyConnectorInstanceId,
    EmptyLocator,
    EmptyTag,
    EmptyVersionBytes,
    FenceEpoch,
    FindingId,
    FindingIdInputs,
    IdentityInputError,
    IdHashMode,
    ItemIdentityKey,
    LogicalTime,
    NonGraphicByte,
    NormHash,
    ObjectVersionId,
    ObservationId,
    ObservationIdInputs,
    OccurrenceId,
    OccurrenceIdInputs,
    OvidHash,
    PolicyHash,
    PolicyHashInputs,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TagTooLong,
    TenantId,
    TenantSecretKey,
    compute_policy_hash,
    derive_finding_id,
    derive_observation_id,
    derive_occurrence_id,
    key_secret_hash,
)
from tests.builders import fill

U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1

PUBLIC_32_BYTE_IDS = (
    TenantId,
    PolicyHash,
    RuleFingerprint,
    FindingId,
    OccurrenceId,
    ObservationId,
    StableItemId,
    ObjectVersionId,
    ConnectorInstanceIdHash,
    OvidHash,
)
SIXTY_FOUR_BIT_IDS = (RunId, ShardId, FenceEpoch, LogicalTime)


def derive_key(context: str, material: bytes) -> bytes:
    """§1.4 derive-key mode, one shot."""
    return blake3.blake3(material, derive_key_context=context).digest()


def u32le(n: int) -> bytes:
    return struct.pack("<I", n)


def u64le(n: int) -> bytes:
    return struct.pack("<Q", n)


def secret(byte: int) -> SecretHash:
    return SecretHash._from_raw(fill(byte))


bytes32 = st.binary(min_size=32, max_size=32)
u64s = st.integers(min_value=0, max_value=U64_MAX)
u32s = st.integers(min_value=0, max_value=U32_MAX)


# ---------------------------------------------------------------------------
# ID-1: public 32-byte ids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", PUBLIC_32_BYTE_IDS, ids=lambda c: c.__name__)
def test_id1_public_ids_round_trip_bytes_and_have_zero(cls: type) -> None:
    """ID-1: any 32 bytes, ``bytes(x)`` round trip, all-zero ``ZERO``."""
    raw = bytes(range(32))
    value = cls(raw)
    assert bytes(value) == raw
    assert bytes(cls.ZERO) == bytes(32)
    assert cls(bytes(32)) == cls.ZERO


@pytest.mark.parametrize("cls", PUBLIC_32_BYTE_IDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("length", [0, 1, 31, 33, 64])
def test_id1_public_ids_reject_wrong_length(cls: type, length: int) -> None:
    """ID-1 / §1.2: any length other than 32 raises ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - the spec pins only the class
        cls(b"\x01" * length)


@pytest.mark.parametrize("cls", PUBLIC_32_BYTE_IDS, ids=lambda c: c.__name__)
def test_id1_public_ids_order_equal_and_hash_by_bytes(cls: type) -> None:
    """ID-1: total order, equality and hashing by the raw bytes."""
    low = cls(b"\x00" * 31 + b"\x01")
    high = cls(b"\x01" + b"\x00" * 31)
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert not (high < low)
    assert cls(b"\x01" + b"\x00" * 31) == high
    assert hash(cls(b"\x01" + b"\x00" * 31)) == hash(high)
    assert low != high
    assert sorted([high, low, cls.ZERO]) == [cls.ZERO, low, high]
    assert len({low, high, cls(bytes(high))}) == 2


def test_id1_distinct_id_types_are_not_interchangeable_for_equality() -> None:
    """ID-1: ids compare by bytes within a type; a TenantId is not a PolicyHash."""
    assert TenantId(fill(1)) != PolicyHash(fill(1))


@pytest.mark.parametrize("cls", PUBLIC_32_BYTE_IDS, ids=lambda c: c.__name__)
def test_id1_public_ids_are_immutable(cls: type) -> None:
    """API conventions: value types are immutable."""
    value = cls(fill(3))
    names = {"raw", *getattr(cls, "__slots__", ())}
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    for name in names:
        with pytest.raises((AttributeError, TypeError)):
            setattr(value, name, fill(4))
    assert bytes(value) == fill(3)


# ---------------------------------------------------------------------------
# RED-1: public id rendering
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", PUBLIC_32_BYTE_IDS, ids=lambda c: c.__name__)
def test_red1_public_types_debug_is_safe(cls: type) -> None:
    """RED-1 (public_types_debug_is_safe): type name, 4-byte hex prefix, ``..)``."""
    raw = bytes([0xAB, 0xCD, 0xEF, 0x01]) + fill(0x99)[4:]
    value = cls(raw)
    expected = f"{cls.__name__}(abcdef01..)"
    assert repr(value) == expected
    assert str(value) == expected
    assert repr(value).startswith(cls.__name__)
    assert len(repr(value)) < 80
    assert re.search(r"[0-9a-f]{8}", repr(value))


def test_red1_examples_from_spec() -> None:
    """RED-1: the two examples of the rule."""
    assert repr(TenantId(fill(0xAB))) == "TenantId(abababab..)"
    assert str(OvidHash(fill(0x0B))) == "OvidHash(0b0b0b0b..)"


# ---------------------------------------------------------------------------
# ID-2, ID-3, RED-2: restricted values
# ---------------------------------------------------------------------------


def test_id2_norm_hash_from_digest_round_trips_and_compares_by_bytes() -> None:
    """ID-2: NormHash.from_digest, bytes(x), equality/order/hash by bytes."""
    a = NormHash.from_digest(fill(1))
    b = NormHash.from_digest(fill(2))
    assert bytes(a) == fill(1)
    assert a == NormHash.from_digest(fill(1))
    assert hash(a) == hash(NormHash.from_digest(fill(1)))
    assert a != b
    assert a < b
    assert not hasattr(NormHash, "ZERO")


def test_id2_norm_hash_rejects_wrong_length() -> None:
    """ID-2 / §1.2: a digest must be exactly 32 bytes."""
    with pytest.raises(ValueError):  # noqa: PT011
        NormHash.from_digest(b"\x01" * 31)


def test_id2_secret_hash_compares_by_bytes_and_has_no_zero() -> None:
    """ID-2: SecretHash equality/order/hash by bytes, bytes(x), no ZERO."""
    a = secret(1)
    b = secret(2)
    assert bytes(a) == fill(1)
    assert a == secret(1)
    assert hash(a) == hash(secret(1))
    assert a < b
    assert not hasattr(SecretHash, "ZERO")


def test_red2_restricted_types_debug_is_redacted() -> None:
    """RED-2 (restricted_types_debug_is_redacted): exact redacted forms, repr == str."""
    raw = bytes(range(0xA0, 0xC0))
    norm = NormHash.from_digest(raw)
    sec = SecretHash._from_raw(raw)
    key = TenantSecretKey(raw)
    assert repr(norm) == str(norm) == "NormHash([redacted])"
    assert repr(sec) == str(sec) == "SecretHash([redacted])"
    assert repr(key) == str(key) == "TenantSecretKey([redacted])"
    for rendering in (repr(norm), repr(sec), repr(key)):
        assert raw.hex() not in rendering.lower()
        assert raw[:4].hex() not in rendering.lower()


def test_id3_tenant_secret_key_validity() -> None:
    """ID-3: is_valid iff at least one byte is non-zero; content unchecked."""
    assert not TenantSecretKey(bytes(32)).is_valid()
    assert TenantSecretKey(b"\x00" * 31 + b"\x01").is_valid()
    assert TenantSecretKey(fill(0xFF)).is_valid()


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_id3_tenant_secret_key_rejects_wrong_length(length: int) -> None:
    """ID-3: 32 bytes, else ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011
        TenantSecretKey(b"\x01" * length)


def test_id3_tenant_secret_key_is_not_hashable() -> None:
    """ID-3: hash(key) raises TypeError; it can never be a dict key."""
    key = TenantSecretKey(fill(0x42))
    with pytest.raises(TypeError):
        hash(key)
    with pytest.raises(TypeError):
        {key: 1}  # noqa: B018


def test_id3_tenant_secret_key_has_no_ordering() -> None:
    """ID-3: no ordering."""
    with pytest.raises(TypeError):
        TenantSecretKey(fill(1)) < TenantSecretKey(fill(2))  # type: ignore[operator]  # noqa: B015


def test_id3_tenant_secret_key_equality_uses_compare_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ID-3: equality by value, computed in constant time (hmac.compare_digest)."""
    import hmac

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    defining_module = sys.modules[TenantSecretKey.__module__]
    if hasattr(defining_module, "compare_digest"):
        monkeypatch.setattr(defining_module, "compare_digest", spy)
    a = TenantSecretKey(fill(7))
    assert a == TenantSecretKey(fill(7))
    assert a != TenantSecretKey(fill(8))
    assert calls, "TenantSecretKey.__eq__ must use hmac.compare_digest"


def test_id3_cb9_tenant_secret_key_exposes_bytes_only_through_as_bytes() -> None:
    """ID-3 / CB-9: as_bytes() exposes the raw key, and there is no __bytes__."""
    key = TenantSecretKey(fill(0x42))
    assert key.as_bytes() == fill(0x42)
    assert not hasattr(TenantSecretKey, "__bytes__")
    with pytest.raises(TypeError):
        bytes(key)  # type: ignore[call-overload]


def test_cb9_tenant_secret_key_cannot_feed_an_id_derivation() -> None:
    """CB-9: a TenantSecretKey has no canonical encoding; it cannot stand in for an id."""
    key = TenantSecretKey(fill(0x01))
    with pytest.raises((TypeError, ValueError)):
        derive_finding_id(
            FindingIdInputs(
                tenant=key,  # type: ignore[arg-type]
                item=StableItemId(fill(2)),
                rule=RuleFingerprint(fill(3)),
                secret=secret(4),
            )
        )


# ---------------------------------------------------------------------------
# ID-4 .. ID-6, RED-3: 64-bit ids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SIXTY_FOUR_BIT_IDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [0, 1, 42, 2**63 - 1, 2**63, U64_MAX])
def test_id4_64_bit_ids_accept_full_u64_range(cls: type, value: int) -> None:
    """ID-4 / ID-5 / ID-6 / API.md: int(x) round trip over 0 ..= 2**64-1."""
    assert int(cls(value)) == value


@pytest.mark.parametrize("cls", SIXTY_FOUR_BIT_IDS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [-1, 2**64, 2**100, -(2**63)])
def test_id4_64_bit_ids_reject_out_of_range(cls: type, value: int) -> None:
    """API.md / §1.2: values outside 0 ..= 2**64-1 raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011
        cls(value)


@pytest.mark.parametrize("cls", SIXTY_FOUR_BIT_IDS, ids=lambda c: c.__name__)
def test_id4_64_bit_ids_reject_non_integers(cls: type) -> None:
    """§1.2: a non-int is not a u64."""
    with pytest.raises((TypeError, ValueError)):
        cls("1")


@pytest.mark.parametrize("cls", SIXTY_FOUR_BIT_IDS, ids=lambda c: c.__name__)
def test_id4_64_bit_ids_order_equal_hash_by_value(cls: type) -> None:
    """ID-4: ordering, equality and hashing by the integer; ZERO == 0."""
    assert int(cls.ZERO) == 0
    assert cls(3) == cls(3)
    assert hash(cls(3)) == hash(cls(3))
    assert cls(3) != cls(4)
    assert cls(3) < cls(4) <= cls(4)
    assert cls(U64_MAX) > cls(2**63)


@pytest.mark.parametrize("cls", SIXTY_FOUR_BIT_IDS, ids=lambda c: c.__name__)
def test_red3_64_bit_ids_render_type_and_decimal(cls: type) -> None:
    """RED-3: ``RunId(42)``; str gives the same text."""
    assert repr(cls(42)) == f"{cls.__name__}(42)"
    assert str(cls(42)) == f"{cls.__name__}(42)"
    assert repr(cls(U64_MAX)) == f"{cls.__name__}({U64_MAX})"


def test_red3_examples_from_spec() -> None:
    """RED-3: the examples of the rule."""
    assert repr(RunId(42)) == "RunId(42)"
    assert repr(FenceEpoch(1)) == "FenceEpoch(1)"
    assert repr(LogicalTime(99)) == "LogicalTime(99)"


@pytest.mark.parametrize(
    ("value", "derived"),
    [(0, False), (1, False), (2**63 - 1, False), (2**63, True), (U64_MAX, True)],
)
def test_id4_shard_id_is_derived_iff_bit_63(value: int, derived: bool) -> None:
    """ID-4: ShardId.is_derived() iff bit 63 is set."""
    assert ShardId(value).is_derived() is derived


def test_id5_fence_epoch_constants_and_assignment() -> None:
    """ID-5: ZERO = 0 unassigned, INITIAL = 1, is_assigned iff non-zero."""
    assert int(FenceEpoch.ZERO) == 0
    assert int(FenceEpoch.INITIAL) == 1
    assert not FenceEpoch.ZERO.is_assigned()
    assert FenceEpoch.INITIAL.is_assigned()
    assert FenceEpoch(U64_MAX).is_assigned()


def test_id5_fence_epoch_increment_returns_new_value() -> None:
    """ID-5: increment returns value + 1 and leaves the original untouched."""
    epoch = FenceEpoch(41)
    assert epoch.increment() == FenceEpoch(42)
    assert epoch == FenceEpoch(41)
    assert FenceEpoch.ZERO.increment() == FenceEpoch.INITIAL
    assert FenceEpoch(U64_MAX - 1).increment() == FenceEpoch(U64_MAX)


def test_id5_fence_epoch_increment_overflow_fails_hard() -> None:
    """ID-5: at 2**64-1, OverflowError("FenceEpoch overflow"); never saturates or wraps."""
    with pytest.raises(OverflowError, match=r"^FenceEpoch overflow$"):
        FenceEpoch(U64_MAX).increment()


def test_id6_logical_time_checked_add() -> None:
    """ID-6: checked_add returns the sum, or None past 2**64-1."""
    assert int(LogicalTime.ZERO) == 0
    assert LogicalTime(5).checked_add(7) == LogicalTime(12)
    assert LogicalTime(U64_MAX - 1).checked_add(1) == LogicalTime(U64_MAX)
    assert LogicalTime(U64_MAX).checked_add(0) == LogicalTime(U64_MAX)
    assert LogicalTime(U64_MAX).checked_add(1) is None
    assert LogicalTime(2**63).checked_add(2**63) is None


# ---------------------------------------------------------------------------
# ID-7, RED-9: ConnectorTag
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["github", b"github"])
def test_id7_connector_tag_from_ascii_pads_with_zero(tag: str | bytes) -> None:
    """ID-7: right-pads to 8 bytes with 0x00; str and bytes accepted."""
    assert ConnectorTag.from_ascii(tag) == ConnectorTag(b"github\x00\x00")


def test_id7_connector_tag_accepts_boundary_graphic_bytes() -> None:
    """ID-7: 0x21 and 0x7E are allowed; 8 bytes is the maximum length."""
    assert ConnectorTag.from_ascii("!~") == ConnectorTag(b"!~" + bytes(6))
    assert ConnectorTag.from_ascii("abcdefgh") == ConnectorTag(b"abcdefgh")
    assert ConnectorTag.from_ascii("a") == ConnectorTag(b"a" + bytes(7))


@pytest.mark.parametrize("tag", ["", b""])
def test_id7_connector_tag_rejects_empty(tag: str | bytes) -> None:
    """ID-7: empty -> EmptyTag (an IdentityInputError, a ValueError)."""
    with pytest.raises(EmptyTag) as info:
        ConnectorTag.from_ascii(tag)
    assert isinstance(info.value, IdentityInputError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("tag", "length"),
    [("abcdefghi", 9), ("a b c d e", 9), ("\x00" * 12, 12), ("ééééé", 10), (b"x" * 9, 9)],
)
def test_id7_connector_tag_rejects_too_long_before_byte_check(tag: str, length: int) -> None:
    """ID-7: longer than 8 -> TagTooLong(len), checked before the byte range."""
    with pytest.raises(TagTooLong) as info:
        ConnectorTag.from_ascii(tag)
    assert isinstance(info.value, IdentityInputError)
    assert str(length) in str(info.value)


@pytest.mark.parametrize(
    ("tag", "index", "byte"),
    [
        ("a b", 1, 0x20),
        (" ", 0, 0x20),
        ("ab\x7f", 2, 0x7F),
        ("\x00", 0, 0x00),
        ("x\x01\x02", 1, 0x01),
        ("é", 0, 0xC3),
        ("éééé", 0, 0xC3),
        ("ab€", 2, 0xE2),
        (b"ok\x80", 2, 0x80),
    ],
)
def test_id7_connector_tag_rejects_first_non_graphic_byte(
    tag: str | bytes, index: int, byte: int
) -> None:
    """ID-7: the first byte outside 0x21..=0x7E -> NonGraphicByte(index, byte)."""
    with pytest.raises(NonGraphicByte) as info:
        ConnectorTag.from_ascii(tag)
    err = info.value
    assert isinstance(err, IdentityInputError)
    assert err.index == index
    assert err.byte == byte
    assert str(index) in str(err)


@pytest.mark.parametrize("length", [0, 7, 9])
def test_id7_connector_tag_raw_requires_exactly_8_bytes(length: int) -> None:
    """ID-7: ConnectorTag(raw) takes exactly 8 bytes."""
    with pytest.raises(ValueError):  # noqa: PT011
        ConnectorTag(b"a" * length)


def test_id7_connector_tag_raw_accepts_any_8_bytes() -> None:
    """ID-7: ConnectorTag(raw) with 8 bytes accepts any content (reference from_bytes)."""
    tag = ConnectorTag(bytes.fromhex("00ff00ff00ff00ff"))
    assert tag == ConnectorTag(bytes.fromhex("00ff00ff00ff00ff"))
    assert tag != ConnectorTag(bytes(8))
    assert hash(tag) == hash(ConnectorTag(bytes.fromhex("00ff00ff00ff00ff")))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"github\x00\x00", 'ConnectorTag("github")'),
        (b"abcdefgh", 'ConnectorTag("abcdefgh")'),
        (b"!\x00\x00\x00\x00\x00\x00\x00", 'ConnectorTag("!")'),
        (bytes.fromhex("6769746875620001"), "ConnectorTag(6769746875620001)"),
        (bytes(8), "ConnectorTag(0000000000000000)"),
        (b"ab\x00c\x00\x00\x00\x00", "ConnectorTag(6162006300000000)"),
        (b"a b\x00\x00\x00\x00\x00", "ConnectorTag(6120620000000000)"),
        (bytes.fromhex("ffffffffffffffff"), "ConnectorTag(ffffffffffffffff)"),
    ],
)
def test_red9_connector_tag_rendering(raw: bytes, expected: str) -> None:
    """RED-9: graphic run + zero padding renders quoted, otherwise 16 lowercase hex."""
    assert repr(ConnectorTag(raw)) == expected


# ---------------------------------------------------------------------------
# CB-*: canonical encoding, checked through the derivations that use it
# ---------------------------------------------------------------------------


def test_cb1_cb3_encoding_primitives_from_spec() -> None:
    """CB-1 / CB-3: the byte layouts the expected values below are built from."""
    assert u32le(2) + b"AB" == bytes.fromhex("020000004142")
    assert u64le(1) == b"\x01" + bytes(7)
    assert u32le(0x01020304) == bytes([4, 3, 2, 1])


def test_cb3_cb6_item_id_uses_length_prefix_and_field_order() -> None:
    """CB-2 / CB-3 / CB-5 / CB-6 / ID-12: tag(8) || instance(32) || u32LE(len) || locator."""
    tag = ConnectorTag.from_ascii("gl")
    instance = ConnectorInstanceIdHash(fill(0x33))
    locator = b"a/b\x00c"
    expected = derive_key(ITEM_ID_V1, b"gl" + bytes(6) + fill(0x33) + u32le(5) + locator)
    assert bytes(ItemIdentityKey(tag, instance, locator).stable_id()) == expected


def test_cb4_occurrence_offsets_are_u64_le() -> None:
    """CB-1 / CB-4 / ID-17: u64 fields encode as 8 bytes LE, no prefix."""
    inputs = OccurrenceIdInputs(
        finding=FindingId(fill(1)),
        version=ObjectVersionId(fill(2)),
        byte_offset=0x0102030405060708,
        byte_length=U64_MAX,
    )
    material = fill(1) + fill(2) + bytes.fromhex("0807060504030201") + b"\xff" * 8
    assert len(material) == 80
    assert bytes(derive_occurrence_id(inputs)) == derive_key(OCCURRENCE_ID_V1, material)


# ---------------------------------------------------------------------------
# ID-8 / ID-9 and the domain hasher (§1.4)
# ---------------------------------------------------------------------------


def test_id9_finalize_64_golden_vector() -> None:
    """ID-9 / §2.9: finalize_64 = first 8 bytes LE of the derive-key output."""
    digest = derive_key("gossip/golden-64/v1", b"deterministic golden vector")
    assert int.from_bytes(digest[:8], "little") == 0x86659F9498143183
    finalize_64 = getattr(identity, "finalize_64", None)
    if finalize_64 is not None:  # optional per ID-9: only checked when exposed
        hasher = blake3.blake3(derive_key_context="gossip/golden-64/v1")
        hasher.update(b"deterministic golden vector")
        assert finalize_64(hasher) == 0x86659F9498143183


def test_domain_hasher_matches_blake3_derive_key() -> None:
    """§1.4 / ID-8 (domain_hasher_matches_blake3_derive_key): streaming == one shot.

    The finding-id material is fed field by field into a derive-key hasher; the
    implementation's finalize_32 output must equal both that and the one-shot call.
    """
    inputs = FindingIdInputs(
        tenant=TenantId(fill(0x11)),
        item=StableItemId(fill(0x22)),
        rule=RuleFingerprint(fill(0x33)),
        secret=secret(0x44),
    )
    streaming = blake3.blake3(derive_key_context=FINDING_ID_V1)
    for part in (fill(0x11), fill(0x22), fill(0x33), fill(0x44)):
        streaming.update(part)
    one_shot = derive_key(FINDING_ID_V1, fill(0x11) + fill(0x22) + fill(0x33) + fill(0x44))
    assert streaming.digest() == one_shot
    assert bytes(derive_finding_id(inputs)) == one_shot
    assert len(one_shot) == 32


@given(
    context_suffix=st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20),
    chunks=st.lists(st.binary(max_size=64), max_size=8),
)
def test_domain_hasher_streaming_is_chunking_independent(
    context_suffix: str, chunks: list[bytes]
) -> None:
    """§1.4: any chunking of the material through update() gives the one-shot digest."""
    context = f"gossip/test-{context_suffix}/v1"
    hasher = blake3.blake3(derive_key_context=context)
    for chunk in chunks:
        hasher.update(chunk)
    assert hasher.digest() == derive_key(context, b"".join(chunks))


# ---------------------------------------------------------------------------
# ID-10: domain-tag registry
# ---------------------------------------------------------------------------

REQUIRED_TAGS = {
    "FINDING_ID_V1": "gossip/finding/v1",
    "OCCURRENCE_ID_V1": "gossip/occurrence/v1",
    "OBSERVATION_ID_V1": "gossip/observation/v1",
    "SECRET_HASH_V1": "gossip/secret-hash/v1",
    "ITEM_ID_V1": "gossip/item-id/v1",
    "CONNECTOR_INSTANCE_ID_V1": "gossip/connector-instance-id/v1",
    "OBJECT_VERSION_V1": "gossip/object-version/v1",
    "POLICY_HASH_V2": "gossip/policy-hash/v2",
    "OVID_V1": "gossip/persistence/v1/ovid",
    "DONE_LEDGER_KEY_V1": "gossip/persistence/v1/done-key",
}
OPTIONAL_TAGS = {
    "RULE_FINGERPRINT_V1": "gossip/rule/v1",
    "RULES_DIGEST_V1": "gossip/rules-digest/v1",
    "SPLIT_ID_V1": "gossip/coord/v1/split-id",
    "OP_PAYLOAD_V1": "gossip/coord/v1/op-payload",
    "TRIAGE_GROUP_KEY_V1": "gossip/persistence/v1/triage-group",
    "COORDINATION_TELEMETRY_V1": "gossip/worker/v1/coordination-telemetry",
    "GIT_REPO_ID_V1": "gossip/git/v1/repo-id",
    "GIT_MIRROR_PATH_V1": "gossip/git/v1/mirror-path",
}


def defined_tags() -> dict[str, str]:
    """Every registry tag the module defines: the table's names, plus any other
    module-level ``*_V<n>`` string constant starting with ``gossip/``."""
    tags: dict[str, str] = {}
    for name in dir(identity):
        value = getattr(identity, name)
        if not isinstance(value, str):
            continue
        named = name in REQUIRED_TAGS or name in OPTIONAL_TAGS
        looks_like_tag = bool(re.fullmatch(r"[A-Z0-9_]+_V\d+", name)) and value.startswith(
            "gossip/"
        )
        if named or looks_like_tag:
            tags[name] = value
    return tags


def test_id10_required_tags_have_exact_values() -> None:
    """ID-10 / §2.4: every required tag is a module constant with the exact string."""
    for name, value in REQUIRED_TAGS.items():
        assert getattr(identity, name) == value, name
    assert FINDING_ID_V1 == "gossip/finding/v1"
    assert OCCURRENCE_ID_V1 == "gossip/occurrence/v1"
    assert OBSERVATION_ID_V1 == "gossip/observation/v1"
    assert SECRET_HASH_V1 == "gossip/secret-hash/v1"
    assert CONNECTOR_INSTANCE_ID_V1 == "gossip/connector-instance-id/v1"
    assert OBJECT_VERSION_V1 == "gossip/object-version/v1"
    assert POLICY_HASH_V2 == "gossip/policy-hash/v2"
    assert OVID_V1 == "gossip/persistence/v1/ovid"
    assert DONE_LEDGER_KEY_V1 == "gossip/persistence/v1/done-key"


def test_id10_optional_tags_if_defined_have_exact_values() -> None:
    """ID-10 / §2.4: an optional tag the module chooses to define has the table's value."""
    for name, value in OPTIONAL_TAGS.items():
        if hasattr(identity, name):
            assert getattr(identity, name) == value, name


def test_id10_registry_invariants() -> None:
    """ID-10: unique, [a-z0-9/-], gossip/ prefix, /v<digits> segment, no trailing /,
    length 11..=64."""
    tags = defined_tags()
    assert set(REQUIRED_TAGS) <= set(tags)
    values = list(tags.values())
    assert len(values) == len(set(values)), "tag values must be unique"
    for name, value in tags.items():
        assert re.fullmatch(r"[a-z0-9/\-]+", value), name
        assert value.startswith("gossip/"), name
        assert re.search(r"/v\d+(/|$)", value), name
        assert not value.endswith("/"), name
        assert 11 <= len(value) <= 64, name


def test_id10_registry_tuple_if_exposed_matches_constants() -> None:
    """ID-10 recommendation: a tuple of all defined tags, if exposed, holds each constant."""
    tuples = [
        value
        for name in dir(identity)
        if isinstance(value := getattr(identity, name), tuple)
        and value
        and all(isinstance(v, str) and v.startswith("gossip/") for v in value)
    ]
    for registry in tuples:
        assert len(registry) == len(set(registry))
        assert set(REQUIRED_TAGS.values()) <= set(registry)
        assert set(registry) <= set(defined_tags().values())


# ---------------------------------------------------------------------------
# ID-11 .. ID-13: item and version derivations
# ---------------------------------------------------------------------------


def test_id11_connector_instance_id_hash_formula() -> None:
    """ID-11: derive-key(connector-instance-id/v1, u32LE(len) || b)."""
    b = b"instance\x00x"
    expected = derive_key(CONNECTOR_INSTANCE_ID_V1, u32le(len(b)) + b)
    assert bytes(ConnectorInstanceIdHash.from_instance_id_bytes(b)) == expected


def test_id11_connector_instance_id_rejects_empty() -> None:
    """ID-11: empty instance id -> EmptyConnectorInstanceId."""
    with pytest.raises(EmptyConnectorInstanceId) as info:
        ConnectorInstanceIdHash.from_instance_id_bytes(b"")
    assert isinstance(info.value, IdentityInputError)
    assert isinstance(info.value, ValueError)


def test_id12_item_identity_key_rejects_empty_locator() -> None:
    """ID-12: empty locator -> EmptyLocator, raised by the constructor."""
    with pytest.raises(EmptyLocator) as info:
        ItemIdentityKey(ConnectorTag.from_ascii("github"), ConnectorInstanceIdHash(fill(1)), b"")
    assert isinstance(info.value, IdentityInputError)


def test_id12_stable_id_does_not_depend_on_tenant_and_varies_with_each_field() -> None:
    """ID-12: the three inputs each matter (the tenant is not an input at all)."""
    tag = ConnectorTag.from_ascii("github")
    inst = ConnectorInstanceIdHash(fill(1))
    base = ItemIdentityKey(tag, inst, b"loc").stable_id()
    assert ItemIdentityKey(tag, inst, b"loc").stable_id() == base
    assert ItemIdentityKey(ConnectorTag.from_ascii("gitlab"), inst, b"loc").stable_id() != base
    assert ItemIdentityKey(tag, ConnectorInstanceIdHash(fill(2)), b"loc").stable_id() != base
    assert ItemIdentityKey(tag, inst, b"loc2").stable_id() != base
    assert isinstance(base, StableItemId)


def test_id13_object_version_id_formula_and_empty() -> None:
    """ID-13: derive-key(object-version/v1, u32LE(len) || v); empty -> EmptyVersionBytes."""
    v = b"\x00\x01\x02"
    expected = derive_key(OBJECT_VERSION_V1, u32le(3) + v)
    assert bytes(ObjectVersionId.from_version_bytes(v)) == expected
    with pytest.raises(EmptyVersionBytes) as info:
        ObjectVersionId.from_version_bytes(b"")
    assert isinstance(info.value, IdentityInputError)


# ---------------------------------------------------------------------------
# §2.9 golden vectors
# ---------------------------------------------------------------------------

GOLDEN_INSTANCE = "ac8d5ef3d400ed9c7943a106e74914ffe14c23dce37e62ee83bb6eaa0a1d11ab"
GOLDEN_STABLE_ITEM = "1c69b550547c36c498844740ea1f1c03d9750b34074cd6826a3e19cfc0a57d61"
GOLDEN_OBJECT_VERSION = "cfae6513765d943a5643f454295c81ff83ffca49387f1b153d69d66250f6de2e"
SECRET_VECTOR = "e2371e9890360a25e5645decf2169772bdb6b6faaf9379c07123f0ee90da8f84"
FINDING_VECTOR = "f5bae126909fb228dc55f0b325793251b1fc342f1e5761213b62d9c17842f9d9"
OCCURRENCE_VECTOR = "9318766e5964ff1bf4a0445cd5080e6afa1443584d6d17564ea31d7251a39164"
OBSERVATION_VECTOR = "5f0e5b0b724895be74ee1c1909f997bf189e915681f701bfb7edc377d3ae81c7"


def test_golden_connector_instance_id_hash() -> None:
    """§2.9 / ID-11: golden ConnectorInstanceIdHash."""
    b = b"github-installation-1"
    assert len(b) == 21
    assert ConnectorInstanceIdHash.from_instance_id_bytes(b) == ConnectorInstanceIdHash(
        bytes.fromhex(GOLDEN_INSTANCE)
    )


def test_golden_stable_item_id() -> None:
    """§2.9 / ID-12: golden StableItemId."""
    instance = ConnectorInstanceIdHash.from_instance_id_bytes(b"github-installation-1")
    locator = b"org/repo\x00src/main.rs"
    assert len(locator) == 20
    key = ItemIdentityKey(ConnectorTag.from_ascii("github"), instance, locator)
    assert bytes(key.stable_id()).hex() == GOLDEN_STABLE_ITEM


def test_golden_object_version_id() -> None:
    """§2.9 / ID-13: golden ObjectVersionId."""
    assert bytes(ObjectVersionId.from_version_bytes(b"abc123def456")).hex() == (
        GOLDEN_OBJECT_VERSION
    )


def test_golden_key_secret_hash() -> None:
    """§2.9 / ID-15: key 32x0x42, norm 32x0xAB."""
    result = key_secret_hash(TenantSecretKey(fill(0x42)), NormHash.from_digest(fill(0xAB)))
    assert isinstance(result, SecretHash)
    assert bytes(result).hex() == SECRET_VECTOR


def test_golden_finding_id() -> None:
    """§2.9 / ID-16: tenant 1, item 2, rule 3, secret = the key_secret_hash vector."""
    sec = key_secret_hash(TenantSecretKey(fill(0x42)), NormHash.from_digest(fill(0xAB)))
    fid = derive_finding_id(
        FindingIdInputs(
            tenant=TenantId(fill(1)),
            item=StableItemId(fill(2)),
            rule=RuleFingerprint(fill(3)),
            secret=sec,
        )
    )
    assert isinstance(fid, FindingId)
    assert bytes(fid).hex() == FINDING_VECTOR


def test_golden_occurrence_id() -> None:
    """§2.9 / ID-17: finding 5, version 4, offset 100, length 50."""
    oid = derive_occurrence_id(
        OccurrenceIdInputs(
            finding=FindingId(fill(5)),
            version=ObjectVersionId(fill(4)),
            byte_offset=100,
            byte_length=50,
        )
    )
    assert isinstance(oid, OccurrenceId)
    assert bytes(oid).hex() == OCCURRENCE_VECTOR


def test_golden_observation_id() -> None:
    """§2.9 / ID-18: tenant 1, policy 4, occurrence 3."""
    obs = derive_observation_id(
        ObservationIdInputs(
            tenant=TenantId(fill(1)), policy=PolicyHash(fill(4)), occurrence=OccurrenceId(fill(3))
        )
    )
    assert isinstance(obs, ObservationId)
    assert bytes(obs).hex() == OBSERVATION_VECTOR


def test_golden_vectors_follow_the_formulas() -> None:
    """§2.9: the pinned values are reproducible from the formulas of ID-11 .. ID-18."""
    inst = derive_key(CONNECTOR_INSTANCE_ID_V1, u32le(21) + b"github-installation-1")
    assert inst.hex() == GOLDEN_INSTANCE
    loc = b"org/repo\x00src/main.rs"
    item = derive_key(ITEM_ID_V1, b"github\x00\x00" + inst + u32le(len(loc)) + loc)
    assert item.hex() == GOLDEN_STABLE_ITEM
    assert derive_key(OBJECT_VERSION_V1, u32le(12) + b"abc123def456").hex() == (
        GOLDEN_OBJECT_VERSION
    )
    sec = blake3.blake3(SECRET_HASH_V1.encode() + fill(0xAB), key=fill(0x42)).digest()
    assert sec.hex() == SECRET_VECTOR
    fid = derive_key(FINDING_ID_V1, fill(1) + fill(2) + fill(3) + sec)
    assert fid.hex() == FINDING_VECTOR
    occ = derive_key(OCCURRENCE_ID_V1, fill(5) + fill(4) + u64le(100) + u64le(50))
    assert occ.hex() == OCCURRENCE_VECTOR
    obs = derive_key(OBSERVATION_ID_V1, fill(1) + fill(4) + fill(3))
    assert obs.hex() == OBSERVATION_VECTOR


# ---------------------------------------------------------------------------
# ID-15 .. ID-19: derivation formulas, policy hash
# ---------------------------------------------------------------------------


def test_id15_key_secret_hash_formula_53_data_bytes() -> None:
    """ID-15: keyed BLAKE3 over b"gossip/secret-hash/v1" (21 bytes) || norm (32)."""
    key_raw = bytes(range(32))
    norm_raw = bytes(range(100, 132))
    data = b"gossip/secret-hash/v1" + norm_raw
    assert len(data) == 53
    expected = blake3.blake3(data, key=key_raw).digest()
    got = key_secret_hash(TenantSecretKey(key_raw), NormHash.from_digest(norm_raw))
    assert bytes(got) == expected


def test_id15_different_tenant_keys_give_different_secret_hashes() -> None:
    """ID-15: tenant isolation of secret hashes."""
    norm = NormHash.from_digest(fill(0xAB))
    a = key_secret_hash(TenantSecretKey(fill(0x42)), norm)
    b = key_secret_hash(TenantSecretKey(fill(0x43)), norm)
    assert a != b


def test_id16_finding_id_is_independent_of_version_and_policy() -> None:
    """ID-16: the inputs are exactly tenant, item, rule and secret (128 bytes)."""
    fields = {
        "tenant": TenantId(fill(9)),
        "item": StableItemId(fill(8)),
        "rule": RuleFingerprint(fill(7)),
        "secret": secret(6),
    }
    got = derive_finding_id(FindingIdInputs(**fields))
    material = fill(9) + fill(8) + fill(7) + fill(6)
    assert len(material) == 128
    assert bytes(got) == derive_key(FINDING_ID_V1, material)


def test_id17_derivation_accepts_zero_length() -> None:
    """ID-17: the derivation itself accepts byte_length == 0 (only FS-6 forbids it)."""
    oid = derive_occurrence_id(
        OccurrenceIdInputs(
            finding=FindingId(fill(1)),
            version=ObjectVersionId(fill(2)),
            byte_offset=7,
            byte_length=0,
        )
    )
    expected = derive_key(OCCURRENCE_ID_V1, fill(1) + fill(2) + u64le(7) + u64le(0))
    assert bytes(oid) == expected


@pytest.mark.parametrize("field", ["byte_offset", "byte_length"])
@pytest.mark.parametrize("value", [-1, 2**64])
def test_id17_occurrence_inputs_reject_out_of_range_u64(field: str, value: int) -> None:
    """§1.2 / ID-17: u64 fields outside 0..=2**64-1 raise ValueError naming the field."""
    kwargs: dict[str, object] = {
        "finding": FindingId(fill(1)),
        "version": ObjectVersionId(fill(2)),
        "byte_offset": 0,
        "byte_length": 1,
    }
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        OccurrenceIdInputs(**kwargs)  # type: ignore[arg-type]


def test_id18_observation_id_field_order_matters() -> None:
    """ID-18: swapping tenant and policy bytes changes the id."""
    a = derive_observation_id(
        ObservationIdInputs(
            tenant=TenantId(fill(1)), policy=PolicyHash(fill(2)), occurrence=OccurrenceId(fill(3))
        )
    )
    b = derive_observation_id(
        ObservationIdInputs(
            tenant=TenantId(fill(2)), policy=PolicyHash(fill(1)), occurrence=OccurrenceId(fill(3))
        )
    )
    assert a != b
    assert bytes(a) == derive_key(OBSERVATION_ID_V1, fill(1) + fill(2) + fill(3))


def test_id19_id_hash_mode_values_and_from_u8() -> None:
    """ID-19: UNKEYED = 0, KEYED_V1 = 1; from_u8 returns the member or None."""
    assert IdHashMode.UNKEYED.value == 0
    assert IdHashMode.KEYED_V1.value == 1
    assert IdHashMode.from_u8(0) is IdHashMode.UNKEYED
    assert IdHashMode.from_u8(1) is IdHashMode.KEYED_V1
    for bad in (2, 3, 127, 255):
        assert IdHashMode.from_u8(bad) is None


def test_id19_policy_hash_constants() -> None:
    """ID-19: CURRENT_VERSION = 1 and CURRENT_EVIDENCE_VERSION = 1."""
    assert PolicyHashInputs.CURRENT_VERSION == 1
    assert PolicyHashInputs.CURRENT_EVIDENCE_VERSION == 1


@pytest.mark.parametrize(
    ("version", "mode", "evidence"),
    [
        (1, IdHashMode.UNKEYED, 1),
        (1, IdHashMode.KEYED_V1, 1),
        (0x01020304, IdHashMode.KEYED_V1, U32_MAX),
    ],
)
def test_id19_compute_policy_hash_formula(version: int, mode: IdHashMode, evidence: int) -> None:
    """ID-19: derive-key(policy-hash/v2, u32LE || u8 || u32LE || 32 bytes), 41 bytes."""
    digest = bytes(range(32))
    material = u32le(version) + bytes([mode.value]) + u32le(evidence) + digest
    assert len(material) == 41
    got = compute_policy_hash(
        PolicyHashInputs(
            policy_hash_version=version,
            id_hash_mode=mode,
            evidence_hash_version=evidence,
            rules_digest=digest,
        )
    )
    assert isinstance(got, PolicyHash)
    assert bytes(got) == derive_key(POLICY_HASH_V2, material)


@pytest.mark.parametrize("field", ["policy_hash_version", "evidence_hash_version"])
@pytest.mark.parametrize("value", [-1, 2**32])
def test_id19_policy_hash_inputs_reject_out_of_range_u32(field: str, value: int) -> None:
    """§1.2 / ID-19: the u32 fields reject values outside 0..=2**32-1, naming the field."""
    kwargs: dict[str, object] = {
        "policy_hash_version": 1,
        "id_hash_mode": IdHashMode.UNKEYED,
        "evidence_hash_version": 1,
        "rules_digest": fill(0),
    }
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        PolicyHashInputs(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 31, 33])
def test_id19_policy_hash_inputs_reject_wrong_digest_length(length: int) -> None:
    """§1.2 / ID-19: rules_digest is exactly 32 bytes."""
    with pytest.raises(ValueError):  # noqa: PT011
        PolicyHashInputs(
            policy_hash_version=1,
            id_hash_mode=IdHashMode.UNKEYED,
            evidence_hash_version=1,
            rules_digest=b"\x00" * length,
        )


# ---------------------------------------------------------------------------
# ID-24 .. ID-26: purity, sensitivity, collisions (Hypothesis)
# ---------------------------------------------------------------------------


@given(tenant=bytes32, item=bytes32, rule=bytes32, sec=bytes32)
def test_id24_finding_id_is_pure_and_matches_formula(
    tenant: bytes, item: bytes, rule: bytes, sec: bytes
) -> None:
    """ID-24 / ID-16: same inputs, same output; equals the formula."""

    def make() -> FindingId:
        return derive_finding_id(
            FindingIdInputs(
                tenant=TenantId(tenant),
                item=StableItemId(item),
                rule=RuleFingerprint(rule),
                secret=SecretHash._from_raw(sec),
            )
        )

    first = make()
    assert make() == first
    assert bytes(first) == derive_key(FINDING_ID_V1, tenant + item + rule + sec)


@given(finding=bytes32, version=bytes32, offset=u64s, length=u64s)
def test_id24_occurrence_id_is_pure_and_matches_formula(
    finding: bytes, version: bytes, offset: int, length: int
) -> None:
    """ID-24 / ID-17."""
    inputs = OccurrenceIdInputs(
        finding=FindingId(finding),
        version=ObjectVersionId(version),
        byte_offset=offset,
        byte_length=length,
    )
    first = derive_occurrence_id(inputs)
    assert derive_occurrence_id(inputs) == first
    assert bytes(first) == derive_key(
        OCCURRENCE_ID_V1, finding + version + u64le(offset) + u64le(length)
    )


@given(tenant=bytes32, policy=bytes32, occurrence=bytes32)
def test_id24_observation_id_is_pure_and_matches_formula(
    tenant: bytes, policy: bytes, occurrence: bytes
) -> None:
    """ID-24 / ID-18."""
    inputs = ObservationIdInputs(
        tenant=TenantId(tenant), policy=PolicyHash(policy), occurrence=OccurrenceId(occurrence)
    )
    first = derive_observation_id(inputs)
    assert derive_observation_id(inputs) == first
    assert bytes(first) == derive_key(OBSERVATION_ID_V1, tenant + policy + occurrence)


@given(key=bytes32, norm=bytes32)
def test_id24_key_secret_hash_is_pure_and_matches_formula(key: bytes, norm: bytes) -> None:
    """ID-24 / ID-15."""
    a = key_secret_hash(TenantSecretKey(key), NormHash.from_digest(norm))
    b = key_secret_hash(TenantSecretKey(key), NormHash.from_digest(norm))
    assert a == b
    assert bytes(a) == blake3.blake3(b"gossip/secret-hash/v1" + norm, key=key).digest()


def flip(raw: bytes, index: int) -> bytes:
    """Change exactly one byte."""
    out = bytearray(raw)
    out[index] ^= 0x01
    return bytes(out)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    fields=st.tuples(bytes32, bytes32, bytes32, bytes32),
    which=st.integers(0, 3),
    index=st.integers(0, 31),
)
def test_id25_finding_id_is_sensitive_to_every_field(
    fields: tuple[bytes, bytes, bytes, bytes], which: int, index: int
) -> None:
    """ID-25: changing any single FindingIdInputs field changes the id."""

    def make(t: bytes, i: bytes, r: bytes, s: bytes) -> FindingId:
        return derive_finding_id(
            FindingIdInputs(
                tenant=TenantId(t),
                item=StableItemId(i),
                rule=RuleFingerprint(r),
                secret=SecretHash._from_raw(s),
            )
        )

    changed = list(fields)
    changed[which] = flip(changed[which], index)
    assert make(*fields) != make(*changed)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    finding=bytes32,
    version=bytes32,
    offset=u64s,
    length=u64s,
    which=st.integers(0, 3),
    index=st.integers(0, 31),
)
def test_id25_occurrence_id_is_sensitive_to_every_field(
    finding: bytes, version: bytes, offset: int, length: int, which: int, index: int
) -> None:
    """ID-25: changing any single OccurrenceIdInputs field changes the id."""
    base = [finding, version, offset, length]
    changed = list(base)
    if which < 2:
        changed[which] = flip(base[which], index)  # type: ignore[arg-type]
    else:
        changed[which] = base[which] ^ (1 << (index * 2))  # type: ignore[operator]

    def make(values: list[object]) -> OccurrenceId:
        return derive_occurrence_id(
            OccurrenceIdInputs(
                finding=FindingId(values[0]),  # type: ignore[arg-type]
                version=ObjectVersionId(values[1]),  # type: ignore[arg-type]
                byte_offset=values[2],  # type: ignore[arg-type]
                byte_length=values[3],  # type: ignore[arg-type]
            )
        )

    assert make(base) != make(changed)


@given(
    fields=st.tuples(bytes32, bytes32, bytes32),
    which=st.integers(0, 2),
    index=st.integers(0, 31),
)
def test_id25_observation_id_is_sensitive_to_every_field(
    fields: tuple[bytes, bytes, bytes], which: int, index: int
) -> None:
    """ID-25: changing any single ObservationIdInputs field changes the id."""

    def make(t: bytes, p: bytes, o: bytes) -> ObservationId:
        return derive_observation_id(
            ObservationIdInputs(
                tenant=TenantId(t), policy=PolicyHash(p), occurrence=OccurrenceId(o)
            )
        )

    changed = list(fields)
    changed[which] = flip(changed[which], index)
    assert make(*fields) != make(*changed)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(
    version=u32s,
    keyed=st.booleans(),
    evidence=u32s,
    digest=bytes32,
    which=st.integers(0, 3),
    bit=st.integers(0, 31),
)
def test_id25_policy_hash_is_sensitive_to_every_field(
    version: int, keyed: bool, evidence: int, digest: bytes, which: int, bit: int
) -> None:
    """ID-25 / ID-24: changing any single PolicyHashInputs field changes the hash."""

    def make(v: int, k: bool, e: int, d: bytes) -> PolicyHash:
        return compute_policy_hash(
            PolicyHashInputs(
                policy_hash_version=v,
                id_hash_mode=IdHashMode.KEYED_V1 if k else IdHashMode.UNKEYED,
                evidence_hash_version=e,
                rules_digest=d,
            )
        )

    base = (version, keyed, evidence, digest)
    changed = list(base)
    if which == 0:
        changed[0] = version ^ (1 << bit)
    elif which == 1:
        changed[1] = not keyed
    elif which == 2:
        changed[2] = evidence ^ (1 << bit)
    else:
        changed[3] = flip(digest, bit)
    assert make(*base) == make(*base)
    assert make(*base) != make(*changed)  # type: ignore[arg-type]


@given(key=bytes32, norm=bytes32, change_key=st.booleans(), index=st.integers(0, 31))
def test_id25_key_secret_hash_is_sensitive_to_key_and_norm(
    key: bytes, norm: bytes, change_key: bool, index: int
) -> None:
    """ID-25: changing the key or the norm changes the secret hash."""
    base = key_secret_hash(TenantSecretKey(key), NormHash.from_digest(norm))
    if change_key:
        other = key_secret_hash(TenantSecretKey(flip(key, index)), NormHash.from_digest(norm))
    else:
        other = key_secret_hash(TenantSecretKey(key), NormHash.from_digest(flip(norm, index)))
    assert base != other


def test_id26_occurrence_boundary_pairs_are_pairwise_distinct() -> None:
    """ID-26: (0,0), (MAX,MAX), (MAX,0), (0,MAX), (1024,42) give distinct ids."""
    pairs = [(0, 0), (U64_MAX, U64_MAX), (U64_MAX, 0), (0, U64_MAX), (1024, 42)]
    ids = {
        derive_occurrence_id(
            OccurrenceIdInputs(
                finding=FindingId(fill(1)),
                version=ObjectVersionId(fill(2)),
                byte_offset=offset,
                byte_length=length,
            )
        )
        for offset, length in pairs
    }
    assert len(ids) == len(pairs)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@given(pairs=st.lists(st.tuples(u64s, u64s), min_size=2, max_size=6, unique=True))
def test_id26_distinct_spans_give_distinct_occurrence_ids(pairs: list[tuple[int, int]]) -> None:
    """ID-26 (generalised): distinct (offset, length) pairs never collide."""
    ids = {
        derive_occurrence_id(
            OccurrenceIdInputs(
                finding=FindingId(fill(1)),
                version=ObjectVersionId(fill(2)),
                byte_offset=offset,
                byte_length=length,
            )
        )
        for offset, length in pairs
    }
    assert len(ids) == len(pairs)
