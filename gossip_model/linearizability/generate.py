"""Seeded random parallel programs for ``gossip-sim stress`` and the benchmark.

The Hypothesis strategies in the tests draw from the same command vocabulary;
this generator exists for the command line, where a seed must name the
program. Writes, ``batch_get`` and ``list_done_hashes`` are the ``DoneLedger``
protocol's own operations; the optional ones (:data:`OPTIONAL`: ``snapshot``;
the findings point reads and ``findings_snapshot``, since the ``FindingsSink``
protocol has only ``upsert_batch``) are drawn only when they are in the
``capabilities`` passed to :func:`random_program`.

Choice (issue 14 item 6): a left-out operation is replaced by a protocol
operation decided by the same random draw (``snapshot`` by
``list_done_hashes``; a findings read by the other read, else a submission),
so the same seed with the same capabilities gives the same program, and a
store with every capability gets the full vocabulary.

``delayed=True`` draws the delayed-mode vocabulary of
:mod:`gossip_model.linearizability.control` (submissions without a wait,
``wait_handle``, the three releases in both orders, ``arm`` and
``set_auto_complete`` on a queue, and reads) with :func:`delayed_command`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from gossip_model.linearizability.control import (
    COUNTERS,
    Arm,
    ReleaseAll,
    ReleaseNext,
    ReleasePending,
    SetAutoComplete,
    Upsert,
    UpsertFindings,
    WaitHandle,
)
from gossip_model.linearizability.programs import (
    Command,
    FindingsSnapshot,
    GetFinding,
    GetObservation,
    ListDone,
    ParallelProgram,
    Read,
    Snapshot,
    Submit,
    Write,
)
from gossip_model.linearizability.targets import LEDGER, SINK, check_interface

#: Optional operations per interface: drawn only when the store has them.
OPTIONAL: dict[str, tuple[str, ...]] = {
    LEDGER: ("snapshot",),
    SINK: ("get_finding", "get_observation", "findings_snapshot"),
}
ALL_CAPABILITIES = frozenset(name for names in OPTIONAL.values() for name in names)


def capabilities_of(store: object, interface: str) -> frozenset[str]:
    """The optional operations of ``interface`` that ``store`` has (callable attributes)."""
    names = OPTIONAL[check_interface(interface)]
    return frozenset(name for name in names if callable(getattr(store, name, None)))


def left_out(capabilities: Iterable[str], interface: str) -> tuple[str, ...]:
    """The optional operations of ``interface`` a program drawn with ``capabilities`` omits."""
    have = set(capabilities)
    return tuple(name for name in OPTIONAL[check_interface(interface)] if name not in have)


def ledger_command(
    rng: random.Random, keys: int, capabilities: frozenset[str] = ALL_CAPABILITIES
) -> Command:
    """Writes (60%: replays and conflicts on ``keys`` hot slots), reads, listings, snapshots."""
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
    if roll >= 0.96 and "snapshot" in capabilities:
        return Snapshot()
    return ListDone()


def findings_command(
    rng: random.Random, keys: int, capabilities: frozenset[str] = ALL_CAPABILITIES
) -> Command:
    """Submissions (60%, one in five a conflicting variant), point reads, snapshots."""
    tenant, slot = rng.randrange(2), rng.randrange(keys)
    roll = rng.random()
    if roll >= 0.95 and "findings_snapshot" in capabilities:
        return FindingsSnapshot()
    wanted = "get_finding" if 0.6 <= roll < 0.8 else "get_observation"
    other = "get_observation" if wanted == "get_finding" else "get_finding"
    if roll >= 0.6 and (wanted in capabilities or other in capabilities):
        read = wanted if wanted in capabilities else other
        return GetFinding(tenant, slot) if read == "get_finding" else GetObservation(tenant, slot)
    variant = 1 if rng.random() < 0.2 else 0
    return Submit(tenant, slot, variant, rng.randrange(1, 4), rng.randrange(1, 6))


def delayed_command(
    rng: random.Random,
    keys: int,
    capabilities: frozenset[str] = ALL_CAPABILITIES,
    *,
    findings: bool = False,
    queues: int = 1,
) -> Command:
    """Delayed mode: submissions (40%), waits (20%), controls on a queue (25%), reads."""
    roll = rng.random()
    if roll < 0.4:
        if findings:
            tenant, slot = rng.randrange(2), rng.randrange(keys)
            variant = 1 if rng.random() < 0.2 else 0
            return UpsertFindings(tenant, slot, variant, rng.randrange(1, 4), rng.randrange(1, 6))
        written = ledger_command(rng, keys, capabilities)
        while not isinstance(written, Write):
            written = ledger_command(rng, keys, capabilities)
        return Upsert(written.records)
    if roll < 0.6:
        return WaitHandle()
    if roll < 0.85:
        queue = rng.randrange(queues)
        pick = rng.randrange(6)
        newest = rng.random() < 0.5
        if pick == 0:
            return ReleaseNext(newest, queue)
        if pick == 1:
            return ReleasePending(rng.randrange(4), queue)
        if pick in (2, 3):
            return ReleaseAll(newest, queue)
        if pick == 4:
            return Arm(rng.choice(COUNTERS), rng.randrange(1, 3), queue)
        return SetAutoComplete(rng.random() < 0.5, queue)
    # A read: redrawn until it is one (``Write`` / ``Submit`` wait at once, for auto-complete).
    make = findings_command if findings else ledger_command
    read = make(rng, keys, capabilities)
    while isinstance(read, Write | Submit):
        if findings and not {"get_finding", "get_observation"} & capabilities:
            return WaitHandle()  # a findings sink with no reads: nothing else to draw
        read = make(rng, keys, capabilities)
    return read


def random_program(
    seed: int,
    *,
    clients: int,
    ops: int,
    keys: int,
    findings: bool = False,
    prefix: int = 0,
    capabilities: Iterable[str] = ALL_CAPABILITIES,
    delayed: bool = False,
) -> ParallelProgram:
    """``clients`` programs of ``ops`` commands each over ``keys`` hot slots.

    Only the optional operations named in ``capabilities`` are drawn (module
    docstring); the default is all of them. ``delayed``: the delayed-mode
    vocabulary (control commands name one of ``clients + 1`` queues).
    """
    rng = random.Random(seed)
    have = frozenset(capabilities)
    if delayed:
        draw = [
            tuple(
                delayed_command(rng, keys, have, findings=findings, queues=clients + 1)
                for _ in range(length)
            )
            for length in (prefix, *([ops] * clients))
        ]
        return ParallelProgram(draw[0], tuple(draw[1:]))
    make: Callable[[random.Random, int, frozenset[str]], Command] = (
        findings_command if findings else ledger_command
    )
    return ParallelProgram(
        tuple(make(rng, keys, have) for _ in range(prefix)),
        tuple(tuple(make(rng, keys, have) for _ in range(ops)) for _ in range(clients)),
    )


__all__ = [
    "ALL_CAPABILITIES",
    "OPTIONAL",
    "capabilities_of",
    "delayed_command",
    "findings_command",
    "ledger_command",
    "left_out",
    "random_program",
]
