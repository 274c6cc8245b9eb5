"""The conformance fixture: every value of one check derived from one seed byte (CONF-6)."""

from __future__ import annotations

from dataclasses import dataclass

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence.done_ledger import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.location import Location
from gossip_model.persistence.ovid import OvidHashInputs, VersionId, derive_ovid_hash

_MAX_SEED = 0xF9


def fill32(byte: int) -> bytes:
    return bytes([byte]) * 32


def ovid_for(stable_item: StableItemId, version_text: str) -> OvidHash:
    version = ObjectVersionId.from_version_bytes(version_text.encode("ascii"))
    return derive_ovid_hash(OvidHashInputs(stable_item, VersionId.strong(version)))


def _provenance(
    run: int, shard: int, epoch: int, started: int, finished: int
) -> DoneLedgerProvenance:
    return DoneLedgerProvenance(
        RunId(run), ShardId(shard), FenceEpoch(epoch), LogicalTime(started), LogicalTime(finished)
    )


@dataclass(frozen=True, slots=True)
class ConformanceFixture:
    """CONF-6: every value one check needs, derived from one seed byte."""

    seed: int
    tenant: TenantId
    policy: PolicyHash
    stable_item: StableItemId
    rule: RuleFingerprint
    norm_hash: NormHash
    secret_hash: SecretHash
    finding: FindingRecord
    occurrence: OccurrenceRecord
    observation: ObservationRecord
    ovid_hash: OvidHash
    key: DoneLedgerKey
    failed_record: DoneLedgerRecord
    scanned_record: DoneLedgerRecord

    def findings_batch(self) -> FindingsUpsertBatch:
        """One finding, its occurrence and its observation."""
        return FindingsUpsertBatch((self.finding,), (self.occurrence,), (self.observation,))


def sample_fixture(seed: int) -> ConformanceFixture:
    """CONF-6: build the fixture for ``seed`` (at most 0xF9, else ``ValueError``)."""
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(
            f"sample_fixture: seed must be in 0..={_MAX_SEED:#x}, got {seed}; "
            "pass a smaller conformance fixture seed"
        )
    s = seed
    tenant = TenantId(fill32(s))
    policy = PolicyHash(fill32(s + 1))
    stable_item = StableItemId(fill32(s + 2))
    rule = RuleFingerprint(fill32(s + 3))
    norm_hash = NormHash.from_digest(fill32(s + 5))
    secret_hash = key_secret_hash(TenantSecretKey(fill32(s + 4)), norm_hash)
    finding = FindingRecord.new(tenant, stable_item, rule, secret_hash)
    version = ObjectVersionId.from_version_bytes(f"conformance-version-{s}".encode("ascii"))
    occurrence = OccurrenceRecord.new(tenant, finding.finding_id, version, 100 + s, 32)
    ovid_hash = derive_ovid_hash(OvidHashInputs(stable_item, VersionId.strong(version)))
    observation = ObservationRecord.new(
        tenant,
        occurrence.occurrence_id,
        policy,
        ovid_hash,
        RunId(10_000 + s),
        ShardId(20_000 + s),
        FenceEpoch(30_000 + s),
        LogicalTime(40_000 + s),
        Location(f"safe/path/conformance-{s}.txt", f"https://example.invalid/conformance/{s}"),
    )
    key = DoneLedgerKey(tenant, policy, ovid_hash)
    failed = DoneLedgerRecord(
        key,
        DoneLedgerStatus.FAILED_RETRYABLE,
        4_096,
        1,
        _provenance(50_000 + s, 60_000 + s, 70_000 + s, 80_000 + s, 80_010 + s),
        DoneLedgerErrorCode("TIMEOUT"),
    )
    scanned = DoneLedgerRecord(
        key,
        DoneLedgerStatus.SCANNED_WITH_FINDINGS,
        2_048,
        1,
        _provenance(50_100 + s, 60_100 + s, 70_100 + s, 80_100 + s, 80_110 + s),
    )
    return ConformanceFixture(
        s,
        tenant,
        policy,
        stable_item,
        rule,
        norm_hash,
        secret_hash,
        finding,
        occurrence,
        observation,
        ovid_hash,
        key,
        failed,
        scanned,
    )


@dataclass(frozen=True, slots=True)
class TerminalFixture:
    fx: ConformanceFixture
    rows: tuple[DoneLedgerRecord, ...]
    expected: frozenset[OvidHash]
    cross_tenant: DoneLedgerRecord
    cross_policy: DoneLedgerRecord


def terminal_fixture() -> TerminalFixture:
    fx = sample_fixture(0xBB)
    specs = (
        (
            DoneLedgerStatus.FAILED_RETRYABLE,
            512,
            (33, 34, 35, 36, 37),
            "TEMP_RETRYABLE",
            "conformance-retryable-version",
        ),
        (
            DoneLedgerStatus.FAILED_PERMANENT,
            1_024,
            (40, 41, 42, 43, 44),
            "PERM_FAILURE",
            "conformance-failed-permanent-version",
        ),
        (
            DoneLedgerStatus.SKIPPED,
            512,
            (50, 51, 52, 53, 54),
            "UNSUPPORTED_FORMAT",
            "conformance-skipped-version",
        ),
        (
            DoneLedgerStatus.SCANNED_CLEAN,
            2_048,
            (60, 61, 62, 63, 64),
            None,
            "conformance-scanned-clean-version",
        ),
    )
    rows = []
    for offset, (status, size, prov, code, version) in enumerate(specs):
        key = DoneLedgerKey(
            fx.tenant, fx.policy, ovid_for(StableItemId(fill32(0xBB + 20 + offset)), version)
        )
        error_code = DoneLedgerErrorCode(code) if code is not None else None
        rows.append(DoneLedgerRecord(key, status, size, 0, _provenance(*prov), error_code))
    expected = frozenset(
        [fx.ovid_hash, *(r.key.ovid_hash for r in rows if r.status.is_terminal())]
    )

    def scanned_clean(
        tenant: TenantId,
        policy: PolicyHash,
        item: int,
        version: str,
        prov: tuple[int, int, int, int, int],
    ) -> DoneLedgerRecord:
        key = DoneLedgerKey(tenant, policy, ovid_for(StableItemId(fill32(item)), version))
        return DoneLedgerRecord(key, DoneLedgerStatus.SCANNED_CLEAN, 256, 0, _provenance(*prov))

    cross_tenant = scanned_clean(
        TenantId(fill32(0xBB + 30)),
        fx.policy,
        0xBB + 31,
        "conformance-cross-tenant-version",
        (70, 71, 72, 73, 74),
    )
    cross_policy = scanned_clean(
        fx.tenant,
        PolicyHash(fill32(0xBB + 32)),
        0xBB + 33,
        "conformance-cross-policy-version",
        (80, 81, 82, 83, 84),
    )
    return TerminalFixture(fx, tuple(rows), expected, cross_tenant, cross_policy)
