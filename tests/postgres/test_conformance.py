"""DT-4: the conformance harness on PostgreSQL (5 done-ledger, 4 findings, 3 redaction checks).

CONF-F1: each run gets fresh stores (a fresh database, DT-2).
"""

from __future__ import annotations

import pytest

from gossip_model.persistence.conformance import conformance_cases, run_conformance
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink

pytestmark = pytest.mark.postgres


def test_run_conformance_passes_5_4_3(
    ledger: PostgresDoneLedger, sink: PostgresFindingsSink
) -> None:
    report = run_conformance(ledger, sink)
    assert (report.done_ledger_checks, report.findings_checks, report.redaction_checks) == (
        5,
        4,
        3,
    )


def test_conformance_passes_in_delayed_stores_once_auto_complete_is_back(
    pg_conninfo: str,
) -> None:
    """ST-4 on a database store: ``set_auto_complete(True)`` restores what the harness needs."""
    with (
        PostgresDoneLedger(pg_conninfo, auto_complete=False) as ledger,
        PostgresFindingsSink(pg_conninfo, auto_complete=False) as sink,
    ):
        ledger.set_auto_complete(True)
        sink.set_auto_complete(True)
        for case in conformance_cases():
            case.run(ledger, sink)
        assert sink.durable_counts().findings > 0
        assert ledger.snapshot(), "the harness wrote done-ledger rows"
