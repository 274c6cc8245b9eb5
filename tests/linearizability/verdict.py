"""The one assertion of the parallel tests: a program's runs are linearizable (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence

from gossip_model.linearizability.programs import ParallelProgram
from gossip_model.linearizability.runner import run_and_check
from gossip_model.linearizability.targets import Target


def assert_linearizable(
    program: ParallelProgram,
    target: Target,
    *,
    seeds: Sequence[int] | None = None,
    executions: int = 3,
    delayed: bool = False,
) -> None:
    """Run ``program`` on ``target`` (seeded scheduler when ``seeds``, else real threads);
    fail with the parallel program and the counter-history if any run is not linearizable."""
    failure = run_and_check(program, target, seeds=seeds, executions=executions, delayed=delayed)
    assert failure is None, failure.report()
