"""Both state machines under the active Hypothesis profile (sim.md HYP-12, HYP-13).

The TestCase settings are derived from ``Machine.TestCase.settings``, which
Hypothesis builds on top of the profile loaded by the root ``conftest.py``
(``ci`` when ``CI`` is set, else the default, or ``--hypothesis-profile``),
so ``dev`` and ``thorough`` change the example count while the machine keeps
``deadline=None`` and its suppressed health checks. Only the step count is
set here.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from rules.done_ledger import DoneLedgerMachine
from rules.findings import FindingsSinkMachine

STEP_COUNT = 150
"""HYP-13: covers the PT-1 case length (100..=149 ops) plus the prefix."""

TestDoneLedgerMachine = DoneLedgerMachine.TestCase
TestDoneLedgerMachine.settings = settings(
    DoneLedgerMachine.TestCase.settings, stateful_step_count=STEP_COUNT
)

TestFindingsSinkMachine = FindingsSinkMachine.TestCase
TestFindingsSinkMachine.settings = settings(
    FindingsSinkMachine.TestCase.settings, stateful_step_count=STEP_COUNT
)


LABEL_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=STEP_COUNT,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
"""Explicit and deterministic: the label tests must not depend on the profile."""

DLM_10_LABELS = {
    "UpsertCommitted",
    "UpsertPending",
    "UpsertSubmitFailed",
    "UpsertCommitFailed",
    "GetOk",
    "Released",
    "ReleasedCommitFailed",
    "ReleaseNoop",
    "ReleasedAll",
    "FaultConfigured",
}

FSM_11_LABELS = {
    "Committed",
    "Pending",
    "SubmitFailed",
    "Rejected:InconsistentTenant",
    "Rejected:ObservationIdMismatch",
    "CommitFailed",
    "MissingFinding",
    "MissingOccurrence",
    "FindingConflict",
    "OccurrenceConflict",
    "ObservationConflict",
    "Released",
    "ReleaseNoop",
    "ReleasedAll",
    "FaultConfigured",
    "Read",
    "Merge:later",
    "Merge:earlier",
    "Merge:equal",
}


def test_done_ledger_machine_sees_all_ten_event_kinds() -> None:
    """DLM-10: over a short derandomized run every one of the ten labels fires."""
    seen: set[str] = set()
    run_state_machine_as_test(
        lambda: DoneLedgerMachine(recorder=seen.add), settings=LABEL_SETTINGS
    )
    assert seen >= DLM_10_LABELS, f"never labelled: {sorted(DLM_10_LABELS - seen)}"


def test_findings_machine_sees_every_outcome_label() -> None:
    """FSM-11: over a short derandomized run every outcome label fires."""
    seen: set[str] = set()
    run_state_machine_as_test(
        lambda: FindingsSinkMachine(recorder=seen.add), settings=LABEL_SETTINGS
    )
    assert seen >= FSM_11_LABELS, f"never labelled: {sorted(FSM_11_LABELS - seen)}"
