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
from gossip_model.sim.faults import FAIR_COIN_PPM, DoneLedgerFaultConfig, should_inject

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
    """Weighted op generation for one run (GEN-1..GEN-11).

    Holds no state of its own beyond references: the run's rng, its fault
    config, the ledger's fault controls (for GEN-10 background injection), the
    simulation's record builder (SIM-11) and a view of the tracked pending ids.
    """

    __slots__ = ("_build_record", "_config", "_controls", "_pending_ids", "_rng")

    def __init__(
        self,
        rng: random.Random,
        config: DoneLedgerFaultConfig,
        controls: FaultControls,
        build_record: RecordBuilder,
        pending_ids: Callable[[], Sequence[PendingWriteId]],
    ) -> None:
        self._rng = rng
        self._config = config
        self._controls = controls
        self._build_record = build_record
        self._pending_ids = pending_ids

    # -- GEN-1 --------------------------------------------------------------
    def generate_random_op(self, suppress_faults: bool) -> DoneLedgerSimOp:
        """Safety-phase op (GEN-1): up to ``MAX_OP_RETRIES`` rolls, then a plain upsert.

        When faults are enabled and the op is not itself an Inject* op,
        background injection (GEN-10) runs right after generation, so an
        injected counter can hit the very op just generated.
        """
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
        """Three independent coins in order: submit, commit, delay (GEN-10)."""
        if should_inject(self._rng, self._config.submit_fail_ppm):
            self._controls.fail_next_submissions(1)
        if should_inject(self._rng, self._config.commit_fail_ppm):
            self._controls.fail_next_commits(1)
        if should_inject(self._rng, self._config.delay_ppm):
            self._controls.delay_next_writes(1)

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
