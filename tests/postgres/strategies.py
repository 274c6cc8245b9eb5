"""Hypothesis strategies for the PostgreSQL differential and parity tests (DT-4, DT-5).

Values stay inside the database limits (ENC-6: the in-memory stores accept
the full u64/u32 ranges, the databases do not), but reach them: ``2**63 - 1``
for the checked BIGINT columns, ``2**31 - 1`` for ``findings_count``, and
the whole u64 range, sign bit included, for run and shard ids. Small pools
of keys and values make merges, ties and conflicts frequent. Derived ids only
(DBF-7: tampered ids stay out of the differential comparison).
"""

from __future__ import annotations

from hypothesis import strategies as st

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    ObjectVersionId,
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
    FindingsUpsertBatch,
    Location,
    ObservationRecord,
    OccurrenceRecord,
)
from tests.builders import fill, finding_record

I63 = 2**63 - 1
I31 = 2**31 - 1
U64 = 2**64 - 1

STATUSES = tuple(DoneLedgerStatus.ALL)
SCANNED = (DoneLedgerStatus.SCANNED_CLEAN, DoneLedgerStatus.SCANNED_WITH_FINDINGS)


TENANTS = (TenantId(fill(1)), TenantId(fill(2)))
POLICIES = (PolicyHash(fill(3)), PolicyHash(fill(4)))
OVIDS = tuple(OvidHash(fill(n)) for n in (0x10, 0x11, 0x80, 0xFF))
KEYS = tuple(DoneLedgerKey(t, p, o) for t in TENANTS for p in POLICIES for o in OVIDS)

#: DT-5's boundary values for the checked columns and for run / shard ids.
CHECKED_VALUES = (0, 1, 2, I31, I63)
ID_VALUES = (0, 1, 2, I31, I63, 2**63, U64)

checked = st.one_of(st.sampled_from(CHECKED_VALUES), st.integers(0, 6), st.integers(0, I63))
ids64 = st.one_of(st.sampled_from(ID_VALUES), st.integers(0, 3), st.integers(0, U64))
counts = st.one_of(st.sampled_from((0, 1, 2, I31)), st.integers(0, I31))
codes = st.sampled_from(("E1", "E2", "E10", "HTTP 403", "E"))
# Built once, not per draw (building a strategy per field was much of a draw's cost).
_keys = st.sampled_from(KEYS)
_statuses = st.sampled_from(STATUSES)
_one_in_40 = st.integers(0, 39)
_positive_counts = st.integers(1, I31) | st.sampled_from((1, 2, I31))


@st.composite
def done_records(
    draw: st.DrawFn, keys: st.SearchStrategy[DoneLedgerKey] | None = None, *, valid: bool = False
) -> DoneLedgerRecord:
    """A done-ledger record; with ``valid=False`` sometimes one that fails validation."""
    key = draw(keys if keys is not None else _keys)
    status = draw(_statuses)
    started = draw(checked)
    finished = draw(st.one_of(st.just(started), st.integers(started, I63)))
    if not valid and draw(_one_in_40) == 0 and finished > 0:
        started, finished = finished, finished - 1  # DL-43: ProvenanceOrdering
    if status is DoneLedgerStatus.SCANNED_CLEAN:
        count = 0
    elif status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        count = draw(_positive_counts)
    else:
        count = draw(counts)
    wants_code = status not in SCANNED
    if not valid and draw(_one_in_40) == 0:
        wants_code = not wants_code  # DL-32 violation: stored as BatchValidation
    code = DoneLedgerErrorCode(draw(codes)) if wants_code else None
    provenance = DoneLedgerProvenance(
        RunId(draw(ids64)),
        ShardId(draw(ids64)),
        FenceEpoch(draw(checked)),
        LogicalTime(started),
        LogicalTime(finished),
    )
    return DoneLedgerRecord(key, status, draw(checked), count, provenance, code)


done_batches = st.lists(done_records(), max_size=8)


# --- findings -------------------------------------------------------------------------------

FINDING_SEEDS = (0x20, 0x30, 0x40)
LOCATIONS = (
    None,
    Location("repo/a.txt"),
    Location("repo/b.txt", "https://example.invalid/b"),
)


@st.composite
def findings_batches(draw: st.DrawFn) -> FindingsUpsertBatch:
    """A findings batch over small pools: chains, replays, orphans, conflicts, rarely mixed."""
    tenant = draw(st.sampled_from(TENANTS))

    def tenant_for() -> TenantId:
        return TENANTS[1] if tenant == TENANTS[0] else TENANTS[0]

    mixed = draw(st.integers(0, 19)) == 0

    def pick_tenant() -> TenantId:
        return tenant_for() if mixed and draw(st.booleans()) else tenant

    findings = [
        finding_record(pick_tenant(), draw(st.sampled_from(FINDING_SEEDS)))
        for _ in range(draw(st.integers(0, 3)))
    ]

    def occurrence() -> OccurrenceRecord:
        # Mostly a parent from this batch; else any pool finding (stored earlier, or an orphan).
        if findings and draw(st.integers(0, 4)) > 0:
            parent = draw(st.sampled_from(findings))
        else:
            parent = finding_record(pick_tenant(), draw(st.sampled_from(FINDING_SEEDS)))
        return OccurrenceRecord.new(
            parent.tenant_id,
            parent.finding_id,
            ObjectVersionId(fill(draw(st.sampled_from((0x50, 0x51))))),
            draw(st.sampled_from((0, 7, I63 - 10))),
            draw(st.sampled_from((1, 9))),
        )

    occurrences = [occurrence() for _ in range(draw(st.integers(0, 3)))]
    observations = []
    for _ in range(draw(st.integers(0, 4))):
        if occurrences and draw(st.integers(0, 4)) > 0:
            parent = draw(st.sampled_from(occurrences))
        else:
            parent = occurrence()
        observations.append(
            ObservationRecord.new(
                parent.tenant_id,
                parent.occurrence_id,
                draw(st.sampled_from(POLICIES)),
                draw(st.sampled_from(OVIDS[:2])),
                RunId(draw(ids64)),
                ShardId(draw(ids64)),
                FenceEpoch(draw(st.sampled_from((0, 1, I63)))),
                LogicalTime(draw(st.sampled_from((0, 5, 6, I63)))),
                draw(st.sampled_from(LOCATIONS)),
            )
        )
    return FindingsUpsertBatch(tuple(findings), tuple(occurrences), tuple(observations))


__all__ = [
    "CHECKED_VALUES",
    "I31",
    "I63",
    "ID_VALUES",
    "KEYS",
    "OVIDS",
    "POLICIES",
    "TENANTS",
    "U64",
    "done_batches",
    "done_records",
    "findings_batches",
]
