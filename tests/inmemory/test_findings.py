"""InMemoryFindingsSink: FS-1..FS-18 of inmemory.md (contracts.md BE-2..BE-6)."""

from __future__ import annotations

import pytest

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    ObservationId,
    RunId,
    ShardId,
    StableItemId,
)
from gossip_model.inmemory import (
    BatchValidation,
    CompletionOrder,
    FindingConflict,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
    PendingWriteId,
)
from gossip_model.inmemory.findings import FindingsState, apply_findings_batch, merge_observation
from gossip_model.persistence import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    InconsistentTenant,
    Location,
    ObservationIdMismatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from tests.builders import (
    fill,
    finding_record,
    full_batch,
    key,
    observation_record,
    occurrence_record,
    tenant,
)

F = InMemoryStoreKind.FINDINGS
OLDEST = CompletionOrder.OLDEST_FIRST
NEWEST = CompletionOrder.NEWEST_FIRST
T1 = tenant(1)


def commit(sink: InMemoryFindingsSink, batch: FindingsUpsertBatch) -> FindingsCommitReceipt:
    return sink.upsert_batch(batch).wait(timeout=5)


def snapshots(
    sink: InMemoryFindingsSink,
) -> tuple[list[FindingRecord], list[OccurrenceRecord], list[ObservationRecord]]:
    return (sink.findings_snapshot(), sink.occurrences_snapshot(), sink.observations_snapshot())


def tampered(observation: ObservationRecord) -> ObservationRecord:
    """The stored form with a wrong id (FS-18): reachable only through the raw constructor."""
    return ObservationRecord(
        observation.tenant_id,
        ObservationId(fill(0xEE)),
        observation.occurrence_id,
        observation.policy_hash,
        observation.ovid_hash,
        observation.run_id,
        observation.shard_id,
        observation.fence_epoch,
        observation.seen_at,
        observation.location,
    )


def reprovenance(
    observation: ObservationRecord, run: int, seen_at: int, location: Location | None
) -> ObservationRecord:
    """Same identity, new provenance (run = shard - 1 = epoch - 2) and location."""
    return ObservationRecord.new(
        observation.tenant_id,
        observation.occurrence_id,
        observation.policy_hash,
        observation.ovid_hash,
        RunId(run),
        ShardId(run + 1),
        FenceEpoch(run + 2),
        LogicalTime(seen_at),
        location,
    )


# --- idempotence, receipts, merge through the store (FS-9, FS-12, FS-14) ----------------


def test_findings_upsert_is_idempotent_and_merges_observation_provenance() -> None:
    """Item 4 / FS-9, FS-10, FS-12, FS-16."""
    sink = InMemoryFindingsSink()
    batch, finding, occurrence, observation = full_batch(T1, seen_at=80)
    assert commit(sink, batch) == FindingsCommitReceipt(1, 1, 1)
    later = ObservationRecord.new(
        T1,
        occurrence.occurrence_id,
        observation.policy_hash,
        observation.ovid_hash,
        RunId(90),
        ShardId(91),
        FenceEpoch(92),
        LogicalTime(100),
        Location("repo/path"),
    )
    assert commit(sink, FindingsUpsertBatch(observations=(later,))) == FindingsCommitReceipt(
        0, 0, 1
    )
    replay = FindingsUpsertBatch((finding,), (occurrence,))
    assert commit(sink, replay) == FindingsCommitReceipt(1, 1, 0)
    assert sink.findings_snapshot() == [finding]
    assert sink.occurrences_snapshot() == [occurrence]
    [merged] = sink.observations_snapshot()
    assert merged.observation_id == observation.observation_id
    assert (int(merged.seen_at), int(merged.run_id), int(merged.shard_id)) == (100, 90, 91)
    assert int(merged.fence_epoch) == 92
    assert merged.location == Location("repo/path")
    assert sink.get_finding(T1, finding.finding_id) == finding
    assert sink.get_occurrence(T1, occurrence.occurrence_id) == occurrence
    assert sink.get_observation(T1, observation.observation_id) == merged
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


def test_findings_receipt_counts_deduplicated_rows_not_raw_input() -> None:
    """Item 9 / FS-5, FS-14: the same finding twice counts once."""
    sink = InMemoryFindingsSink()
    finding = finding_record(T1, 10)
    assert commit(sink, FindingsUpsertBatch((finding, finding))) == FindingsCommitReceipt(1, 0, 0)
    assert sink.findings_snapshot() == [finding]


def test_findings_empty_batch_returns_zero_receipt() -> None:
    """Item 11 / FS-14."""
    sink = InMemoryFindingsSink()
    assert commit(sink, FindingsUpsertBatch()) == FindingsCommitReceipt(0, 0, 0)
    assert snapshots(sink) == ([], [], [])


def test_fs14_replay_of_durable_batch_returns_same_counts() -> None:
    """FS-14 / CH-3: a replay counts the distinct keys again, and adds no rows."""
    sink = InMemoryFindingsSink()
    batch, *_ = full_batch(T1)
    double = FindingsUpsertBatch(batch.findings * 2, batch.occurrences * 2, batch.observations * 2)
    first = commit(sink, double)
    assert first == FindingsCommitReceipt(1, 1, 1)
    assert commit(sink, batch) == first
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


# --- integrity failures and atomicity (FS-5..FS-8, FS-11, FS-13) -------------------------


def test_findings_upsert_rejects_missing_finding_without_partial_commit() -> None:
    """Item 5 / FS-6, FS-11."""
    sink = InMemoryFindingsSink()
    finding_a, finding_b = finding_record(T1, 10), finding_record(T1, 40)
    orphan = occurrence_record(T1, finding_b, 7, 0)
    with pytest.raises(MissingFinding) as info:
        commit(sink, FindingsUpsertBatch((finding_a,), (orphan,)))
    assert info.value == MissingFinding(T1, finding_b.finding_id, orphan.occurrence_id)
    assert snapshots(sink) == ([], [], [])


def test_findings_upsert_rejects_missing_occurrence_without_partial_commit() -> None:
    """Item 6 / FS-7, FS-11."""
    sink = InMemoryFindingsSink()
    _, _, occurrence, observation = full_batch(T1)
    with pytest.raises(MissingOccurrence) as info:
        commit(sink, FindingsUpsertBatch(observations=(observation,)))
    assert info.value == MissingOccurrence(
        T1, occurrence.occurrence_id, observation.observation_id
    )
    assert snapshots(sink) == ([], [], [])


def test_fs6_parent_check_is_tenant_scoped() -> None:
    """FS-6: a durable finding of another tenant does not satisfy the parent check."""
    sink = InMemoryFindingsSink()
    finding = finding_record(T1, 10)
    commit(sink, FindingsUpsertBatch((finding,)))
    own = occurrence_record(T1, finding, 5, 0)
    foreign = OccurrenceRecord.new(tenant(2), finding.finding_id, own.object_version_id, 0, 6)
    with pytest.raises(MissingFinding) as info:
        commit(sink, FindingsUpsertBatch(occurrences=(foreign,)))
    assert info.value.tenant_id == tenant(2)
    # A durable parent of the same tenant is enough (no finding in the batch).
    assert commit(sink, FindingsUpsertBatch(occurrences=(own,))) == FindingsCommitReceipt(0, 1, 0)


def test_fs5_finding_conflicts_in_batch_and_against_durable() -> None:
    """FS-5, FS-12: same key, different content -> FindingConflict; durable rows unchanged."""
    sink = InMemoryFindingsSink()
    finding = finding_record(T1, 10)
    forged = FindingRecord(
        T1,
        finding.finding_id,
        StableItemId(fill(0x99)),
        finding.rule_fingerprint,
        finding.secret_hash,
    )
    with pytest.raises(FindingConflict) as info:
        commit(sink, FindingsUpsertBatch((finding, forged)))
    assert info.value == FindingConflict(T1, finding.finding_id)
    assert sink.findings_snapshot() == []
    commit(sink, FindingsUpsertBatch((finding,)))
    with pytest.raises(FindingConflict):
        commit(sink, FindingsUpsertBatch((forged,)))
    assert sink.findings_snapshot() == [finding]


def test_fs6_occurrence_conflicts_in_batch_and_against_durable() -> None:
    """FS-6: same (tenant, occurrence id), different content -> OccurrenceConflict."""
    sink = InMemoryFindingsSink()
    finding = finding_record(T1, 10)
    occurrence = occurrence_record(T1, finding, 5, 0)
    forged = OccurrenceRecord(
        T1,
        occurrence.occurrence_id,
        finding.finding_id,
        occurrence.object_version_id,
        999,
        occurrence.byte_length,
    )
    with pytest.raises(OccurrenceConflict) as info:
        commit(sink, FindingsUpsertBatch((finding,), (occurrence, occurrence, forged)))
    assert info.value == OccurrenceConflict(T1, occurrence.occurrence_id)
    assert snapshots(sink) == ([], [], [])
    commit(sink, FindingsUpsertBatch((finding,), (occurrence,)))
    with pytest.raises(OccurrenceConflict):
        commit(sink, FindingsUpsertBatch(occurrences=(forged,)))
    assert sink.occurrences_snapshot() == [occurrence]


def test_observation_conflict_on_mismatched_identity_fields() -> None:
    """Item 12 / FS-8: same derived id, ovid 40 vs 41, separate batches."""
    sink = InMemoryFindingsSink()
    _batch, finding, occurrence, _ = full_batch(T1)
    first = observation_record(T1, occurrence, 3, 40, 1, 1, 1, 10)
    second = observation_record(T1, occurrence, 3, 41, 2, 2, 2, 20)
    assert first.observation_id == second.observation_id
    commit(sink, FindingsUpsertBatch((finding,), (occurrence,), (first,)))
    with pytest.raises(ObservationConflict) as info:
        commit(sink, FindingsUpsertBatch(observations=(second,)))
    assert info.value == ObservationConflict(T1, second.observation_id)
    [kept] = sink.observations_snapshot()
    assert int(kept.seen_at) == 10


def test_observation_conflict_within_single_batch() -> None:
    """Item 13 / FS-8, FS-11: the whole batch is aborted."""
    sink = InMemoryFindingsSink()
    _, finding, occurrence, _ = full_batch(T1)
    first = observation_record(T1, occurrence, 3, 40, 1, 1, 1, 10)
    second = observation_record(T1, occurrence, 3, 41, 2, 2, 2, 20)
    with pytest.raises(ObservationConflict):
        commit(sink, FindingsUpsertBatch((finding,), (occurrence,), (first, second)))
    assert snapshots(sink) == ([], [], [])


def test_fs13_injected_commit_failure_aborts_before_layer_one() -> None:
    """FS-13, ST-9: a commit fault leaves all three layers untouched."""
    sink = InMemoryFindingsSink()
    sink.fail_next_commits(1)
    batch, *_ = full_batch(T1)
    with pytest.raises(InjectedCommitFailure) as info:
        commit(sink, batch)
    assert info.value == InjectedCommitFailure(F)
    assert snapshots(sink) == ([], [], [])
    assert commit(sink, batch) == FindingsCommitReceipt(1, 1, 1)


def test_fs7_identity_recheck_at_apply_time() -> None:
    """FS-7: defence in depth; the pure apply re-checks observation identity."""
    state = FindingsState()
    batch, finding, occurrence, observation = full_batch(T1)
    bad = FindingsUpsertBatch((finding,), (occurrence,), (tampered(observation),))
    with pytest.raises(ObservationIdMismatch):
        apply_findings_batch(state, bad)
    assert state.counts() == DurableFindingsCounts(0, 0, 0)
    assert apply_findings_batch(state, batch) == FindingsCommitReceipt(1, 1, 1)


# --- pre-submit checks (FS-1..FS-4) -----------------------------------------------------


def test_inconsistent_tenant_batch_is_rejected_before_lock() -> None:
    """Item 28 / FS-3: upsert_batch itself raises BatchValidation(InconsistentTenant())."""
    sink = InMemoryFindingsSink()
    mixed = FindingsUpsertBatch((finding_record(T1, 10), finding_record(tenant(2), 10)))
    with pytest.raises(BatchValidation) as info:
        sink.upsert_batch(mixed)
    assert info.value == BatchValidation(InconsistentTenant())
    assert str(info.value) == "records in the batch belong to different tenants"
    assert snapshots(sink) == ([], [], [])


def test_fs2_observation_identity_mismatch_is_raised_by_upsert_batch() -> None:
    """FS-2: a wrong stored observation id is rejected by the submit call."""
    sink = InMemoryFindingsSink()
    _, finding, occurrence, observation = full_batch(T1)
    bad = tampered(observation)
    with pytest.raises(BatchValidation) as info:
        sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,), (bad,)))
    assert info.value.source == ObservationIdMismatch(
        observation.observation_id, bad.observation_id
    )
    assert isinstance(info.value.__cause__, ObservationIdMismatch)
    assert sink._core.next_op_id == 1


def test_findings_pre_submit_rejection_consumes_nothing() -> None:
    """Item 45 / FS-4, ST-8: no id, no submission fault, no delay and no commit fault used."""
    sink = InMemoryFindingsSink()
    sink.fail_next_submissions(1)
    sink.delay_next_writes(1)
    sink.fail_next_commits(1)
    _, finding, occurrence, observation = full_batch(T1)
    mixed = FindingsUpsertBatch((finding, finding_record(tenant(2), 10)))
    mismatched = FindingsUpsertBatch(observations=(tampered(observation),))
    for rejected in (mixed, mismatched):
        with pytest.raises(BatchValidation):
            sink.upsert_batch(rejected)
    core = sink._core
    assert (core.fail_submit_remaining, core.delay_next, core.fail_commit_remaining) == (1, 1, 1)
    valid = FindingsUpsertBatch((finding,), (occurrence,))
    with pytest.raises(InjectedSubmissionFailure):
        sink.upsert_batch(valid)
    delayed = sink.upsert_batch(valid)
    assert delayed.op_id == PendingWriteId(1)
    assert sink.pending_ids() == [delayed.op_id]
    assert sink.release_all(OLDEST) == 1
    with pytest.raises(InjectedCommitFailure):
        delayed.wait(1)


def test_be3_identity_and_tenant_checked_by_upsert_batch_parents_when_applied() -> None:
    """BE-3 (contracts.md): ``validate_observation_identity()`` and tenant consistency fail
    in ``upsert_batch`` itself; referential checks run only when the op is applied, against
    the durable state of that moment, and their error comes from ``wait()``."""
    sink = InMemoryFindingsSink(auto_complete=False)
    _, finding, occurrence, observation = full_batch(T1)
    # Submission time: raised by the call, so no handle and no queued op.
    with pytest.raises(BatchValidation) as mixed:
        sink.upsert_batch(FindingsUpsertBatch((finding, finding_record(tenant(2), 10))))
    assert mixed.value == BatchValidation(InconsistentTenant())
    with pytest.raises(BatchValidation) as wrong_id:
        sink.upsert_batch(FindingsUpsertBatch(observations=(tampered(observation),)))
    assert isinstance(wrong_id.value.source, ObservationIdMismatch)
    assert sink.pending_count() == 0
    # Referential checks: orphans are accepted by the call and fail at apply time.
    orphan_occurrence = sink.upsert_batch(FindingsUpsertBatch(occurrences=(occurrence,)))
    orphan_observation = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    assert sink.pending_ids() == [orphan_occurrence.op_id, orphan_observation.op_id]
    assert sink.release_all(OLDEST) == 2
    with pytest.raises(MissingFinding) as no_finding:
        orphan_occurrence.wait(1)
    assert no_finding.value == MissingFinding(T1, finding.finding_id, occurrence.occurrence_id)
    with pytest.raises(MissingOccurrence) as no_occurrence:
        orphan_observation.wait(1)
    assert no_occurrence.value == MissingOccurrence(
        T1, occurrence.occurrence_id, observation.observation_id
    )
    assert snapshots(sink) == ([], [], [])
    # The parent check sees the durable state at apply time, not at submission time:
    # the child is submitted first but applied after its parents.
    child = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    parents = sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,)))
    assert sink.release_specific(parents.op_id) is True
    assert sink.release_specific(child.op_id) is True
    assert child.wait(1) == FindingsCommitReceipt(0, 0, 1)
    assert parents.wait(1) == FindingsCommitReceipt(1, 1, 0)
    # Auto-complete mode: the orphan still gets a handle; the error is wait()'s.
    sink.set_auto_complete(True)
    stray = occurrence_record(T1, finding_record(T1, 40), 7, 0)
    handle = sink.upsert_batch(FindingsUpsertBatch(occurrences=(stray,)))
    with pytest.raises(MissingFinding):
        handle.wait(0)


def test_be4_layer_order_batch_or_durable_parents_all_or_nothing_and_receipt() -> None:
    """BE-4 (contracts.md): findings, then occurrences, then observations; parents may be
    in the batch or durable; nothing is written unless everything passed; the receipt is
    the size of each deduplicated batch map."""
    sink = InMemoryFindingsSink()
    batch, finding, occurrence, observation = full_batch(T1)
    commit(sink, batch)
    durable = snapshots(sink)
    forged = FindingRecord(
        T1,
        finding.finding_id,
        StableItemId(fill(0x99)),
        finding.rule_fingerprint,
        finding.secret_hash,
    )
    orphan_occurrence = occurrence_record(T1, finding_record(T1, 40), 7, 0)
    unstored_occurrence = occurrence_record(T1, finding, 99, 0)
    orphan_observation = observation_record(T1, unstored_occurrence, 3, 4, 1, 1, 1, 1)
    # Layer order: a finding error beats an occurrence error, which beats an observation
    # error, whatever else the batch holds.
    with pytest.raises(FindingConflict) as first:
        commit(
            sink,
            FindingsUpsertBatch((forged,), (orphan_occurrence,), (orphan_observation,)),
        )
    assert first.value == FindingConflict(T1, finding.finding_id)
    with pytest.raises(MissingFinding) as second:
        commit(sink, FindingsUpsertBatch((), (orphan_occurrence,), (orphan_observation,)))
    assert second.value.occurrence_id == orphan_occurrence.occurrence_id
    # All or nothing: valid new records in every layer, plus one observation that conflicts
    # with the durable row (ovid 41 instead of 4) -> no layer changes.
    finding2 = finding_record(T1, 40)
    occurrence2 = occurrence_record(T1, finding2, 7, 0)
    observation2 = observation_record(T1, occurrence2, 3, 4, 1, 1, 1, 10)
    clash = observation_record(T1, occurrence, 3, 41, 1, 1, 1, 500)
    assert clash.observation_id == observation.observation_id
    with pytest.raises(ObservationConflict):
        commit(
            sink,
            FindingsUpsertBatch((finding2,), (occurrence2,), (observation2, clash)),
        )
    assert snapshots(sink) == durable
    # Batch + durable parents, duplicates deduplicated: findings {finding, finding2},
    # occurrences {occurrence2} (parent in the batch), observations {observation2 merged
    # with its later twin, a new one under the durable occurrence}.
    later2 = observation_record(T1, occurrence2, 3, 4, 2, 2, 2, 20)
    on_durable = observation_record(T1, occurrence, 5, 4, 1, 1, 1, 10)
    receipt = commit(
        sink,
        FindingsUpsertBatch(
            (finding, finding2, finding2),
            (occurrence2, occurrence2),
            (observation2, later2, on_durable),
        ),
    )
    assert receipt == FindingsCommitReceipt(2, 1, 2)
    assert sink.durable_counts() == DurableFindingsCounts(2, 2, 3)
    stored = sink.get_observation(T1, observation2.observation_id)
    assert stored is not None
    assert (int(stored.seen_at), int(stored.run_id)) == (20, 2)


# --- delayed mode and release orders (ST-14..ST-16 for the sink) ---------------------------


def test_findings_submission_failures_and_release_all_are_deterministic() -> None:
    """Item 7 / ST-6, ST-16, FS-14."""
    sink = InMemoryFindingsSink(auto_complete=False)
    sink.fail_next_submissions(1)
    batch, *_ = full_batch(T1)
    with pytest.raises(InjectedSubmissionFailure) as info:
        sink.upsert_batch(batch)
    assert info.value == InjectedSubmissionFailure(F)
    assert sink.pending_count() == 0
    first, second = sink.upsert_batch(batch), sink.upsert_batch(batch)
    assert sink.pending_ids() == [first.op_id, second.op_id]
    assert sink.release_all(OLDEST) == 2
    assert first.wait(1).finding_count == 1
    assert second.wait(1).observation_count == 1
    assert sink.pending_count() == 0


def test_release_all_newest_first_can_break_parent_order() -> None:
    """Item 47 / ST-16: the observation-only batch is applied first and misses its parent."""
    sink = InMemoryFindingsSink(auto_complete=False)
    _, finding, occurrence, observation = full_batch(T1)
    parents = sink.upsert_batch(FindingsUpsertBatch((finding,), (occurrence,)))
    child = sink.upsert_batch(FindingsUpsertBatch(observations=(observation,)))
    assert sink.release_all(NEWEST) == 2
    with pytest.raises(MissingOccurrence):
        child.wait(1)
    assert parents.wait(1) == FindingsCommitReceipt(1, 1, 0)
    assert sink.observations_snapshot() == []


# --- observation merge rules (FS-8..FS-10, BE-5) -------------------------------------------


def merge_case(
    existing_seen: int,
    existing_location: Location | None,
    incoming_seen: int,
    incoming_location: Location | None,
) -> ObservationRecord:
    """Store existing (run 50), then incoming (run 90) through the sink; return the row."""
    sink = InMemoryFindingsSink()
    _, finding, occurrence, observation = full_batch(T1)
    existing = reprovenance(observation, 50, existing_seen, existing_location)
    incoming = reprovenance(observation, 90, incoming_seen, incoming_location)
    commit(sink, FindingsUpsertBatch((finding,), (occurrence,), (existing,)))
    commit(sink, FindingsUpsertBatch(observations=(incoming,)))
    [row] = sink.observations_snapshot()
    assert row.observation_id == observation.observation_id
    return row


def test_observation_merge_preserves_location_from_either_record() -> None:
    """Item 21 / FS-9, FS-10: existing wins on seen_at; the location comes from incoming."""
    row = merge_case(100, None, 80, Location("repo/path"))
    assert (int(row.seen_at), int(row.run_id)) == (100, 50)
    assert row.location == Location("repo/path")


def test_observation_merge_equal_seen_at_both_with_location_keeps_existing() -> None:
    """Item 29 / FS-9: tie, both located -> existing provenance and location."""
    row = merge_case(100, Location("existing/path"), 100, Location("incoming/path"))
    assert int(row.run_id) == 50
    assert row.location == Location("existing/path")


def test_observation_merge_earlier_incoming_keeps_existing_provenance() -> None:
    """Item 30 / FS-9, FS-10."""
    row = merge_case(200, None, 100, Location("incoming/path"))
    assert (int(row.seen_at), int(row.run_id)) == (200, 50)
    assert row.location == Location("incoming/path")


def test_observation_merge_equal_seen_at_existing_has_location_keeps_existing() -> None:
    """Item 31 / FS-9."""
    row = merge_case(100, Location("existing/path"), 100, None)
    assert int(row.run_id) == 50
    assert row.location == Location("existing/path")


def test_fs9_tie_incoming_with_location_wins_and_later_incoming_keeps_existing_location() -> None:
    """FS-9, FS-10: the two remaining branches of the winner and location rules."""
    tie = merge_case(100, None, 100, Location("incoming/path"))
    assert int(tie.run_id) == 90
    assert tie.location == Location("incoming/path")
    later = merge_case(100, Location("existing/path"), 150, None)
    assert (int(later.seen_at), int(later.run_id), int(later.shard_id)) == (150, 90, 91)
    assert int(later.fence_epoch) == 92
    assert later.location == Location("existing/path")
    neither = merge_case(100, None, 90, None)
    assert (int(neither.seen_at), neither.location) == (100, None)


def test_fs7_in_batch_observations_merge_left_to_right_from_durable_row() -> None:
    """FS-7: repeated keys in one batch merge left to right, starting from the durable row."""
    sink = InMemoryFindingsSink()
    _, finding, occurrence, observation = full_batch(T1)
    durable = reprovenance(observation, 10, 300, None)
    commit(sink, FindingsUpsertBatch((finding,), (occurrence,), (durable,)))
    a = reprovenance(observation, 20, 200, Location("a"))
    b = reprovenance(observation, 30, 400, None)
    receipt = commit(sink, FindingsUpsertBatch(observations=(a, b)))
    assert receipt == FindingsCommitReceipt(0, 0, 1)
    [row] = sink.observations_snapshot()
    assert (int(row.seen_at), int(row.run_id)) == (400, 30)
    assert row.location == Location("a")


@pytest.mark.parametrize(
    "field", ["tenant_id", "observation_id", "occurrence_id", "policy_hash", "ovid_hash"]
)
def test_fs8_merge_observation_rejects_every_identity_difference(field: str) -> None:
    """FS-8: each of the five identity fields on its own raises ObservationConflict."""
    _, _, _occurrence, observation = full_batch(T1)
    other_occurrence = occurrence_record(T1, finding_record(T1, 60), 9, 1)
    replacement = {
        "tenant_id": tenant(2),
        "observation_id": ObservationId(fill(0x42)),
        "occurrence_id": other_occurrence.occurrence_id,
        "policy_hash": key(1, 0x33, 1).policy_hash,
        "ovid_hash": key(1, 1, 0x44).ovid_hash,
    }[field]
    values = {name: getattr(observation, name) for name in ObservationRecord.__slots__}
    values[field] = replacement
    incoming = ObservationRecord(**values)
    with pytest.raises(ObservationConflict) as info:
        merge_observation(observation, incoming)
    assert info.value == ObservationConflict(incoming.tenant_id, incoming.observation_id)
    assert merge_observation(observation, observation) is observation


# --- reads (FS-15..FS-17) and isolation --------------------------------------------------


def test_get_record_and_get_finding_return_none_for_missing_keys() -> None:
    """Item 23 / DL-11, FS-16: the four point lookups on empty stores."""
    ledger, sink = InMemoryDoneLedger(), InMemoryFindingsSink()
    _, finding, occurrence, observation = full_batch(T1)
    assert ledger.get_record(key(1, 2, 3)) is None
    assert sink.get_finding(T1, finding.finding_id) is None
    assert sink.get_occurrence(T1, occurrence.occurrence_id) is None
    assert sink.get_observation(T1, observation.observation_id) is None


def test_findings_snapshots_isolate_tenants() -> None:
    """Item 35 / FS-15, FS-16, BE-2."""
    sink = InMemoryFindingsSink()
    batch1, finding1, occurrence1, observation1 = full_batch(tenant(1))
    batch2, finding2, occurrence2, _ = full_batch(tenant(2))
    commit(sink, batch1)
    commit(sink, batch2)
    assert [len(layer) for layer in snapshots(sink)] == [2, 2, 2]
    assert finding1.finding_id != finding2.finding_id
    assert sink.get_finding(tenant(2), finding1.finding_id) is None
    assert sink.get_occurrence(tenant(2), occurrence1.occurrence_id) is None
    assert sink.get_observation(tenant(2), observation1.observation_id) is None
    assert sink.get_finding(tenant(1), finding1.finding_id) == finding1
    assert occurrence1.occurrence_id != occurrence2.occurrence_id


def test_fs6_same_occurrence_id_under_two_tenants_are_two_rows() -> None:
    """BE-2, FS-6: the occurrence id ignores the tenant; the storage key does not."""
    sink = InMemoryFindingsSink()
    f1 = finding_record(tenant(1), 10)
    # Stored form (taken as given): tenant 2 holding the same finding id.
    f2 = FindingRecord(
        tenant(2), f1.finding_id, f1.stable_item_id, f1.rule_fingerprint, f1.secret_hash
    )
    o1 = occurrence_record(tenant(1), f1, 5, 0)
    o2 = occurrence_record(tenant(2), f2, 5, 0)
    assert o1.occurrence_id == o2.occurrence_id
    commit(sink, FindingsUpsertBatch((f1,), (o1,)))
    commit(sink, FindingsUpsertBatch((f2,), (o2,)))
    assert sink.durable_counts() == DurableFindingsCounts(2, 2, 0)
    assert sink.get_occurrence(tenant(1), o1.occurrence_id) == o1
    assert sink.get_occurrence(tenant(2), o2.occurrence_id) == o2


def test_fs15_snapshots_are_sorted_by_tenant_then_id_bytes() -> None:
    """FS-15: byte-wise order, new lists each call."""
    sink = InMemoryFindingsSink()
    for t in (3, 1, 2):
        for seed in (10, 70):
            batch, *_ = full_batch(tenant(t), seed=seed)
            commit(sink, batch)
    findings = sink.findings_snapshot()
    assert [(bytes(r.tenant_id), bytes(r.finding_id)) for r in findings] == sorted(
        (bytes(r.tenant_id), bytes(r.finding_id)) for r in findings
    )
    occurrences = sink.occurrences_snapshot()
    assert [(bytes(r.tenant_id), bytes(r.occurrence_id)) for r in occurrences] == sorted(
        (bytes(r.tenant_id), bytes(r.occurrence_id)) for r in occurrences
    )
    observations = sink.observations_snapshot()
    assert [(bytes(r.tenant_id), bytes(r.observation_id)) for r in observations] == sorted(
        (bytes(r.tenant_id), bytes(r.observation_id)) for r in observations
    )
    assert len(findings) == 6
    assert sink.findings_snapshot() is not findings


def test_fs17_durable_counts_ignore_pending_batches() -> None:
    """FS-17: pending batches are not counted; the result is a DurableFindingsCounts."""
    sink = InMemoryFindingsSink(auto_complete=False)
    batch, *_ = full_batch(T1)
    handle = sink.upsert_batch(batch)
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)
    assert sink.release_specific(handle.op_id) is True
    handle.wait(1)
    counts = sink.durable_counts()
    assert counts == DurableFindingsCounts(1, 1, 1)
    assert counts.saturating_sub(DurableFindingsCounts(2, 0, 1)) == DurableFindingsCounts(0, 1, 0)


def test_reads_reject_wrong_argument_types() -> None:
    """TH-6: point lookups check their argument types before the lock."""
    sink = InMemoryFindingsSink()
    _, finding, occurrence, _ = full_batch(T1)
    with pytest.raises(TypeError, match="finding_id must be FindingId"):
        sink.get_finding(T1, occurrence.occurrence_id)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tenant_id must be TenantId"):
        sink.get_occurrence(finding.finding_id, occurrence.occurrence_id)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="observation_id must be ObservationId"):
        sink.get_observation(T1, finding.finding_id)  # type: ignore[arg-type]
    assert sink._core.poisoned is False
