"""DT-4: the stormy sweep and both state machines, unchanged, on PostgreSQL.

* Stormy sweep: ``DoneLedgerSim(SimContext(seed, FaultLevel.STORMY),
  ledger=PostgresDoneLedger(...)).run(100)`` for seeds 0..3, each seed on
  freshly truncated tables (DT-2); every report must be clean.
* ``DoneLedgerMachine`` / ``FindingsSinkMachine``: subclasses override only
  the store-building method (HYP-2) and close the store in ``teardown``.

Budgets (issue 11 item 4): the in-memory runs prove the logic with the full
budgets; these prove the SQL and the facade wiring. Seeds 0..3 at 100 ops are
the smallest prefix in which every simulation event kind occurs (asserted, so
the sweep cannot silently stop reaching one); the machines run a tenth of the
profile's examples (at least 3) of 30 steps, enough for every rule to reach
the database several times.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.sim import (
    DoneLedgerSim,
    DoneLedgerSimEventKind,
    DoneLedgerSimReport,
    FaultLevel,
    SimContext,
    run_seed_sweep,
)
from rules.done_ledger import DoneLedgerMachine, DoneLedgerUnderTest
from rules.findings import FindingsSinkMachine, FindingsSinkUnderTest

from .conftest import truncate

pytestmark = pytest.mark.postgres

STORMY_SEEDS = range(4)
STORMY_OPS = 100

MACHINE_SETTINGS = settings(
    max_examples=max(3, settings.default.max_examples // 10),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def stormy_sweep(conninfo: str, raw: psycopg.Connection[tuple[object, ...]]) -> None:
    """TST-4 on PostgreSQL: every seed clean, every event kind seen (DT-2: truncated per seed).

    Shared with the upstream-shaped database test."""

    def one_seed(seed: int) -> DoneLedgerSimReport:
        truncate(raw)
        with PostgresDoneLedger(conninfo) as ledger:
            report = DoneLedgerSim(SimContext(seed, FaultLevel.STORMY), ledger=ledger).run(
                STORMY_OPS
            )
        assert report.ops_executed >= STORMY_OPS
        return report

    outcome = run_seed_sweep(STORMY_SEEDS, one_seed)
    assert outcome.seed_count == len(STORMY_SEEDS)
    assert not outcome.failures, outcome.failures
    missing = [
        kind.variant_name
        for kind in DoneLedgerSimEventKind.ALL
        if outcome.aggregate_counts.get(kind, 0) == 0
    ]
    assert not missing, f"event kinds never seen: {missing}"


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_stormy_sweep_on_postgres(
    pg_conninfo: str, raw: psycopg.Connection[tuple[object, ...]]
) -> None:
    stormy_sweep(pg_conninfo, raw)


class _Database:
    """The conninfo the machines build their stores on (set per test)."""

    conninfo = ""

    @classmethod
    @contextlib.contextmanager
    def using(cls, conninfo: str) -> Iterator[None]:
        cls.conninfo = conninfo
        try:
            yield
        finally:
            cls.conninfo = ""


class PostgresDoneLedgerMachine(DoneLedgerMachine):
    """HYP-2: the done-ledger machine on PostgreSQL; the store is built on truncated tables."""

    def make_ledger(self) -> DoneLedgerUnderTest:
        with psycopg.connect(_Database.conninfo, autocommit=True) as conn:
            truncate(conn)
        self.pg_store = PostgresDoneLedger(_Database.conninfo)
        return self.pg_store

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.pg_store.close()


class PostgresFindingsMachine(FindingsSinkMachine):
    """HYP-2: the findings-sink machine on PostgreSQL; the store is built on truncated tables."""

    def make_sink(self) -> FindingsSinkUnderTest:
        with psycopg.connect(_Database.conninfo, autocommit=True) as conn:
            truncate(conn)
        self.pg_store = PostgresFindingsSink(_Database.conninfo)
        return self.pg_store

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.pg_store.close()


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_done_ledger_machine_on_postgres(pg_conninfo: str) -> None:
    PostgresDoneLedger(pg_conninfo).close()  # migrate once; the machine truncates per example
    with _Database.using(pg_conninfo):
        run_state_machine_as_test(PostgresDoneLedgerMachine, settings=MACHINE_SETTINGS)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_findings_machine_on_postgres(pg_conninfo: str) -> None:
    PostgresFindingsSink(pg_conninfo).close()
    with _Database.using(pg_conninfo):
        run_state_machine_as_test(PostgresFindingsMachine, settings=MACHINE_SETTINGS)
