"""Identity values, canonical encoding and BLAKE3 derivations (contracts.md §2, §3).

Three kinds of identity value live here:

* public 32-byte ids (ID-1), rendered with a 4-byte hex prefix (RED-1);
* restricted 32-byte values (``NormHash``, ``SecretHash``, ``TenantSecretKey``,
  ID-2/ID-3) that never show their bytes (RED-2);
* 64-bit ids (ID-4..ID-6), rendered with their decimal value (RED-3).

Every derivation is a pure function over the canonical encoding (CB-*): fixed
fields are concatenated raw, variable byte strings get a u32 LE length prefix.
"""

from __future__ import annotations

import enum
import hmac
import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import blake3

from gossip_model.errorbase import ValueEquality

U8_MAX = 2**8 - 1
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1
I64_SIGN_BIT = 2**63

# --- Domain-separation tags (ID-10, §2.4) -----------------------------------

FINDING_ID_V1 = "gossip/finding/v1"
OCCURRENCE_ID_V1 = "gossip/occurrence/v1"
OBSERVATION_ID_V1 = "gossip/observation/v1"
SECRET_HASH_V1 = "gossip/secret-hash/v1"
ITEM_ID_V1 = "gossip/item-id/v1"
CONNECTOR_INSTANCE_ID_V1 = "gossip/connector-instance-id/v1"
OBJECT_VERSION_V1 = "gossip/object-version/v1"
POLICY_HASH_V2 = "gossip/policy-hash/v2"
OVID_V1 = "gossip/persistence/v1/ovid"
DONE_LEDGER_KEY_V1 = "gossip/persistence/v1/done-key"  # reserved, unused (§2.4)
RULE_FINGERPRINT_V1 = "gossip/rule/v1"
RULES_DIGEST_V1 = "gossip/rules-digest/v1"

#: Every tag this package defines; ID-10's registry invariants apply to it.
DOMAIN_TAGS: tuple[str, ...] = (
    FINDING_ID_V1,
    OCCURRENCE_ID_V1,
    OBSERVATION_ID_V1,
    SECRET_HASH_V1,
    ITEM_ID_V1,
    CONNECTOR_INSTANCE_ID_V1,
    OBJECT_VERSION_V1,
    POLICY_HASH_V2,
    OVID_V1,
    DONE_LEDGER_KEY_V1,
    RULE_FINGERPRINT_V1,
    RULES_DIGEST_V1,
)


# --- Input checks shared by every constructor --------------------------------


# Messages read ``Owner: field <problem>; <fix>`` (``Owner`` is the value type,
# or ``Type.method`` / a function name): the style of gossip_model/core/arguments.py.


def a_name(name: str) -> str:
    """``"a TenantId"`` / ``"an OvidHash"``: a type name with its article, for messages."""
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def pass_hint(expected: type, value: object) -> str:
    """The fix half of a type error: raw bytes or an int given for an id type get wrapped."""
    name = expected.__name__
    if isinstance(value, bytes | bytearray) and hasattr(expected, "raw"):
        return f"wrap the bytes: {name}(raw)"
    if isinstance(value, int) and not isinstance(value, bool) and hasattr(expected, "value"):
        return f"wrap the int: {name}({value})"
    return f"pass {a_name(name)}"


def check_int(owner: str, name: str, value: object, maximum: int) -> int:
    """Return ``value`` if it is an int in ``0..=maximum``; else raise naming the field.

    ``bool`` is rejected although it subclasses ``int``: a flag is never a count.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(
            f"{owner}: {name} must be an int, got {type(value).__name__}; "
            f"pass an int in 0..={maximum}"
        )
    if not 0 <= value <= maximum:
        width = {U8_MAX: "u8", U32_MAX: "u32", U64_MAX: "u64"}.get(maximum, f"0..={maximum}")
        raise ValueError(
            f"{owner}: {name} must fit in {width} (0..={maximum}), got {value}; "
            "pass a value in that range"
        )
    return value


def check_type(owner: str, name: str, value: object, expected: type[Any]) -> None:
    """Raise ``TypeError`` naming the field unless ``value`` is an ``expected`` instance."""
    if not isinstance(value, expected):
        raise TypeError(
            f"{owner}: {name} must be {expected.__name__}, "
            f"got {type(value).__name__}; {pass_hint(expected, value)}"
        )


def check_bytes(owner: str, name: str, value: object, length: int | None = None) -> bytes:
    """Return ``value`` as immutable bytes after checking its type and length.

    The error message names the size, never the content: the value may be secret.
    """
    size = "bytes" if length is None else f"exactly {length} bytes"
    if not isinstance(value, bytes | bytearray | memoryview):
        hint = " (e.g. bytes.fromhex(text) for hex)" if isinstance(value, str) else ""
        raise TypeError(
            f"{owner}: {name} must be bytes, got {type(value).__name__}; pass {size}{hint}"
        )
    raw = bytes(value)
    if length is not None and len(raw) != length:
        raise ValueError(f"{owner}: {name} must be {size}, got {len(raw)}; pass {size}")
    return raw


# --- Canonical encoding (CB-1..CB-9) -----------------------------------------


def encode_u8(value: int) -> bytes:
    """CB-1: one byte."""
    return bytes((check_int("encode_u8", "value", value, U8_MAX),))


def encode_u32(value: int) -> bytes:
    """CB-1: four bytes, little-endian."""
    return struct.pack("<I", check_int("encode_u32", "value", value, U32_MAX))


def encode_u64(value: int) -> bytes:
    """CB-1/CB-4: eight bytes, little-endian."""
    return struct.pack("<Q", check_int("encode_u64", "value", value, U64_MAX))


def encode_var_bytes(data: bytes) -> bytes:
    """CB-3: u32 LE length prefix, then the bytes; more than 2**32-1 bytes is an error."""
    if len(data) > U32_MAX:
        raise ValueError(
            f"encode_var_bytes: data too long for a u32 prefix ({len(data)} bytes, "
            f"max {U32_MAX}); pass at most {U32_MAX} bytes"
        )
    return struct.pack("<I", len(data)) + data


# --- Hashing (§1.4, ID-8, ID-9) ----------------------------------------------


class DomainHasher:
    """Streaming BLAKE3 derive-key hasher for one domain tag (§1.4).

    Feeding material in several ``update`` calls gives the one-shot digest.
    """

    __slots__ = ("_hasher",)

    def __init__(self, context: str) -> None:
        self._hasher = blake3.blake3(derive_key_context=context)

    def update(self, data: bytes) -> Self:
        self._hasher.update(data)
        return self

    def finalize_32(self) -> bytes:
        """ID-8: the 32-byte output."""
        return bytes(self._hasher.digest())

    def finalize_64(self) -> int:
        """ID-9: the first 8 output bytes read as a little-endian u64."""
        return int.from_bytes(self._hasher.digest()[:8], "little")


def derive_key(context: str, material: bytes) -> bytes:
    """BLAKE3 derive-key mode: 32 bytes (§1.4)."""
    return bytes(blake3.blake3(material, derive_key_context=context).digest())


# --- 32-byte public ids (ID-1, RED-1) ------------------------------------------


@dataclass(frozen=True, slots=True, order=True, repr=False)
class _Id32:
    """Opaque 32-byte id: built from any 32 bytes, ordered and hashed by its bytes."""

    raw: bytes

    ZERO: ClassVar[Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", check_bytes(type(self).__name__, "raw", self.raw, 32))

    def __bytes__(self) -> bytes:
        return self.raw

    def __hash__(self) -> int:
        # The bytes cache their own hash; the generated __hash__ built a 1-tuple per call
        # (ids are dict keys on every store, oracle and invariant step; issue 11 item 4).
        return hash(self.raw)

    def __repr__(self) -> str:
        # RED-1: type name and the first 4 bytes only.
        return f"{type(self).__name__}({self.raw[:4].hex()}..)"

    __str__ = __repr__


class TenantId(_Id32):
    """Tenant id (ID-1)."""

    __slots__ = ()


class PolicyHash(_Id32):
    """Policy hash (ID-1, ID-19)."""

    __slots__ = ()


class RuleFingerprint(_Id32):
    """Rule fingerprint; arrives precomputed (ID-1)."""

    __slots__ = ()


class FindingId(_Id32):
    """Finding id (ID-1, ID-16)."""

    __slots__ = ()


class OccurrenceId(_Id32):
    """Occurrence id (ID-1, ID-17)."""

    __slots__ = ()


class ObservationId(_Id32):
    """Observation id (ID-1, ID-18)."""

    __slots__ = ()


class StableItemId(_Id32):
    """Tenant-independent item id (ID-1, ID-12)."""

    __slots__ = ()


class OvidHash(_Id32):
    """Object-version identity hash (ID-1, ID-22)."""

    __slots__ = ()


class ConnectorInstanceIdHash(_Id32):
    """Hash of a connector instance id (ID-1, ID-11)."""

    __slots__ = ()

    @classmethod
    def from_instance_id_bytes(cls, instance_id: bytes) -> ConnectorInstanceIdHash:
        """ID-11: derive-key(connector-instance-id/v1, u32LE(len) || bytes); empty fails."""
        raw = check_bytes(
            "ConnectorInstanceIdHash.from_instance_id_bytes", "instance_id", instance_id
        )
        if not raw:
            raise EmptyConnectorInstanceId()
        return cls(derive_key(CONNECTOR_INSTANCE_ID_V1, encode_var_bytes(raw)))


class ObjectVersionId(_Id32):
    """Object version id (ID-1, ID-13)."""

    __slots__ = ()

    @classmethod
    def from_version_bytes(cls, version: bytes) -> ObjectVersionId:
        """ID-13: derive-key(object-version/v1, u32LE(len) || bytes); empty fails."""
        raw = check_bytes("ObjectVersionId.from_version_bytes", "version", version)
        if not raw:
            raise EmptyVersionBytes()
        return cls(derive_key(OBJECT_VERSION_V1, encode_var_bytes(raw)))


for _cls in (
    TenantId,
    PolicyHash,
    RuleFingerprint,
    FindingId,
    OccurrenceId,
    ObservationId,
    StableItemId,
    OvidHash,
    ConnectorInstanceIdHash,
    ObjectVersionId,
):
    _cls.ZERO = _cls(bytes(32))
del _cls


# --- Restricted values (ID-2, ID-3, RED-2) --------------------------------------


@dataclass(frozen=True, slots=True, order=True, repr=False)
class _Restricted32:
    """32 bytes that never render (RED-2): no ZERO, no public construction.

    ID-2 open point: Python cannot hide a constructor, so the class constructor
    is documented as internal; use the named factories.
    """

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", check_bytes(type(self).__name__, "raw", self.raw, 32))

    def __bytes__(self) -> bytes:
        return self.raw

    def __repr__(self) -> str:
        return f"{type(self).__name__}([redacted])"

    __str__ = __repr__


class NormHash(_Restricted32):
    """Normalised-secret digest from the detection engine (ID-2). Never rendered."""

    __slots__ = ()

    @classmethod
    def from_digest(cls, digest: bytes) -> NormHash:
        """ID-2: the public factory for a precomputed 32-byte digest."""
        return cls(digest)


class SecretHash(_Restricted32):
    """Tenant-keyed secret hash (ID-2), made only by :func:`key_secret_hash`."""

    __slots__ = ()

    @classmethod
    def _from_raw(cls, raw: bytes) -> SecretHash:
        """Test-only constructor (contracts.md §13 item 1), like the crate-internal one."""
        return cls(raw)


class TenantSecretKey:
    """Per-tenant secret key (ID-3).

    Deliberately unhashable, unordered and without ``__bytes__`` or a canonical
    encoding (CB-9): ``bytes(key)`` raises ``TypeError``, so the key cannot slip
    into an id derivation. ``as_bytes()`` is the explicit accessor (§13 item 2).
    Equality is constant-time.
    """

    __slots__ = ("_raw",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, raw: bytes) -> None:
        self._raw = check_bytes("TenantSecretKey", "raw", raw, 32)

    def as_bytes(self) -> bytes:
        return self._raw

    def is_valid(self) -> bool:
        """ID-3: true iff at least one byte is non-zero."""
        return any(self._raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TenantSecretKey):
            return NotImplemented
        return hmac.compare_digest(self._raw, other._raw)

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, "_raw"):
            raise AttributeError(
                f"TenantSecretKey: {name} cannot be set, a key is immutable; build a new "
                "TenantSecretKey instead"
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return "TenantSecretKey([redacted])"

    __str__ = __repr__


def key_secret_hash(key: TenantSecretKey, norm: NormHash) -> SecretHash:
    """ID-15: BLAKE3 keyed(key, b"gossip/secret-hash/v1" || norm), 53 data bytes."""
    check_type("key_secret_hash", "key", key, TenantSecretKey)
    check_type("key_secret_hash", "norm", norm, NormHash)
    digest = blake3.blake3(SECRET_HASH_V1.encode("ascii") + norm.raw, key=key.as_bytes())
    return SecretHash(bytes(digest.digest()))


# --- 64-bit ids (ID-4..ID-6, RED-3) ----------------------------------------------


@dataclass(frozen=True, slots=True, order=True, repr=False)
class _Id64:
    """u64 id: ``X(int)``, ``int(x)``, ordered and hashed by value (API.md)."""

    value: int

    ZERO: ClassVar[Any]

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "value", self.value, U64_MAX)

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __hash__(self) -> int:
        return hash(self.value)  # as _Id32.__hash__: no tuple per call

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value})"

    __str__ = __repr__


class RunId(_Id64):
    """Run id (ID-4)."""

    __slots__ = ()


class ShardId(_Id64):
    """Shard id (ID-4); bit 63 marks a shard derived by splitting."""

    __slots__ = ()

    def is_derived(self) -> bool:
        return self.value >= I64_SIGN_BIT


class FenceEpoch(_Id64):
    """Fencing epoch (ID-5): ``ZERO`` means unassigned, ``INITIAL`` is 1."""

    __slots__ = ()
    INITIAL: ClassVar[FenceEpoch]

    def is_assigned(self) -> bool:
        return self.value != 0

    def increment(self) -> FenceEpoch:
        """ID-5: value + 1. Open point (§13 item 3): ``OverflowError`` at the maximum."""
        if self.value == U64_MAX:
            raise OverflowError("FenceEpoch overflow")
        return FenceEpoch(self.value + 1)


class LogicalTime(_Id64):
    """Abstract monotonic counter, not wall-clock time (ID-6)."""

    __slots__ = ()

    def checked_add(self, delta: int) -> LogicalTime | None:
        """ID-6: the sum, or ``None`` when it exceeds u64."""
        check_int("LogicalTime.checked_add", "delta", delta, U64_MAX)
        total = self.value + delta
        return None if total > U64_MAX else LogicalTime(total)


for _cls64 in (RunId, ShardId, FenceEpoch, LogicalTime):
    _cls64.ZERO = _cls64(0)
del _cls64
FenceEpoch.INITIAL = FenceEpoch(1)


# --- Identity input errors (ID-7, ID-11..ID-13) ---------------------------------


class IdentityInputError(ValueEquality, ValueError):
    """Base of the identity input errors (contracts.md §13 item 4)."""


class EmptyTag(IdentityInputError):
    """ID-7: ``ConnectorTag.from_ascii`` was given an empty tag."""

    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return (
            "ConnectorTag.from_ascii: tag must not be empty; pass 1 to 8 printable ASCII "
            "bytes (0x21..=0x7E)"
        )


class TagTooLong(IdentityInputError):
    """ID-7: ``ConnectorTag.from_ascii`` was given more than 8 bytes."""

    _fields = ("len",)
    len: int

    def __init__(self, len: int) -> None:
        self._init_fields(len=len)

    def _message(self) -> str:
        return (
            f"ConnectorTag.from_ascii: tag is {self.len} bytes, max 8; pass a tag of 1 to 8 "
            "printable ASCII bytes"
        )


class NonGraphicByte(IdentityInputError):
    """ID-7: a tag byte outside ``0x21..=0x7E`` (the first one found)."""

    _fields = ("index", "byte")
    index: int
    byte: int

    def __init__(self, index: int, byte: int) -> None:
        self._init_fields(index=index, byte=byte)

    def _message(self) -> str:
        return (
            f"ConnectorTag.from_ascii: tag byte 0x{self.byte:02X} at index {self.index} "
            "is outside 0x21..=0x7E; pass printable ASCII only (no space, no control or "
            "non-ASCII character)"
        )


class EmptyConnectorInstanceId(IdentityInputError):
    """ID-11: ``ConnectorInstanceIdHash.from_instance_id_bytes(b"")``."""

    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return (
            "ConnectorInstanceIdHash.from_instance_id_bytes: instance_id must not be empty; "
            "pass the connector instance's id bytes"
        )


class EmptyLocator(IdentityInputError):
    """ID-12: an ``ItemIdentityKey`` with an empty locator."""

    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return "ItemIdentityKey: locator must not be empty; pass the item's locator bytes"


class EmptyVersionBytes(IdentityInputError):
    """ID-13: ``ObjectVersionId.from_version_bytes(b"")``."""

    def __init__(self) -> None:
        self._init_fields()

    def _message(self) -> str:
        return (
            "ObjectVersionId.from_version_bytes: version must not be empty; pass the "
            "object's version bytes"
        )


# --- Connector tag and item identity (ID-7, ID-12, RED-9) -----------------------


def _is_graphic(byte: int) -> bool:
    return 0x21 <= byte <= 0x7E


@dataclass(frozen=True, slots=True, order=True, repr=False)
class ConnectorTag:
    """8-byte connector tag (ID-7); ``ConnectorTag(raw)`` accepts any 8 bytes."""

    raw: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", check_bytes("ConnectorTag", "raw", self.raw, 8))

    @classmethod
    def from_ascii(cls, tag: str | bytes) -> ConnectorTag:
        """ID-7: 1..=8 graphic bytes, right-padded with NUL.

        Open point (§13 item 4): a ``str`` is UTF-8 encoded before the checks,
        so a non-ASCII character fails with ``NonGraphicByte`` at its first byte.
        """
        if isinstance(tag, str):
            data = tag.encode("utf-8")
        else:
            data = check_bytes("ConnectorTag.from_ascii", "tag", tag)
        if not data:
            raise EmptyTag()
        if len(data) > 8:
            raise TagTooLong(len(data))
        for index, byte in enumerate(data):
            if not _is_graphic(byte):
                raise NonGraphicByte(index, byte)
        return cls(data.ljust(8, b"\x00"))

    def __bytes__(self) -> bytes:
        return self.raw

    def __repr__(self) -> str:
        # RED-9: quoted text for graphic bytes followed only by padding, else hex.
        text = self.raw.rstrip(b"\x00")
        if text and all(_is_graphic(b) for b in text):
            return f'ConnectorTag("{text.decode("ascii")}")'
        return f"ConnectorTag({self.raw.hex()})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ItemIdentityKey:
    """Connector-scoped item identity (ID-12); ``stable_id()`` is tenant-independent."""

    connector: ConnectorTag
    connector_instance: ConnectorInstanceIdHash
    locator: bytes

    def __post_init__(self) -> None:
        check_type("ItemIdentityKey", "connector", self.connector, ConnectorTag)
        check_type(
            "ItemIdentityKey",
            "connector_instance",
            self.connector_instance,
            ConnectorInstanceIdHash,
        )
        locator = check_bytes("ItemIdentityKey", "locator", self.locator)
        if not locator:
            raise EmptyLocator()
        object.__setattr__(self, "locator", locator)

    def stable_id(self) -> StableItemId:
        """ID-12: derive-key(item-id/v1, tag(8) || instance(32) || u32LE(len) || locator)."""
        material = self.connector.raw + self.connector_instance.raw
        return StableItemId(derive_key(ITEM_ID_V1, material + encode_var_bytes(self.locator)))


# --- Finding, occurrence, observation and policy derivations (ID-15..ID-19) -----


@dataclass(frozen=True, slots=True)
class FindingIdInputs:
    """ID-16 inputs: tenant, item, rule, secret (128 bytes of material)."""

    tenant: TenantId
    item: StableItemId
    rule: RuleFingerprint
    secret: SecretHash

    def __post_init__(self) -> None:
        check_type("FindingIdInputs", "tenant", self.tenant, TenantId)
        check_type("FindingIdInputs", "item", self.item, StableItemId)
        check_type("FindingIdInputs", "rule", self.rule, RuleFingerprint)
        check_type("FindingIdInputs", "secret", self.secret, SecretHash)


def finding_id_material(
    tenant: TenantId, item: StableItemId, rule: RuleFingerprint, secret: SecretHash
) -> bytes:
    """CB-6 encoding of ID-16's inputs, shared by the record fast path."""
    return tenant.raw + item.raw + rule.raw + secret.raw


def derive_finding_id(inputs: FindingIdInputs) -> FindingId:
    """ID-16: derive-key(finding/v1, tenant || item || rule || secret)."""
    material = finding_id_material(inputs.tenant, inputs.item, inputs.rule, inputs.secret)
    return FindingId(derive_key(FINDING_ID_V1, material))


@dataclass(frozen=True, slots=True)
class OccurrenceIdInputs:
    """ID-17 inputs; the derivation accepts ``byte_length == 0`` (only FS-6 forbids it)."""

    finding: FindingId
    version: ObjectVersionId
    byte_offset: int
    byte_length: int

    def __post_init__(self) -> None:
        check_type("OccurrenceIdInputs", "finding", self.finding, FindingId)
        check_type("OccurrenceIdInputs", "version", self.version, ObjectVersionId)
        check_int("OccurrenceIdInputs", "byte_offset", self.byte_offset, U64_MAX)
        check_int("OccurrenceIdInputs", "byte_length", self.byte_length, U64_MAX)


def derive_occurrence_id(inputs: OccurrenceIdInputs) -> OccurrenceId:
    """ID-17: derive-key(occurrence/v1, finding || version || u64LE(off) || u64LE(len))."""
    material = (
        inputs.finding.raw
        + inputs.version.raw
        + struct.pack("<QQ", inputs.byte_offset, inputs.byte_length)
    )
    return OccurrenceId(derive_key(OCCURRENCE_ID_V1, material))


@dataclass(frozen=True, slots=True)
class ObservationIdInputs:
    """ID-18 inputs: tenant, policy, occurrence (field order matters)."""

    tenant: TenantId
    policy: PolicyHash
    occurrence: OccurrenceId

    def __post_init__(self) -> None:
        check_type("ObservationIdInputs", "tenant", self.tenant, TenantId)
        check_type("ObservationIdInputs", "policy", self.policy, PolicyHash)
        check_type("ObservationIdInputs", "occurrence", self.occurrence, OccurrenceId)


def derive_observation_id(inputs: ObservationIdInputs) -> ObservationId:
    """ID-18: derive-key(observation/v1, tenant || policy || occurrence)."""
    material = inputs.tenant.raw + inputs.policy.raw + inputs.occurrence.raw
    return ObservationId(derive_key(OBSERVATION_ID_V1, material))


class IdHashMode(enum.IntEnum):
    """ID-19: how ids are hashed, stored as a u8."""

    UNKEYED = 0
    KEYED_V1 = 1

    @classmethod
    def from_u8(cls, value: int) -> IdHashMode | None:
        """Open point (§13 item 5): the member, or ``None`` for unknown values."""
        try:
            return cls(value)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class PolicyHashInputs:
    """ID-19 inputs; the version constants are class attributes (§13 item 5)."""

    policy_hash_version: int
    id_hash_mode: IdHashMode
    evidence_hash_version: int
    rules_digest: bytes

    CURRENT_VERSION: ClassVar[int] = 1
    CURRENT_EVIDENCE_VERSION: ClassVar[int] = 1

    def __post_init__(self) -> None:
        check_int("PolicyHashInputs", "policy_hash_version", self.policy_hash_version, U32_MAX)
        check_type("PolicyHashInputs", "id_hash_mode", self.id_hash_mode, IdHashMode)
        check_int("PolicyHashInputs", "evidence_hash_version", self.evidence_hash_version, U32_MAX)
        digest = check_bytes("PolicyHashInputs", "rules_digest", self.rules_digest, 32)
        object.__setattr__(self, "rules_digest", digest)


def compute_policy_hash(inputs: PolicyHashInputs) -> PolicyHash:
    """ID-19: derive-key(policy-hash/v2, u32LE || u8 || u32LE || digest(32)), 41 bytes."""
    material = (
        struct.pack(
            "<IBI",
            inputs.policy_hash_version,
            int(inputs.id_hash_mode),
            inputs.evidence_hash_version,
        )
        + inputs.rules_digest
    )
    return PolicyHash(derive_key(POLICY_HASH_V2, material))


__all__ = [
    "CONNECTOR_INSTANCE_ID_V1",
    "DOMAIN_TAGS",
    "DONE_LEDGER_KEY_V1",
    "FINDING_ID_V1",
    "I64_SIGN_BIT",
    "ITEM_ID_V1",
    "OBJECT_VERSION_V1",
    "OBSERVATION_ID_V1",
    "OCCURRENCE_ID_V1",
    "OVID_V1",
    "POLICY_HASH_V2",
    "RULES_DIGEST_V1",
    "RULE_FINGERPRINT_V1",
    "SECRET_HASH_V1",
    "U32_MAX",
    "U64_MAX",
    "U8_MAX",
    "ConnectorInstanceIdHash",
    "ConnectorTag",
    "EmptyConnectorInstanceId",
    "EmptyLocator",
    "EmptyTag",
    "EmptyVersionBytes",
    "FenceEpoch",
    "FindingId",
    "FindingIdInputs",
    "IdHashMode",
    "IdentityInputError",
    "ItemIdentityKey",
    "LogicalTime",
    "NonGraphicByte",
    "NormHash",
    "ObjectVersionId",
    "ObservationId",
    "ObservationIdInputs",
    "OccurrenceId",
    "OccurrenceIdInputs",
    "OvidHash",
    "PolicyHash",
    "PolicyHashInputs",
    "RuleFingerprint",
    "RunId",
    "SecretHash",
    "ShardId",
    "StableItemId",
    "TagTooLong",
    "TenantId",
    "TenantSecretKey",
    "compute_policy_hash",
    "derive_finding_id",
    "derive_observation_id",
    "derive_occurrence_id",
    "key_secret_hash",
]
