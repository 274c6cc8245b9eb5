"""Seeded random parallel programs for ``gossip-sim stress`` and the benchmark.

The Hypothesis strategies in the tests draw from the same command vocabulary;
this generator exists for the command line, where a seed must name the
program. Done-ledger programs use only the protocol's operations
(``batch_upsert``, ``batch_get``, ``list_done_hashes``), so any ``DoneLedger``
can be stressed.
"""

from __future__ import annotations

import random

from gossip_model.linearizability.programs import (
    Command,
    GetFinding,
    GetObservation,
    ListDone,
    ParallelProgram,
    Read,
    Submit,
    Write,
)


def ledger_command(rng: random.Random, keys: int) -> Command:
    """Writes (60%: replays and conflicts on ``keys`` hot slots), reads, listings."""
    roll = rng.random()
    if roll < 0.6:
        size = rng.choice((1, 1, 1, 1, 1, 2, 3))
        return Write(
            tuple(
                (rng.randrange(keys), rng.randrange(5), rng.randrange(8), rng.randrange(1, 4))
                for _ in range(size)
            )
        )
    if roll < 0.9:
        return Read(tuple(rng.randrange(keys) for _ in range(rng.choice((1, 1, 1, 1, 2)))))
    return ListDone()


def findings_command(rng: random.Random, keys: int) -> Command:
    """Submissions (60%, one in five a conflicting variant) and point reads, two tenants."""
    tenant, slot = rng.randrange(2), rng.randrange(keys)
    roll = rng.random()
    if roll < 0.6:
        variant = 1 if rng.random() < 0.2 else 0
        return Submit(tenant, slot, variant, rng.randrange(1, 4), rng.randrange(1, 6))
    if roll < 0.8:
        return GetFinding(tenant, slot)
    return GetObservation(tenant, slot)


def random_program(
    seed: int, *, clients: int, ops: int, keys: int, findings: bool = False, prefix: int = 0
) -> ParallelProgram:
    """``clients`` programs of ``ops`` commands each over ``keys`` hot slots."""
    rng = random.Random(seed)
    make = findings_command if findings else ledger_command
    return ParallelProgram(
        tuple(make(rng, keys) for _ in range(prefix)),
        tuple(tuple(make(rng, keys) for _ in range(ops)) for _ in range(clients)),
    )


__all__ = ["findings_command", "ledger_command", "random_program"]
