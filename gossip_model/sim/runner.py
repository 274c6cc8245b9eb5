"""The done-ledger simulation: step execution, two-phase run, swizzle-clog run.

Rules: SIM-9..SIM-14 (state, construction, records, ``step``, integrity,
one run per simulation), EXE-1..EXE-10 (executing ops), RUN-1..RUN-10 (the
two-phase runner), SWZ-1..SWZ-10 (the swizzle-clog runner).

Nothing here uses threads, wall clocks or sleeps; every decision draws from
``ctx.rng`` (SIM-3). Handles are waited with ``wait(timeout=0)`` and only on
ops the harness believes finished (LED-9). Seeds reproduce runs of this
project only, not of the Rust reference (open point 4).

Open-point choices: a spent simulation raises ``RuntimeError`` and a
non-fresh ledger ``ValueError`` (open point 7); ``step`` never draws
(open point 3).

Project addition (I11 ReleaseOrder, not in the Rust reference): the
reference harness trusts the ledger's release order (ORA-6), so a ledger that
applies NEWEST_FIRST releases oldest-first is invisible to I1..I10 (the merge
is order-insensitive and every outcome is read from the handles). The harness
therefore checks that ``release_next`` returns the oldest / newest tracked id
and that the commit failures of a ``release_all`` form a prefix of its declared
apply order (the commit-fault counter hits the first K applies, LED-7). Both
hold for every correct ledger, add no draw and change no report of a correct
ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.inmemory import CompletionOrder, InMemoryDoneLedger, PendingWriteId
from gossip_model.inmemory.errors import InjectedCommitFailure, InMemoryPersistenceError
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.sim.constants import (
    OVID_POOL_SIZE,
    SIM_ERROR_CODE,
    WARMUP_OPS,
)
from gossip_model.sim.context import SimContext, SimIntegrityError
from gossip_model.sim.depth import RunTracker
from gossip_model.sim.events import (
    DoneLedgerSimEvent,
    DoneLedgerSimEventKind,
    FaultConfigured,
    GetOk,
    Released,
    ReleasedAll,
    ReleasedCommitFailed,
    ReleaseNoop,
    UpsertCommitFailed,
    UpsertCommitted,
    UpsertPending,
    UpsertSubmitFailed,
    ordered_counts,
    record_event,
)
from gossip_model.sim.faults import DoneLedgerFaultConfig, FaultLevel
from gossip_model.sim.invariants import DoneLedgerInvariantChecker
from gossip_model.sim.ledger import SimHandle, SimLedger
from gossip_model.sim.ops import (
    BatchGet,
    BatchUpsert,
    DoneLedgerSimOp,
    InjectCommitFailure,
    InjectDelay,
    InjectSubmitFailure,
    OpGenerator,
    RecordSpec,
    ReleaseAll,
    ReleaseNewest,
    ReleaseOldest,
    ReleaseSpecific,
)
from gossip_model.sim.oracle import DoneLedgerOracle
from gossip_model.sim.report import DoneLedgerSimReport
from gossip_model.sim.swarm import SwarmProfile
from gossip_model.sim.swizzle import failure_plan, swizzle_batch_shape
from gossip_model.sim.trace import TraceEntry, Tracer
from gossip_model.sim.violations import DoneLedgerViolation

__all__ = ["DoneLedgerSim", "PendingBatch"]

_StepResult = tuple[DoneLedgerSimEvent, list[DoneLedgerViolation]]
_SHARD = ShardId(1)
_FENCE = FenceEpoch(1)
"""SIM-11: the shard and fence of every generated record (immutable, built once)."""


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A delayed batch the harness tracks until it is released (SIM-9)."""

    records: tuple[DoneLedgerRecord, ...]
    handle: SimHandle


class DoneLedgerSim:
    """Seeded, single-threaded simulation of one done ledger (SIM-9, SIM-10).

    ``DoneLedgerSim(ctx, ledger=None)`` first draws the 50 pool hashes
    (``OvidHash(rng.randbytes(32))``, the first 1,600 bytes of every run),
    then takes the given ledger or a fresh ``InMemoryDoneLedger()``. A given
    ledger must be fresh (empty snapshot, nothing pending), else
    ``ValueError``. ``tracer``, if given, receives a :class:`TraceEntry` per
    step and per drained batch (used by ``replay --trace``; it never affects
    the run). ``checker`` replaces the fresh ``DoneLedgerInvariantChecker``
    (the benchmark passes one that checks nothing, to price the checks).

    Under ``FaultLevel.SWARM`` the seed's :class:`SwarmProfile` is drawn right
    after the pool hashes (so the upstream levels draw exactly as before) and
    replaces the fixed fault config. Every run keeps a :class:`RunTracker`
    whose depth figures end up in the report (``report.depth``).
    """

    def __init__(
        self,
        ctx: SimContext,
        ledger: SimLedger | None = None,
        *,
        tracer: Tracer | None = None,
        checker: DoneLedgerInvariantChecker | None = None,
    ) -> None:
        self._ctx = ctx
        rng = ctx.rng
        self._ovid_pool = tuple(OvidHash(rng.randbytes(32)) for _ in range(OVID_POOL_SIZE))
        self._tenant = TenantId(b"\x01" * 32)
        self._policy = PolicyHash(b"\x02" * 32)
        # Built once: every generated record and read names one of these keys.
        tenant, policy = self._tenant, self._policy
        self._pool_keys = tuple(DoneLedgerKey(tenant, policy, h) for h in self._ovid_pool)
        if ledger is None:
            ledger = InMemoryDoneLedger()
        elif ledger.snapshot() or ledger.pending_count() > 0:
            raise ValueError(  # SIM-10
                "DoneLedgerSim.__init__: ledger is not a fresh ledger (it has rows or pending "
                "writes); pass a new, empty ledger, or call ledger.reset() first"
            )
        self._ledger: SimLedger = ledger
        self._tracker = RunTracker()
        self._oracle = DoneLedgerOracle(observer=self._tracker.on_merge)
        self._checker = DoneLedgerInvariantChecker() if checker is None else checker
        self._profile: SwarmProfile | None = None
        if ctx.fault_level is FaultLevel.SWARM:
            self._profile = SwarmProfile.draw(rng)
            self._config = self._profile.fault_config
        else:
            self._config = DoneLedgerFaultConfig.for_level(ctx.fault_level)
        self._ops_executed = 0
        self._pending_batches: dict[PendingWriteId, PendingBatch] = {}
        self._error_code = DoneLedgerErrorCode(SIM_ERROR_CODE)
        self._next_run_id = 1
        self._spent = False
        self._tracer = tracer
        self._phase = "step"
        self._generator = OpGenerator(
            rng,
            self._config,
            ledger,
            self.build_record,
            self._tracked_ids,
            tracker=self._tracker,
            profile=self._profile,
        )

    # -- read-only properties (SIM-9) ------------------------------------------------
    @property
    def ledger(self) -> SimLedger:
        """The ledger under test."""
        return self._ledger

    @property
    def oracle(self) -> DoneLedgerOracle:
        """The oracle of expected durable state."""
        return self._oracle

    @property
    def tenant(self) -> TenantId:
        """32 bytes of 0x01 (SIM-10)."""
        return self._tenant

    @property
    def policy(self) -> PolicyHash:
        """32 bytes of 0x02 (SIM-10)."""
        return self._policy

    @property
    def ovid_pool(self) -> tuple[OvidHash, ...]:
        """The 50 object-version hashes drawn at construction."""
        return self._ovid_pool

    @property
    def ops_executed(self) -> int:
        """Steps plus drained batches so far (RUN-8)."""
        return self._ops_executed

    @property
    def ctx(self) -> SimContext:
        """The run's context."""
        return self._ctx

    @property
    def swarm_profile(self) -> SwarmProfile | None:
        """The seed's swarm profile (SWARM level only, else None)."""
        return self._profile

    @property
    def tracker(self) -> RunTracker:
        """The run's depth and fault bookkeeping (``gossip_model.sim.depth``)."""
        return self._tracker

    @property
    def generator(self) -> OpGenerator:
        """The op generator bound to this simulation's rng (GEN-1..GEN-11)."""
        return self._generator

    def pending_batch_count(self) -> int:
        """Number of tracked delayed batches (RUN-9)."""
        return len(self._pending_batches)

    def check_convergence(self) -> list[DoneLedgerViolation]:
        """I6 with nothing tracked, else a harness integrity failure (RUN-9)."""
        if self._pending_batches:
            raise SimIntegrityError(
                f"check_convergence with {len(self._pending_batches)} tracked batch(es) "
                f"(seed {self._ctx.seed})"
            )
        return self._oracle.verify_convergence(self._ledger)

    # -- records (SIM-11, PT-6) ------------------------------------------------------
    def build_record(
        self,
        ovid_index: int,
        status: DoneLedgerStatus,
        bytes_scanned: int,
        findings_count: int,
        started_at: int,
        finished_at: int,
    ) -> DoneLedgerRecord:
        """Build a record with the next run id, shard 1, fence 1 (SIM-11; no draws)."""
        run_id = self._next_run_id
        self._next_run_id += 1
        provenance = DoneLedgerProvenance(
            RunId(run_id), _SHARD, _FENCE, LogicalTime(started_at), LogicalTime(finished_at)
        )
        error_code = self._error_code if status.is_failure() or status.is_skipped() else None
        key = self._pool_keys[ovid_index % OVID_POOL_SIZE]
        return DoneLedgerRecord(key, status, bytes_scanned, findings_count, provenance, error_code)

    def build_test_record(self, spec: RecordSpec) -> DoneLedgerRecord:
        """PT-6: ``build_record`` of the spec with ``finished_at = started_at + duration``."""
        return self.build_record(
            spec.ovid_index,
            spec.status,
            spec.bytes_scanned,
            spec.findings_count,
            spec.started_at,
            spec.started_at + spec.duration,
        )

    def build_swizzle_clog_batch(self, batch_idx: int) -> tuple[DoneLedgerRecord, ...]:
        """SWZ-3: three overlapping records on pool positions 0..4 (no draws)."""
        return tuple(
            self.build_record(
                shape.ovid_index,
                shape.status,
                shape.bytes_scanned,
                shape.findings_count,
                shape.started_at,
                shape.finished_at,
            )
            for shape in swizzle_batch_shape(batch_idx)
        )

    # -- step (SIM-12) ---------------------------------------------------------------
    def step(self, op: DoneLedgerSimOp) -> _StepResult:
        """Execute one op (section 4), count it, tick; never draws (SIM-12)."""
        self._ensure_live("step")
        event, violations = self._execute(op)
        self._ops_executed += 1
        self._ctx.tick()
        if self._tracer is not None:
            self._tracer(
                TraceEntry(
                    self._ops_executed, self._phase, op.describe(), event, tuple(violations)
                )
            )
        return event, violations

    def _execute(self, op: DoneLedgerSimOp) -> _StepResult:
        if isinstance(op, BatchUpsert):
            return self._exec_upsert(op.records)
        if isinstance(op, BatchGet):
            return self._exec_get(op.ovid_indices)
        if isinstance(op, ReleaseOldest):
            return self._exec_release_next(CompletionOrder.OLDEST_FIRST)
        if isinstance(op, ReleaseNewest):
            return self._exec_release_next(CompletionOrder.NEWEST_FIRST)
        if isinstance(op, ReleaseSpecific):
            return self._exec_release_specific(op.op_id)
        if isinstance(op, ReleaseAll):
            return self._exec_release_all(op.order)
        if isinstance(op, InjectSubmitFailure):
            self._ledger.fail_next_submissions(op.count)
            self._tracker.arm(submit=op.count)
        elif isinstance(op, InjectCommitFailure):
            self._ledger.fail_next_commits(op.count)
            self._tracker.arm(commit=op.count)
        elif isinstance(op, InjectDelay):
            self._ledger.delay_next_writes(op.count)
            self._tracker.arm(delay=op.count)
        else:
            raise TypeError(f"not a DoneLedgerSimOp: {op!r}")
        return FaultConfigured(), []

    # -- EXE-1..EXE-4 ----------------------------------------------------------------
    def _exec_upsert(self, records: tuple[DoneLedgerRecord, ...]) -> _StepResult:
        ledger = self._ledger
        checker = self._checker
        tracker = self._tracker
        tracker.on_attempt()
        pre = [ledger.get_record(record.key) for record in records]
        try:
            handle = ledger.batch_upsert(records)
        except InMemoryPersistenceError:
            tracker.on_submit_failed(records)
            return UpsertSubmitFailed(), checker.check_after_submit_failure(ledger, records, pre)
        op_id = handle.op_id
        if op_id in ledger.pending_ids():
            if op_id in self._pending_batches:
                raise SimIntegrityError(
                    f"delayed op id {op_id} is already tracked (seed {self._ctx.seed})"
                )
            violations = checker.check_after_submit_failure(ledger, records, pre)
            self._oracle.submit(op_id, records)
            self._pending_batches[op_id] = PendingBatch(records, handle)
            tracker.on_pending(len(self._pending_batches))
            return UpsertPending(op_id), violations
        self._oracle.submit(op_id, records)
        try:
            receipt = self._wait(handle)
        except InMemoryPersistenceError as error:
            self._oracle.abort(op_id)
            tracker.on_commit_failed(records, isinstance(error, InjectedCommitFailure))
            return UpsertCommitFailed(op_id), checker.check_after_commit_failure(
                ledger, records, pre
            )
        self._commit_oracle(op_id)
        tracker.on_committed(records, reordered=False)
        violations = checker.check_after_committed_upsert(ledger, records, receipt, pre)
        return UpsertCommitted(op_id, receipt), violations

    def _wait(self, handle: SimHandle) -> DoneLedgerCommitReceipt:
        try:
            return handle.wait(timeout=0)
        except TimeoutError as exc:
            raise SimIntegrityError(
                f"op {handle.op_id} believed finished is still pending (seed {self._ctx.seed})"
            ) from exc

    def _commit_oracle(self, op_id: PendingWriteId) -> None:
        if not self._oracle.commit(op_id):
            raise SimIntegrityError(
                f"oracle has no pending batch for committed op {op_id} (seed {self._ctx.seed})"
            )

    # -- EXE-5 -------------------------------------------------------------------------
    def _exec_get(self, ovid_indices: Sequence[int]) -> _StepResult:
        keys = [self._pool_keys[i % OVID_POOL_SIZE] for i in ovid_indices]
        hashes = [k.ovid_hash for k in keys]
        results = tuple(self._ledger.batch_get(self._tenant, self._policy, hashes))
        violations = self._checker.check_read_consistency(self._oracle, keys, results)
        return GetOk(results), violations

    # -- EXE-6..EXE-9 ------------------------------------------------------------------
    def _finish_released_batch(
        self, op_id: PendingWriteId, batch: PendingBatch, reordered: bool
    ) -> _StepResult:
        """EXE-6: collect the handle; commit (I9, I3, I1, I2) or abort (no checks)."""
        event, violations, _ = self._finish_released_batch_detail(op_id, batch, reordered)
        return event, violations

    def _finish_released_batch_detail(
        self, op_id: PendingWriteId, batch: PendingBatch, reordered: bool
    ) -> tuple[DoneLedgerSimEvent, list[DoneLedgerViolation], bool]:
        """EXE-6, also telling whether the batch failed on an injected commit fault.

        ``reordered`` (depth only): the release could overtake an older write.
        """
        try:
            receipt = self._wait(batch.handle)
        except InMemoryPersistenceError as error:
            self._oracle.abort(op_id)
            injected = isinstance(error, InjectedCommitFailure)
            self._tracker.on_commit_failed(batch.records, injected)
            return ReleasedCommitFailed(op_id), [], injected
        self._commit_oracle(op_id)
        self._tracker.on_committed(batch.records, reordered)
        violations = self._checker.check_after_committed_upsert(
            self._ledger, batch.records, receipt, ()
        )
        return Released(op_id, receipt), violations, False

    def _take_tracked(self, op_id: PendingWriteId) -> PendingBatch:
        batch = self._pending_batches.pop(op_id, None)
        if batch is None:
            raise SimIntegrityError(
                f"released op {op_id} is not a tracked batch (seed {self._ctx.seed})"
            )
        return batch

    def _exec_release_next(self, order: CompletionOrder) -> _StepResult:
        """EXE-7, plus the I11 check that the released id is the expected end of the queue."""
        tracked = sorted(self._pending_batches, key=int)
        released = self._ledger.release_next(order)
        if released is None:
            return ReleaseNoop(), []
        batch = self._take_tracked(released)
        reordered = order is CompletionOrder.NEWEST_FIRST and len(tracked) >= 2
        event, violations = self._finish_released_batch(released, batch, reordered)
        violations.extend(self._checker.check_release_next_order(order, tracked, released))
        return event, violations

    def _exec_release_specific(self, op_id: PendingWriteId) -> _StepResult:
        """EXE-8."""
        reordered = len(self._pending_batches) >= 2
        if not self._ledger.release_specific(op_id):
            return ReleaseNoop(), []
        return self._finish_released_batch(op_id, self._take_tracked(op_id), reordered)

    def _exec_release_all(self, order: CompletionOrder) -> _StepResult:
        """EXE-9: the ledger applies everything, then each batch is finished in that order."""
        count = self._ledger.release_all(order)
        assert count == len(self._pending_batches), (
            f"release_all released {count}, harness tracks {len(self._pending_batches)} "
            f"(seed {self._ctx.seed})"
        )
        committed = failed = 0
        violations: list[DoneLedgerViolation] = []
        outcomes: list[tuple[PendingWriteId, bool]] = []
        reordered = order is CompletionOrder.NEWEST_FIRST and count >= 2
        for op_id in self._apply_order(order):
            event, batch_violations, injected = self._finish_released_batch_detail(
                op_id, self._pending_batches.pop(op_id), reordered
            )
            ok = isinstance(event, Released)
            committed += ok
            failed += not ok
            outcomes.append((op_id, injected))
            violations.extend(batch_violations)
        violations.extend(self._checker.check_release_failure_prefix(order, outcomes))
        return ReleasedAll(count, committed, failed), violations

    def _apply_order(self, order: CompletionOrder) -> list[PendingWriteId]:
        """Tracked ids in the ledger's apply order: ascending, or descending (ORA-6)."""
        ids = sorted(self._pending_batches, key=int)
        if order is CompletionOrder.NEWEST_FIRST:
            ids.reverse()
        return ids

    # -- runs (RUN-1..RUN-10, SWZ-1..SWZ-10) ---------------------------------------------
    def run(self, safety_ops: int, liveness_ops: int = 0) -> DoneLedgerSimReport:
        """Two-phase run: safety, drain, liveness, final drain, convergence (RUN-1..RUN-8)."""
        self._ensure_live("run")
        counts: dict[DoneLedgerSimEventKind, int] = {}
        violations: list[DoneLedgerViolation] = []
        generator = self._generator
        self._phase = "safety"
        for i in range(safety_ops):
            event, found = self.step(generator.generate_random_op(suppress_faults=i < WARMUP_OPS))
            record_event(counts, event)
            violations.extend(found)
        self._ledger.set_auto_complete(True)
        violations.extend(self._drain_all_pending(counts))
        self._phase = "liveness"
        for _ in range(liveness_ops):
            event, found = self.step(generator.generate_liveness_op())
            record_event(counts, event)
            violations.extend(found)
        if self._pending_batches:
            violations.extend(self._drain_all_pending(counts))
        return self._finish(counts, violations)

    def run_swizzle_clog(self, batch_count: int) -> DoneLedgerSimReport:
        """Hold overlapping writes, then land them in a random order, failing some (SWZ)."""
        self._ensure_live("run_swizzle_clog")
        counts: dict[DoneLedgerSimEventKind, int] = {}
        violations: list[DoneLedgerViolation] = []
        rng = self._ctx.rng
        ledger = self._ledger
        self._phase = "swizzle"
        ledger.set_auto_complete(False)
        for batch_idx in range(batch_count):
            if not self._config.is_fault_free():
                self._generator.maybe_inject_faults()
            event, found = self.step(BatchUpsert(self.build_swizzle_clog_batch(batch_idx)))
            record_event(counts, event)
            violations.extend(found)
        pending_ids = ledger.pending_ids()
        tracked = sorted(self._pending_batches, key=int)
        if sorted(pending_ids, key=int) != tracked:
            raise SimIntegrityError(
                f"swizzle pending-set mismatch: ledger {[int(i) for i in pending_ids]}, "
                f"harness {[int(i) for i in tracked]} (seed {self._ctx.seed})"
            )
        rng.shuffle(pending_ids)
        flags = failure_plan(rng, len(pending_ids))
        for op_id, flagged in zip(pending_ids, flags, strict=True):
            if flagged:
                event, found = self.step(InjectCommitFailure(1))
                record_event(counts, event)
                violations.extend(found)
            event, found = self.step(ReleaseSpecific(op_id))
            record_event(counts, event)
            violations.extend(found)
        if self._config.is_fault_free():
            assert self._oracle.committed_count() > 0, (
                f"fault-free swizzle run committed nothing (seed {self._ctx.seed})"
            )
        return self._finish(counts, violations)

    def _drain_all_pending(
        self, counts: dict[DoneLedgerSimEventKind, int]
    ) -> list[DoneLedgerViolation]:
        """RUN-4: ``release_all(OLDEST_FIRST)``, then finish each tracked batch ascending."""
        self._phase = "drain"
        count = self._ledger.release_all(CompletionOrder.OLDEST_FIRST)
        assert count == len(self._pending_batches), (
            f"drain released {count}, harness tracks {len(self._pending_batches)} "
            f"(seed {self._ctx.seed})"
        )
        violations: list[DoneLedgerViolation] = []
        outcomes: list[tuple[PendingWriteId, bool]] = []
        for op_id in self._apply_order(CompletionOrder.OLDEST_FIRST):
            event, found, injected = self._finish_released_batch_detail(
                op_id, self._pending_batches.pop(op_id), False
            )
            self._ops_executed += 1
            self._tracker.drain_steps += 1
            self._ctx.tick()
            record_event(counts, event)
            outcomes.append((op_id, injected))
            violations.extend(found)
            if self._tracer is not None:
                self._tracer(
                    TraceEntry(
                        self._ops_executed, "drain", f"Drain({int(op_id)})", event, tuple(found)
                    )
                )
        violations.extend(
            self._checker.check_release_failure_prefix(CompletionOrder.OLDEST_FIRST, outcomes)
        )
        return violations

    def _finish(
        self,
        counts: dict[DoneLedgerSimEventKind, int],
        violations: list[DoneLedgerViolation],
    ) -> DoneLedgerSimReport:
        """RUN-7, RUN-8, SWZ-8, SWZ-9: convergence, then the frozen report; now spent."""
        convergence = self._oracle.verify_convergence(self._ledger)
        violations.extend(convergence)
        self._spent = True
        return DoneLedgerSimReport(
            seed=self._ctx.seed,
            ops_executed=self._ops_executed,
            violations=tuple(violations),
            event_counts=ordered_counts(counts),
            converged=not convergence,
            depth=self._tracker.stats(),
        )

    def _ensure_live(self, method: str) -> None:
        """SIM-14: a simulation runs once; ``method`` names the call for the message."""
        if self._spent:
            raise RuntimeError(
                f"DoneLedgerSim.{method}: this simulation has already run; build a fresh "
                "SimContext and DoneLedgerSim for another run"
            )

    def _tracked_ids(self) -> list[PendingWriteId]:
        return list(self._pending_batches)
