"""Trace entries of a run: what ``replay --trace`` prints and determinism tests compare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gossip_model.sim.events import DoneLedgerSimEvent
from gossip_model.sim.violations import DoneLedgerViolation

__all__ = ["TraceEntry", "Tracer"]


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One line of a run's trace: a step or a drained batch.

    ``step`` is ``ops_executed`` after the entry (1-based); ``phase`` is one
    of ``step``, ``safety``, ``drain``, ``liveness``, ``swizzle``; ``op`` is
    the op's one-line description (``Drain(op_id)`` for drained batches).
    """

    step: int
    phase: str
    op: str
    event: DoneLedgerSimEvent
    violations: tuple[DoneLedgerViolation, ...]


Tracer = Callable[[TraceEntry], None]
