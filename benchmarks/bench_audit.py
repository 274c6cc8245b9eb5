"""Throughput and memory of ``gossip-sim audit`` on PostgreSQL (issue 13).

Run: ``GOSSIP_POSTGRES_TEST_URL=... python benchmarks/bench_audit.py [--small N] [--large M]``
(defaults 100_000 and 1_000_000; ``.ci/postgres.sh`` starts a throwaway cluster).

A throwaway database (created and dropped through the URL) is migrated by
the stores, then filled with COPY: ``N`` done-ledger rows and ``N``
observations (1 finding, ``N / 1000`` occurrences, 1000 policies), each
done row a SCANNED_WITH_FINDINGS key with the observation of its scope (or
another status for every fourth), so every check, relation join included,
does real work and the audit is clean. The audit runs in a child process
(``python -m gossip_model.sim audit postgres:... --json``) whose peak RSS is
read with ``os.wait4``; it must exit 0. Then the database grows to ``M``
rows of each and is audited again.

Figures: rows read per second (all four tables), peak RSS, and, as the
same-process baseline the style asks for, the ratio of the audit's rate to
a plain server-side-cursor read of the same rows without checks. Targets
(reported, not asserted): at least 100_000 rows/s; peak RSS under 200 MB and
about the same at ``N`` and ``M`` (memory bounded by the cursor batch, not
by the table size).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from gossip_model.audit.checks import ROW_SCANS
from gossip_model.audit.reader import PostgresReader
from gossip_model.db.encoding import s64
from gossip_model.identity import FINDING_ID_V1, OBSERVATION_ID_V1, OCCURRENCE_ID_V1, derive_key
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink

TENANT = bytes([1]) * 32
POLICIES = 1000
TARGET_RATE = 100_000
TARGET_RSS_MB = 200
Conn = psycopg.Connection[tuple[object, ...]]


@contextmanager
def throwaway_database(url: str) -> Iterator[str]:
    name = f"bench_audit_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(url, dbname=name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def policy(j: int) -> bytes:
    return b"\x03" + j.to_bytes(31, "big")


def finding_row() -> tuple[bytes, ...]:
    item, rule, secret = b"\x04" * 32, b"\x05" * 32, b"\x06" * 32
    return (TENANT, derive_key(FINDING_ID_V1, TENANT + item + rule + secret), item, rule, secret)


def fill(conn: Conn, start: int, stop: int) -> None:
    """Rows ``start .. stop-1`` of each data table (COPY, binary)."""
    finding_id = finding_row()[1]
    occurrences = range(start // POLICIES, (stop + POLICIES - 1) // POLICIES)
    occurrence_ids: dict[int, bytes] = {}
    with conn.transaction():
        if start == 0:
            with conn.cursor().copy("COPY findings FROM STDIN") as copy:
                copy.write_row(finding_row())
        with conn.cursor().copy(
            "COPY occurrences (tenant_id, occurrence_id, finding_id, object_version_id, "
            "byte_offset, byte_length) FROM STDIN"
        ) as copy:
            for i in occurrences:
                version = b"\x07" + i.to_bytes(31, "big")
                material = finding_id + version + struct.pack("<QQ", i, 5)
                occurrence_id = derive_key(OCCURRENCE_ID_V1, material)
                occurrence_ids[i] = occurrence_id
                copy.write_row((TENANT, occurrence_id, finding_id, version, i, 5))
        with conn.cursor().copy(
            "COPY observations (tenant_id, observation_id, occurrence_id, policy_hash, ovid_hash, "
            "run_id, shard_id, fence_epoch, seen_at, location_display, location_url) FROM STDIN"
        ) as obs_copy:
            for n in range(start, stop):
                occurrence_id = occurrence_ids[n // POLICIES]
                pol = policy(n % POLICIES)
                ovid = b"\x08" + n.to_bytes(31, "big")
                observation_id = derive_key(OBSERVATION_ID_V1, TENANT + pol + occurrence_id)
                row = (TENANT, observation_id, occurrence_id, pol, ovid, s64(2**63 + n), 1, 2, n)
                obs_copy.write_row((*row, "repo/f.txt", None))
        with conn.cursor().copy(
            "COPY done_ledger_entries (tenant_id, policy_hash, ovid_hash, status, bytes_scanned, "
            "findings_count, fence_epoch, started_at, finished_at, run_id, shard_id, error_code) "
            "FROM STDIN"
        ) as copy:
            for n in range(start, stop):
                ovid = b"\x08" + n.to_bytes(31, "big")
                if n % 4:
                    row = (TENANT, policy(n % POLICIES), ovid, 11, 4096, 1, 2, 3, 9, n, 1, None)
                else:
                    row = (TENANT, policy(n % POLICIES), ovid, 2, 0, 0, 2, 3, 9, n, 1, "E_FATAL")
                copy.write_row(row)
    conn.execute("ANALYZE")


def run_audit_child(conninfo: str) -> tuple[float, int, dict[str, object]]:
    """Audit in a child process: (seconds, peak RSS in bytes, the JSON report)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "gossip_model.sim", "audit", f"postgres:{conninfo}", "--json"],
            stdout=out,
            stderr=err,
        )
        # os.wait4 (not Popen.wait) to get this child's own peak RSS.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if code != 0:
        raise SystemExit(f"audit exited {code}: {errors}\n{text[:2000]}")
    return seconds, usage.ru_maxrss * 1024, json.loads(text)


def raw_read_rate(conninfo: str) -> tuple[float, int]:
    """Baseline: the same four SELECTs through the same reader, rows counted, no checks."""
    reader = PostgresReader(conninfo)
    started = time.perf_counter()
    rows = 0
    try:
        for _table, query, _check in ROW_SCANS:
            for _row in reader.stream(query):
                rows += 1
    finally:
        reader.close()
    return time.perf_counter() - started, rows


def measure(conninfo: str, label: str) -> dict[str, float]:
    seconds, rss, report = run_audit_child(conninfo)
    rows = sum(report["rows"].values())  # type: ignore[union-attr]
    base_seconds, base_rows = raw_read_rate(conninfo)
    assert base_rows == rows, (base_rows, rows)
    figures = {
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": rss / 2**20,
        "raw_read_rows_per_s": base_rows / base_seconds,
    }
    figures["ratio_to_raw_read"] = figures["rows_per_s"] / figures["raw_read_rows_per_s"]
    print(
        f"{label:>6}: {rows:>9} rows in {seconds:6.1f} s (process start included) = "
        f"{figures['rows_per_s']:>9.0f} rows/s, peak RSS {figures['peak_rss_mb']:6.1f} MB; "
        f"raw cursor read {figures['raw_read_rows_per_s']:>9.0f} rows/s, "
        f"audit/raw = {figures['ratio_to_raw_read']:.2f}"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get("GOSSIP_POSTGRES_TEST_URL")
    if not url:
        print("bench_audit needs GOSSIP_POSTGRES_TEST_URL (source .ci/postgres.sh)")
        return 2
    with throwaway_database(url) as conninfo:
        PostgresDoneLedger(conninfo).close()
        PostgresFindingsSink(conninfo).close()
        with psycopg.connect(conninfo, autocommit=True) as conn:
            fill(conn, 0, args.small)
            small = measure(conninfo, "small")
            fill(conn, args.small, args.large)
            large = measure(conninfo, "large")
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"peak RSS large/small = {growth:.2f}; targets: >= {TARGET_RATE} rows/s "
        f"({'met' if large['rows_per_s'] >= TARGET_RATE else 'NOT met'}), "
        f"< {TARGET_RSS_MB} MB ({'met' if large['peak_rss_mb'] < TARGET_RSS_MB else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
