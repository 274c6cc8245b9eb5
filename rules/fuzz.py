"""Fuzz targets: the state machines as tests HypoFuzz can fuzz (issue 11 item 5, HYP-2).

``hypothesis fuzz`` (HypoFuzz) collects tests through pytest and fuzzes the
Hypothesis ones, stateful ``TestCase`` classes included; the battery's
machine items cannot be fuzzed (they call ``run_state_machine_as_test``
inside a plain test). This module holds one ``TestCase`` per machine, on
the stores the pytest plugin's options name::

    hypothesis fuzz -n 4 -- --pyargs gossip_model.rules.fuzz
    hypothesis fuzz -n 4 -- --pyargs gossip_model.rules.fuzz --gossip-ledger mypkg:make_ledger

=========================  =============================  ==================================
TestCase                   machine                        store
=========================  =============================  ==================================
``TestFuzzDoneLedger``     ``DoneLedgerMachine``          ``--gossip-ledger`` (with controls)
``TestFuzzPlainLedger``    ``PlainDoneLedgerMachine``     ``--gossip-ledger`` (any DoneLedger)
``TestFuzzFindingsSink``   ``FindingsSinkMachine``        ``--gossip-sink``
=========================  =============================  ==================================

Choices: with neither option the reference in-memory stores are fuzzed
(the project's own campaign); with one option only the machines of that
store run and the others are skipped, so a campaign spends no core on the
reference. A plain ledger (no snapshot, no controls) fails
``TestFuzzDoneLedger`` on the first missing method: select
``-k TestFuzzPlainLedger``. Steps per example are HYP-13's 150, as in
``tests/rules``, so a failure the fuzzer saved replays with plain pytest on
the same command line (``python -m pytest --pyargs gossip_model.rules.fuzz
...``) from the shared example database (``GOSSIP_HYPOTHESIS_DB``, see
:mod:`gossip_model.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.pytest_plugin import LEDGER_OPTION, SINK_OPTION, Factory, configured_factory
from rules.done_ledger import DoneLedgerMachine, DoneLedgerUnderTest
from rules.findings import FindingsSinkMachine, FindingsSinkUnderTest
from rules.plain_done_ledger import PlainDoneLedger, PlainDoneLedgerMachine

STEP_COUNT = 150
"""HYP-13, as ``tests/rules``: the PT-1 case length plus the prefix."""

_factories: dict[str, Factory] = {}
"""The stores of the current session, bound by :func:`_bind_stores` before each test."""


@pytest.fixture(autouse=True)
def _bind_stores(pytestconfig: pytest.Config) -> Iterator[None]:
    """Bind the option's factories (else the in-memory stores) for the machines below."""
    _factories["ledger"] = configured_factory(pytestconfig, LEDGER_OPTION) or InMemoryDoneLedger
    _factories["sink"] = configured_factory(pytestconfig, SINK_OPTION) or InMemoryFindingsSink
    yield
    _factories.clear()


def _store(kind: str) -> Any:
    try:
        factory = _factories[kind]
    except KeyError:
        raise RuntimeError(
            "rules.fuzz machines run under pytest or hypothesis fuzz, which bind the "
            "stores; outside them subclass the machine and override make_ledger/make_sink"
        ) from None
    return factory()


class FuzzDoneLedgerMachine(DoneLedgerMachine):
    def make_ledger(self) -> DoneLedgerUnderTest:
        store: DoneLedgerUnderTest = _store("ledger")
        return store


class FuzzPlainLedgerMachine(PlainDoneLedgerMachine):
    def make_ledger(self) -> PlainDoneLedger:
        store: PlainDoneLedger = _store("ledger")
        return store


class FuzzFindingsSinkMachine(FindingsSinkMachine):
    def make_sink(self) -> FindingsSinkUnderTest:
        store: FindingsSinkUnderTest = _store("sink")
        return store


# pytest evaluates these conditions with the session's ``config``; HypoFuzz honours them.
_SINK_ONLY = f"config.getoption({SINK_OPTION!r}) and not config.getoption({LEDGER_OPTION!r})"
_LEDGER_ONLY = f"config.getoption({LEDGER_OPTION!r}) and not config.getoption({SINK_OPTION!r})"
_skip_ledger = pytest.mark.skipif(_SINK_ONLY, reason=f"only {SINK_OPTION} was given")
_skip_sink = pytest.mark.skipif(_LEDGER_ONLY, reason=f"only {LEDGER_OPTION} was given")


def _test_case(machine: Any, mark: pytest.MarkDecorator) -> Any:
    case = machine.TestCase
    case.settings = settings(case.settings, stateful_step_count=STEP_COUNT)
    case.pytestmark = [mark]
    return case


TestFuzzDoneLedger = _test_case(FuzzDoneLedgerMachine, _skip_ledger)
TestFuzzPlainLedger = _test_case(FuzzPlainLedgerMachine, _skip_ledger)
TestFuzzFindingsSink = _test_case(FuzzFindingsSinkMachine, _skip_sink)

__all__ = [
    "FuzzDoneLedgerMachine",
    "FuzzFindingsSinkMachine",
    "FuzzPlainLedgerMachine",
    "TestFuzzDoneLedger",
    "TestFuzzFindingsSink",
    "TestFuzzPlainLedger",
]
