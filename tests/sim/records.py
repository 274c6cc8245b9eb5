"""Record builders shared by the oracle and checker unit tests (plain values, no store)."""

from __future__ import annotations

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from tests.builders import fill

TENANT = TenantId(fill(0x01))
POLICY = PolicyHash(fill(0x02))


def key(i: int) -> DoneLedgerKey:
    """Key number ``i``: ovid hash of 32 bytes of ``0x40 + i``."""
    return DoneLedgerKey(TENANT, POLICY, OvidHash(fill(0x40 + i)))


def rec(
    i: int,
    status: DoneLedgerStatus = DoneLedgerStatus.SCANNED_CLEAN,
    nbytes: int = 100,
    findings: int = 0,
    run: int = 1,
    started: int = 10,
    finished: int = 20,
) -> DoneLedgerRecord:
    """A valid record for key ``i`` (error code for failed and skipped statuses)."""
    code = None if status.is_scanned() else DoneLedgerErrorCode("SIM_ERROR")
    prov = DoneLedgerProvenance(
        RunId(run), ShardId(1), FenceEpoch(1), LogicalTime(started), LogicalTime(finished)
    )
    return DoneLedgerRecord(key(i), status, nbytes, findings, prov, code)
