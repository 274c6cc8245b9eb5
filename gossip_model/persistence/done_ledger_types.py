"""The done-ledger key and status lattice (contracts.md DL-3, DL-4, DL-10..DL-13, CB-8).

A module of their own so that :mod:`gossip_model.persistence.errors` can name
them (``KeyMismatch.existing``, ``MissingErrorCode.status``) without
importing :mod:`gossip_model.persistence.done_ledger`, which imports the
errors: no import cycle, not even a type-only one. Both names are
re-exported by ``gossip_model.persistence.done_ledger`` and
``gossip_model.persistence``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

import blake3

from gossip_model.identity import OvidHash, PolicyHash, TenantId, check_type

# --- Key (DL-3, DL-4, CB-8) -------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class DoneLedgerKey:
    """DL-3: (tenant, policy, object version); equality and hashing over all three."""

    tenant_id: TenantId
    policy_hash: PolicyHash
    ovid_hash: OvidHash

    def __post_init__(self) -> None:
        check_type("DoneLedgerKey", "tenant_id", self.tenant_id, TenantId)
        check_type("DoneLedgerKey", "policy_hash", self.policy_hash, PolicyHash)
        check_type("DoneLedgerKey", "ovid_hash", self.ovid_hash, OvidHash)

    def __hash__(self) -> int:
        # Over the three ids' cached bytes hashes: the generated __hash__ called three
        # more __hash__ methods and built four tuples (the key of every store and oracle
        # lookup; issue 11 item 4). Equal keys have equal bytes, so this agrees with __eq__.
        return hash((self.tenant_id.raw, self.policy_hash.raw, self.ovid_hash.raw))

    def canonical_bytes(self) -> bytes:
        """CB-8: tenant(32) || policy(32) || ovid(32)."""
        return self.tenant_id.raw + self.policy_hash.raw + self.ovid_hash.raw

    def canonical_digest(self) -> bytes:
        """DL-4: plain (unkeyed) BLAKE3 of the 96 canonical bytes."""
        return bytes(blake3.blake3(self.canonical_bytes()).digest())


# --- Status lattice (DL-10..DL-13) -------------------------------------------


class DoneLedgerStatus(enum.Enum):
    """DL-10: five statuses; the stored u8 is the rank, ranks 4..=9 are reserved."""

    FAILED_RETRYABLE = (1, "FailedRetryable")
    FAILED_PERMANENT = (2, "FailedPermanent")
    SKIPPED = (3, "Skipped")
    SCANNED_CLEAN = (10, "ScannedClean")
    SCANNED_WITH_FINDINGS = (11, "ScannedWithFindings")

    rank: int
    variant_name: str
    ALL: ClassVar[tuple[DoneLedgerStatus, ...]]

    def __init__(self, rank: int, variant_name: str) -> None:
        # Plain attributes: the merge hot path reads ``rank`` on every call.
        self.rank = rank
        self.variant_name = variant_name

    @classmethod
    def from_rank(cls, rank: int) -> DoneLedgerStatus | None:
        """DL-11: the member for a stored rank, ``None`` for unknown ranks (corruption)."""
        return _BY_RANK.get(rank)

    def merge(self, other: DoneLedgerStatus) -> DoneLedgerStatus:
        """DL-13: the join, the operand with the higher rank (``self`` on a tie)."""
        return other if other.rank > self.rank else self

    def is_scanned(self) -> bool:
        return self.rank >= 10

    def is_failure(self) -> bool:
        return self.rank <= 2

    def is_skipped(self) -> bool:
        return self is DoneLedgerStatus.SKIPPED

    def is_terminal(self) -> bool:
        """DL-12: everything but FAILED_RETRYABLE suppresses rescans."""
        return self is not DoneLedgerStatus.FAILED_RETRYABLE

    def __repr__(self) -> str:
        return f"DoneLedgerStatus.{self.name}"


DoneLedgerStatus.ALL = tuple(DoneLedgerStatus)
_BY_RANK = {status.rank: status for status in DoneLedgerStatus.ALL}
_SCANNED_CLEAN = DoneLedgerStatus.SCANNED_CLEAN
_SCANNED_WITH_FINDINGS = DoneLedgerStatus.SCANNED_WITH_FINDINGS


__all__ = ["DoneLedgerKey", "DoneLedgerStatus"]
