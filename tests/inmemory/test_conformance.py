"""Item 32 of inmemory.md §9: the in-memory backends pass the conformance harness.

The harness itself (section 8, ``gossip_model.persistence.conformance``) is
written elsewhere; this test is skipped until that module exists.
"""

from __future__ import annotations

import pytest

from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink


def test_in_memory_backends_pass_persistence_conformance() -> None:
    """Item 32 / P-9, D-4: fresh auto-complete stores; 5 + 4 + 3 = 12 checks."""
    conformance = pytest.importorskip("gossip_model.persistence.conformance")
    report = conformance.run_conformance(InMemoryDoneLedger(), InMemoryFindingsSink())
    assert (report.done_ledger_checks, report.findings_checks, report.redaction_checks) == (
        5,
        4,
        3,
    )
    assert report.total_checks() == 12
