"""Conformance, both state machines and a stormy sweep on an upstream-shaped database (issue 13).

The database is built as upstream's migrators leave it
(:func:`tests.postgres.upstream.build_upstream_database`: upstream's
history rows and digests, the same DDL); the stores adopt it (after the
catalog check) and every suite below runs unchanged (DT-4). Afterwards the
history rows still carry upstream's digests, so the Rust scanner keeps
accepting the database.
"""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from gossip_model.persistence.conformance import run_conformance
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres.migrate import DONE_LEDGER_MIGRATIONS, FINDINGS_MIGRATIONS
from rules.done_ledger import DoneLedgerUnderTest
from rules.findings import FindingsSinkUnderTest

from .test_sim_machines import (
    PostgresDoneLedgerMachine,
    PostgresFindingsMachine,
    _Database,
    stormy_sweep,
)
from .upstream import DONE_SAME, FINDINGS_SAME, build_upstream_database, stored_checksum

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]

REDUCED = settings(
    # Issue 11 item 4: the plain PostgreSQL machines (test_sim_machines) prove the facade;
    # these prove that stores adopting an upstream-built database behave the same, which a
    # handful of examples shows (a 25th of the profile's, at least 2).
    max_examples=max(2, settings.default.max_examples // 25),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def upstream_conninfo(pg_conninfo: str) -> str:
    """A fresh database migrated the way upstream's crates migrate it."""
    build_upstream_database(pg_conninfo)
    return pg_conninfo


def assert_history_is_upstreams(conn: Conn) -> None:
    assert stored_checksum(conn, DONE_LEDGER_MIGRATIONS).hex() == DONE_SAME
    assert stored_checksum(conn, FINDINGS_MIGRATIONS).hex() == FINDINGS_SAME


def test_conformance_5_4_3_on_an_upstream_database(upstream_conninfo: str, raw: Conn) -> None:
    with (
        PostgresDoneLedger(upstream_conninfo) as ledger,
        PostgresFindingsSink(upstream_conninfo) as sink,
    ):
        report = run_conformance(ledger, sink)
    assert (report.done_ledger_checks, report.findings_checks, report.redaction_checks) == (
        5,
        4,
        3,
    )
    assert_history_is_upstreams(raw)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_stormy_sweep_on_an_upstream_database(upstream_conninfo: str, raw: Conn) -> None:
    """TST-4 with the plain PostgreSQL sweep's seeds and ops (every event kind asserted)."""
    stormy_sweep(upstream_conninfo, raw)
    assert_history_is_upstreams(raw)


class UpstreamDoneLedgerMachine(PostgresDoneLedgerMachine):
    """HYP-2: the PostgreSQL done-ledger machine, each store adopting the upstream database."""

    def make_ledger(self) -> DoneLedgerUnderTest:
        ledger = super().make_ledger()
        with psycopg.connect(_Database.conninfo, autocommit=True) as conn:
            assert stored_checksum(conn, DONE_LEDGER_MIGRATIONS).hex() == DONE_SAME
        return ledger


class UpstreamFindingsMachine(PostgresFindingsMachine):
    """HYP-2: the PostgreSQL findings machine, each store adopting the upstream database."""

    def make_sink(self) -> FindingsSinkUnderTest:
        sink = super().make_sink()
        with psycopg.connect(_Database.conninfo, autocommit=True) as conn:
            assert stored_checksum(conn, FINDINGS_MIGRATIONS).hex() == FINDINGS_SAME
        return sink


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_done_ledger_machine_on_an_upstream_database(upstream_conninfo: str, raw: Conn) -> None:
    with _Database.using(upstream_conninfo):
        run_state_machine_as_test(UpstreamDoneLedgerMachine, settings=REDUCED)
    assert_history_is_upstreams(raw)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_findings_machine_on_an_upstream_database(upstream_conninfo: str, raw: Conn) -> None:
    with _Database.using(upstream_conninfo):
        run_state_machine_as_test(UpstreamFindingsMachine, settings=REDUCED)
    assert_history_is_upstreams(raw)
