"""Unit tests of the harness (TST-11) and of the runner rules SIM-10..SIM-14, RUN, SWZ, EXE."""

from __future__ import annotations

import pytest

from gossip_model.identity import FenceEpoch, LogicalTime, RunId, ShardId
from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.sim import (
    OVID_POOL_SIZE,
    DoneLedgerSim,
    DoneLedgerSimEvent,
    DoneLedgerSimEventKind,
    DoneLedgerSimOp,
    FaultLevel,
    ReadConsistency,
    RecordSpec,
    SimContext,
    SimIntegrityError,
    TraceEntry,
)
from tests.builders import fill

K = DoneLedgerSimEventKind
Op = DoneLedgerSimOp
Ev = DoneLedgerSimEvent


def new_sim(seed: int, level: FaultLevel = FaultLevel.SUNNY_DAY) -> DoneLedgerSim:
    return DoneLedgerSim(SimContext(seed, level))


def one_record(sim: DoneLedgerSim) -> tuple[DoneLedgerRecord, ...]:
    return (sim.generator.random_record(),)


def test_sunny_run_completes() -> None:
    """TST-11: seed 42, SUNNY_DAY, run(100, 50): no violations, converged, ops > 0.

    RUN-6: nothing is ever tracked, so no final drain adds to ``ops_executed``.
    """
    report = new_sim(42).run(100, 50)
    assert report.violations == ()
    assert report.converged
    assert report.ops_executed > 0
    assert report.ops_executed == 150  # SUNNY_DAY never delays, so nothing is drained


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_sunny_exercises_kinds() -> None:
    """TST-11: seed 123, SUNNY_DAY, run(200, 50): UPSERT_COMMITTED and GET_OK present."""
    report = new_sim(123).run(200, 50)
    assert report.violations == ()
    assert report.converged
    assert report.event_counts.get(K.UPSERT_COMMITTED, 0) > 0
    assert report.event_counts.get(K.GET_OK, 0) > 0


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@pytest.mark.parametrize("seed", range(10))
def test_sunny_day_reaches_only_four_kinds(seed: int) -> None:
    """EV-5: a SUNNY_DAY run only sees UpsertCommitted, GetOk, ReleaseNoop, ReleasedAll."""
    report = new_sim(seed).run(200, 20)
    allowed = {K.UPSERT_COMMITTED, K.GET_OK, K.RELEASE_NOOP, K.RELEASED_ALL}
    assert set(report.event_counts) <= allowed
    assert list(report.event_counts) == [k for k in K.ALL if k in report.event_counts]


def test_stormy_run_completes() -> None:
    """TST-11: seed 42, STORMY, run(200, 100): no violations, converged."""
    report = new_sim(42, FaultLevel.STORMY).run(200, 100)
    assert report.violations == ()
    assert report.converged


def test_single_step_upsert_commits() -> None:
    """TST-11: seed 99, one random record through step gives UpsertCommitted."""
    sim = new_sim(99)
    event, violations = sim.step(Op.BatchUpsert(one_record(sim)))
    assert isinstance(event, Ev.UpsertCommitted)
    assert event.op_id == PendingWriteId(1)  # LED-1: the first op id issued is 1
    assert (event.receipt.record_count, event.receipt.scanned_count) in {(1, 0), (1, 1)}
    assert violations == []
    assert sim.ops_executed == 1
    assert sim.ctx.step_counter == 1


def test_submit_failure() -> None:
    """TST-11: seed 77; InjectSubmitFailure(1) then an upsert gives UpsertSubmitFailed."""
    sim = new_sim(77)
    event, violations = sim.step(Op.InjectSubmitFailure(1))
    assert isinstance(event, Ev.FaultConfigured)
    assert violations == []
    event, violations = sim.step(Op.BatchUpsert(one_record(sim)))
    assert isinstance(event, Ev.UpsertSubmitFailed)
    assert violations == []
    assert sim.oracle.pending_batch_count() == 0  # EXE-2: the oracle is not touched
    assert sim.oracle.committed_count() == 0


def test_delayed_write_then_release_oldest() -> None:
    """TST-11: seed 88; InjectDelay(1), upsert pending, ReleaseOldest releases it."""
    sim = new_sim(88)
    sim.step(Op.InjectDelay(1))
    event, violations = sim.step(Op.BatchUpsert(one_record(sim)))
    assert isinstance(event, Ev.UpsertPending)
    assert violations == []
    assert sim.pending_batch_count() == 1
    event, violations = sim.step(Op.ReleaseOldest())
    assert isinstance(event, Ev.Released)
    assert event.op_id == PendingWriteId(1)
    assert violations == []
    assert sim.pending_batch_count() == 0


def test_commit_failure_at_auto_complete() -> None:
    """TST-11: seed 99; InjectCommitFailure(1) then an upsert gives UpsertCommitFailed."""
    sim = new_sim(99)
    sim.step(Op.InjectCommitFailure(1))
    event, violations = sim.step(Op.BatchUpsert(one_record(sim)))
    assert isinstance(event, Ev.UpsertCommitFailed)
    assert violations == []
    assert sim.oracle.committed_count() == 0  # ORA-4: aborted, not merged


def test_newest_first_ordering() -> None:
    """TST-11: seed 42; two same-key records released NEWEST_FIRST converge."""
    sim = new_sim(42)
    sim.step(Op.InjectDelay(2))
    key = DoneLedgerKey(sim.tenant, sim.policy, sim.ovid_pool[0])
    for run_id in (100, 200):
        record = DoneLedgerRecord(
            key,
            DoneLedgerStatus.SCANNED_CLEAN,
            100,
            0,
            DoneLedgerProvenance(
                RunId(run_id), ShardId(1), FenceEpoch(1), LogicalTime(500), LogicalTime(600)
            ),
        )
        event, _ = sim.step(Op.BatchUpsert((record,)))
        assert isinstance(event, Ev.UpsertPending)
    event, violations = sim.step(Op.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    assert event == Ev.ReleasedAll(count=2, committed=2, failed=0)
    assert violations == []
    assert sim.oracle.verify_convergence(sim.ledger) == []


def test_read_consistency_detection() -> None:
    """TST-11: a record committed only in the oracle makes BatchGet report I7."""
    sim = new_sim(42)
    record = sim.build_record(0, DoneLedgerStatus.SCANNED_CLEAN, 1, 0, 1, 2)
    sim.oracle.submit(PendingWriteId(9999), [record])
    assert sim.oracle.commit(PendingWriteId(9999))
    event, violations = sim.step(Op.BatchGet((0,)))
    assert event == Ev.GetOk((None,))
    assert violations == [ReadConsistency(record.key, oracle=record, actual=None)]


def test_read_positions_wrap_modulo_pool_size() -> None:
    """EXE-5: pool positions are taken modulo 50."""
    sim = new_sim(5)
    record = sim.build_record(3, DoneLedgerStatus.SCANNED_CLEAN, 1, 0, 1, 2)
    sim.step(Op.BatchUpsert((record,)))
    event, violations = sim.step(Op.BatchGet((3, 3 + OVID_POOL_SIZE, 4)))
    assert event == Ev.GetOk((record, record, None))
    assert violations == []


def _every_variant(sim: DoneLedgerSim) -> list[DoneLedgerSimOp]:
    return [
        Op.InjectDelay(2),
        Op.BatchUpsert(one_record(sim)),
        Op.BatchUpsert(one_record(sim)),
        Op.BatchGet((0, 1, 2)),
        Op.ReleaseOldest(),
        Op.ReleaseNewest(),
        Op.ReleaseSpecific(PendingWriteId(7)),
        Op.InjectCommitFailure(1),
        Op.ReleaseAll(CompletionOrder.OLDEST_FIRST),
        Op.InjectSubmitFailure(1),
        Op.BatchUpsert(one_record(sim)),
    ]


def test_step_draws_nothing() -> None:
    """SIM-12 / open point 3: ``rng.getstate()`` is unchanged across a step of each variant."""
    sim = new_sim(3, FaultLevel.RADIOACTIVE)
    for op in _every_variant(sim):
        before = sim.ctx.rng.getstate()
        sim.step(op)
        assert sim.ctx.rng.getstate() == before, f"{op!r} drew from the rng"


def test_run_is_deterministic() -> None:
    """TST-11 / RUN-10: seed 42, STORMY, run(100, 50) twice gives equal reports."""
    first = new_sim(42, FaultLevel.STORMY).run(100, 50)
    second = new_sim(42, FaultLevel.STORMY).run(100, 50)
    assert first.ops_executed == second.ops_executed
    assert first.event_counts == second.event_counts
    assert [str(v) for v in first.violations] == [str(v) for v in second.violations]
    assert first.converged == second.converged
    assert first == second


def test_construction_draws_the_pool_first() -> None:
    """SIM-10: the 50 pool hashes are the first 1,600 bytes drawn; tenant and policy fixed."""
    import random

    sim = new_sim(1234)
    reference = random.Random(1234)
    assert [bytes(h) for h in sim.ovid_pool] == [reference.randbytes(32) for _ in range(50)]
    assert bytes(sim.tenant) == fill(0x01)
    assert bytes(sim.policy) == fill(0x02)
    assert sim.ctx.rng.getstate() == reference.getstate()


def test_build_record_assigns_run_ids_in_order() -> None:
    """SIM-11: run ids 1, 2, ... in build order; shard 1, fence 1; SIM_ERROR for failures."""
    sim = new_sim(0)
    failed = sim.build_record(51, DoneLedgerStatus.FAILED_PERMANENT, 5, 2, 10, 20)
    clean = sim.build_record(1, DoneLedgerStatus.SCANNED_CLEAN, 5, 0, 10, 20)
    skipped = sim.build_record(2, DoneLedgerStatus.SKIPPED, 5, 0, 10, 10)
    assert [int(r.provenance.run_id) for r in (failed, clean, skipped)] == [1, 2, 3]
    assert failed.key == clean.key  # 51 % 50 == 1
    assert failed.error_code == DoneLedgerErrorCode("SIM_ERROR")
    assert skipped.error_code == DoneLedgerErrorCode("SIM_ERROR")
    assert clean.error_code is None
    assert (int(clean.provenance.shard_id), int(clean.provenance.fence_epoch)) == (1, 1)
    assert (int(clean.provenance.started_at), int(clean.provenance.finished_at)) == (10, 20)


def test_build_test_record_uses_duration() -> None:
    """PT-6: finished_at = started_at + duration."""
    sim = new_sim(0)
    spec = RecordSpec(0, DoneLedgerStatus.SCANNED_WITH_FINDINGS, 512, 3, 10, 5)
    record = sim.build_test_record(spec)
    assert (int(record.provenance.started_at), int(record.provenance.finished_at)) == (10, 15)
    assert (record.bytes_scanned, record.findings_count) == (512, 3)


def test_swizzle_batch_shape() -> None:
    """SWZ-3: batch 7 is SCANNED_CLEAN (7 % 5 == 2) on positions 2, 3, 4."""
    sim = new_sim(0)
    batch = sim.build_swizzle_clog_batch(7)
    assert [r.key.ovid_hash for r in batch] == [sim.ovid_pool[i] for i in (2, 3, 4)]
    assert {r.status for r in batch} == {DoneLedgerStatus.SCANNED_CLEAN}
    assert [r.bytes_scanned for r in batch] == [275, 276, 277]
    assert [r.findings_count for r in batch] == [0, 0, 0]
    assert [int(r.provenance.started_at) for r in batch] == [1070, 1071, 1072]
    assert [int(r.provenance.finished_at) for r in batch] == [1075, 1076, 1077]
    findings = sim.build_swizzle_clog_batch(6)  # 6 % 5 == 1: SCANNED_WITH_FINDINGS
    assert [r.findings_count for r in findings] == [1, 2, 3]
    failed = sim.build_swizzle_clog_batch(5)  # FAILED_RETRYABLE: findings = offset
    assert [r.findings_count for r in failed] == [0, 1, 2]


@pytest.mark.parametrize("seed", range(0, 100, 7))
def test_swizzle_sunny_report_shape(seed: int) -> None:
    """SWZ-9: ops = 10 + flagged + 10; 10 pending; failed releases = flagged in 1..9.

    SWZ-1: the seed is recorded, and with auto-complete off every SUNNY_DAY batch is delayed.
    """
    report = new_sim(seed).run_swizzle_clog(10)
    assert report.seed == seed
    counts = report.event_counts
    flagged = counts.get(K.FAULT_CONFIGURED, 0)
    assert 1 <= flagged <= 9
    assert report.ops_executed == 10 + flagged + 10
    assert counts[K.UPSERT_PENDING] == 10
    assert counts.get(K.RELEASED, 0) + counts.get(K.RELEASED_COMMIT_FAILED, 0) == 10
    assert counts.get(K.RELEASED_COMMIT_FAILED, 0) == flagged
    assert report.violations == ()
    assert report.converged


@pytest.mark.parametrize("batches", [0, 1])
def test_swizzle_without_success_trips_debug_check(batches: int) -> None:
    """SWZ-6 / SWZ-8: one batch is always flagged, so a fault-free run commits nothing.

    The SIM-13 debug check (fault-free swizzle run ends with a committed key)
    then aborts, as it does for an empty run.
    """
    with pytest.raises(AssertionError, match="committed nothing"):
        new_sim(11).run_swizzle_clog(batches)


@pytest.mark.parametrize("seed", range(20))
def test_swizzle_two_batches_keep_a_success_and_a_failure(seed: int) -> None:
    """SWZ-6: with two batches at least one fails and at least one commits."""
    report = new_sim(seed).run_swizzle_clog(2)
    assert report.event_counts.get(K.RELEASED_COMMIT_FAILED, 0) == 1
    assert report.event_counts.get(K.RELEASED, 0) == 1


def test_spent_simulation_raises() -> None:
    """SIM-14 / open point 7: a second run, a swizzle run or a step after a run raise."""
    sim = new_sim(1)
    sim.run(10)
    with pytest.raises(RuntimeError, match=r"^DoneLedgerSim\.run: .*already run"):
        sim.run(10)
    with pytest.raises(RuntimeError, match=r"^DoneLedgerSim\.run_swizzle_clog: "):
        sim.run_swizzle_clog(3)
    with pytest.raises(RuntimeError, match=r"^DoneLedgerSim\.step: "):
        sim.step(Op.ReleaseNewest())


def test_non_fresh_ledger_rejected() -> None:
    """SIM-10 / open point 7: a ledger with rows or pending ops raises ValueError."""
    donor = new_sim(1)
    donor.step(Op.BatchUpsert(one_record(donor)))
    with pytest.raises(ValueError, match=r"^DoneLedgerSim\.__init__: ledger is not a fresh"):
        DoneLedgerSim(SimContext(2, FaultLevel.SUNNY_DAY), donor.ledger)
    pending = InMemoryDoneLedger(auto_complete=False)
    pending.batch_upsert([])
    with pytest.raises(ValueError, match=r"^DoneLedgerSim\.__init__: ledger is not a fresh"):
        DoneLedgerSim(SimContext(2, FaultLevel.SUNNY_DAY), pending)
    fresh = InMemoryDoneLedger()
    assert DoneLedgerSim(SimContext(2, FaultLevel.SUNNY_DAY), fresh).ledger is fresh


def test_release_noops() -> None:
    """EXE-7, EXE-8, EXE-9: empty releases give ReleaseNoop / ReleasedAll(0, 0, 0)."""
    sim = new_sim(4)
    assert sim.step(Op.ReleaseOldest()) == (Ev.ReleaseNoop(), [])
    assert sim.step(Op.ReleaseNewest()) == (Ev.ReleaseNoop(), [])
    assert sim.step(Op.ReleaseSpecific(PendingWriteId(5))) == (Ev.ReleaseNoop(), [])
    assert sim.step(Op.ReleaseAll(CompletionOrder.OLDEST_FIRST)) == (Ev.ReleasedAll(0, 0, 0), [])
    assert sim.ops_executed == 4


def test_release_all_counts_failures_in_apply_order() -> None:
    """EXE-9 / LED-7: with 1 commit failure armed, NEWEST_FIRST fails the newest batch."""
    sim = new_sim(6)
    sim.step(Op.InjectDelay(3))
    for _ in range(3):
        sim.step(Op.BatchUpsert(one_record(sim)))
    sim.step(Op.InjectCommitFailure(1))
    event, violations = sim.step(Op.ReleaseAll(CompletionOrder.NEWEST_FIRST))
    assert event == Ev.ReleasedAll(count=3, committed=2, failed=1)
    assert violations == []
    assert sim.oracle.committed_count() >= 1
    assert sim.check_convergence() == []


def test_drain_commits_leftovers_and_counts_ops() -> None:
    """RUN-4 / EV-4: drained batches add to ops_executed and RELEASED, not RELEASED_ALL."""
    entries: list[TraceEntry] = []
    sim = DoneLedgerSim(SimContext(8, FaultLevel.STORMY), tracer=entries.append)
    report = sim.run(300)
    drained = [e for e in entries if e.phase == "drain"]
    assert report.ops_executed == 300 + len(drained)
    assert len(entries) == report.ops_executed
    assert [e.step for e in entries] == list(range(1, report.ops_executed + 1))
    releases = report.event_counts.get(K.RELEASED, 0) + report.event_counts.get(
        K.RELEASED_COMMIT_FAILED, 0
    )
    assert releases >= len(drained)
    assert sim.pending_batch_count() == 0


def test_check_convergence_requires_nothing_tracked() -> None:
    """RUN-9: check_convergence aborts while a delayed batch is tracked."""
    sim = new_sim(9)
    sim.step(Op.InjectDelay(1))
    sim.step(Op.BatchUpsert(one_record(sim)))
    with pytest.raises(SimIntegrityError, match="tracked"):
        sim.check_convergence()
    sim.step(Op.ReleaseNewest())
    assert sim.check_convergence() == []


def test_unknown_op_type_rejected() -> None:
    sim = new_sim(0)
    with pytest.raises(TypeError, match="not a DoneLedgerSimOp"):
        sim.step(object())  # type: ignore[arg-type]


def test_swizzle_failure_plan_guarantees() -> None:
    """SWZ-6 as a pure function: >= 1 failure when non-empty, >= 1 success when count >= 2."""
    import random

    from gossip_model.sim.swizzle import failure_plan

    assert failure_plan(random.Random(0), 0) == []
    assert failure_plan(random.Random(0), 1) == [True]
    for seed in range(200):
        flags = failure_plan(random.Random(seed), 4)
        assert len(flags) == 4
        assert any(flags)
        assert not all(flags)
