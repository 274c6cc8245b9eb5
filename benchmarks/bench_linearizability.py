"""Benchmark the linearizability checker (issue 14, "Performance").

Run with ``python benchmarks/bench_linearizability.py`` (``--quick`` stops at
10k operations and skips the planted-bug figures; ``--max-ops N`` stops at N).

Histories: 1k, 10k and 100k operations from 8 clients on 64 hot done-ledger
keys, synthesized by a seeded simulation that linearizes every operation at a
random point inside its interval (so every history is linearizable and at
most 8 operations are open at once): 60% single-key writes, 40% point reads.
For each size: checking time and peak traced memory, partitioned (per key)
and unpartitioned (one search over the whole history), plus the baseline:
replaying the same operations through the model once, in linearization
order, in the same process (the least work any checker must do). Reported:
time, ratio to the baseline, peak memory, and the growth factor per 10x.

Second part (skipped by ``--quick``): how many Hypothesis examples the
parallel property needs to find each planted concurrency bug, median over
seeds (seeded scheduler, two scheduler seeds per example, as in the tests).
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gossip_model.linearizability import DONE_LEDGER, History, Operation, Returned, check
from gossip_model.linearizability.workload import done_record, hot_key
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerKey, DoneLedgerRecord

CLIENTS = 8
KEYS = 64


@dataclass
class _Open:
    kind: str
    args: tuple[Any, ...]
    invoke: int
    result: Any = None
    point: int | None = None  # linearization order, once applied


def synthetic_history(n_ops: int, seed: int = 0) -> tuple[History, list[Operation]]:
    """A linearizable history and its operations in linearization order."""
    rng = random.Random(seed)
    rows: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    open_ops: dict[int, _Open] = {}
    done: list[tuple[int, Operation]] = []
    clock = started = points = 0
    while len(done) < n_ops:
        client = rng.randrange(CLIENTS)
        clock += 1
        entry = open_ops.get(client)
        if entry is None:
            if started < n_ops:
                started += 1
                slot = rng.randrange(KEYS)
                if rng.random() < 0.6:
                    record = done_record(
                        slot, rng.randrange(5), rng.randrange(1000), rng.randrange(1, 9)
                    )
                    open_ops[client] = _Open("batch_upsert", ((record,),), clock)
                else:
                    open_ops[client] = _Open("get_record", (hot_key(slot),), clock)
        elif entry.point is None:  # the linearization point, inside the interval
            if entry.kind == "batch_upsert":
                (record,) = entry.args[0]
                prior = rows.get(record.key)
                rows[record.key] = record if prior is None else prior.merge(record)
                entry.result = DoneLedgerCommitReceipt.for_folded([record])
            else:
                entry.result = rows.get(entry.args[0])
            entry.point = points
            points += 1
        else:
            op = Operation(
                len(done),
                client,
                entry.kind,
                entry.args,
                entry.invoke,
                clock,
                Returned(entry.result),
            )
            done.append((entry.point, op))
            del open_ops[client]
    history = History(tuple(op for _, op in done))
    return history, [op for _, op in sorted(done, key=lambda pair: pair[0])]


SIZES = (1_000, 10_000, 100_000)
"""History sizes of the checker figures (``--quick`` stops at 10k, ``--max-ops`` earlier)."""


def baseline(order: list[Operation]) -> None:
    """Replay the operations once through the model, in linearization order."""
    split = DONE_LEDGER.partition(History(tuple(order)), partitioned=False)
    (whole,) = split.partitions
    state = whole.initial
    for op in order:
        state = whole.step(state, op)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def peak_memory(fn: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def checker_figures(sizes: list[int]) -> None:
    print(f"checker: {CLIENTS} clients, {KEYS} hot keys, linearizable histories")
    warm, _ = synthetic_history(500, seed=1)
    check(warm, DONE_LEDGER, partitioned=False)  # warm caches before timing
    header = f"{'ops':>7} {'mode':>13} {'time s':>8} {'x base':>7} {'peak MiB':>9} {'steps':>8}"
    print(header)
    previous: dict[str, float] = {}
    growth: dict[str, list[float]] = {"partitioned": [], "unpartitioned": []}
    for n in sizes:
        history, order = synthetic_history(n)
        base, _ = timed(lambda order=order: baseline(order))  # type: ignore[misc]
        for mode, partitioned in (("partitioned", True), ("unpartitioned", False)):
            elapsed, result = timed(
                lambda h=history, p=partitioned: check(h, DONE_LEDGER, partitioned=p)  # type: ignore[misc]
            )
            assert result.ok, "synthetic histories are linearizable by construction"  # type: ignore[attr-defined]
            peak = peak_memory(
                lambda h=history, p=partitioned: check(h, DONE_LEDGER, partitioned=p)
            )  # type: ignore[misc]
            print(
                f"{n:>7} {mode:>13} {elapsed:>8.3f} {elapsed / base:>7.1f} "
                f"{peak / 2**20:>9.1f} {result.explored:>8}"  # type: ignore[attr-defined]
            )
            if mode in previous:
                growth[mode].append(elapsed / previous[mode])
            previous[mode] = elapsed
        print(f"{n:>7} {'baseline':>13} {base:>8.3f}")
    for mode, factors in growth.items():
        shown = ", ".join(f"{f:.1f}x" for f in factors)
        print(f"growth per 10x ops ({mode}): {shown} (linear = 10x)")


def examples_to_failure(target: Any, commands: Any, seed: int) -> float:
    """Hypothesis examples (generation only) until the parallel property fails."""
    from hypothesis import Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from gossip_model.linearizability.runner import run_and_check
    from tests.linearizability.strategies import programs

    calls = [0]

    @hypothesis_seed(seed)
    @settings(max_examples=1000, database=None, deadline=None, phases=[Phase.generate])
    @given(programs(commands))
    def prop(program: Any) -> None:
        calls[0] += 1
        assert run_and_check(program, target, seeds=(0, 1), minimal=False) is None

    try:
        prop()
    except AssertionError:
        return calls[0] - 1  # Hypothesis runs the failing example once more to report it
    return float("inf")


def planted_figures(seeds: int) -> None:
    # The Hypothesis strategies live with the tests: import them from the checkout.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gossip_model.linearizability.planted import PLANTED, PlantedTarget
    from gossip_model.linearizability.targets import SINK
    from tests.linearizability.strategies import findings_commands, ledger_commands

    print(f"planted bugs: Hypothesis examples to the first failure, over {seeds} seeds")
    with tempfile.TemporaryDirectory() as scratch:
        for bug in PLANTED:
            path = str(Path(scratch) / "planted.db") if bug.startswith("sqlite") else None
            target = PlantedTarget(bug, path)
            commands = findings_commands if target.interface == SINK else ledger_commands
            counts: list[float] = []
            for s in range(seeds):
                counts.append(examples_to_failure(target, commands, s))
            print(f"  {bug:28} median {statistics.median(counts):>5} examples (all: {counts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, no planted bugs")
    parser.add_argument("--seeds", type=int, default=7, help="seeds for the planted-bug figures")
    parser.add_argument("--planted-only", action="store_true", help="only the planted-bug figures")
    parser.add_argument(
        "--max-ops",
        type=int,
        default=100_000,
        metavar="N",
        help="largest history checked (sizes 1k, 10k, 100k up to N; at least 1k)",
    )
    args = parser.parse_args()
    if args.max_ops < SIZES[0]:
        parser.error(f"--max-ops: at least {SIZES[0]} (the smallest history), got {args.max_ops}")
    if not args.planted_only:
        largest = min(args.max_ops, 10_000) if args.quick else args.max_ops
        checker_figures([n for n in SIZES if n <= largest])
    if not args.quick:
        planted_figures(args.seeds)


if __name__ == "__main__":
    main()
