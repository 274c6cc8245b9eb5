"""Simulation operations (SIM-7) and their weighted random generation (GEN-1..GEN-11).

Generation draws from the run's single ``random.Random`` in exactly the
order written in ``sim.md`` section 3; that order is part of the
reproducibility contract (SIM-3).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from gossip_model.inmemory import CompletionOrder, PendingWriteId
from gossip_model.persistence import DoneLedgerRecord, DoneLedgerStatus
from gossip_model.sim.constants import ALL_STATUSES, MAX_OP_RETRIES, OVID_POOL_SIZE
from gossip_model.sim.depth import RunTracker
from gossip_model.sim.faults import FAIR_COIN_PPM, DoneLedgerFaultConfig, should_inject
from gossip_model.sim.swarm import (
    SWARM_DELAY_CAP,
    SWARM_MAX_BATCH,
    SWARM_RETRY_WINDOW,
    SwarmProfile,
)

__all__ = ["DoneLedgerSimOp", "FaultControls", "OpGenerator", "RecordBuilder", "RecordSpec"]


class DoneLedgerSimOp:
    """Base of the nine operation variants (SIM-7), reachable as attributes."""

    __slots__ = ()

    BatchUpsert: ClassVar[type[BatchUpsert]]
    BatchGet: ClassVar[type[BatchGet]]
    ReleaseOldest: ClassVar[type[ReleaseOldest]]
    ReleaseNewest: ClassVar[type[ReleaseNewest]]
    ReleaseSpecific: ClassVar[type[ReleaseSpecific]]
    ReleaseAll: ClassVar[type[ReleaseAll]]
    InjectSubmitFailure: ClassVar[type[InjectSubmitFailure]]
    InjectCommitFailure: ClassVar[type[InjectCommitFailure]]
    InjectDelay: ClassVar[type[InjectDelay]]

    def is_fault_injection(self) -> bool:
        """True exactly for the three ``Inject*`` variants."""
        return False

    def describe(self) -> str:
        """A one-line rendering for traces (each record abbreviated)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class BatchUpsert(DoneLedgerSimOp):
    """Submit ``records`` as one batch (EXE-1..EXE-4)."""

    records: tuple[DoneLedgerRecord, ...]

    def describe(self) -> str:
        parts = []
        for record in self.records:
            parts.append(
                f"{bytes(record.key.ovid_hash)[:4].hex()}:{record.status.variant_name}"
                f"/{record.bytes_scanned}b/{record.findings_count}f"
                f"/run{int(record.provenance.run_id)}"
            )
        return f"BatchUpsert[{len(self.records)}]({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class BatchGet(DoneLedgerSimOp):
    """Read pool positions (taken modulo 50) through ``batch_get`` (EXE-5)."""

    ovid_indices: tuple[int, ...]

    def describe(self) -> str:
        return f"BatchGet({list(self.ovid_indices)})"


@dataclass(frozen=True, slots=True)
class ReleaseOldest(DoneLedgerSimOp):
    """``release_next(OLDEST_FIRST)`` (EXE-7)."""

    def describe(self) -> str:
        return "ReleaseOldest"


@dataclass(frozen=True, slots=True)
class ReleaseNewest(DoneLedgerSimOp):
    """``release_next(NEWEST_FIRST)`` (EXE-7)."""

    def describe(self) -> str:
        return "ReleaseNewest"


@dataclass(frozen=True, slots=True)
class ReleaseSpecific(DoneLedgerSimOp):
    """``release_specific(op_id)`` (EXE-8)."""

    op_id: PendingWriteId

    def describe(self) -> str:
        return f"ReleaseSpecific({int(self.op_id)})"


@dataclass(frozen=True, slots=True)
class ReleaseAll(DoneLedgerSimOp):
    """``release_all(order)`` (EXE-9)."""

    order: CompletionOrder

    def describe(self) -> str:
        return f"ReleaseAll({self.order.name})"


@dataclass(frozen=True, slots=True)
class InjectSubmitFailure(DoneLedgerSimOp):
    """``fail_next_submissions(count)`` (EXE-10)."""

    count: int

    def is_fault_injection(self) -> bool:
        return True

    def describe(self) -> str:
        return f"InjectSubmitFailure({self.count})"


@dataclass(frozen=True, slots=True)
class InjectCommitFailure(DoneLedgerSimOp):
    """``fail_next_commits(count)`` (EXE-10)."""

    count: int

    def is_fault_injection(self) -> bool:
        return True

    def describe(self) -> str:
        return f"InjectCommitFailure({self.count})"


@dataclass(frozen=True, slots=True)
class InjectDelay(DoneLedgerSimOp):
    """``delay_next_writes(count)`` (EXE-10)."""

    count: int

    def is_fault_injection(self) -> bool:
        return True

    def describe(self) -> str:
        return f"InjectDelay({self.count})"


DoneLedgerSimOp.BatchUpsert = BatchUpsert
DoneLedgerSimOp.BatchGet = BatchGet
DoneLedgerSimOp.ReleaseOldest = ReleaseOldest
DoneLedgerSimOp.ReleaseNewest = ReleaseNewest
DoneLedgerSimOp.ReleaseSpecific = ReleaseSpecific
DoneLedgerSimOp.ReleaseAll = ReleaseAll
DoneLedgerSimOp.InjectSubmitFailure = InjectSubmitFailure
DoneLedgerSimOp.InjectCommitFailure = InjectCommitFailure
DoneLedgerSimOp.InjectDelay = InjectDelay


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """A record without a run id, materialised by ``build_test_record`` (PT-2, PT-6)."""

    ovid_index: int
    status: DoneLedgerStatus
    bytes_scanned: int
    findings_count: int
    started_at: int
    duration: int


class FaultControls(Protocol):
    """The three counter controls background injection uses (GEN-10)."""

    def fail_next_submissions(self, n: int) -> None: ...
    def fail_next_commits(self, n: int) -> None: ...
    def delay_next_writes(self, n: int) -> None: ...


RecordBuilder = Callable[[int, DoneLedgerStatus, int, int, int, int], DoneLedgerRecord]
"""``build_record(ovid_index, status, bytes_scanned, findings, started_at, finished_at)``."""

_OpBuilder = Callable[["OpGenerator"], DoneLedgerSimOp | None]


class OpGenerator:
    """Weighted op generation for one run (GEN-1..GEN-11, and SWARM).

    Holds no state of its own beyond references: the run's rng, its fault
    config, the ledger's fault controls (for GEN-10 background injection), the
    simulation's record builder (SIM-11), a view of the tracked pending ids,
    the run's :class:`RunTracker` (which every armed fault is reported to) and,
    for the SWARM level only, the seed's :class:`SwarmProfile`. Without a
    profile the upstream tables and draws are unchanged.
    """

    __slots__ = (
        "_build_record",
        "_config",
        "_controls",
        "_pending_ids",
        "_profile",
        "_rng",
        "_tracker",
    )

    def __init__(
        self,
        rng: random.Random,
        config: DoneLedgerFaultConfig,
        controls: FaultControls,
        build_record: RecordBuilder,
        pending_ids: Callable[[], Sequence[PendingWriteId]],
        *,
        tracker: RunTracker | None = None,
        profile: SwarmProfile | None = None,
    ) -> None:
        self._rng = rng
        self._config = config
        self._controls = controls
        self._build_record = build_record
        self._pending_ids = pending_ids
        self._tracker = RunTracker() if tracker is None else tracker
        self._profile = profile

    # -- GEN-1 --------------------------------------------------------------
    def generate_random_op(self, suppress_faults: bool) -> DoneLedgerSimOp:
        """Safety-phase op (GEN-1): up to ``MAX_OP_RETRIES`` rolls, then a plain upsert.

        When faults are enabled and the op is not itself an Inject* op,
        background injection (GEN-10) runs right after generation, so an
        injected counter can hit the very op just generated.
        """
        if self._profile is not None and not suppress_faults:
            return self._generate_swarm_op(self._profile)
        faults_enabled = (not suppress_faults) and (not self._config.is_fault_free())
        table = _FAULT_TABLE if faults_enabled else _CALM_TABLE
        for _ in range(MAX_OP_RETRIES):
            roll = self._rng.randrange(0, 100)
            op = _lookup(table, roll)(self)
            if op is None:
                continue
            if faults_enabled and not op.is_fault_injection():
                self.maybe_inject_faults()
            return op
        return self.batch_upsert()

    # -- GEN-11 -------------------------------------------------------------
    def generate_liveness_op(self) -> DoneLedgerSimOp:
        """Liveness op (GEN-11): 80% BatchUpsert, 20% BatchGet; no retries, no injection."""
        roll = self._rng.randrange(0, 100)
        if roll < 80:
            return self.batch_upsert()
        return self.batch_get()

    # -- GEN-10 -------------------------------------------------------------
    def maybe_inject_faults(self) -> None:
        """Three independent coins in order: submit, commit, delay (GEN-10).

        Under SWARM the coins are capped (:meth:`_swarm_background`).
        """
        if self._profile is not None:
            self._swarm_background(self._profile)
            return
        tracker = self._tracker
        if should_inject(self._rng, self._config.submit_fail_ppm):
            self._controls.fail_next_submissions(1)
            tracker.arm(submit=1)
        if should_inject(self._rng, self._config.commit_fail_ppm):
            self._controls.fail_next_commits(1)
            tracker.arm(commit=1)
        if should_inject(self._rng, self._config.delay_ppm):
            self._controls.delay_next_writes(1)
            tracker.arm(delay=1)

    # -- SWARM (gossip_model.sim.swarm) ------------------------------------------------
    def _generate_swarm_op(self, profile: SwarmProfile) -> DoneLedgerSimOp:
        """Up to ``MAX_OP_RETRIES`` weighted rolls over the seed's enabled kinds.

        A kind whose builder has nothing to do (a release with nothing
        pending, an Inject* op at its cap, a retry with no failed payload)
        yields nothing and is rolled again; after 10 empty rolls, a plain
        BatchUpsert without background injection (as GEN-1).
        """
        total = profile.total_weight
        for _ in range(MAX_OP_RETRIES):
            kind = profile.kind_for(self._rng.randrange(total))
            op = _SWARM_BUILDERS[kind](self)
            if op is None:
                continue
            if not op.is_fault_injection():
                self._swarm_background(profile)
            return op
        return self.swarm_upsert()

    def _swarm_background(self, profile: SwarmProfile) -> None:
        """Capped background injection: submit, commit, delay coins in that order.

        A submission or commit coin is tossed only while fewer than ``K``
        armed faults are unconsumed, the delay coin only below
        ``SWARM_DELAY_CAP`` armed delays; a rate of 0 never draws (SIM-1).
        """
        tracker = self._tracker
        config = self._config
        cap = profile.fault_cap
        rng = self._rng
        if tracker.pending_faults() < cap and should_inject(rng, config.submit_fail_ppm):
            self._controls.fail_next_submissions(1)
            tracker.arm(submit=1)
        if tracker.pending_faults() < cap and should_inject(rng, config.commit_fail_ppm):
            self._controls.fail_next_commits(1)
            tracker.arm(commit=1)
        if tracker.armed_delay < SWARM_DELAY_CAP and should_inject(rng, config.delay_ppm):
            self._controls.delay_next_writes(1)
            tracker.arm(delay=1)

    def _fault_room(self) -> int:
        cap = self._profile.fault_cap if self._profile is not None else 0
        return cap - self._tracker.pending_faults()

    def swarm_upsert(self) -> DoneLedgerSimOp:
        """SWARM BatchUpsert: ``batch_size`` in ``1..=SWARM_MAX_BATCH``, then GEN-9 records."""
        batch_size = self._rng.randint(1, SWARM_MAX_BATCH)
        return BatchUpsert(tuple(self.random_record() for _ in range(batch_size)))

    def swarm_release_newest(self) -> DoneLedgerSimOp | None:
        """SWARM ReleaseNewest, guarded like GEN-6 (no draw)."""
        return ReleaseNewest() if self._pending_ids() else None

    def swarm_release_specific(self) -> DoneLedgerSimOp | None:
        """SWARM ReleaseSpecific: a tracked id by sorted position; nothing when none."""
        return self.release_specific() if self._pending_ids() else None

    def swarm_release_all(self) -> DoneLedgerSimOp | None:
        """SWARM ReleaseAll: the GEN-8 coin, only when something is pending."""
        return self.release_all() if self._pending_ids() else None

    def swarm_inject_submit(self) -> DoneLedgerSimOp | None:
        """InjectSubmitFailure(1..=3), capped to ``K`` minus the unconsumed faults."""
        room = self._fault_room()
        if room <= 0:
            return None
        return InjectSubmitFailure(min(room, self._rng.randint(1, 3)))

    def swarm_inject_commit(self) -> DoneLedgerSimOp | None:
        """InjectCommitFailure(1..=3), capped to ``K`` minus the unconsumed faults."""
        room = self._fault_room()
        if room <= 0:
            return None
        return InjectCommitFailure(min(room, self._rng.randint(1, 3)))

    def swarm_inject_delay(self) -> DoneLedgerSimOp | None:
        """InjectDelay(1..=5), capped to ``SWARM_DELAY_CAP`` armed delays."""
        room = SWARM_DELAY_CAP - self._tracker.armed_delay
        if room <= 0:
            return None
        return InjectDelay(min(room, self._rng.randint(1, 5)))

    def swarm_retry(self) -> DoneLedgerSimOp | None:
        """Resubmit, unchanged, one of the ``SWARM_RETRY_WINDOW`` newest failed payloads."""
        failed = len(self._tracker.failed_payloads)
        if not failed:
            return None
        back = self._rng.randrange(min(failed, SWARM_RETRY_WINDOW))
        records = self._tracker.take_failed(back)
        assert records is not None  # back < failed
        return BatchUpsert(records)

    def swarm_replay(self) -> DoneLedgerSimOp | None:
        """Resubmit the last committed payload unchanged (idempotence, I10); no draw."""
        records = self._tracker.last_committed
        return None if records is None else BatchUpsert(records)

    # -- builders (GEN-4..GEN-9) --------------------------------------------
    def batch_upsert(self) -> DoneLedgerSimOp:
        """GEN-4: ``batch_size`` in 1..=20, then that many GEN-9 records."""
        batch_size = self._rng.randint(1, 20)
        return BatchUpsert(tuple(self.random_record() for _ in range(batch_size)))

    def batch_get(self) -> DoneLedgerSimOp:
        """GEN-5: ``count`` in 1..=10, then ``count`` positions in 0..50."""
        count = self._rng.randint(1, 10)
        return BatchGet(tuple(self._rng.randrange(0, OVID_POOL_SIZE) for _ in range(count)))

    def release_oldest_guarded(self) -> DoneLedgerSimOp | None:
        """GEN-6: nothing when no batch is tracked (no draw)."""
        if not self._pending_ids():
            return None
        return ReleaseOldest()

    def release_newest(self) -> DoneLedgerSimOp:
        """GEN-7: always ReleaseNewest, so ReleaseNoop shows up (no draw)."""
        return ReleaseNewest()

    def release_specific(self) -> DoneLedgerSimOp:
        """GEN-8: a tracked id by sorted position, or a synthetic id in 1..=1024."""
        pending = sorted(self._pending_ids(), key=int)
        if not pending:
            return ReleaseSpecific(PendingWriteId(self._rng.randint(1, 1024)))
        return ReleaseSpecific(pending[self._rng.randrange(0, len(pending))])

    def release_all(self) -> DoneLedgerSimOp:
        """GEN-8: a fair coin; True is OLDEST_FIRST."""
        oldest = should_inject(self._rng, FAIR_COIN_PPM)
        return ReleaseAll(CompletionOrder.OLDEST_FIRST if oldest else CompletionOrder.NEWEST_FIRST)

    def inject_submit_failure(self) -> DoneLedgerSimOp:
        """GEN-8: count in 1..=3."""
        return InjectSubmitFailure(self._rng.randint(1, 3))

    def inject_commit_failure(self) -> DoneLedgerSimOp:
        """GEN-8: count in 1..=3."""
        return InjectCommitFailure(self._rng.randint(1, 3))

    def inject_delay(self) -> DoneLedgerSimOp:
        """GEN-8: count in 1..=5."""
        return InjectDelay(self._rng.randint(1, 5))

    def random_record(self) -> DoneLedgerRecord:
        """GEN-9: ovid, status, bytes, findings (by status), start, duration; then SIM-11."""
        rng = self._rng
        ovid_idx = rng.randrange(0, OVID_POOL_SIZE)
        status = ALL_STATUSES[rng.randrange(0, len(ALL_STATUSES))]
        bytes_scanned = rng.randint(0, 10_000)
        if status is DoneLedgerStatus.SCANNED_CLEAN:
            findings = 0
        elif status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
            findings = rng.randint(1, 50)
        else:
            findings = rng.randint(0, 10)
        started_at = rng.randint(1, 1000)
        duration = rng.randint(1, 500)
        return self._build_record(
            ovid_idx, status, bytes_scanned, findings, started_at, started_at + duration
        )


def _lookup(table: Sequence[tuple[int, _OpBuilder]], roll: int) -> _OpBuilder:
    for upper, builder in table:
        if roll < upper:
            return builder
    raise AssertionError(f"roll {roll} outside 0..100")  # pragma: no cover


_SWARM_BUILDERS: dict[str, _OpBuilder] = {
    "upsert": OpGenerator.swarm_upsert,
    "get": OpGenerator.batch_get,
    "release_oldest": OpGenerator.release_oldest_guarded,
    "release_newest": OpGenerator.swarm_release_newest,
    "release_specific": OpGenerator.swarm_release_specific,
    "release_all": OpGenerator.swarm_release_all,
    "inject_submit": OpGenerator.swarm_inject_submit,
    "inject_commit": OpGenerator.swarm_inject_commit,
    "inject_delay": OpGenerator.swarm_inject_delay,
    "retry": OpGenerator.swarm_retry,
    "replay": OpGenerator.swarm_replay,
}
"""Builder of each SWARM op kind (``gossip_model.sim.swarm.SWARM_OP_KINDS``)."""

# GEN-2: faults disabled (warm-up ops and every SUNNY_DAY op). Upper bounds, exclusive.
_CALM_TABLE: tuple[tuple[int, _OpBuilder], ...] = (
    (55, OpGenerator.batch_upsert),
    (75, OpGenerator.batch_get),
    (85, OpGenerator.release_oldest_guarded),
    (95, OpGenerator.release_newest),
    (100, OpGenerator.release_all),
)

# GEN-3: faults enabled. Data 55%, release 20%, fault injection 25%.
_FAULT_TABLE: tuple[tuple[int, _OpBuilder], ...] = (
    (35, OpGenerator.batch_upsert),
    (55, OpGenerator.batch_get),
    (60, OpGenerator.release_oldest_guarded),
    (65, OpGenerator.release_newest),
    (70, OpGenerator.release_specific),
    (80, OpGenerator.inject_submit_failure),
    (87, OpGenerator.inject_commit_failure),
    (95, OpGenerator.inject_delay),
    (100, OpGenerator.release_all),
)
