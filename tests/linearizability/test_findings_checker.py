"""Hand-built findings histories (issue 14 item 2; FS-2..FS-15), per-tenant partitions."""

from __future__ import annotations

from dataclasses import replace

from gossip_model.linearizability import FINDINGS, Maybe, Raised, check
from gossip_model.linearizability.findings_model import EMPTY, apply_batch, merge_observation
from gossip_model.persistence import FindingsCommitReceipt, FindingsUpsertBatch
from tests.builders import fill, finding_record, full_batch, hist, observation_record, op, tenant

T1, T2 = tenant(1), tenant(2)
BATCH, FINDING, OCC, OBS = full_batch(T1)
FULL = FindingsCommitReceipt(1, 1, 1)
# A different finding under FINDING's id (tampered id): the FS-5 conflict case.
TWIN = replace(finding_record(T1, 40), finding_id=FINDING.finding_id)


def upsert(
    client: int, batch: FindingsUpsertBatch, invoke: int, respond: int | None, outcome: object
) -> object:
    return op(client, "upsert_batch", (batch,), invoke, respond, outcome)


def test_fs5_two_different_findings_with_one_id_cannot_both_be_accepted() -> None:
    first = FindingsUpsertBatch((FINDING,))
    second = FindingsUpsertBatch((TWIN,))
    one_wins = hist(
        upsert(0, first, 1, 4, FindingsCommitReceipt(1, 0, 0)),
        upsert(1, second, 2, 3, Raised("FindingConflict")),
    )
    assert check(one_wins, FINDINGS).ok
    both = hist(
        upsert(0, first, 1, 4, FindingsCommitReceipt(1, 0, 0)),
        upsert(1, second, 2, 3, FindingsCommitReceipt(1, 0, 0)),
    )
    result = check(both, FINDINGS)
    assert not result.ok
    assert "FindingConflict" in result.explanation
    assert "tenant" in result.explanation


def test_fs6_fs7_parents_must_exist_in_the_batch_or_durable() -> None:
    orphan = FindingsUpsertBatch((), (OCC,))
    assert check(hist(upsert(0, orphan, 1, 2, Raised("MissingFinding"))), FINDINGS).ok
    after_parent = hist(
        upsert(0, FindingsUpsertBatch((FINDING,)), 1, 2, FindingsCommitReceipt(1, 0, 0)),
        upsert(1, orphan, 3, 4, Raised("MissingFinding")),
    )
    assert not check(after_parent, FINDINGS).ok
    concurrent = hist(
        upsert(0, FindingsUpsertBatch((FINDING,)), 1, 4, FindingsCommitReceipt(1, 0, 0)),
        upsert(1, orphan, 2, 3, Raised("MissingFinding")),
    )
    assert check(concurrent, FINDINGS).ok
    lonely = FindingsUpsertBatch((FINDING,), (OCC,), ())
    lonely_obs = FindingsUpsertBatch((), (), (OBS,))
    assert check(
        hist(
            upsert(0, lonely, 1, 2, FindingsCommitReceipt(1, 1, 0)),
            upsert(0, lonely_obs, 3, 4, FindingsCommitReceipt(0, 0, 1)),
        ),
        FINDINGS,
    ).ok
    assert not check(
        hist(upsert(0, lonely_obs, 3, 4, FindingsCommitReceipt(0, 0, 1))), FINDINGS
    ).ok


def test_fs8_observation_merge_keeps_the_later_seen_at_and_reads_see_it() -> None:
    later = observation_record(T1, OCC, 3, 4, 51, 61, 71, 90)
    merged = merge_observation(OBS, later)
    assert merged is not None
    assert merged.seen_at == later.seen_at
    h = hist(
        upsert(0, BATCH, 1, 2, FULL),
        upsert(1, FindingsUpsertBatch((), (), (later,)), 3, 4, FindingsCommitReceipt(0, 0, 1)),
        op(2, "get_observation", (T1, OBS.observation_id), 5, 6, merged),
        op(2, "get_finding", (T1, FINDING.finding_id), 5, 6, FINDING),
        op(2, "get_occurrence", (T1, OCC.occurrence_id), 5, 6, OCC),
    )
    assert check(h, FINDINGS).ok
    stale = hist(
        upsert(0, BATCH, 1, 2, FULL),
        upsert(1, FindingsUpsertBatch((), (), (later,)), 3, 4, FindingsCommitReceipt(0, 0, 1)),
        op(2, "get_observation", (T1, OBS.observation_id), 5, 6, OBS),
    )
    assert not check(stale, FINDINGS).ok


def test_fs8_observation_identity_conflict_is_predicted() -> None:
    other_policy = observation_record(T1, OCC, 9, 4, 50, 60, 70, 80)
    clash = replace(other_policy, observation_id=OBS.observation_id)
    _, result = apply_batch(apply_batch(EMPTY, BATCH)[0], FindingsUpsertBatch((), (), (OBS,)))
    assert result == FindingsCommitReceipt(0, 0, 1)
    assert merge_observation(OBS, clash) is None


def test_fs2_fs3_presubmit_errors_and_the_empty_batch_are_local() -> None:
    mixed = FindingsUpsertBatch((FINDING, finding_record(T2, 10)))
    assert check(
        hist(upsert(0, mixed, 1, 2, Raised("BatchValidation(InconsistentTenant)"))), FINDINGS
    ).ok
    assert check(hist(upsert(0, mixed, 1, None, Maybe("timeout"))), FINDINGS).ok
    accepted = check(hist(upsert(0, mixed, 1, 2, FindingsCommitReceipt(2, 0, 0))), FINDINGS)
    assert not accepted.ok
    assert "FS-2/FS-3" in accepted.explanation
    tampered = replace(OBS, observation_id=OBS.observation_id.__class__(fill(0x07)))
    bad_id = FindingsUpsertBatch((), (), (tampered,))
    assert check(
        hist(upsert(0, bad_id, 1, 2, Raised("BatchValidation(ObservationIdMismatch)"))), FINDINGS
    ).ok
    empty = FindingsUpsertBatch()
    assert check(hist(upsert(0, empty, 1, 2, FindingsCommitReceipt(0, 0, 0))), FINDINGS).ok
    assert not check(hist(upsert(0, empty, 1, 2, FindingsCommitReceipt(1, 0, 0))), FINDINGS).ok


def test_fs15_snapshot_is_checked_per_tenant_and_for_order() -> None:
    other, *_ = full_batch(T2, seed=12)
    f2 = other.findings[0]
    writes = (upsert(0, BATCH, 1, 2, FULL), upsert(1, other, 1, 2, FULL))
    rows = sorted([FINDING, f2], key=lambda f: (f.tenant_id.raw, f.finding_id.raw))
    good = hist(*writes, op(2, "findings_snapshot", (), 3, 4, rows))
    assert check(good, FINDINGS).partitions == 2
    assert check(good, FINDINGS).ok
    assert check(good, FINDINGS, partitioned=False).ok
    lost = hist(*writes, op(2, "findings_snapshot", (), 3, 4, [FINDING]))
    assert not check(lost, FINDINGS).ok
    unsorted = hist(*writes, op(2, "findings_snapshot", (), 3, 4, rows[::-1]))
    assert "FS-15" in check(unsorted, FINDINGS).explanation


def test_findings_raised_error_must_match_the_state_and_maybe_may_apply() -> None:
    wrong = hist(upsert(0, BATCH, 1, 2, Raised("FindingConflict")))
    assert not check(wrong, FINDINGS).ok
    maybe = hist(
        upsert(0, BATCH, 1, None, Maybe("lost connection")),
        op(1, "get_finding", (T1, FINDING.finding_id), 3, 4, FINDING),
    )
    assert check(maybe, FINDINGS).ok
    receipt_wrong = hist(upsert(0, BATCH, 1, 2, FindingsCommitReceipt(1, 1, 2)))
    assert not check(receipt_wrong, FINDINGS).ok
