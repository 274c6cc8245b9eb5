"""Throughput of the in-memory done ledger against a plain-dict fold (issue 3).

Run: ``python benchmarks/bench_inmemory.py [--records N] [--repeat R]``.

For batches of 1, 100 and 10_000 records, in one process:

* ``upsert fresh``: ``batch_upsert(batch).wait()`` on keys never seen before;
* ``upsert replay``: equal records again, as new objects (as a re-scan would
  build them), so every record really merges with its durable row;
* ``batch_get``: positional lookups of the written keys.

Each is reported as records per second and as a ratio to a baseline that
does the same work on a plain ``dict`` with the same merge function
(``DoneLedgerRecord.merge``) and no store machinery. Targets (reported, not
asserted): ratio >= 0.7 for batches >= 100, and 10_000-record throughput
within 20% of 100-record throughput. The best of ``--repeat`` runs is kept
to reduce noise.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

TENANT = TenantId(bytes([1]) * 32)
POLICY = PolicyHash(bytes([2]) * 32)
STATUSES = DoneLedgerStatus.ALL
CODES = {
    DoneLedgerStatus.FAILED_RETRYABLE: DoneLedgerErrorCode("TIMEOUT"),
    DoneLedgerStatus.FAILED_PERMANENT: DoneLedgerErrorCode("FATAL"),
    DoneLedgerStatus.SKIPPED: DoneLedgerErrorCode("SKIP"),
}
BATCH_SIZES = (1, 100, 10_000)


def make_records(count: int, salt: int) -> list[DoneLedgerRecord]:
    """``count`` valid records on distinct keys, statuses cycling through the lattice."""
    records = []
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        ovid = OvidHash((i + salt * 1_000_003).to_bytes(32, "little"))
        provenance = DoneLedgerProvenance(
            RunId(i % 7), ShardId(i % 3), FenceEpoch(1), LogicalTime(i), LogicalTime(i + 5)
        )
        records.append(
            DoneLedgerRecord(
                DoneLedgerKey(TENANT, POLICY, ovid),
                status,
                i,
                (i % 4) + 1 if status is DoneLedgerStatus.SCANNED_WITH_FINDINGS else 0,
                provenance,
                CODES.get(status),
            )
        )
    return records


def batches(records: list[DoneLedgerRecord], size: int) -> list[list[DoneLedgerRecord]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def baseline_fold(
    rows: dict[DoneLedgerKey, DoneLedgerRecord], batch: list[DoneLedgerRecord]
) -> None:
    """The same merge function on a plain dict: no lock, no validation pass, no receipt."""
    for record in batch:
        current = rows.get(record.key)
        rows[record.key] = record if current is None else current.merge(record)


def best_of(repeat: int, setup: Callable[[], Callable[[], None]]) -> float:
    """Fastest wall time of ``repeat`` runs; ``setup`` builds fresh state outside the timing."""
    best = float("inf")
    for _ in range(repeat):
        run = setup()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure_upsert(
    records: list[DoneLedgerRecord], size: int, replay: bool, repeat: int
) -> tuple[float, float]:
    chunks = batches(records, size)
    # Equal values, distinct objects: the replay must merge, not hit an identity shortcut.
    first_writes = batches(make_records(len(records), salt=0), size) if replay else []

    def store_setup() -> Callable[[], None]:
        ledger = InMemoryDoneLedger()
        for chunk in first_writes:
            ledger.batch_upsert(chunk).wait()

        def run() -> None:
            for chunk in chunks:
                ledger.batch_upsert(chunk).wait()

        return run

    def baseline_setup() -> Callable[[], None]:
        rows: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        for chunk in first_writes:
            baseline_fold(rows, chunk)

        def run() -> None:
            for chunk in chunks:
                baseline_fold(rows, chunk)

        return run

    return best_of(repeat, store_setup), best_of(repeat, baseline_setup)


def measure_get(records: list[DoneLedgerRecord], size: int, repeat: int) -> tuple[float, float]:
    ledger = InMemoryDoneLedger()
    ledger.batch_upsert(records).wait()
    rows: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    baseline_fold(rows, records)
    ovid_chunks = [[r.key.ovid_hash for r in chunk] for chunk in batches(records, size)]

    def store_setup() -> Callable[[], None]:
        def run() -> None:
            for ovids in ovid_chunks:
                ledger.batch_get(TENANT, POLICY, ovids)

        return run

    def baseline_setup() -> Callable[[], None]:
        def run() -> None:
            for ovids in ovid_chunks:
                [rows.get(DoneLedgerKey(TENANT, POLICY, ovid)) for ovid in ovids]

        return run

    return best_of(repeat, store_setup), best_of(repeat, baseline_setup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best kept)")
    args = parser.parse_args()
    records = make_records(args.records, salt=0)

    rows: list[tuple[str, int, float, float]] = []
    for size in BATCH_SIZES:
        store, base = measure_upsert(records, size, replay=False, repeat=args.repeat)
        rows.append(("upsert fresh", size, store, base))
        store, base = measure_upsert(records, size, replay=True, repeat=args.repeat)
        rows.append(("upsert replay", size, store, base))
        store, base = measure_get(records, size, repeat=args.repeat)
        rows.append(("batch_get", size, store, base))

    n = len(records)
    print(f"in-memory done ledger, {n} records per measurement, best of {args.repeat}")
    print(f"{'case':<14} {'batch':>6} {'store rec/s':>12} {'base rec/s':>12} {'ratio':>6}  target")
    throughput: dict[tuple[str, int], float] = {}
    for case, size, store, base in sorted(rows, key=lambda r: (r[0], r[1])):
        ratio = base / store
        throughput[(case, size)] = n / store
        target = ("ok" if ratio >= 0.7 else "BELOW 0.7") if size >= 100 else "-"
        print(
            f"{case:<14} {size:>6} {n / store:>12,.0f} {n / base:>12,.0f} {ratio:>6.2f}  {target}"
        )
    print()
    for case in ("upsert fresh", "upsert replay", "batch_get"):
        scale = throughput[(case, 10_000)] / throughput[(case, 100)]
        verdict = "ok" if scale >= 0.8 else "BELOW 0.8"
        print(f"{case:<14} 10_000 vs 100 throughput: {scale:.2f}  {verdict}")


if __name__ == "__main__":
    main()
