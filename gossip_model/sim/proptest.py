"""The property case of sim.md section 10 (PT-2..PT-10) as plain, reusable pieces.

A property case is: the deterministic fault prefix (PT-7), 100..=149 weighted
random ``ProptestOp`` values executed through ``DoneLedgerSim.step`` with zero
violations allowed (PT-8), and a drain plus convergence check (PT-9).

This module holds everything that does not need Hypothesis: the op variants
(PT-4; only ``BatchUpsert`` differs from ``DoneLedgerSimOp``, carrying
``RecordSpec`` values instead of records), the PT-4 weights, the PT-2
findings derivation, the PT-5 materialisation with its sorted ``seen``
positions, and the PT-7 prefix. Hypothesis is a test dependency, so the
``proptest_op()`` strategy and the ``@given`` test (HYP-14) live in
``tests/sim/test_property_case.py`` and are built from these pieces.

Materialisation happens at execution time, never at generation time (PT-5,
PT-10): a spec gets the next run id of the simulation each time it is
materialised, so a shrunk sequence carries different run ids than the
original failure; the printed seed and op list are the debugging tool.
``seen`` is kept as a sorted list of distinct positions (never a Python set,
SIM-3) so that the remapping is reproducible across shrink attempts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from gossip_model.inmemory import CompletionOrder
from gossip_model.persistence import DoneLedgerStatus
from gossip_model.sim.constants import PROPTEST_OVID_POOL_SIZE
from gossip_model.sim.events import DoneLedgerSimEvent
from gossip_model.sim.ops import (
    BatchGet,
    BatchUpsert,
    DoneLedgerSimOp,
    InjectCommitFailure,
    InjectDelay,
    InjectSubmitFailure,
    RecordSpec,
    ReleaseAll,
    ReleaseNewest,
    ReleaseOldest,
    ReleaseSpecific,
)
from gossip_model.sim.runner import DoneLedgerSim
from gossip_model.sim.violations import DoneLedgerViolation

__all__ = [
    "PROPTEST_OP_WEIGHTS",
    "PROPTEST_PREFIX",
    "PROPTEST_PREFIX_SPEC",
    "ProptestCase",
    "ProptestOp",
    "ProptestStep",
    "SpecBatchUpsert",
    "proptest_findings",
    "proptest_record_spec",
    "remap_read_positions",
]

_REMAP_ARBITRARY_EVERY: Final = 5
"""PT-5: raw read positions divisible by 5 address an arbitrary pool key."""


@dataclass(frozen=True, slots=True)
class SpecBatchUpsert:
    """PT-4: ``BatchUpsert(records: tuple[RecordSpec, ...])``, materialised by PT-5."""

    records: tuple[RecordSpec, ...]

    def describe(self) -> str:
        """One line: pool position, status, bytes, findings, start+duration per spec."""
        parts = [
            f"{s.ovid_index}:{s.status.variant_name}/{s.bytes_scanned}b/{s.findings_count}f"
            f"/{s.started_at}+{s.duration}"
            for s in self.records
        ]
        return f"BatchUpsert[{len(self.records)}]({', '.join(parts)})"


ProptestOp: TypeAlias = (
    SpecBatchUpsert
    | BatchGet
    | ReleaseOldest
    | ReleaseNewest
    | ReleaseSpecific
    | ReleaseAll
    | InjectSubmitFailure
    | InjectCommitFailure
    | InjectDelay
)
"""PT-4: the nine property-case variants.

Every variant except ``SpecBatchUpsert`` is the ``DoneLedgerSimOp`` variant
itself; for ``BatchGet`` its positions are *raw* positions in
``0..PROPTEST_OVID_POOL_SIZE``, remapped by PT-5 at execution time.
"""

PROPTEST_OP_WEIGHTS: Final[tuple[tuple[type[ProptestOp], int], ...]] = (
    (SpecBatchUpsert, 6),
    (BatchGet, 3),
    (ReleaseOldest, 1),
    (ReleaseNewest, 1),
    (ReleaseAll, 2),
    (ReleaseSpecific, 1),
    (InjectSubmitFailure, 1),
    (InjectCommitFailure, 1),
    (InjectDelay, 1),
)
"""PT-4 weights (total 17), in the order the rule lists them.

Fields (drawn by the strategy): BatchUpsert 1..=10 specs; BatchGet 1..=10 raw
positions in ``0..PROPTEST_OVID_POOL_SIZE``; ReleaseAll order uniform over
OLDEST_FIRST / NEWEST_FIRST; ReleaseSpecific raw id in 1..=64;
InjectSubmitFailure and InjectCommitFailure count 1..=2; InjectDelay 1..=3.
"""


def proptest_findings(status: DoneLedgerStatus, bytes_scanned: int) -> int:
    """PT-2: findings are derived, not drawn.

    SCANNED_CLEAN 0; SCANNED_WITH_FINDINGS ``bytes_scanned % 5 + 1``; every
    other status ``bytes_scanned % 4``.
    """
    if status is DoneLedgerStatus.SCANNED_CLEAN:
        return 0
    if status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        return bytes_scanned % 5 + 1
    return bytes_scanned % 4


def proptest_record_spec(
    ovid_index: int,
    status: DoneLedgerStatus,
    bytes_scanned: int,
    started_at: int,
    duration: int,
) -> RecordSpec:
    """PT-2: a ``RecordSpec`` whose findings count is derived from status and bytes."""
    return RecordSpec(
        ovid_index,
        status,
        bytes_scanned,
        proptest_findings(status, bytes_scanned),
        started_at,
        duration,
    )


def remap_read_positions(raw: Iterable[int], seen: Sequence[int]) -> tuple[int, ...]:
    """PT-5: remap raw BatchGet positions against the sorted written positions ``seen``.

    Empty ``seen``: ``idx % PROPTEST_OVID_POOL_SIZE``. Otherwise, with ``seen``
    sorted: ``idx % 5 == 0`` gives ``idx % PROPTEST_OVID_POOL_SIZE`` (an
    arbitrary key, to catch leaks on keys the oracle never saw), any other
    ``idx`` gives ``seen[idx % len(seen)]`` (a key that was written). The
    output has the input's length and every entry is below the pool size
    (``seen`` holds spec positions, all in ``0..PROPTEST_OVID_POOL_SIZE``).
    """
    if not seen:
        return tuple(idx % PROPTEST_OVID_POOL_SIZE for idx in raw)
    return tuple(
        idx % PROPTEST_OVID_POOL_SIZE
        if idx % _REMAP_ARBITRARY_EVERY == 0
        else seen[idx % len(seen)]
        for idx in raw
    )


PROPTEST_PREFIX_SPEC: Final = RecordSpec(
    ovid_index=0,
    status=DoneLedgerStatus.SCANNED_WITH_FINDINGS,
    bytes_scanned=512,
    findings_count=3,
    started_at=10,
    duration=5,
)
"""PT-7: the spec of the fault prefix (position 0, 512 bytes, 3 findings, 10+5)."""

PROPTEST_PREFIX: Final[tuple[ProptestOp, ...]] = (
    # 1. a delayed write is invisible
    InjectDelay(1),
    SpecBatchUpsert((PROPTEST_PREFIX_SPEC,)),
    BatchGet((0,)),
    # 2. its release fails on an injected commit fault and leaves nothing behind
    InjectCommitFailure(1),
    ReleaseOldest(),
    BatchGet((0,)),
    # 3. a fresh materialisation of the same spec commits and is visible
    SpecBatchUpsert((PROPTEST_PREFIX_SPEC,)),
    BatchGet((0,)),
)
"""PT-7: the eight ops of the deterministic fault prefix, in order.

Expected events: FaultConfigured, UpsertPending(1), GetOk((None,)),
FaultConfigured, ReleasedCommitFailed(1), GetOk((None,)),
UpsertCommitted(2, receipt (1, 1, 3)), GetOk((record,)); no violations.
The reads use position 0; with ``seen == [0]`` the PT-5 remap leaves it at 0.
"""


@dataclass(frozen=True, slots=True)
class ProptestStep:
    """One executed property-case op: as generated, as materialised, and its outcome."""

    op: ProptestOp
    executed: DoneLedgerSimOp
    event: DoneLedgerSimEvent
    violations: tuple[DoneLedgerViolation, ...]


class ProptestCase:
    """One property case over a ``DoneLedgerSim`` (PT-5..PT-9).

    Holds the simulation and the sorted distinct pool positions written so
    far (``seen``). ``step`` materialises one ``ProptestOp`` (PT-5) and runs
    it through ``DoneLedgerSim.step``, which never draws (SIM-12), so the
    case is fully decided by the seed (pool hashes only) and the op list.
    """

    __slots__ = ("_seen", "_sim")

    def __init__(self, sim: DoneLedgerSim) -> None:
        self._sim = sim
        self._seen: list[int] = []

    @property
    def sim(self) -> DoneLedgerSim:
        """The simulation the case drives."""
        return self._sim

    @property
    def seen(self) -> tuple[int, ...]:
        """Pool positions written so far, sorted ascending, without repeats (PT-5)."""
        return tuple(self._seen)

    def add_seen(self, position: int) -> None:
        """Record one written pool position, keeping ``seen`` sorted and distinct."""
        at = bisect.bisect_left(self._seen, position)
        if at == len(self._seen) or self._seen[at] != position:
            self._seen.insert(at, position)

    def materialise(self, op: ProptestOp) -> DoneLedgerSimOp:
        """PT-5: the ``DoneLedgerSimOp`` to execute for ``op``, at execution time.

        BatchUpsert: every spec's position joins ``seen`` first, then each spec
        becomes a record through ``build_test_record`` (consuming run ids).
        BatchGet: raw positions remapped by :func:`remap_read_positions`.
        Every other variant is executed as it is.
        """
        if isinstance(op, SpecBatchUpsert):
            for spec in op.records:
                self.add_seen(spec.ovid_index)
            return BatchUpsert(tuple(self._sim.build_test_record(spec) for spec in op.records))
        if isinstance(op, BatchGet):
            return BatchGet(remap_read_positions(op.ovid_indices, self._seen))
        return op

    def step(self, op: ProptestOp) -> ProptestStep:
        """Materialise and execute one op (PT-8)."""
        executed = self.materialise(op)
        event, violations = self._sim.step(executed)
        return ProptestStep(op, executed, event, tuple(violations))

    def run_prefix(self) -> list[ProptestStep]:
        """PT-7: add position 0 to ``seen``, then execute :data:`PROPTEST_PREFIX`."""
        self.add_seen(PROPTEST_PREFIX_SPEC.ovid_index)
        return [self.step(op) for op in PROPTEST_PREFIX]

    def drain(self) -> ProptestStep | None:
        """PT-9: one ``ReleaseAll(OLDEST_FIRST)`` if any batch is tracked, else nothing."""
        if self._sim.pending_batch_count() == 0:
            return None
        return self.step(ReleaseAll(CompletionOrder.OLDEST_FIRST))

    def failure_message(self, position: int | str, step: ProptestStep) -> str:
        """PT-8: a message naming seed, fault level, step position, op and violations."""
        ctx = self._sim.ctx
        found = "; ".join(str(v) for v in step.violations) or "none"
        return (
            f"property case failed: seed={ctx.seed} level={ctx.fault_level.name} "
            f"step={position} op={step.op!r} executed={step.executed.describe()} "
            f"event={step.event!r} violations: {found}"
        )
