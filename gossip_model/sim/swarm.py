"""The SWARM fault level: a per-seed op mix, capped fault arming, common delays (issue 12).

Project addition, not in the Rust reference. The upstream levels arm fault
counters far more often than writes arrive (STORMY: about one committed
write per 100 events), so the merges under delayed, reordered completion
that the ledger exists for are barely exercised. SWARM applies *swarm
testing* (Groce et al., 2012): each seed draws its own configuration, so
that across a sweep some seeds hammer one feature while others never use
it, and the whole sweep covers far more interleavings than one fixed mix.

Per seed, right after the 50 pool hashes (SIM-10), :meth:`SwarmProfile.draw`
draws, in this order (the order is part of the determinism contract,
SIM-3):

1. for each op kind of :data:`SWARM_OP_KINDS` in order: BatchUpsert is
   always on; every other kind is on with probability 3/4
   (:data:`SWARM_KIND_ON_PPM`); an enabled kind then draws its weight from
   its range in :data:`SWARM_WEIGHT_RANGES`. BatchUpsert weighs 6..=14
   against 1..=6 for the others, so writes stay the most common op;
2. submission faults on (3/4) and commit faults on (3/4), then one
   intensity tier for both, uniform over :data:`SWARM_FAULT_TIERS_PPM`
   (5%, 10%, 20%: the last is RADIOACTIVE's rate, so about a third of the
   seeds with faults run at radioactive intensity);
3. delays on (9/10, :data:`SWARM_DELAY_ON_PPM`), then a delay rate uniform
   over :data:`SWARM_DELAY_TIERS_PPM` (25%, 40%, 55% per op): delays are
   common, because reordered completion needs several writes pending;
4. the fault cap ``K`` uniform in ``0..=3`` (``rng.randint(0, 3)``): a
   submission or commit fault is armed (by an Inject* op or by background
   injection) only while fewer than ``K`` armed faults are unconsumed, and
   an Inject* op arms at most ``K - pending`` of them. ``K = 0`` gives a
   seed with delays and reordering but no failures at all; ``K = 3`` with
   the 20% tier is the radioactive end. Delays are capped separately at
   :data:`SWARM_DELAY_CAP` armed delays (they never fail a write, but an
   unbounded counter would delay every write).

Choices: the weights and tiers above are tuned so that a 100 x 500 sweep
commits well over 40% of its write attempts and more than 20% of its
commits come from a NEWEST_FIRST or specific release with two or more
writes pending (``tests/sim/test_depth.py`` asserts both floors). Two op
kinds exist only here: *retry* resubmits, unchanged (same run ids), one of
the most recent payloads whose submission or commit failed, as a client
would; *replay* resubmits the last committed payload, which exercises
idempotence (I10).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from gossip_model.sim.faults import DoneLedgerFaultConfig, should_inject

__all__ = [
    "SWARM_DELAY_CAP",
    "SWARM_DELAY_ON_PPM",
    "SWARM_DELAY_TIERS_PPM",
    "SWARM_FAULT_CAP_MAX",
    "SWARM_FAULT_ON_PPM",
    "SWARM_FAULT_TIERS_PPM",
    "SWARM_KIND_ON_PPM",
    "SWARM_MAX_BATCH",
    "SWARM_OP_KINDS",
    "SWARM_RETRY_WINDOW",
    "SWARM_WEIGHT_RANGES",
    "SwarmProfile",
]

SWARM_OP_KINDS: Final = (
    "upsert",
    "get",
    "release_oldest",
    "release_newest",
    "release_specific",
    "release_all",
    "inject_submit",
    "inject_commit",
    "inject_delay",
    "retry",
    "replay",
)
"""Op kinds a swarm seed switches on or off, in draw order."""

SWARM_WEIGHT_RANGES: Final[dict[str, tuple[int, int]]] = {
    "upsert": (6, 14),
    "get": (1, 6),
    "release_oldest": (1, 6),
    "release_newest": (1, 6),
    "release_specific": (1, 6),
    "release_all": (1, 3),
    "inject_submit": (1, 3),
    "inject_commit": (1, 3),
    "inject_delay": (1, 4),
    "retry": (1, 5),
    "replay": (1, 3),
}
"""Inclusive weight range of each kind (``rng.randint(lo, hi)``)."""

SWARM_KIND_ON_PPM: Final = 750_000
"""Probability that an op kind other than BatchUpsert is enabled for a seed."""

SWARM_FAULT_ON_PPM: Final = 750_000
"""Probability that submission (resp. commit) faults are enabled for a seed."""

SWARM_FAULT_TIERS_PPM: Final = (50_000, 100_000, 200_000)
"""Per-op background rate of submission and commit faults; 20% is RADIOACTIVE's."""

SWARM_DELAY_ON_PPM: Final = 900_000
"""Probability that delays are enabled for a seed."""

SWARM_DELAY_TIERS_PPM: Final = (250_000, 400_000, 550_000)
"""Per-op background rate of delays."""

SWARM_FAULT_CAP_MAX: Final = 3
"""``K`` is drawn in ``0..=SWARM_FAULT_CAP_MAX``."""

SWARM_DELAY_CAP: Final = 3
"""At most this many armed, unconsumed delays."""

SWARM_MAX_BATCH: Final = 10
"""A swarm BatchUpsert holds ``1..=SWARM_MAX_BATCH`` records (GEN-4 uses 1..=20).

Smaller batches make more, cheaper commits per seed; with 50 keys they still
collide within a batch and across batches."""

SWARM_RETRY_WINDOW: Final = 4
"""A retry picks one of the this many most recent failed payloads."""


@dataclass(frozen=True, slots=True)
class SwarmProfile:
    """One seed's swarm configuration (see the module docstring for the draws).

    ``weights`` lists the enabled op kinds with their weights, in
    :data:`SWARM_OP_KINDS` order; ``fault_config`` the background rates
    (0 for a disabled fault kind); ``fault_cap`` is ``K``.
    """

    weights: tuple[tuple[str, int], ...]
    fault_config: DoneLedgerFaultConfig
    fault_cap: int

    @classmethod
    def draw(cls, rng: random.Random) -> SwarmProfile:
        """Draw a profile from the run's rng, in the documented order."""
        weights: list[tuple[str, int]] = []
        for kind in SWARM_OP_KINDS:
            if kind != "upsert" and not should_inject(rng, SWARM_KIND_ON_PPM):
                continue
            lo, hi = SWARM_WEIGHT_RANGES[kind]
            weights.append((kind, rng.randint(lo, hi)))
        submit_on = should_inject(rng, SWARM_FAULT_ON_PPM)
        commit_on = should_inject(rng, SWARM_FAULT_ON_PPM)
        tier = SWARM_FAULT_TIERS_PPM[rng.randrange(len(SWARM_FAULT_TIERS_PPM))]
        delay_on = should_inject(rng, SWARM_DELAY_ON_PPM)
        delay = SWARM_DELAY_TIERS_PPM[rng.randrange(len(SWARM_DELAY_TIERS_PPM))]
        fault_cap = rng.randint(0, SWARM_FAULT_CAP_MAX)
        config = DoneLedgerFaultConfig(
            submit_fail_ppm=tier if submit_on else 0,
            commit_fail_ppm=tier if commit_on else 0,
            delay_ppm=delay if delay_on else 0,
        )
        return cls(weights=tuple(weights), fault_config=config, fault_cap=fault_cap)

    @property
    def total_weight(self) -> int:
        """Sum of the enabled kinds' weights (the roll range)."""
        return sum(weight for _, weight in self.weights)

    def kind_for(self, roll: int) -> str:
        """The kind whose cumulative weight band holds ``roll`` (``0 <= roll < total``)."""
        for kind, weight in self.weights:
            if roll < weight:
                return kind
            roll -= weight
        raise ValueError(f"roll outside 0..{self.total_weight}")

    def describe(self) -> str:
        """One line: the enabled kinds with weights, the rates and ``K``."""
        mix = " ".join(f"{kind}={weight}" for kind, weight in self.weights)
        cfg = self.fault_config
        return (
            f"mix[{mix}] submit={cfg.submit_fail_ppm // 10_000}% "
            f"commit={cfg.commit_fail_ppm // 10_000}% delay={cfg.delay_ppm // 10_000}% "
            f"K={self.fault_cap}"
        )
