"""The per-run simulation context (SIM-2) and the harness integrity error (SIM-13)."""

from __future__ import annotations

import random

from gossip_model.sim.faults import FaultLevel

__all__ = ["SimContext", "SimIntegrityError"]

_SEED_MAX = 2**64 - 1


class SimIntegrityError(RuntimeError):
    """The harness itself is inconsistent (SIM-13): the run aborts, it is not a violation."""


class SimContext:
    """Seed, fault level and the run's only source of randomness (SIM-2).

    ``rng`` is a ``random.Random(seed)`` created here; every decision of a run
    draws from it (SIM-3). ``step_counter`` is bookkeeping only: no decision
    reads it. One context serves one simulation.

    Seeds reproduce runs of this project only: the Rust reference draws from
    ChaCha8 streams, so a Rust seed does not replay here (open point 4).
    """

    __slots__ = ("fault_level", "rng", "seed", "step_counter")

    def __init__(self, seed: int, fault_level: FaultLevel) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        if not 0 <= seed <= _SEED_MAX:
            raise ValueError(f"seed must be in 0..=2**64-1, got {seed}")
        if not isinstance(fault_level, FaultLevel):
            raise TypeError(f"fault_level must be a FaultLevel, got {fault_level!r}")
        self.seed = seed
        self.fault_level = fault_level
        self.rng = random.Random(seed)
        self.step_counter = 0

    def tick(self) -> None:
        """Add 1 to ``step_counter``."""
        self.step_counter += 1

    def __repr__(self) -> str:
        return (
            f"SimContext(seed={self.seed}, fault_level={self.fault_level.name}, "
            f"step_counter={self.step_counter})"
        )
