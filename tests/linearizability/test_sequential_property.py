"""Property: every history of a sequential run is linearizable (issue 14 item 2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from gossip_model.linearizability import DONE_LEDGER, FINDINGS, check
from gossip_model.linearizability.programs import ParallelProgram
from gossip_model.linearizability.runner import execute
from gossip_model.linearizability.targets import InMemoryTarget
from tests.linearizability.strategies import (
    findings_commands,
    ledger_commands,
    sequential_programs,
)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@settings(max_examples=60, deadline=None)
@given(sequential_programs(ledger_commands))
def test_sequential_done_ledger_histories_are_linearizable(program: ParallelProgram) -> None:
    execution = execute(program, InMemoryTarget("done_ledger"))
    assert not execution.errors
    for partitioned in (True, False):
        result = check(execution.history, DONE_LEDGER, partitioned=partitioned)
        assert result.ok, f"{program.render()}\n{result.explanation}"


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@settings(max_examples=60, deadline=None)
@given(sequential_programs(findings_commands))
def test_sequential_findings_histories_are_linearizable(program: ParallelProgram) -> None:
    execution = execute(program, InMemoryTarget("findings"))
    assert not execution.errors
    for partitioned in (True, False):
        result = check(execution.history, FINDINGS, partitioned=partitioned)
        assert result.ok, f"{program.render()}\n{result.explanation}"
