"""DT-4: the stormy sweep and both state machines, unchanged, on the SQLite stores.

The simulation takes any ledger with the in-memory control surface
(``DoneLedgerSim(ctx, ledger=...)``); the machines build their store in one
overridable method (HYP-2).

Budgets (issue 11 item 4): the in-memory runs (``tests/sim``, ``tests/rules``)
prove the logic with the full budgets; here the runs prove the SQL and the
facade wiring, which every rule reaches within a few short examples. The sweep
takes the first 4 seeds at 100 ops: the smallest prefix of seeds in which every
event kind occurs (seed 3 is the first with ``UpsertCommitFailed``), asserted
below so that a change to the simulation cannot silently shrink what reaches
the database. The machines run ``MACHINE_EXAMPLES`` examples of ``STEP_COUNT``
steps (a tenth of the profile's examples, at least 3).
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from gossip_model.sim import (
    DoneLedgerSim,
    DoneLedgerSimEventKind,
    DoneLedgerSimReport,
    FaultLevel,
    SimContext,
    run_seed_sweep,
)
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine

from .conftest import connection_of

STORMY_SEEDS = 4
STORMY_OPS = 100
STEP_COUNT = 50
MACHINE_EXAMPLES = max(3, settings.default.max_examples // 10)


def stormy_on_sqlite(seed: int) -> DoneLedgerSimReport:
    ledger = SqliteDoneLedger()
    try:
        return DoneLedgerSim(SimContext(seed, FaultLevel.STORMY), ledger=ledger).run(STORMY_OPS, 0)
    finally:
        connection_of(ledger).close()


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
def test_stormy_sweep_on_sqlite() -> None:
    """TST-4 on SQLite: 4 seeds x 100 ops, no failures, every event kind seen."""
    outcome = run_seed_sweep(range(STORMY_SEEDS), stormy_on_sqlite)
    assert outcome.seed_count == STORMY_SEEDS
    listing = "\n".join(f"  seed {seed}: {text}" for seed, text in outcome.failures)
    assert not outcome.failures, f"failing seeds:\n{listing}"
    missing = [
        kind.variant_name
        for kind in DoneLedgerSimEventKind.ALL
        if outcome.aggregate_counts.get(kind, 0) == 0
    ]
    assert not missing, f"event kinds never seen: {missing}"


class SqliteDoneLedgerMachine(DoneLedgerMachine):
    """HYP-2: the done-ledger machine on a fresh ``:memory:`` SQLite ledger per example."""

    def make_ledger(self) -> SqliteDoneLedger:
        return SqliteDoneLedger()


class SqliteFindingsSinkMachine(FindingsSinkMachine):
    """HYP-2: the findings machine on a fresh ``:memory:`` SQLite sink per example."""

    def make_sink(self) -> SqliteFindingsSink:
        return SqliteFindingsSink()


def reduced(base: settings) -> settings:
    return settings(
        base,
        max_examples=min(base.max_examples, MACHINE_EXAMPLES),
        stateful_step_count=STEP_COUNT,
    )


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
TestSqliteDoneLedgerMachine = pytest.mark.untraced(SqliteDoneLedgerMachine.TestCase)
TestSqliteDoneLedgerMachine.settings = reduced(SqliteDoneLedgerMachine.TestCase.settings)
TestSqliteFindingsSinkMachine = pytest.mark.untraced(SqliteFindingsSinkMachine.TestCase)
TestSqliteFindingsSinkMachine.settings = reduced(SqliteFindingsSinkMachine.TestCase.settings)
