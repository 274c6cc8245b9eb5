"""Histories and the recorder (issue 14 item 1): clock, outcomes, maybe-operations."""

from __future__ import annotations

import pytest

from gossip_model.inmemory import (
    BatchValidation,
    InjectedCommitFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryStoreKind,
    Poisoned,
)
from gossip_model.linearizability import (
    DONE_LEDGER,
    FINDINGS,
    Failed,
    History,
    Maybe,
    Raised,
    Recorder,
    Returned,
    check,
)
from gossip_model.linearizability.history import classify_error, describe_outcome, error_kind
from gossip_model.persistence import DoneLedgerStatus as S
from gossip_model.persistence import FindingsCommitReceipt
from gossip_model.persistence.errors import TooLarge
from tests.builders import full_batch, key, op, policy, tenant, valid_done_record


def test_error_kinds_and_classification() -> None:
    wrapped = BatchValidation(TooLarge("DoneLedgerErrorCode", 200, 128))
    assert error_kind(wrapped) == "BatchValidation(TooLarge)"
    assert classify_error(wrapped) == Raised("BatchValidation(TooLarge)")
    assert classify_error(InjectedCommitFailure(InMemoryStoreKind.DONE_LEDGER)) == Failed(
        "InjectedCommitFailure"
    )
    assert classify_error(Poisoned(InMemoryStoreKind.DONE_LEDGER)) == Maybe("Poisoned")
    assert classify_error(TimeoutError()) == Maybe("TimeoutError")
    assert classify_error(ConnectionResetError()) == Maybe("ConnectionResetError")
    assert describe_outcome(Failed("X")) == "failed without effect (X)"
    assert describe_outcome(Maybe("timeout")) == "maybe (timeout)"


def test_history_rejects_backwards_operations_and_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="respond"):
        op(0, "get_record", (key(o=1),), 5, 5, None)
    with pytest.raises(ValueError, match="only a Maybe outcome"):
        op(0, "get_record", (key(o=1),), 5, None, None)
    first = op(0, "get_record", (key(o=1),), 1, 2, None)
    with pytest.raises(ValueError, match="unique"):
        History((first, first))
    with pytest.raises(ValueError, match="did not return"):
        _ = op(0, "get_record", (key(o=1),), 1, None, Maybe("x")).value


def test_recorder_times_are_one_monotonic_clock_and_writes_span_until_wait() -> None:
    recorder = Recorder()
    a = recorder.done_ledger(InMemoryDoneLedger(), 1)
    handle = a.batch_upsert([valid_done_record(1)])
    a.get_record(key(o=1))  # invoked and answered while the write is not yet waited on
    handle.wait()
    ops = {o.kind: o for o in recorder.history()}
    write, read = ops["batch_upsert"], ops["get_record"]
    assert write.invoke < read.invoke < read.respond < (write.respond or 0)
    assert check(recorder.history(), DONE_LEDGER).ok
    assert len(recorder.history().render(limit=1).splitlines()) == 2


def test_recorder_leaves_timed_out_and_unwaited_writes_as_maybe() -> None:
    store = InMemoryDoneLedger(auto_complete=False)
    recorder = Recorder()
    client = recorder.done_ledger(store, 1)
    handle = client.batch_upsert([valid_done_record(1)])
    with pytest.raises(TimeoutError):
        handle.wait(0)
    client.batch_upsert([valid_done_record(2)])  # never waited on
    history = recorder.history()
    assert [o.outcome for o in history if o.kind == "batch_upsert"] == [
        Maybe("never completed"),
        Maybe("never completed"),
    ]
    assert all(o.respond is None for o in history)


def test_recorder_records_errors_raised_by_wait_and_by_submission() -> None:
    store = InMemoryDoneLedger()
    store.fail_next_commits(1)
    recorder = Recorder()
    client = recorder.done_ledger(store, 1)
    with pytest.raises(InjectedCommitFailure):
        client.batch_upsert([valid_done_record(1)]).wait()
    bad = valid_done_record(2, S.SCANNED_CLEAN, started=9, finished=1)
    with pytest.raises(BatchValidation):
        client.batch_upsert([bad]).wait()
    with pytest.raises(TypeError):
        client.batch_upsert([object()])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        client.batch_get(tenant(), policy(), [object()])  # type: ignore[list-item]
    outcomes = [o.outcome for o in recorder.history()]
    assert outcomes[0] == Failed("InjectedCommitFailure")
    assert outcomes[1] == Raised("BatchValidation(ProvenanceOrdering)")
    assert outcomes[2] == Failed("TypeError")
    assert outcomes[3] == Failed("TypeError")
    assert check(recorder.history(), DONE_LEDGER).ok


class _PlainLedger:
    """Only the protocol's methods (DL-40..DL-43), no test controls or extra reads."""

    def __init__(self) -> None:
        self._inner = InMemoryDoneLedger()
        self.batch_upsert = self._inner.batch_upsert
        self.batch_get = self._inner.batch_get
        self.list_done_hashes = self._inner.list_done_hashes


def test_recorder_forwards_only_methods_the_store_has() -> None:
    recorder = Recorder()
    client = recorder.done_ledger(_PlainLedger(), 1)
    client.batch_upsert([valid_done_record(1)]).wait()
    assert client.list_done_hashes(tenant(), policy()) == [key(o=1).ovid_hash]
    for call in (client.snapshot, lambda: client.get_record(key(o=1))):
        with pytest.raises(AttributeError, match="forwards only methods"):
            call()
    with pytest.raises(AttributeError, match="count_done_hashes"):
        client.count_done_hashes(tenant(), policy())
    assert "client=1" in repr(client)


def test_findings_recorder_round_trip_is_linearizable() -> None:
    sink = InMemoryFindingsSink()
    recorder = Recorder()
    client = recorder.findings_sink(sink, 1)
    batch, finding, occurrence, observation = full_batch(tenant(1))
    assert client.upsert_batch(batch).wait() == FindingsCommitReceipt(1, 1, 1)
    t = tenant(1)
    assert client.get_finding(t, finding.finding_id) == finding
    assert client.get_occurrence(t, occurrence.occurrence_id) == occurrence
    assert client.get_observation(t, observation.observation_id) == observation
    assert client.findings_snapshot() == [finding]
    history = recorder.history()
    assert all(isinstance(o.outcome, Returned) for o in history)
    assert check(history, FINDINGS).ok
    assert check(history, FINDINGS, partitioned=False).ok
