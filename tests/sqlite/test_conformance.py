"""DT-4: the conformance harness (5/4/3) on fresh SQLite stores, in memory and on a file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gossip_model.persistence.conformance import conformance_cases, run_conformance
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink


def test_run_conformance_passes_on_memory_stores(
    closing: Callable[[SqliteDoneLedger | SqliteFindingsSink], None],
) -> None:
    ledger, sink = SqliteDoneLedger(), SqliteFindingsSink()
    closing(ledger)
    closing(sink)
    report = run_conformance(ledger, sink)
    assert (report.done_ledger_checks, report.findings_checks, report.redaction_checks) == (
        5,
        4,
        3,
    )


def test_run_conformance_passes_with_both_stores_in_one_file(
    db_path: str, closing: Callable[[SqliteDoneLedger | SqliteFindingsSink], None]
) -> None:
    """SCH-3: ledger and sink may share one database file."""
    ledger, sink = SqliteDoneLedger(db_path), SqliteFindingsSink(db_path)
    closing(ledger)
    closing(sink)
    report = run_conformance(ledger, sink)
    assert report.done_ledger_checks + report.findings_checks + report.redaction_checks == 12
    assert sink.durable_counts().findings > 0
    assert ledger.snapshot()


@pytest.mark.parametrize("case", conformance_cases(), ids=str)
def test_each_conformance_case_on_a_fresh_pair(
    case: object, closing: Callable[[SqliteDoneLedger | SqliteFindingsSink], None]
) -> None:
    """CONF-F1: every case also passes alone, on its own fresh stores."""
    ledger, sink = SqliteDoneLedger(), SqliteFindingsSink()
    closing(ledger)
    closing(sink)
    case.run(ledger, sink)  # type: ignore[attr-defined]
    assert ledger.pending_count() == 0
    assert sink.pending_count() == 0
