"""The findings model: three record layers, the upsert batch, receipt and protocol.

contracts.md §8 (FS-1..FS-40). Records are content-addressed: ``X.new(...)``
derives the id, the plain constructor takes a stored row as given (FS-18) and
``verify_id()`` / ``validate_identity()`` detect tampering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from gossip_model.identity import (
    U64_MAX,
    FenceEpoch,
    FindingId,
    FindingIdInputs,
    LogicalTime,
    ObjectVersionId,
    ObservationId,
    ObservationIdInputs,
    OccurrenceId,
    OccurrenceIdInputs,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    check_int,
    check_type,
    derive_finding_id,
    derive_observation_id,
    derive_occurrence_id,
)
from gossip_model.persistence.commit import CommitHandle
from gossip_model.persistence.errors import (
    InconsistentTenant,
    ObservationIdMismatch,
    OrphanedReference,
    ZeroSpanLength,
)
from gossip_model.persistence.location import Location
from gossip_model.persistence.write_context import WriteContext

# --- Layer 1 (FS-1..FS-4) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A secret found under one rule in one item (FS-1); every field is identity (FS-4).

    Renders ``SecretHash([redacted])``, never the secret-hash bytes (RED-4).
    """

    tenant_id: TenantId
    finding_id: FindingId
    stable_item_id: StableItemId
    rule_fingerprint: RuleFingerprint
    secret_hash: SecretHash

    def __post_init__(self) -> None:
        check_type("FindingRecord", "tenant_id", self.tenant_id, TenantId)
        check_type("FindingRecord", "finding_id", self.finding_id, FindingId)
        check_type("FindingRecord", "stable_item_id", self.stable_item_id, StableItemId)
        check_type("FindingRecord", "rule_fingerprint", self.rule_fingerprint, RuleFingerprint)
        check_type("FindingRecord", "secret_hash", self.secret_hash, SecretHash)

    @classmethod
    def new(
        cls,
        tenant_id: TenantId,
        stable_item_id: StableItemId,
        rule_fingerprint: RuleFingerprint,
        secret_hash: SecretHash,
    ) -> FindingRecord:
        """FS-2: derive ``finding_id`` with ID-16; cannot fail for well-typed input."""
        inputs = FindingIdInputs(tenant_id, stable_item_id, rule_fingerprint, secret_hash)
        return cls(
            tenant_id, derive_finding_id(inputs), stable_item_id, rule_fingerprint, secret_hash
        )

    def derived_finding_id(self) -> FindingId:
        inputs = FindingIdInputs(
            self.tenant_id, self.stable_item_id, self.rule_fingerprint, self.secret_hash
        )
        return derive_finding_id(inputs)

    def verify_id(self) -> bool:
        """FS-3: the stored id equals the derivation from the other four fields."""
        return self.finding_id == self.derived_finding_id()


# --- Layer 2 (FS-5..FS-9) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OccurrenceRecord:
    """A finding at the span ``[byte_offset, byte_offset + byte_length)`` of a version.

    FS-5/FS-9: every field is identity. Open point (FS-6, §13 item 14): the
    stored-form constructor also rejects ``byte_length == 0`` with
    ``ZeroSpanLength``; no check that the span end fits in a u64.
    """

    tenant_id: TenantId
    occurrence_id: OccurrenceId
    finding_id: FindingId
    object_version_id: ObjectVersionId
    byte_offset: int
    byte_length: int

    def __post_init__(self) -> None:
        check_type("OccurrenceRecord", "tenant_id", self.tenant_id, TenantId)
        check_type("OccurrenceRecord", "occurrence_id", self.occurrence_id, OccurrenceId)
        check_type("OccurrenceRecord", "finding_id", self.finding_id, FindingId)
        check_type(
            "OccurrenceRecord", "object_version_id", self.object_version_id, ObjectVersionId
        )
        check_int("OccurrenceRecord", "byte_offset", self.byte_offset, U64_MAX)
        check_int("OccurrenceRecord", "byte_length", self.byte_length, U64_MAX)
        if self.byte_length == 0:
            raise ZeroSpanLength()

    @classmethod
    def new(
        cls,
        tenant_id: TenantId,
        finding_id: FindingId,
        object_version_id: ObjectVersionId,
        byte_offset: int,
        byte_length: int,
    ) -> OccurrenceRecord:
        """FS-6/FS-7: derive ``occurrence_id`` (ID-17); length 0 -> ``ZeroSpanLength``."""
        check_int("OccurrenceRecord", "byte_length", byte_length, U64_MAX)
        if byte_length == 0:
            raise ZeroSpanLength()
        inputs = OccurrenceIdInputs(finding_id, object_version_id, byte_offset, byte_length)
        return cls(
            tenant_id,
            derive_occurrence_id(inputs),
            finding_id,
            object_version_id,
            byte_offset,
            byte_length,
        )

    def derived_occurrence_id(self) -> OccurrenceId:
        inputs = OccurrenceIdInputs(
            self.finding_id, self.object_version_id, self.byte_offset, self.byte_length
        )
        return derive_occurrence_id(inputs)

    def verify_id(self) -> bool:
        """FS-8: the stored id equals the derivation (the tenant is not an input, FS-7)."""
        return self.occurrence_id == self.derived_occurrence_id()


# --- Layer 3 (FS-10..FS-18) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """An occurrence seen under a policy by a run (FS-10).

    Identity: tenant, observation id, occurrence id, policy, ovid hash;
    provenance and presentation (may change on upsert): run, shard, fence,
    ``seen_at``, ``location`` (FS-11). The plain constructor never checks the
    id (FS-18); readers of stored rows use ``from_persisted``.
    """

    tenant_id: TenantId
    observation_id: ObservationId
    occurrence_id: OccurrenceId
    policy_hash: PolicyHash
    ovid_hash: OvidHash
    run_id: RunId
    shard_id: ShardId
    fence_epoch: FenceEpoch
    seen_at: LogicalTime
    location: Location | None = None

    def __post_init__(self) -> None:
        check_type("ObservationRecord", "tenant_id", self.tenant_id, TenantId)
        check_type("ObservationRecord", "observation_id", self.observation_id, ObservationId)
        check_type("ObservationRecord", "occurrence_id", self.occurrence_id, OccurrenceId)
        check_type("ObservationRecord", "policy_hash", self.policy_hash, PolicyHash)
        check_type("ObservationRecord", "ovid_hash", self.ovid_hash, OvidHash)
        check_type("ObservationRecord", "run_id", self.run_id, RunId)
        check_type("ObservationRecord", "shard_id", self.shard_id, ShardId)
        check_type("ObservationRecord", "fence_epoch", self.fence_epoch, FenceEpoch)
        check_type("ObservationRecord", "seen_at", self.seen_at, LogicalTime)
        if self.location is not None:
            check_type("ObservationRecord", "location", self.location, Location)

    @classmethod
    def new(
        cls,
        tenant_id: TenantId,
        occurrence_id: OccurrenceId,
        policy_hash: PolicyHash,
        ovid_hash: OvidHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        seen_at: LogicalTime,
        location: Location | None = None,
    ) -> ObservationRecord:
        """FS-12: derive ``observation_id`` (ID-18); note occurrence comes before policy."""
        observation_id = derive_observation_id(
            ObservationIdInputs(tenant_id, policy_hash, occurrence_id)
        )
        return cls(
            tenant_id,
            observation_id,
            occurrence_id,
            policy_hash,
            ovid_hash,
            run_id,
            shard_id,
            fence_epoch,
            seen_at,
            location,
        )

    @classmethod
    def from_write_context(
        cls,
        wc: WriteContext,
        occurrence_id: OccurrenceId,
        ovid_hash: OvidHash,
        seen_at: LogicalTime,
        location: Location | None = None,
    ) -> ObservationRecord:
        """FS-13: ``new`` with tenant, policy, run, shard and fence taken from ``wc``."""
        check_type("ObservationRecord.from_write_context", "wc", wc, WriteContext)
        return cls.new(
            wc.tenant_id,
            occurrence_id,
            wc.policy_hash,
            ovid_hash,
            wc.run_id,
            wc.shard_id,
            wc.fence_epoch,
            seen_at,
            location,
        )

    @classmethod
    def from_persisted(
        cls,
        tenant_id: TenantId,
        observation_id: ObservationId,
        occurrence_id: OccurrenceId,
        policy_hash: PolicyHash,
        ovid_hash: OvidHash,
        run_id: RunId,
        shard_id: ShardId,
        fence_epoch: FenceEpoch,
        seen_at: LogicalTime,
        location: Location | None = None,
    ) -> ObservationRecord:
        """FS-14: rebuild a stored row, raising ``ObservationIdMismatch`` on a wrong id."""
        record = cls(
            tenant_id,
            observation_id,
            occurrence_id,
            policy_hash,
            ovid_hash,
            run_id,
            shard_id,
            fence_epoch,
            seen_at,
            location,
        )
        record.validate_identity()
        return record

    def with_location(self, location: Location | None) -> ObservationRecord:
        """FS-15: a copy with ``location`` replaced."""
        return replace(self, location=location)

    def derived_observation_id(self) -> ObservationId:
        """FS-16: the canonical id from tenant, policy and occurrence."""
        return derive_observation_id(
            ObservationIdInputs(self.tenant_id, self.policy_hash, self.occurrence_id)
        )

    def validate_identity(self) -> None:
        """FS-16: ``ObservationIdMismatch(expected=derived, actual=stored)`` on tampering."""
        expected = self.derived_observation_id()
        if expected != self.observation_id:
            raise ObservationIdMismatch(expected, self.observation_id)

    def verify_id(self) -> bool:
        return self.derived_observation_id() == self.observation_id

    def write_context(self) -> WriteContext:
        """WC-3/FS-17: all five fields round-trip through ``from_write_context``."""
        return WriteContext(
            self.tenant_id, self.policy_hash, self.run_id, self.shard_id, self.fence_epoch
        )


# --- Batch (FS-20..FS-24) ------------------------------------------------------------


def _as_tuple(field: str, items: Iterable[object], expected: type) -> tuple[object, ...]:
    """FS-20: ``tuple(items)``, naming the field and what was expected on a wrong type."""
    name = expected.__name__
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"FindingsUpsertBatch: {field} must be a sequence of {name}, "
            f"got {type(items).__name__}; pass a list or tuple of {name} (empty is fine)"
        )
    values = tuple(items)
    for index, item in enumerate(values):
        if not isinstance(item, expected):
            raise TypeError(
                f"FindingsUpsertBatch: {field}[{index}] must be {name}, "
                f"got {type(item).__name__}; pass only {name} items in {field}"
            )
    return values


@dataclass(frozen=True, slots=True)
class FindingsUpsertBatch:
    """FS-20: three read-only layers, stored as tuples; the default batch is empty."""

    findings: tuple[FindingRecord, ...] = ()
    occurrences: tuple[OccurrenceRecord, ...] = ()
    observations: tuple[ObservationRecord, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (
            ("findings", FindingRecord),
            ("occurrences", OccurrenceRecord),
            ("observations", ObservationRecord),
        ):
            object.__setattr__(self, name, _as_tuple(name, getattr(self, name), kind))

    def is_empty(self) -> bool:
        """FS-21."""
        return not (self.findings or self.occurrences or self.observations)

    def total_records(self) -> int:
        """FS-21."""
        return len(self.findings) + len(self.occurrences) + len(self.observations)

    def tenant(self) -> TenantId | None:
        """FS-23: the first finding's tenant, else the first occurrence's, else observation's."""
        for layer in (self.findings, self.occurrences, self.observations):
            if layer:
                return layer[0].tenant_id
        return None

    def validate_observation_identity(self) -> None:
        """FS-22: the first observation whose stored id is not canonical raises."""
        for observation in self.observations:
            observation.validate_identity()

    def validate_tenant_consistency(self) -> None:
        """FS-23: every record has the batch's tenant, else ``InconsistentTenant``."""
        tenant = self.tenant()
        for layer in (self.findings, self.occurrences, self.observations):
            for record in layer:
                if record.tenant_id != tenant:
                    raise InconsistentTenant()

    def validate_referential_integrity(self) -> None:
        """FS-24: tenants first, then closure within the batch (a diagnostic check)."""
        self.validate_tenant_consistency()
        finding_ids = {finding.finding_id for finding in self.findings}
        for occurrence in self.occurrences:
            if occurrence.finding_id not in finding_ids:
                raise OrphanedReference("OccurrenceRecord", "FindingRecord")
        occurrence_ids = {occurrence.occurrence_id for occurrence in self.occurrences}
        for observation in self.observations:
            if observation.occurrence_id not in occurrence_ids:
                raise OrphanedReference("ObservationRecord", "OccurrenceRecord")


# --- Receipt and interface (FS-30, FS-31) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingsCommitReceipt:
    """FS-31: distinct records per layer now durable (not the number newly inserted)."""

    finding_count: int
    occurrence_count: int
    observation_count: int

    def __post_init__(self) -> None:
        check_int("FindingsCommitReceipt", "finding_count", self.finding_count, U64_MAX)
        check_int("FindingsCommitReceipt", "occurrence_count", self.occurrence_count, U64_MAX)
        check_int("FindingsCommitReceipt", "observation_count", self.observation_count, U64_MAX)


@runtime_checkable
class FindingsSink(Protocol):
    """FS-30: idempotent, referentially intact upsert of a single-tenant batch."""

    def upsert_batch(self, batch: FindingsUpsertBatch) -> CommitHandle[FindingsCommitReceipt]:
        """Durable once ``wait()`` returns the receipt; failures raise here or at ``wait``."""
        ...
