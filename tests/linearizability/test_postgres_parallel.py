"""Verdict on the PostgreSQL stores (issue 14 item 5): one connection per client.

Each store opens its own connection (PG-1: autocommit, writes in one
transaction under READ COMMITTED). Run with a server:
``bash -c '. .ci/postgres.sh; python -m pytest --no-cov -q tests/linearizability'``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gossip_model.linearizability.programs import ParallelProgram
from gossip_model.linearizability.targets import PostgresTarget
from tests.linearizability.strategies import (
    delayed_findings_commands,
    delayed_ledger_commands,
    findings_commands,
    ledger_commands,
    programs,
)
from tests.linearizability.verdict import assert_linearizable
from tests.postgres.conftest import maintenance, module_conninfo, pg_url  # noqa: F401

pytestmark = pytest.mark.postgres

PG = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@PG
@given(programs(ledger_commands, max_length=3), st.integers(0, 2**32 - 1))
def test_postgres_done_ledger_one_connection_per_client_is_linearizable(
    module_conninfo: str,  # noqa: F811
    program: ParallelProgram,
    seed: int,
) -> None:
    """DBL-2 / PG-1: one merge statement per apply; upserts resolve on the latest row."""
    target = PostgresTarget(module_conninfo, "done_ledger")
    assert_linearizable(program, target, seeds=[seed])
    assert_linearizable(program, target, executions=2)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@PG
@given(programs(findings_commands, max_length=3), st.integers(0, 2**32 - 1))
def test_postgres_findings_sink_one_connection_per_client_is_linearizable(
    module_conninfo: str,  # noqa: F811
    program: ParallelProgram,
    seed: int,
) -> None:
    """DBF-3 / DBF-8: conflict checks after ON CONFLICT DO NOTHING see the committed row."""
    target = PostgresTarget(module_conninfo, "findings")
    assert_linearizable(program, target, seeds=[seed])
    assert_linearizable(program, target, executions=2)


@settings(PG, max_examples=8)
@given(programs(delayed_ledger_commands, max_length=4), st.integers(0, 2**32 - 1))
def test_postgres_done_ledger_is_linearizable_in_delayed_mode(
    module_conninfo: str,  # noqa: F811
    program: ParallelProgram,
    seed: int,
) -> None:
    """Delayed mode (control.py): clients release, through clones, the queues of the others'
    connections while they submit; each release applies on its queue's own connection."""
    target = PostgresTarget(module_conninfo, "done_ledger")
    assert_linearizable(program, target, seeds=[seed], delayed=True)
    assert_linearizable(program, target, executions=1, delayed=True)


# Issue 11 item 4: untraced; per-test coverage contexts (CI run) show traced tests reach every arc.
@pytest.mark.untraced
@settings(PG, max_examples=8)
@given(programs(delayed_findings_commands, max_length=4), st.integers(0, 2**32 - 1))
def test_postgres_findings_sink_is_linearizable_in_delayed_mode(
    module_conninfo: str,  # noqa: F811
    program: ParallelProgram,
    seed: int,
) -> None:
    target = PostgresTarget(module_conninfo, "findings")
    assert_linearizable(program, target, seeds=[seed], delayed=True)
    assert_linearizable(program, target, executions=1, delayed=True)
