"""Throughput of the done-ledger backends against the in-memory store (issue 7).

Run: ``python benchmarks/bench_backends.py [--rows N] [--repeat R] [--file DIR]``.

For batches of 1, 100 and 10_000 records, ``batch_upsert(batch).wait()`` is
timed on each backend, in one process, in two workloads:

* ``fresh``: keys never seen before (pure inserts);
* ``replay``: equal records again as new objects, so every row really merges.

Each figure is records per second and its ratio to the in-memory store
measured in the same run; the best of ``--repeat`` runs is kept. Per-row cost
growth is ``(cost per row at 10_000) / (cost per row at 100) - 1``. Targets
(reported, not asserted): SQLite ``:memory:`` ratio >= 0.25 at 10_000 and
PostgreSQL >= 0.1; no backend's per-row cost growing by more than 20% from
100 to 10_000.

Backends: ``inmemory``; ``sqlite:memory`` (``synchronous=FULL``, no fsync
happens in memory); with ``--file DIR`` also ``sqlite:file`` (WAL,
``synchronous=NORMAL`` as SQ-4 suggests for benchmarks); and, when
``GOSSIP_POSTGRES_TEST_URL`` is set and ``gossip_model.postgres`` imports,
``postgres`` on a throwaway database created (and dropped) through that URL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
from gossip_model.sqlite import SqliteDoneLedger

TENANT = TenantId(bytes([1]) * 32)
POLICY = PolicyHash(bytes([2]) * 32)
STATUSES = DoneLedgerStatus.ALL
CODES = {
    DoneLedgerStatus.FAILED_RETRYABLE: DoneLedgerErrorCode("TIMEOUT"),
    DoneLedgerStatus.FAILED_PERMANENT: DoneLedgerErrorCode("FATAL"),
    DoneLedgerStatus.SKIPPED: DoneLedgerErrorCode("SKIP"),
}
BATCH_SIZES = (1, 100, 10_000)
ROWS_FOR_SINGLES = 1_000
"""Batches of one record are slow everywhere; time this many of them."""
TARGETS = {"sqlite:memory": 0.25, "postgres": 0.1}
MAX_GROWTH = 0.20


class Ledger(Protocol):
    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> Any: ...


def make_records(count: int, salt: int) -> list[DoneLedgerRecord]:
    """``count`` valid records on distinct keys; ``salt`` keeps runs apart."""
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


def chunks(records: list[DoneLedgerRecord], size: int) -> list[list[DoneLedgerRecord]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


@dataclass(frozen=True)
class Backend:
    """A named factory of empty done ledgers, valid inside ``session``."""

    name: str
    session: Callable[[], AbstractContextManager[Callable[[], Ledger]]]


@contextmanager
def simple(factory: Callable[[], Ledger]) -> Iterator[Callable[[], Ledger]]:
    yield factory


@contextmanager
def sqlite_files(folder: str) -> Iterator[Callable[[], Ledger]]:
    counter = iter(range(10**9))
    with tempfile.TemporaryDirectory(dir=folder) as tmp:

        def factory() -> Ledger:
            path = Path(tmp) / f"bench-{next(counter)}.sqlite3"
            return SqliteDoneLedger(str(path), synchronous="NORMAL")

        yield factory


@contextmanager
def postgres_databases(url: str) -> Iterator[Callable[[], Ledger]]:
    """DT-2's pattern: one throwaway database per ledger, dropped at the end."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from gossip_model.postgres import PostgresDoneLedger

    names: list[str] = []
    admin = psycopg.connect(url, autocommit=True)

    def factory() -> Ledger:
        name = f"bench_{os.getpid()}_{len(names)}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        names.append(name)
        ledger: Ledger = PostgresDoneLedger(make_conninfo(url, dbname=name))
        return ledger

    try:
        yield factory
    finally:
        for name in names:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


def backends(file_dir: str | None) -> list[Backend]:
    found = [
        Backend("inmemory", lambda: simple(InMemoryDoneLedger)),
        Backend("sqlite:memory", lambda: simple(SqliteDoneLedger)),
    ]
    if file_dir is not None:
        found.append(Backend("sqlite:file", lambda: sqlite_files(file_dir)))
    url = os.environ.get("GOSSIP_POSTGRES_TEST_URL")
    if url:
        try:
            import gossip_model.postgres  # noqa: F401
        except ImportError as error:
            print(f"postgres skipped: gossip_model.postgres does not import ({error})")
        else:
            found.append(Backend("postgres", lambda: postgres_databases(url)))
    else:
        print("postgres skipped: GOSSIP_POSTGRES_TEST_URL is not set")
    return found


def time_upserts(
    factory: Callable[[], Ledger], size: int, rows: int, replay: bool, repeat: int
) -> float:
    """Best wall time of ``repeat`` runs writing ``rows`` records in batches of ``size``.

    Every run gets a fresh ledger (built, and for ``replay`` pre-filled, outside
    the timing) and its own keys.
    """
    best = float("inf")
    for run in range(repeat):
        ledger = factory()
        batches = chunks(make_records(rows, salt=run), size)
        if replay:
            for batch in chunks(make_records(rows, salt=run), size):
                ledger.batch_upsert(batch).wait(60)
        start = time.perf_counter()
        for batch in batches:
            ledger.batch_upsert(batch).wait(60)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="records per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="keep the best of R runs")
    parser.add_argument("--file", metavar="DIR", help="also time SQLite files under DIR")
    args = parser.parse_args(argv)

    chosen = backends(args.file)
    # rates[(workload, backend, size)] = records per second
    rates: dict[tuple[str, str, int], float] = {}
    with ExitStack() as stack:
        factories = {b.name: stack.enter_context(b.session()) for b in chosen}
        for workload in ("fresh", "replay"):
            for size in BATCH_SIZES:
                rows = ROWS_FOR_SINGLES if size == 1 else max(args.rows, size)
                for name, factory in factories.items():
                    seconds = time_upserts(factory, size, rows, workload == "replay", args.repeat)
                    rates[(workload, name, size)] = rows / seconds

    header = f"{'workload':<8} {'backend':<14}" + "".join(
        f" {f'{size} rec/s':>14} {'ratio':>6}" for size in BATCH_SIZES
    )
    print(header + f" {'growth 100->10k':>16}")
    verdicts = []
    for workload in ("fresh", "replay"):
        for name in factories:
            line = f"{workload:<8} {name:<14}"
            for size in BATCH_SIZES:
                rate = rates[(workload, name, size)]
                ratio = rate / rates[(workload, "inmemory", size)]
                line += f" {rate:>14,.0f} {ratio:>6.3f}"
            growth = rates[(workload, name, 100)] / rates[(workload, name, 10_000)] - 1
            print(line + f" {growth:>+15.1%}")
            if workload == "fresh" and name in TARGETS:
                ratio = rates[(workload, name, 10_000)] / rates[(workload, "inmemory", 10_000)]
                met = "met" if ratio >= TARGETS[name] else "MISSED"
                verdicts.append(f"{name}: ratio {ratio:.3f} vs target {TARGETS[name]} ({met})")
            if growth > MAX_GROWTH:
                verdicts.append(f"{workload} {name}: per-row cost grows {growth:+.1%} (> 20%)")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
