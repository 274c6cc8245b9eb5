"""Op generation GEN-1..GEN-11 with a scripted rng: roll tables, draw order, fallbacks."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from gossip_model.inmemory import CompletionOrder, PendingWriteId
from gossip_model.persistence import DoneLedgerRecord, DoneLedgerStatus
from gossip_model.sim import DoneLedgerFaultConfig, DoneLedgerSimOp, FaultLevel, OpGenerator
from gossip_model.sim.faults import FAIR_COIN_PPM

Op = DoneLedgerSimOp


class ScriptedRng(random.Random):
    """Returns scripted values for ``randrange`` / ``randint`` and records each call."""

    def __init__(self, values: Sequence[int]) -> None:
        super().__init__(0)
        self.values = list(values)
        self.calls: list[tuple[str, int, int]] = []

    def _next(self, kind: str, lo: int, hi: int) -> int:
        self.calls.append((kind, lo, hi))
        assert self.values, f"unscripted draw {kind}({lo}, {hi})"
        value = self.values.pop(0)
        top = hi if kind == "randint" else hi - 1
        assert lo <= value <= top, f"scripted {value} outside {kind}({lo}, {hi})"
        return value

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return self._next("randrange", start, stop)

    def randint(self, a: int, b: int) -> int:
        return self._next("randint", a, b)


class Controls:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def fail_next_submissions(self, n: int) -> None:
        self.calls.append(f"submit{n}")

    def fail_next_commits(self, n: int) -> None:
        self.calls.append(f"commit{n}")

    def delay_next_writes(self, n: int) -> None:
        self.calls.append(f"delay{n}")


class Harness:
    def __init__(
        self, values: Sequence[int], level: FaultLevel, pending: Sequence[int] = ()
    ) -> None:
        self.rng = ScriptedRng(values)
        self.controls = Controls()
        self.pending = [PendingWriteId(i) for i in pending]
        self.built: list[tuple[int, DoneLedgerStatus, int, int, int, int]] = []
        self.gen = OpGenerator(
            self.rng,
            DoneLedgerFaultConfig.for_level(level),
            self.controls,
            self.build,
            lambda: self.pending,
        )

    def build(
        self, ovid: int, status: DoneLedgerStatus, nbytes: int, findings: int, start: int, end: int
    ) -> DoneLedgerRecord:
        self.built.append((ovid, status, nbytes, findings, start, end))
        return None  # type: ignore[return-value]


RECORD = [7, 3, 100, 10, 20]  # ovid, status idx 3 = SCANNED_CLEAN (no findings draw), ...
"""Draws of one GEN-9 record whose status needs no findings draw."""


@pytest.mark.parametrize(
    ("roll", "expected"),
    [
        (0, Op.BatchUpsert),
        (54, Op.BatchUpsert),
        (55, Op.BatchGet),
        (74, Op.BatchGet),
        (75, Op.ReleaseOldest),
        (84, Op.ReleaseOldest),
        (85, Op.ReleaseNewest),
        (94, Op.ReleaseNewest),
        (95, Op.ReleaseAll),
        (99, Op.ReleaseAll),
    ],
)
def test_calm_roll_table(roll: int, expected: type) -> None:
    """GEN-2: faults disabled: 0..55 upsert, ..75 get, ..85 oldest, ..95 newest, ..100 all."""
    follow = {
        Op.BatchUpsert: [1, *RECORD],
        Op.BatchGet: [1, 4],
        Op.ReleaseOldest: [],
        Op.ReleaseNewest: [],
        Op.ReleaseAll: [0],
    }[expected]
    harness = Harness([roll, *follow], FaultLevel.SUNNY_DAY, pending=[3])
    op = harness.gen.generate_random_op(suppress_faults=False)
    assert type(op) is expected
    assert harness.rng.values == []
    assert harness.controls.calls == []  # SUNNY_DAY never injects


@pytest.mark.parametrize(
    ("roll", "expected", "follow"),
    [
        (34, Op.BatchUpsert, [1, *RECORD]),
        (35, Op.BatchGet, [1, 0]),
        (54, Op.BatchGet, [1, 0]),
        (55, Op.ReleaseOldest, []),
        (60, Op.ReleaseNewest, []),
        (65, Op.ReleaseSpecific, [0]),
        (70, Op.InjectSubmitFailure, [3]),
        (80, Op.InjectCommitFailure, [3]),
        (87, Op.InjectDelay, [5]),
        (95, Op.ReleaseAll, [FAIR_COIN_PPM]),
    ],
)
def test_fault_roll_table(roll: int, expected: type, follow: list[int]) -> None:
    """GEN-3 and GEN-10: faults enabled; non-Inject ops get three background coins."""
    coins = [] if expected.__name__.startswith("Inject") else [0, 999_999, 0]
    harness = Harness([roll, *follow, *coins], FaultLevel.STORMY, pending=[3])
    op = harness.gen.generate_random_op(suppress_faults=False)
    assert type(op) is expected
    assert harness.rng.values == []
    # Coins 0 < 100_000 inject; 999_999 does not: submit and delay, no commit failure.
    assert harness.controls.calls == ([] if not coins else ["submit1", "delay1"])


def test_inject_counts_and_release_all_order() -> None:
    """GEN-8: counts come from the draws; the fair coin True means OLDEST_FIRST."""
    harness = Harness([70, 2, 80, 1, 87, 4, 95, 0, 0, 0, 0], FaultLevel.STORMY)
    gen = harness.gen
    assert gen.generate_random_op(False) == Op.InjectSubmitFailure(2)
    assert gen.generate_random_op(False) == Op.InjectCommitFailure(1)
    assert gen.generate_random_op(False) == Op.InjectDelay(4)
    assert gen.generate_random_op(False) == Op.ReleaseAll(CompletionOrder.OLDEST_FIRST)
    harness = Harness([95, FAIR_COIN_PPM, 999_999, 999_999, 999_999], FaultLevel.STORMY)
    assert harness.gen.generate_random_op(False) == Op.ReleaseAll(CompletionOrder.NEWEST_FIRST)


def test_release_specific_picks_sorted_position_or_synthetic_id() -> None:
    """GEN-8: a tracked id by position in ascending order, else a raw id in 1..=1024."""
    harness = Harness([1], FaultLevel.STORMY, pending=[9, 2, 5])
    assert harness.gen.release_specific() == Op.ReleaseSpecific(PendingWriteId(5))
    assert harness.rng.calls == [("randrange", 0, 3)]
    harness = Harness([1024], FaultLevel.STORMY)
    assert harness.gen.release_specific() == Op.ReleaseSpecific(PendingWriteId(1024))
    assert harness.rng.calls == [("randint", 1, 1024)]


def test_guarded_release_oldest_retries_then_falls_back() -> None:
    """GEN-1 / GEN-6: ten empty ReleaseOldest rolls fall back to an upsert, no injection."""
    harness = Harness([55] * 10 + [1, *RECORD], FaultLevel.STORMY)
    op = harness.gen.generate_random_op(suppress_faults=False)
    assert isinstance(op, Op.BatchUpsert)
    assert len(op.records) == 1
    assert harness.rng.values == []
    assert harness.controls.calls == []


def test_guarded_release_oldest_retry_then_success() -> None:
    """GEN-1: an empty roll is retried with a fresh roll.

    GEN-7: with nothing pending, roll 85 still gives ReleaseNewest (unguarded) and its
    builder draws nothing: the two rolls are the only draws.
    """
    harness = Harness([80, 85], FaultLevel.SUNNY_DAY)
    assert harness.gen.generate_random_op(suppress_faults=False) == Op.ReleaseNewest()
    assert harness.rng.calls == [("randrange", 0, 100), ("randrange", 0, 100)]


def test_suppressed_faults_use_the_calm_table() -> None:
    """RUN-2 / GEN-1: warm-up ops use GEN-2 and never inject, even under RADIOACTIVE.

    Roll 60 is a BatchGet in the calm table but a ReleaseNewest in the fault table.
    """
    harness = Harness([60, 1, 0], FaultLevel.RADIOACTIVE)
    assert harness.gen.generate_random_op(suppress_faults=True) == Op.BatchGet((0,))
    assert harness.controls.calls == []
    assert harness.rng.values == []
    harness = Harness([60, 0, 0, 0], FaultLevel.RADIOACTIVE)
    assert harness.gen.generate_random_op(suppress_faults=False) == Op.ReleaseNewest()
    assert harness.controls.calls == ["submit1", "commit1", "delay1"]


def test_random_record_draw_order() -> None:
    """GEN-9: ovid, status, bytes, findings (by status), started, duration."""
    harness = Harness([49, 4, 10_000, 50, 1000, 500], FaultLevel.SUNNY_DAY)
    harness.gen.random_record()
    assert harness.built == [(49, DoneLedgerStatus.SCANNED_WITH_FINDINGS, 10_000, 50, 1000, 1500)]
    assert harness.rng.calls == [
        ("randrange", 0, 50),
        ("randrange", 0, 5),
        ("randint", 0, 10_000),
        ("randint", 1, 50),
        ("randint", 1, 1000),
        ("randint", 1, 500),
    ]
    harness = Harness([0, 0, 0, 10, 1, 1], FaultLevel.SUNNY_DAY)
    harness.gen.random_record()
    assert harness.built == [(0, DoneLedgerStatus.FAILED_RETRYABLE, 0, 10, 1, 2)]
    assert harness.rng.calls[3] == ("randint", 0, 10)
    harness = Harness([0, 3, 0, 1, 1], FaultLevel.SUNNY_DAY)
    harness.gen.random_record()
    assert harness.built == [(0, DoneLedgerStatus.SCANNED_CLEAN, 0, 0, 1, 2)]


def test_batch_builders_draw_sizes_first() -> None:
    """GEN-4 / GEN-5: batch size 1..=20, then records; count 1..=10, then positions 0..50."""
    harness = Harness([2, *RECORD, *RECORD], FaultLevel.SUNNY_DAY)
    op = harness.gen.batch_upsert()
    assert isinstance(op, Op.BatchUpsert)
    assert len(op.records) == 2
    assert harness.rng.calls[0] == ("randint", 1, 20)
    harness = Harness([3, 0, 49, 7], FaultLevel.SUNNY_DAY)
    assert harness.gen.batch_get() == Op.BatchGet((0, 49, 7))
    assert harness.rng.calls[:2] == [("randint", 1, 10), ("randrange", 0, 50)]


def test_liveness_generator() -> None:
    """GEN-11: 0..80 upsert, 80..100 get; no retries, no injection."""
    harness = Harness([79, 1, *RECORD, 80, 1, 5], FaultLevel.RADIOACTIVE)
    assert isinstance(harness.gen.generate_liveness_op(), Op.BatchUpsert)
    assert harness.gen.generate_liveness_op() == Op.BatchGet((5,))
    assert harness.controls.calls == []
    assert harness.rng.values == []


def test_is_fault_injection() -> None:
    """SIM-7: exactly the three Inject* variants are fault injections."""
    injections = {Op.InjectSubmitFailure(1), Op.InjectCommitFailure(1), Op.InjectDelay(1)}
    others = {
        Op.BatchUpsert(()),
        Op.BatchGet((1,)),
        Op.ReleaseOldest(),
        Op.ReleaseNewest(),
        Op.ReleaseSpecific(PendingWriteId(1)),
        Op.ReleaseAll(CompletionOrder.OLDEST_FIRST),
    }
    assert all(op.is_fault_injection() for op in injections)
    assert not any(op.is_fault_injection() for op in others)
    assert {op.describe() for op in injections} == {
        "InjectSubmitFailure(1)",
        "InjectCommitFailure(1)",
        "InjectDelay(1)",
    }
    assert Op.ReleaseSpecific(PendingWriteId(4)).describe() == "ReleaseSpecific(4)"
    assert Op.ReleaseAll(CompletionOrder.NEWEST_FIRST).describe() == "ReleaseAll(NEWEST_FIRST)"
    assert Op.BatchGet((1, 2)).describe() == "BatchGet([1, 2])"
    assert Op.BatchUpsert(()).describe() == "BatchUpsert[0]()"
