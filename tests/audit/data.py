"""A contract-honouring data set for audit tests, and the expected row counts (issue 13).

Two tenants x two policies. Per scope: ``CHAINS`` finding -> occurrence ->
observation chains, a SCANNED_WITH_FINDINGS done row for each observation's
ovid (FS-40: findings durable first), and one row of every other status.
Run and shard ids use the sign bit (ENC-2) and locations appear with and
without a url, so the audit's decoding sees the edge values.
"""

from __future__ import annotations

from typing import Protocol

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.commit import CommitHandle
from tests.builders import fill

TENANTS = (TenantId(fill(1)), TenantId(fill(2)))
POLICIES = (PolicyHash(fill(3)), PolicyHash(fill(4)))
CHAINS = 3
OTHER_STATUSES = (
    DoneLedgerStatus.SCANNED_CLEAN,
    DoneLedgerStatus.FAILED_RETRYABLE,
    DoneLedgerStatus.FAILED_PERMANENT,
    DoneLedgerStatus.SKIPPED,
)
SCOPES = len(TENANTS) * len(POLICIES)
EXPECTED_ROWS = {
    "done_ledger_entries": SCOPES * (CHAINS + len(OTHER_STATUSES)),
    "findings": SCOPES * CHAINS,
    "occurrences": SCOPES * CHAINS,
    "observations": SCOPES * CHAINS,
}
BIG = 2**63 + 5  # u64 with the sign bit: stored negative (ENC-2)


class Ledger(Protocol):
    def batch_upsert(
        self, records: list[DoneLedgerRecord]
    ) -> CommitHandle[DoneLedgerCommitReceipt]: ...


class Sink(Protocol):
    def upsert_batch(self, batch: FindingsUpsertBatch) -> CommitHandle[FindingsCommitReceipt]: ...


def _tag(t: int, p: int, n: int, kind: int) -> bytes:
    return bytes([kind, t, p, n]) + bytes(28)


def chain(t: int, p: int, n: int) -> tuple[FindingRecord, OccurrenceRecord, ObservationRecord]:
    tenant, policy = TENANTS[t], POLICIES[p]
    secret = key_secret_hash(TenantSecretKey(fill(9)), NormHash.from_digest(_tag(t, p, n, 1)))
    finding = FindingRecord.new(
        tenant, StableItemId(_tag(t, p, n, 2)), RuleFingerprint(_tag(t, p, n, 3)), secret
    )
    occurrence = OccurrenceRecord.new(
        tenant, finding.finding_id, ObjectVersionId(_tag(t, p, n, 4)), 10 * n, 5
    )
    location = (None, Location("repo/a.txt"), Location("repo/b.txt", "https://x.invalid/b"))[n % 3]
    observation = ObservationRecord.new(
        tenant,
        occurrence.occurrence_id,
        policy,
        OvidHash(_tag(t, p, n, 5)),
        RunId(BIG),
        ShardId(BIG + n),
        FenceEpoch(2),
        LogicalTime(100 + n),
        location,
    )
    return finding, occurrence, observation


def done(t: int, p: int, ovid: OvidHash, status: DoneLedgerStatus, count: int) -> DoneLedgerRecord:
    return DoneLedgerRecord(
        DoneLedgerKey(TENANTS[t], POLICIES[p], ovid),
        status,
        4096,
        count,
        DoneLedgerProvenance(
            RunId(BIG), ShardId(7), FenceEpoch(2), LogicalTime(3), LogicalTime(9)
        ),
        None if status.is_scanned() else DoneLedgerErrorCode("E_TIMEOUT"),
    )


def populate(ledger: Ledger, sink: Sink, wait: float = 10.0) -> None:
    """Write the data set through the stores (findings first, FS-40)."""
    for t in range(len(TENANTS)):
        for p in range(len(POLICIES)):
            chains = [chain(t, p, n) for n in range(CHAINS)]
            sink.upsert_batch(
                FindingsUpsertBatch(
                    tuple(c[0] for c in chains),
                    tuple(c[1] for c in chains),
                    tuple(c[2] for c in chains),
                )
            ).wait(wait)
            records = [
                done(t, p, c[2].ovid_hash, DoneLedgerStatus.SCANNED_WITH_FINDINGS, 1)
                for c in chains
            ]
            records += [
                done(t, p, OvidHash(_tag(t, p, 200 + i, 6)), status, 0)
                for i, status in enumerate(OTHER_STATUSES)
            ]
            ledger.batch_upsert(records).wait(wait)
