"""The restricted machine for a plain DoneLedger (issue 10 item 2; DL-10, DL-13, DL-34, I2).

The correct plain ledger passes; each planted plain ledger is caught by a
model/store comparison and shrunk to at most ``MAX_SHRUNK_STEPS`` steps
(the counting helpers are the ones of ``tests/rules/test_rules_power.py``).
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from rules.plain_done_ledger import PlainDoneLedger, PlainDoneLedgerMachine
from tests.rules.test_rules_power import MAX_SHRUNK_STEPS, POWER_SETTINGS, find_and_shrink
from tests.suite.plain_stores import (
    PlainBytesLastWriterWins,
    PlainLedger,
    PlainListsNonTerminal,
    PlainNotAtomic,
)

# Issue 11 item 4: the protocol machine's searches re-run code the rest of the suite
# covers (same coverage totals with and without tracing here).
pytestmark = pytest.mark.untraced


def machine_for(store: type[PlainLedger]) -> type[PlainDoneLedgerMachine]:
    class Machine(PlainDoneLedgerMachine):
        def make_ledger(self) -> PlainDoneLedger:
            return store()

    Machine.__name__ = f"PlainMachine_{store.__name__}"
    return Machine


def test_correct_plain_ledger_passes() -> None:
    """Control: the same deterministic settings find nothing on a correct plain ledger."""
    run_state_machine_as_test(
        machine_for(PlainLedger), settings=settings(POWER_SETTINGS, max_examples=30)
    )


def test_default_store_is_the_inmemory_ledger() -> None:
    """HYP-2: without an override the machine drives InMemoryDoneLedger through the protocol."""
    run_state_machine_as_test(
        PlainDoneLedgerMachine, settings=settings(POWER_SETTINGS, max_examples=5)
    )


@pytest.mark.parametrize(
    ("store", "symptom"),
    [
        (PlainBytesLastWriterWins, "batch_get"),
        (PlainListsNonTerminal, "list_done_hashes (as a set)"),
        (PlainNotAtomic, "durable state after the refused batch (DL-6)"),
    ],
)
def test_planted_plain_ledger_is_caught_and_shrunk(store: type[PlainLedger], symptom: str) -> None:
    """DL-34 / I2 (bytes last-writer-wins), DL-13 (non-terminal keys listed), DL-6 (a
    refused batch half-applied)."""
    error, steps = find_and_shrink(machine_for(store))
    assert symptom in str(error)
    assert 1 <= len(steps) <= MAX_SHRUNK_STEPS, steps
