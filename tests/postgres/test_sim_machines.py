"""DT-4: the stormy sweep and both state machines, unchanged, on PostgreSQL.

* Stormy sweep: 20 seeds x 300 ops of ``DoneLedgerSim(SimContext(seed,
  FaultLevel.STORMY), ledger=PostgresDoneLedger(...)).run(300)``, each seed on
  freshly truncated tables (DT-2); every report must be clean.
* ``DoneLedgerMachine`` / ``FindingsSinkMachine``: subclasses override only
  the store-building method (HYP-2) and close the store in ``teardown``;
  example counts are reduced from the active profile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.sim import DoneLedgerSim, FaultLevel, SimContext
from rules.done_ledger import DoneLedgerMachine, DoneLedgerUnderTest
from rules.findings import FindingsSinkMachine, FindingsSinkUnderTest

from .conftest import truncate

pytestmark = pytest.mark.postgres

STORMY_SEEDS = 20
STORMY_OPS = 300
SEED_CHUNKS = [range(0, 10), range(10, 20)]

MACHINE_SETTINGS = settings(
    max_examples=max(5, settings.default.max_examples // 5),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("seeds", SEED_CHUNKS, ids=lambda r: f"seeds{r.start}-{r.stop - 1}")
def test_stormy_sweep_on_postgres(
    pg_conninfo: str, raw: psycopg.Connection[tuple[object, ...]], seeds: range
) -> None:
    assert sum(len(chunk) for chunk in SEED_CHUNKS) == STORMY_SEEDS
    for seed in seeds:
        truncate(raw)
        with PostgresDoneLedger(pg_conninfo) as ledger:
            report = DoneLedgerSim(SimContext(seed, FaultLevel.STORMY), ledger=ledger).run(
                STORMY_OPS
            )
        assert report.is_clean(), (seed, report.violated_invariants(), report.violations[:3])
        assert report.ops_executed >= STORMY_OPS


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


def test_done_ledger_machine_on_postgres(pg_conninfo: str) -> None:
    PostgresDoneLedger(pg_conninfo).close()  # migrate once; the machine truncates per example
    with _Database.using(pg_conninfo):
        run_state_machine_as_test(PostgresDoneLedgerMachine, settings=MACHINE_SETTINGS)


def test_findings_machine_on_postgres(pg_conninfo: str) -> None:
    PostgresFindingsSink(pg_conninfo).close()
    with _Database.using(pg_conninfo):
        run_state_machine_as_test(PostgresFindingsMachine, settings=MACHINE_SETTINGS)
