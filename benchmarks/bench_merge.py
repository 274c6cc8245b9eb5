"""Benchmark ``DoneLedgerRecord.merge`` against a plain-tuple baseline.

Run with ``python benchmarks/bench_merge.py``. The baseline does the work that
DL-34 describes (validate both operands, compare keys, join the status ranks,
take the maximum bytes, compute the status-aware findings count, pick the
provenance winner by the W tuple, choose the error code) on plain tuples of
ints and bytes, in the same process. Each side is timed with ``timeit`` over
several repeats and the minimum is kept. The target is a ratio of at most 3x;
the script only reports it.
"""

from __future__ import annotations

import timeit

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

NUMBER = 20_000
REPEATS = 7
TARGET_RATIO = 3.0

# Plain-tuple layout: (key, rank, bytes, count, (run, shard, fence, started, finished), code)
SC_RANK, SWF_RANK = 10, 11
SCANNED = {SC_RANK, SWF_RANK}


def s64(x: int) -> int:
    return x - 2**64 if x >= 2**63 else x


def baseline_validate(r: tuple) -> None:  # type: ignore[type-arg]
    rank, count, code = r[1], r[3], r[5]
    if rank == SC_RANK:
        if count != 0 or code is not None:
            raise ValueError("invalid")
    elif rank == SWF_RANK:
        if count == 0 or code is not None:
            raise ValueError("invalid")
    elif code is None:
        raise ValueError("invalid")


def baseline_w(r: tuple) -> tuple:  # type: ignore[type-arg]
    run, shard, fence, started, finished = r[4]
    return (r[1], finished, started, fence, s64(run), s64(shard), r[5] or b"")


def baseline_merge(a: tuple, b: tuple) -> tuple:  # type: ignore[type-arg]
    baseline_validate(a)
    baseline_validate(b)
    if a[0] != b[0]:
        raise ValueError("key mismatch")
    rank = max(a[1], b[1])
    bytes_scanned = max(a[2], b[2])
    if rank == SC_RANK:
        count = 0
    elif rank == SWF_RANK:
        count = max(a[3] if a[1] == SWF_RANK else 0, b[3] if b[1] == SWF_RANK else 0, 1)
    else:
        count = max(a[3], b[3])
    winner, loser = (b, a) if baseline_w(b) > baseline_w(a) else (a, b)
    code = None if rank in SCANNED else (winner[5] if winner[5] is not None else loser[5])
    result = (a[0], rank, bytes_scanned, count, winner[4], code)
    baseline_validate(result)
    return result


def main() -> None:
    key = DoneLedgerKey(TenantId(b"\x01" * 32), PolicyHash(b"\x02" * 32), OvidHash(b"\x03" * 32))
    failed = DoneLedgerRecord(
        key,
        DoneLedgerStatus.FAILED_RETRYABLE,
        9_000,
        7,
        DoneLedgerProvenance(
            RunId(10), ShardId(11), FenceEpoch(12), LogicalTime(100), LogicalTime(200)
        ),
        DoneLedgerErrorCode("IO_TIMEOUT"),
    )
    scanned = DoneLedgerRecord(
        key,
        DoneLedgerStatus.SCANNED_WITH_FINDINGS,
        1_000,
        1,
        DoneLedgerProvenance(
            RunId(20), ShardId(21), FenceEpoch(22), LogicalTime(150), LogicalTime(250)
        ),
    )
    raw_key = b"\x01" * 32 + b"\x02" * 32 + b"\x03" * 32
    t_failed = (raw_key, 1, 9_000, 7, (10, 11, 12, 100, 200), b"IO_TIMEOUT")
    t_scanned = (raw_key, SWF_RANK, 1_000, 1, (20, 21, 22, 150, 250), None)

    # Same answer on both sides before timing anything.
    merged = failed.merge(scanned)
    expected = baseline_merge(t_failed, t_scanned)
    assert (merged.status.rank, merged.bytes_scanned, merged.findings_count) == expected[1:4]

    record_times = timeit.repeat(
        lambda: (failed.merge(scanned), scanned.merge(failed)), number=NUMBER, repeat=REPEATS
    )
    tuple_times = timeit.repeat(
        lambda: (baseline_merge(t_failed, t_scanned), baseline_merge(t_scanned, t_failed)),
        number=NUMBER,
        repeat=REPEATS,
    )
    per_record = min(record_times) / (2 * NUMBER)
    per_tuple = min(tuple_times) / (2 * NUMBER)
    ratio = per_record / per_tuple
    print(f"DoneLedgerRecord.merge : {per_record * 1e6:8.3f} us/merge (min of {REPEATS})")
    print(f"plain-tuple baseline   : {per_tuple * 1e6:8.3f} us/merge (min of {REPEATS})")
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"ratio                  : {ratio:8.2f}x ({verdict} the {TARGET_RATIO:.0f}x target)")


if __name__ == "__main__":
    main()
