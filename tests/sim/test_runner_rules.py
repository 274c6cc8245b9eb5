"""Runner rules beyond the TST-11 unit tests: SIM-9, EXE-1/3/4/6/10, RUN-1/3/5/6/7, SWZ-1/2/5/7/10.

Expected values are derived from the rule text (sim.md sections 1, 2, 4, 5, 6),
not read back from the implementation: a spy ledger records the calls the
harness makes, planted-bug ledgers show which check runs at which point, and
the swizzle test replays the run's draws on a reference ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from gossip_model.inmemory import InMemoryDoneLedger, InMemoryDoneLedgerHandle, PendingWriteId
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.sim import (
    OVID_POOL_SIZE,
    CommitRollback,
    DoneLedgerFaultConfig,
    DoneLedgerOracle,
    DoneLedgerSim,
    DoneLedgerSimEvent,
    DoneLedgerSimEventKind,
    DoneLedgerSimOp,
    DoneLedgerSimReport,
    FaultLevel,
    LatticeConvergence,
    ProvenanceFidelity,
    ReceiptAccuracy,
    SimContext,
    SimLedger,
    StatusMonotonicity,
    SubmitRollback,
    TraceEntry,
)
from gossip_model.sim.planted import make_planted_ledger

Ev = DoneLedgerSimEvent
K = DoneLedgerSimEventKind
Op = DoneLedgerSimOp
S = DoneLedgerStatus
P1, P2, P3 = PendingWriteId(1), PendingWriteId(2), PendingWriteId(3)


class SpyLedger(InMemoryDoneLedger):
    """An in-memory ledger that logs the reads, writes and controls the harness calls."""

    __slots__ = ("log",)

    def __init__(self, auto_complete: bool = True) -> None:
        super().__init__(auto_complete)
        self.log: list[tuple[str, object]] = []

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        self.log.append(("get_record", key))
        return super().get_record(key)

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> InMemoryDoneLedgerHandle:
        batch = tuple(records)
        self.log.append(("batch_upsert", tuple(r.key for r in batch)))
        return super().batch_upsert(batch)

    def set_auto_complete(self, flag: bool) -> None:
        self.log.append(("set_auto_complete", flag))
        super().set_auto_complete(flag)

    def fail_next_submissions(self, n: int) -> None:
        self.log.append(("fail_next_submissions", n))
        super().fail_next_submissions(n)

    def fail_next_commits(self, n: int) -> None:
        self.log.append(("fail_next_commits", n))
        super().fail_next_commits(n)

    def delay_next_writes(self, n: int) -> None:
        self.log.append(("delay_next_writes", n))
        super().delay_next_writes(n)


def sim_on(
    ledger: SimLedger | None = None, seed: int = 1, level: FaultLevel = FaultLevel.SUNNY_DAY
) -> DoneLedgerSim:
    return DoneLedgerSim(SimContext(seed, level), ledger)


def clean(sim: DoneLedgerSim, pos: int, nbytes: int = 100, start: int = 10) -> DoneLedgerRecord:
    return sim.build_record(pos, S.SCANNED_CLEAN, nbytes, 0, start, start + 10)


def with_findings(
    sim: DoneLedgerSim, pos: int, findings: int, start: int = 10
) -> DoneLedgerRecord:
    return sim.build_record(pos, S.SCANNED_WITH_FINDINGS, 100, findings, start, start + 10)


# -- SIM-9 ------------------------------------------------------------------------------


def test_public_state_is_read_only_and_starts_empty() -> None:
    """SIM-9 / SIM-10: read-only ledger, oracle, tenant, policy, ovid_pool; empty start."""
    sim = sim_on()
    for name in ("ledger", "oracle", "tenant", "policy", "ovid_pool"):
        with pytest.raises(AttributeError):
            setattr(sim, name, None)
    assert isinstance(sim.ledger, InMemoryDoneLedger)
    assert isinstance(sim.oracle, DoneLedgerOracle)
    assert isinstance(sim.ovid_pool, tuple)
    assert len(sim.ovid_pool) == OVID_POOL_SIZE
    assert len({bytes(h) for h in sim.ovid_pool}) == OVID_POOL_SIZE
    assert (sim.ops_executed, sim.pending_batch_count()) == (0, 0)
    assert (sim.oracle.committed_count(), sim.oracle.pending_batch_count()) == (0, 0)
    first = sim.build_record(0, S.FAILED_PERMANENT, 1, 0, 1, 2)
    assert int(first.provenance.run_id) == 1  # next_run_id starts at 1
    assert first.error_code == DoneLedgerErrorCode("SIM_ERROR")


# -- EXE-1, EXE-3, EXE-4 -------------------------------------------------------------------


def test_upsert_reads_a_pre_snapshot_by_position_before_submitting() -> None:
    """EXE-1: ``get_record`` per record in batch order, duplicates repeated, then the submit."""
    ledger = SpyLedger()
    sim = sim_on(ledger)
    a, b, c = clean(sim, 0), clean(sim, 1), clean(sim, 0, nbytes=5)
    sim.step(Op.BatchUpsert((a, b, c)))
    assert ledger.log[:4] == [
        ("get_record", a.key),
        ("get_record", b.key),
        ("get_record", a.key),
        ("batch_upsert", (a.key, b.key, a.key)),
    ]


def test_pre_snapshot_feeds_i8_on_auto_completed_upserts() -> None:
    """EXE-1 / EXE-4 / INV-8: the pre-existing record reaches I8, so a mixed provenance shows."""
    sim = sim_on(make_planted_ledger("mixed_provenance"))
    first = with_findings(sim, 0, 3)  # rank 11 wins the merge below
    assert sim.step(Op.BatchUpsert((first,)))[1] == []
    second = clean(sim, 0, start=30)  # run 2, other times: neither whole provenance survives
    event, violations = sim.step(Op.BatchUpsert((second,)))
    assert event == Ev.UpsertCommitted(P2, DoneLedgerCommitReceipt(1, 1, 0))
    assert len(violations) == 1
    assert isinstance(violations[0], ProvenanceFidelity)
    assert violations[0].key == first.key


def test_delayed_submit_is_tracked_and_leak_checked() -> None:
    """EXE-3: UpsertPending(op_id), oracle ``submit``, tracked batch; I4 reports a leak."""
    sim = sim_on()
    sim.step(Op.InjectDelay(1))
    record = clean(sim, 2)
    event, violations = sim.step(Op.BatchUpsert((record,)))
    assert (event, violations) == (Ev.UpsertPending(P1), [])
    assert sim.oracle.pending_op_ids() == [P1]
    assert sim.oracle.committed_count() == 0
    assert sim.pending_batch_count() == 1

    leaky = sim_on(make_planted_ledger("pending_visible"))
    leaky.step(Op.InjectDelay(1))
    record = clean(leaky, 2)
    event, violations = leaky.step(Op.BatchUpsert((record,)))
    assert event == Ev.UpsertPending(P1)
    assert violations == [SubmitRollback(record.key, expected=None, actual=record)]


def test_auto_completed_upsert_commits_or_aborts_in_the_oracle() -> None:
    """EXE-4: commit -> oracle commit and receipt from the deduplicated batch; a commit
    failure -> oracle abort and I5 (CommitRollback) against the pre-snapshot."""
    sim = sim_on()
    a, b = with_findings(sim, 0, 4), with_findings(sim, 0, 2, start=20)
    c = sim.build_record(1, S.SKIPPED, 7, 0, 1, 2)
    event, violations = sim.step(Op.BatchUpsert((a, b, c)))
    # two distinct keys, one of them scanned, findings max(4, 2) on the merged key
    assert (event, violations) == (Ev.UpsertCommitted(P1, DoneLedgerCommitReceipt(2, 1, 4)), [])
    assert sim.oracle.pending_batch_count() == 0
    assert sim.oracle.expected_state(a.key) == sim.ledger.get_record(a.key) == a.merge(b)
    assert sim.oracle.expected_state(c.key) == c

    applied_anyway = sim_on(make_planted_ledger("commit_failure_applied"))
    applied_anyway.step(Op.InjectCommitFailure(1))
    record = clean(applied_anyway, 3)
    event, violations = applied_anyway.step(Op.BatchUpsert((record,)))
    assert event == Ev.UpsertCommitFailed(P1)
    assert violations == [CommitRollback(record.key, expected=None, actual=record)]
    assert applied_anyway.oracle.pending_batch_count() == 0  # aborted, not committed
    assert applied_anyway.oracle.committed_count() == 0


# -- EXE-6 --------------------------------------------------------------------------------


def delayed(sim: DoneLedgerSim, *records: DoneLedgerRecord) -> PendingWriteId:
    sim.step(Op.InjectDelay(1))
    event, _ = sim.step(Op.BatchUpsert(records))
    assert isinstance(event, Ev.UpsertPending)
    return event.op_id


def test_failed_release_aborts_without_checks() -> None:
    """EXE-6: a failed release aborts in the oracle with no I5 check; I6 sees the damage."""
    sim = sim_on(make_planted_ledger("commit_failure_applied"))
    record = clean(sim, 3)
    op_id = delayed(sim, record)
    sim.step(Op.InjectCommitFailure(1))
    assert sim.step(Op.ReleaseOldest()) == (Ev.ReleasedCommitFailed(op_id), [])
    assert (sim.oracle.pending_batch_count(), sim.oracle.committed_count()) == (0, 0)
    assert sim.check_convergence() == [LatticeConvergence(record.key, oracle=None, actual=record)]


def test_released_batch_runs_i9_i1_but_not_i8() -> None:
    """EXE-6: a release is checked with an empty pre-snapshot: I9 and I1 run, I8 does not."""
    raw = sim_on(make_planted_ledger("receipt_counts_raw"))
    op_id = delayed(raw, clean(raw, 0), clean(raw, 0, nbytes=7))
    event, violations = raw.step(Op.ReleaseNewest())
    assert event == Ev.Released(op_id, DoneLedgerCommitReceipt(2, 2, 0))
    # expected from the deduplicated batch: 1 key, 1 scanned, 0 findings
    assert violations == [ReceiptAccuracy(1, 2, 1, 2, 0, 0)]

    downgrade = sim_on(make_planted_ledger("status_downgrade"))
    downgrade.step(Op.BatchUpsert((with_findings(downgrade, 0, 1),)))
    failed = downgrade.build_record(0, S.FAILED_RETRYABLE, 100, 0, 50, 60)
    op_id = delayed(downgrade, failed)
    event, violations = downgrade.step(Op.ReleaseOldest())
    assert isinstance(event, Ev.Released)
    assert violations == [StatusMonotonicity(failed.key, prev_rank=11, current_rank=1)]

    mixed = sim_on(make_planted_ledger("mixed_provenance"))
    mixed.step(Op.BatchUpsert((with_findings(mixed, 0, 3),)))
    op_id = delayed(mixed, clean(mixed, 0, start=30))
    # The same write auto-completed gives ProvenanceFidelity (see the EXE-1 test above).
    assert mixed.step(Op.ReleaseOldest()) == (
        Ev.Released(op_id, DoneLedgerCommitReceipt(1, 1, 0)),
        [],
    )


# -- EXE-10 -------------------------------------------------------------------------------


def test_inject_ops_arm_the_ledger_counters() -> None:
    """EXE-10 / LED-2 / LED-3: each Inject op calls its control with its count, yields
    FaultConfigured and no violations; the armed counters then act in LED-3 order."""
    ledger = SpyLedger()
    sim = sim_on(ledger)
    for op in (Op.InjectSubmitFailure(2), Op.InjectDelay(1), Op.InjectCommitFailure(1)):
        assert sim.step(op) == (Ev.FaultConfigured(), [])
    assert ledger.log == [
        ("fail_next_submissions", 2),
        ("delay_next_writes", 1),
        ("fail_next_commits", 1),
    ]
    events = [sim.step(Op.BatchUpsert((clean(sim, 1),)))[0] for _ in range(5)]
    # two submit failures (no op id), a delayed write (op 1), a commit failure (op 2), a commit
    assert [type(e) for e in events] == [
        Ev.UpsertSubmitFailed,
        Ev.UpsertSubmitFailed,
        Ev.UpsertPending,
        Ev.UpsertCommitFailed,
        Ev.UpsertCommitted,
    ]
    assert [getattr(e, "op_id", None) for e in events] == [None, None, P1, P2, P3]


# -- RUN-1, RUN-3, RUN-5, RUN-6, RUN-7 ------------------------------------------------------


def test_run_records_the_seed_and_starts_empty() -> None:
    """RUN-1 / RUN-8: the seed is recorded; no ops gives no violations and an empty histogram."""
    report = sim_on(seed=2**64 - 1, level=FaultLevel.STORMY).run(0, 0)
    assert report == DoneLedgerSimReport(
        seed=2**64 - 1, ops_executed=0, violations=(), event_counts={}, converged=True
    )
    report = sim_on(seed=17, level=FaultLevel.STORMY).run(40, 5)
    assert report.seed == 17
    assert all(count > 0 for count in report.event_counts.values())  # absent kinds are missing


def test_liveness_turns_auto_complete_back_on() -> None:
    """RUN-3: on a ledger that starts with auto-complete off, every safety upsert is
    delayed and every liveness upsert commits at once."""
    entries: list[TraceEntry] = []
    ledger = SpyLedger(auto_complete=False)
    sim = DoneLedgerSim(SimContext(31, FaultLevel.SUNNY_DAY), ledger, tracer=entries.append)
    report = sim.run(30, 30)
    assert ("set_auto_complete", True) in ledger.log

    def upsert_events(phase: str) -> list[DoneLedgerSimEvent]:
        return [e.event for e in entries if e.phase == phase and e.op.startswith("BatchUpsert")]

    assert upsert_events("safety")
    assert all(isinstance(event, Ev.UpsertPending) for event in upsert_events("safety"))
    assert upsert_events("liveness")
    assert all(isinstance(event, Ev.UpsertCommitted) for event in upsert_events("liveness"))
    assert report.violations == ()
    assert report.converged


def test_liveness_keeps_armed_counters_and_the_final_drain_releases() -> None:
    """RUN-5: counters armed before liveness are not reset (by RUN-3 or the drain), so
    liveness upserts fail or are delayed; RUN-6: the delayed one is drained at the end."""
    ledger = InMemoryDoneLedger()
    ledger.fail_next_submissions(2)
    ledger.delay_next_writes(1)
    entries: list[TraceEntry] = []
    sim = DoneLedgerSim(SimContext(5, FaultLevel.SUNNY_DAY), ledger, tracer=entries.append)
    report = sim.run(0, 20)
    liveness = [e for e in entries if e.phase == "liveness"]
    assert len(liveness) == 20
    assert all(e.op.startswith(("BatchUpsert", "BatchGet")) for e in liveness)  # GEN-11
    upserts = [e.event for e in liveness if e.op.startswith("BatchUpsert")]
    assert [type(e) for e in upserts[:3]] == [
        Ev.UpsertSubmitFailed,
        Ev.UpsertSubmitFailed,
        Ev.UpsertPending,
    ]
    assert all(isinstance(e, Ev.UpsertCommitted) for e in upserts[3:])
    drained = [e for e in entries if e.phase == "drain"]
    assert [e.op for e in drained] == ["Drain(1)"]  # submit failures consumed no op id
    assert isinstance(drained[0].event, Ev.Released)
    assert report.ops_executed == 20 + 1
    assert report.event_counts[K.UPSERT_SUBMIT_FAILED] == 2
    assert report.event_counts[K.UPSERT_PENDING] == 1
    assert report.violations == ()
    assert report.converged


def test_no_final_drain_when_nothing_is_tracked() -> None:
    """RUN-6: the final drain runs only if batches are still tracked."""
    entries: list[TraceEntry] = []
    report = DoneLedgerSim(SimContext(42, FaultLevel.SUNNY_DAY), tracer=entries.append).run(50, 20)
    assert [e for e in entries if e.phase == "drain"] == []
    assert report.ops_executed == 70


@pytest.mark.parametrize(
    ("bug", "converges"),
    [("receipt_counts_raw", True), ("provenance_from_loser", False)],
)
def test_converged_is_exactly_the_convergence_check(bug: str, converges: bool) -> None:
    """RUN-7 / INV-6: ``converged`` is true iff I6 found nothing; I6's violations close the
    list; other kinds (a receipt-only bug) leave ``converged`` true."""
    for seed in range(20):
        sim = sim_on(make_planted_ledger(bug), seed=seed, level=FaultLevel.STORMY)
        report = sim.run(300)
        if report.violations:
            break
    assert report.violations, f"{bug} produced no violation in 20 seeds"
    final = sim.oracle.verify_convergence(sim.ledger)
    assert report.converged is (not final) is converges
    split = len(report.violations) - len(final)
    assert list(report.violations[split:]) == final
    assert not any(isinstance(v, LatticeConvergence) for v in report.violations[:split])


# -- SWZ-1, SWZ-2, SWZ-5, SWZ-6, SWZ-7, SWZ-10 --------------------------------------------------


def test_swizzle_turns_auto_complete_off_and_leaves_it_off() -> None:
    """SWZ-1: the seed is recorded and auto-complete is turned off before the first submit;
    SWZ-10: it is still off when the runner returns."""
    ledger = SpyLedger()
    report = sim_on(ledger, seed=12).run_swizzle_clog(4)
    assert report.seed == 12
    switches = [entry for entry in ledger.log if entry[0] == "set_auto_complete"]
    assert switches == [("set_auto_complete", False)]
    first_submit = next(i for i, e in enumerate(ledger.log) if e[0] == "batch_upsert")
    assert ledger.log.index(("set_auto_complete", False)) < first_submit
    ledger.batch_upsert([])
    assert ledger.pending_count() == 1


BATCHES = 8


@pytest.mark.parametrize(
    ("seed", "level"),
    [(3, FaultLevel.SUNNY_DAY), (4, FaultLevel.STORMY), (9, FaultLevel.RADIOACTIVE)],
    ids=["sunny", "stormy", "radioactive"],
)
def test_swizzle_draws_and_release_loop_follow_the_rules(seed: int, level: FaultLevel) -> None:
    """SWZ-2, SWZ-5, SWZ-6, SWZ-7, replayed on a reference ``random.Random(seed)``.

    SWZ-2: before each submit, three GEN-10 coins when faults are on; a submit-failure
    coin fails the next submission. SWZ-5: the accepted ids are shuffled. SWZ-6: one 25%
    flag per id, then at least one set and one clear. SWZ-7: flagged ids get
    InjectCommitFailure(1) first, then every id is released by ReleaseSpecific. Nothing
    else draws.
    """
    entries: list[TraceEntry] = []
    sim = DoneLedgerSim(SimContext(seed, level), tracer=entries.append)
    report = sim.run_swizzle_clog(BATCHES)

    ref = random.Random(seed)
    for _ in range(OVID_POOL_SIZE):
        ref.randbytes(32)  # SIM-10: the pool
    config = DoneLedgerFaultConfig.for_level(level)
    armed_submit_failures = 0
    accepted: list[PendingWriteId] = []
    submit_events: list[str] = []
    for _ in range(BATCHES):
        if not config.is_fault_free():
            ppms = (config.submit_fail_ppm, config.commit_fail_ppm, config.delay_ppm)
            coins = [ref.randrange(1_000_000) < ppm for ppm in ppms]
            armed_submit_failures += coins[0]  # commit and delay coins do not change submits
        if armed_submit_failures:
            armed_submit_failures -= 1
            submit_events.append("UpsertSubmitFailed")
        else:
            accepted.append(PendingWriteId(len(accepted) + 1))
            submit_events.append("UpsertPending")
    assert [e.event.kind.variant_name for e in entries[:BATCHES]] == submit_events

    ref.shuffle(accepted)
    flags = [ref.randrange(1_000_000) < 250_000 for _ in accepted]
    if flags and not any(flags):
        flags[ref.randrange(len(flags))] = True
    if len(flags) >= 2 and all(flags):
        flags[ref.randrange(len(flags))] = False
    expected_ops: list[str] = []
    for op_id, flagged in zip(accepted, flags, strict=True):
        expected_ops += ["InjectCommitFailure(1)"] * flagged + [f"ReleaseSpecific({int(op_id)})"]
    assert [e.op for e in entries[BATCHES:]] == expected_ops
    assert sim.ctx.rng.getstate() == ref.getstate()
    if level is FaultLevel.SUNNY_DAY:
        releases = [e.event for e in entries[BATCHES:] if e.op.startswith("ReleaseSpecific")]
        expected_kinds = [Ev.ReleasedCommitFailed if f else Ev.Released for f in flags]
        assert [type(e) for e in releases] == expected_kinds
    assert report.violations == ()
    assert report.converged
