"""Deterministic simulation of the done ledger (sim.md sections 1-10).

A seeded, single-threaded simulation drives a done ledger through weighted
random operations and injected faults, keeps an oracle of the expected
durable state, and checks invariants I1..I10 after every step (plus the
project's I11 ReleaseOrder, see ``runner``). ``DoneLedgerSim(ctx,
ledger=None)`` drives any ledger offering the in-memory control surface.
The property case of section 10 (PT-2..PT-10) is assembled from
``proptest`` (``ProptestCase``, ``ProptestOp``, the PT-7 prefix); its
Hypothesis test lives with the tests, since Hypothesis is a test dependency.

Seeds reproduce runs of this project only: the Rust reference draws from
ChaCha8, so its seeds do not replay here (open point 4). The command line is
``python -m gossip_model.sim`` / ``gossip-sim`` (``gossip_model.sim.cli``).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from gossip_model.sim.constants import (
    ALL_STATUSES,
    MAX_OP_RETRIES,
    OVID_POOL_SIZE,
    PROPTEST_OVID_POOL_SIZE,
    SIM_ERROR_CODE,
    SWIZZLE_BATCH_WIDTH,
    SWIZZLE_OVERLAP_POOL,
    WARMUP_OPS,
)
from gossip_model.sim.context import SimContext, SimIntegrityError
from gossip_model.sim.depth import DepthStats, RunTracker
from gossip_model.sim.events import DoneLedgerSimEvent, DoneLedgerSimEventKind, record_event
from gossip_model.sim.faults import (
    FAIR_COIN_PPM,
    PPM_MAX,
    SWIZZLE_COMMIT_FAIL_PPM,
    DoneLedgerFaultConfig,
    FaultLevel,
    should_inject,
)
from gossip_model.sim.invariants import DoneLedgerInvariantChecker
from gossip_model.sim.ledger import SimHandle, SimLedger
from gossip_model.sim.ops import DoneLedgerSimOp, OpGenerator, RecordSpec
from gossip_model.sim.oracle import DoneLedgerOracle, fold_batch, merged_entries
from gossip_model.sim.proptest import (
    PROPTEST_OP_WEIGHTS,
    PROPTEST_PREFIX,
    PROPTEST_PREFIX_SPEC,
    ProptestCase,
    ProptestOp,
    ProptestStep,
    SpecBatchUpsert,
    proptest_findings,
    proptest_record_spec,
    remap_read_positions,
)
from gossip_model.sim.report import DoneLedgerSimReport, SeedResult, SweepOutcome
from gossip_model.sim.runner import DoneLedgerSim, PendingBatch
from gossip_model.sim.swarm import SwarmProfile
from gossip_model.sim.sweep import SweepConfig, evaluate_seed, run_seed_sweep
from gossip_model.sim.trace import TraceEntry, Tracer
from gossip_model.sim.violations import (
    ALL_VIOLATION_TYPES,
    BytesScanMonotonicity,
    CommitDurability,
    CommitRollback,
    DoneLedgerViolation,
    IdempotentUpsert,
    LatticeConvergence,
    ProvenanceFidelity,
    ReadConsistency,
    ReceiptAccuracy,
    ReleaseOrder,
    StatusMonotonicity,
    SubmitRollback,
)

_Op = TypeVar("_Op", contravariant=True)
_Event = TypeVar("_Event", covariant=True)
_Violation = TypeVar("_Violation")


class PersistenceSim(Protocol[_Op, _Event, _Violation]):
    """SIM-6: a simulation that executes one op, checks, and returns both.

    ``DoneLedgerSim`` implements it with ``DoneLedgerSimOp``,
    ``DoneLedgerSimEvent`` and ``DoneLedgerViolation``. An integration point
    for composing simulations; nothing in this project consumes it yet.
    """

    def step(self, op: _Op) -> tuple[_Event, list[_Violation]]: ...


__all__ = [
    "ALL_STATUSES",
    "ALL_VIOLATION_TYPES",
    "FAIR_COIN_PPM",
    "MAX_OP_RETRIES",
    "OVID_POOL_SIZE",
    "PPM_MAX",
    "PROPTEST_OP_WEIGHTS",
    "PROPTEST_OVID_POOL_SIZE",
    "PROPTEST_PREFIX",
    "PROPTEST_PREFIX_SPEC",
    "SIM_ERROR_CODE",
    "SWIZZLE_BATCH_WIDTH",
    "SWIZZLE_COMMIT_FAIL_PPM",
    "SWIZZLE_OVERLAP_POOL",
    "WARMUP_OPS",
    "BytesScanMonotonicity",
    "CommitDurability",
    "CommitRollback",
    "DepthStats",
    "DoneLedgerFaultConfig",
    "DoneLedgerInvariantChecker",
    "DoneLedgerOracle",
    "DoneLedgerSim",
    "DoneLedgerSimEvent",
    "DoneLedgerSimEventKind",
    "DoneLedgerSimOp",
    "DoneLedgerSimReport",
    "DoneLedgerViolation",
    "FaultLevel",
    "IdempotentUpsert",
    "LatticeConvergence",
    "OpGenerator",
    "PendingBatch",
    "PersistenceSim",
    "ProptestCase",
    "ProptestOp",
    "ProptestStep",
    "ProvenanceFidelity",
    "ReadConsistency",
    "ReceiptAccuracy",
    "RecordSpec",
    "RunTracker",
    "ReleaseOrder",
    "SeedResult",
    "SimContext",
    "SimHandle",
    "SimIntegrityError",
    "SimLedger",
    "SpecBatchUpsert",
    "StatusMonotonicity",
    "SubmitRollback",
    "SwarmProfile",
    "SweepConfig",
    "SweepOutcome",
    "TraceEntry",
    "Tracer",
    "evaluate_seed",
    "fold_batch",
    "merged_entries",
    "proptest_findings",
    "proptest_record_spec",
    "record_event",
    "remap_read_positions",
    "run_seed_sweep",
    "should_inject",
]
