"""Fault levels, fault rates and the parts-per-million coin (SIM-1, SIM-4, SIM-5).

Every probability of the simulation is an ``int`` number of parts per
million; no float probability and no float draw is used anywhere (SIM-1).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

__all__ = [
    "FAIR_COIN_PPM",
    "PPM_MAX",
    "SWIZZLE_COMMIT_FAIL_PPM",
    "DoneLedgerFaultConfig",
    "FaultLevel",
    "should_inject",
]

PPM_MAX = 1_000_000
"""One million parts per million: probability 1 (SIM-1)."""

FAIR_COIN_PPM = 500_000
"""50%: the ReleaseAll order coin of GEN-8."""

SWIZZLE_COMMIT_FAIL_PPM = 250_000
"""25%: the per-batch commit-failure flag of the swizzle plan (SWZ-6)."""


def should_inject(rng: random.Random, ppm: int) -> bool:
    """Return True with probability ``ppm`` parts per million (SIM-1).

    ``ppm == 0`` returns False **without drawing**, so a fault-free
    configuration consumes no randomness. Otherwise ``0 < ppm <= PPM_MAX``
    is required (``ValueError``), one ``rng.randrange(PPM_MAX)`` is drawn and
    the result is ``draw < ppm``.
    """
    if ppm == 0:
        return False
    if not 0 < ppm <= PPM_MAX:
        raise ValueError(f"ppm must be in 0..={PPM_MAX}, got {ppm}")
    return rng.randrange(PPM_MAX) < ppm


class FaultLevel(enum.IntEnum):
    """Fault presets modelled on TigerBeetle's VOPR (SIM-4).

    ``SUNNY_DAY``, ``STORMY`` and ``RADIOACTIVE`` are the upstream presets,
    ordered by severity and kept faithful (same weights, same draws, so the
    same histograms for a seed). ``SWARM`` (project addition, issue 12) is not
    a severity: each seed draws its own op mix, fault kinds, rates and fault
    cap (``gossip_model.sim.swarm.SwarmProfile``), so that most writes commit
    and deep histories (many merges per key, reordered commits, retries) are
    reached.
    """

    SUNNY_DAY = 1
    STORMY = 2
    RADIOACTIVE = 3
    SWARM = 4

    @property
    def cli_name(self) -> str:
        """The command-line spelling (``sunny-day``, ``stormy``, ``radioactive``)."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> FaultLevel:
        """Parse a command-line spelling; accepts ``sunny-day``/``sunny_day``, any case."""
        normalised = text.strip().upper().replace("-", "_")
        try:
            return cls[normalised]
        except KeyError:
            choices = ", ".join(level.cli_name for level in cls)
            raise ValueError(f"unknown fault level {text!r} (choose from {choices})") from None


@dataclass(frozen=True, slots=True)
class DoneLedgerFaultConfig:
    """Background fault rates in parts per million (SIM-5)."""

    submit_fail_ppm: int
    commit_fail_ppm: int
    delay_ppm: int

    @classmethod
    def for_level(cls, level: FaultLevel) -> DoneLedgerFaultConfig:
        """SUNNY_DAY 0/0/0, STORMY 10% each, RADIOACTIVE 20% each (SIM-5).

        ``SWARM`` has no fixed rates: they are drawn per seed, so this raises
        ``ValueError`` pointing at ``SwarmProfile.draw``.
        """
        if level is FaultLevel.SWARM:
            raise ValueError(
                "fault level SWARM draws its rates per seed: use "
                "gossip_model.sim.swarm.SwarmProfile.draw(rng).fault_config"
            )
        rate = {
            FaultLevel.SUNNY_DAY: 0,
            FaultLevel.STORMY: 100_000,
            FaultLevel.RADIOACTIVE: 200_000,
        }[FaultLevel(level)]
        return cls(submit_fail_ppm=rate, commit_fail_ppm=rate, delay_ppm=rate)

    def is_fault_free(self) -> bool:
        """True iff all three rates are 0 (only SUNNY_DAY)."""
        return self.submit_fail_ppm == 0 and self.commit_fail_ppm == 0 and self.delay_ppm == 0
