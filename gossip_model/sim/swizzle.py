"""Swizzle-clog building blocks (SWZ-3, SWZ-6) as pure functions.

Idea (FoundationDB's "swizzle-clogging", applied to storage): hold many
overlapping writes, then let them land in a random order, failing some. The
runner (``DoneLedgerSim.run_swizzle_clog``) wires these to the ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gossip_model.persistence import DoneLedgerStatus
from gossip_model.sim.constants import SWIZZLE_BATCH_WIDTH, SWIZZLE_OVERLAP_POOL
from gossip_model.sim.faults import SWIZZLE_COMMIT_FAIL_PPM, should_inject

__all__ = ["SWIZZLE_STATUSES", "SwizzleRecordShape", "failure_plan", "swizzle_batch_shape"]

SWIZZLE_STATUSES = (
    DoneLedgerStatus.FAILED_RETRYABLE,
    DoneLedgerStatus.SCANNED_WITH_FINDINGS,
    DoneLedgerStatus.SCANNED_CLEAN,
    DoneLedgerStatus.FAILED_PERMANENT,
    DoneLedgerStatus.SKIPPED,
)
"""SWZ-3 status cycle, picked by ``batch_idx % 5``."""


@dataclass(frozen=True, slots=True)
class SwizzleRecordShape:
    """The arguments of one ``build_record`` call of a swizzle batch."""

    ovid_index: int
    status: DoneLedgerStatus
    bytes_scanned: int
    findings_count: int
    started_at: int
    finished_at: int


def swizzle_batch_shape(batch_idx: int) -> tuple[SwizzleRecordShape, ...]:
    """SWZ-3 (no draws): three records on pool positions ``(b % 5 + offset) % 5``.

    Findings: 0 for SCANNED_CLEAN, ``offset + 1`` for SCANNED_WITH_FINDINGS,
    ``offset`` otherwise; bytes ``100 + 25*b + offset``; started
    ``1000 + 10*b + offset``, finished 5 later.
    """
    status = SWIZZLE_STATUSES[batch_idx % len(SWIZZLE_STATUSES)]
    base = batch_idx % SWIZZLE_OVERLAP_POOL
    started = 1000 + 10 * batch_idx
    shapes = []
    for offset in range(SWIZZLE_BATCH_WIDTH):
        if status is DoneLedgerStatus.SCANNED_CLEAN:
            findings = 0
        elif status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
            findings = offset + 1
        else:
            findings = offset
        shapes.append(
            SwizzleRecordShape(
                (base + offset) % SWIZZLE_OVERLAP_POOL,
                status,
                100 + 25 * batch_idx + offset,
                findings,
                started + offset,
                started + offset + 5,
            )
        )
    return tuple(shapes)


def failure_plan(rng: random.Random, count: int) -> list[bool]:
    """SWZ-6: one 25% flag per pending id, then at least one failure and one success.

    Flags are drawn in (shuffled) order; if none is set, a drawn position is
    set; then, if ``count >= 2`` and all are set, a drawn position is cleared.
    """
    flags = [should_inject(rng, SWIZZLE_COMMIT_FAIL_PPM) for _ in range(count)]
    if flags and not any(flags):
        flags[rng.randrange(0, len(flags))] = True
    if len(flags) >= 2 and all(flags):
        flags[rng.randrange(0, len(flags))] = False
    return flags
