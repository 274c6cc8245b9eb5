"""Object-version identity (contracts.md §2.7, ID-14, ID-20..ID-23)."""

from __future__ import annotations

from dataclasses import dataclass

from gossip_model.identity import (
    OVID_V1,
    ObjectVersionId,
    OvidHash,
    StableItemId,
    check_type,
    derive_key,
)


@dataclass(frozen=True, slots=True)
class VersionId:
    """A strong or weak claim on an object version (ID-14).

    Equality and hashing include the strength: ``strong(x) != weak(x)``.
    """

    object_version_id: ObjectVersionId
    strong_claim: bool

    def __post_init__(self) -> None:
        check_type("VersionId", "object_version_id", self.object_version_id, ObjectVersionId)
        check_type("VersionId", "strong_claim", self.strong_claim, bool)

    @classmethod
    def strong(cls, object_version_id: ObjectVersionId) -> VersionId:
        return cls(object_version_id, True)

    @classmethod
    def weak(cls, object_version_id: ObjectVersionId) -> VersionId:
        return cls(object_version_id, False)

    def is_strong(self) -> bool:
        return self.strong_claim

    def __repr__(self) -> str:
        kind = "strong" if self.strong_claim else "weak"
        return f"VersionId.{kind}({self.object_version_id!r})"


@dataclass(frozen=True, slots=True)
class OvidHashInputs:
    """ID-20: the item and the version claim that identify one object version."""

    stable_item_id: StableItemId
    version: VersionId

    def __post_init__(self) -> None:
        check_type("OvidHashInputs", "stable_item_id", self.stable_item_id, StableItemId)
        check_type("OvidHashInputs", "version", self.version, VersionId)

    def canonical_bytes(self) -> bytes:
        """ID-21: item(32) || strength (0x00 strong, 0x01 weak) || version(32), 65 bytes."""
        strength = b"\x00" if self.version.strong_claim else b"\x01"
        return self.stable_item_id.raw + strength + self.version.object_version_id.raw


def derive_ovid_hash(inputs: OvidHashInputs) -> OvidHash:
    """ID-22: derive-key(persistence/v1/ovid, ID-21 encoding); strong != weak (ID-23)."""
    check_type("derive_ovid_hash", "inputs", inputs, OvidHashInputs)
    return OvidHash(derive_key(OVID_V1, inputs.canonical_bytes()))
