"""The planted stores are correct for one client (only their concurrency is broken).

So that a violation found by the parallel tests can only be the planted race,
each planted store must pass sequential use: validation errors, reads and
conflict errors like the in-memory stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gossip_model.inmemory import BatchValidation, FindingConflict, OccurrenceConflict
from gossip_model.linearizability import DONE_LEDGER, FINDINGS, Recorder, check
from gossip_model.linearizability.planted import PLANTED, PlantedTarget
from gossip_model.linearizability.programs import ParallelProgram, Write
from gossip_model.linearizability.runner import execute, run_and_check
from gossip_model.linearizability.targets import InMemoryTarget
from gossip_model.linearizability.workload import (
    POLICY,
    TENANT,
    done_record,
    finding_batch,
    finding_of,
    hot_key,
    hot_ovid,
    occurrence_of,
)
from gossip_model.persistence import FindingsUpsertBatch
from tests.builders import finding_record, tenant, valid_done_record


def _single_client(bug: str, tmp_path: Path) -> Any:
    path = str(tmp_path / "p.db") if bug.startswith("sqlite") else None
    target = PlantedTarget(bug, path)
    (store,) = target.open(1, lambda: None)
    return target, store


@pytest.mark.parametrize("bug", [b for b in PLANTED if b != "findings-check-then-insert"])
def test_planted_ledgers_are_correct_sequentially(bug: str, tmp_path: Path) -> None:
    target, store = _single_client(bug, tmp_path)
    recorder = Recorder()
    client = recorder.done_ledger(store, 1)
    client.batch_upsert([done_record(0, 3, 5, 1), done_record(1, 0, 2, 1)]).wait()
    client.batch_upsert([done_record(0, 4, 9, 2)]).wait()
    with pytest.raises(BatchValidation):
        client.batch_upsert([valid_done_record(2, started=9, finished=1)]).wait()
    with pytest.raises(BatchValidation):
        client.batch_upsert([valid_done_record(2, started=9, finished=1)]).wait()
    client.batch_get(TENANT, POLICY, [hot_ovid(0), hot_ovid(5)])
    client.get_record(hot_key(1))
    client.list_done_hashes(TENANT, POLICY)
    client.snapshot()
    target.close([store])
    history = recorder.history()
    assert check(history, DONE_LEDGER).ok
    assert check(history, DONE_LEDGER, partitioned=False).ok


def test_planted_findings_sink_is_correct_sequentially(tmp_path: Path) -> None:
    _, sink = _single_client("findings-check-then-insert", tmp_path)
    recorder = Recorder()
    client = recorder.findings_sink(sink, 1)
    client.upsert_batch(finding_batch(0, 0, 0, 3, 2)).wait()
    with pytest.raises(FindingConflict):
        client.upsert_batch(finding_batch(0, 0, 1, 1, 2)).wait()
    twin_occurrence = occurrence_of(0, 0)
    moved = type(twin_occurrence)(
        twin_occurrence.tenant_id,
        twin_occurrence.occurrence_id,
        twin_occurrence.finding_id,
        twin_occurrence.object_version_id,
        twin_occurrence.byte_offset + 1,
        twin_occurrence.byte_length,
    )
    with pytest.raises(OccurrenceConflict):
        client.upsert_batch(FindingsUpsertBatch((), (moved,))).wait()
    mixed = FindingsUpsertBatch((finding_record(tenant(1), 3), finding_record(tenant(2), 3)))
    with pytest.raises(BatchValidation):
        client.upsert_batch(mixed)
    client.get_finding(TENANT, finding_of(0, 0).finding_id)
    client.get_occurrence(TENANT, twin_occurrence.occurrence_id)
    client.findings_snapshot()
    history = recorder.history()
    assert check(history, FINDINGS).ok


class _Exploding:
    """A store whose writes raise a non-contract exception (a bug in the store)."""

    interface = "done_ledger"
    name = "exploding"

    def open(self, clients: int, pause: Any) -> list[Any]:
        return [self] * clients

    def close(self, handles: Any) -> None:
        return None

    def batch_upsert(self, records: Any) -> Any:
        raise RuntimeError("boom")


def test_unexpected_store_exceptions_are_reported_not_swallowed() -> None:
    program = ParallelProgram((Write(((0, 3, 1, 1),)),), ((Write(((0, 3, 1, 1),)),),) * 2)
    execution = execute(program, _Exploding())  # type: ignore[arg-type]
    assert len(execution.errors) == 3
    assert "RuntimeError: boom" in execution.errors[0]
    failure = run_and_check(program, _Exploding())  # type: ignore[arg-type]
    assert failure is not None
    assert "unexpected errors: " in failure.report()
    assert bool(failure.result)  # a history of maybe-writes alone is linearizable


def test_in_memory_target_closes_nothing_and_clones_share_state() -> None:
    target = InMemoryTarget("done_ledger")
    first, second = target.open(2, lambda: None)
    first.batch_upsert([done_record(0, 3, 1, 1)]).wait()
    assert second.get_record(hot_key(0)) is not None
    target.close([first, second])
