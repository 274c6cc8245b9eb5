"""Concurrency stress: TH-1, TH-2, ST-20..ST-22 under real threads, both stores.

Several threads submit (mixing delayed and immediate writes), one releases
with every release operation and arms commit faults, and the submitters wait
on their own handles. A recording backend wrapped around the real one notes
every apply in the order the core ran it (apply runs under the lock, so the
log is the serial order). Afterwards:

* no handle is lost: every submitted handle's ``wait`` returned the receipt or
  raised the error the recorder saw for that payload;
* durable state equals a sequential replay of the successful applies, in the
  recorded order, into a fresh store.

Every join and every wait has a timeout, so a deadlock fails instead of hanging.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from gossip_model.inmemory import (
    CompletionOrder,
    InjectedCommitFailure,
    InMemoryDoneLedger,
    InMemoryFindingsSink,
    InMemoryPersistenceError,
)
from gossip_model.inmemory.done_ledger import DoneLedgerBackend
from gossip_model.inmemory.findings import FindingsBackend
from gossip_model.inmemory.store import FaultCounters, StoreBackend
from gossip_model.persistence import FindingsUpsertBatch
from tests.builders import FP, FR, SC, SK, SWF, done_record, full_batch, provenance, tenant

THREADS = 4
WRITES_PER_THREAD = 40
TIMEOUT = 20.0

CODES = {FR: "RETRY", FP: "FATAL", SK: "SKIP", SC: None, SWF: None}


class RecordingBackend(StoreBackend[Any, Any, Any]):
    """Delegates to a real backend and logs (payload id, receipt or error) in apply order."""

    def __init__(self, inner: StoreBackend[Any, Any, Any]) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.log: list[tuple[Any, Any]] = []

    def new_durable(self) -> Any:
        return self.inner.new_durable()

    def __getattr__(self, name: str) -> Any:  # the reads go to the real backend
        return getattr(self.inner, name)

    def apply(self, durable: Any, counters: FaultCounters, payload: Any) -> Any:
        try:
            receipt = self.inner.apply(durable, counters, payload)
        except InMemoryPersistenceError as error:
            self.log.append((payload, error))
            raise
        self.log.append((payload, receipt))
        return receipt


def ledger_payload(rng: random.Random) -> tuple[Any, ...]:
    """A non-empty tuple: ``batch_upsert`` keeps a tuple as is, so the recorder sees it."""
    records = []
    for _ in range(rng.randint(1, 4)):
        status = rng.choice([FR, FP, SK, SC, SWF])
        started = rng.randint(0, 50)
        records.append(
            done_record(
                rng.randint(1, 2),
                1,
                rng.randint(1, 12),
                status,
                rng.randint(0, 100),
                rng.randint(1, 3) if status is SWF else 0,
                provenance(rng.randint(1, 3), 1, rng.randint(1, 3), started, started + 5),
                CODES[status],
            )
        )
    return tuple(records)


def sink_payload(rng: random.Random) -> FindingsUpsertBatch:
    batch, finding, occurrence, observation = full_batch(
        tenant(rng.randint(1, 2)), seed=rng.choice([10, 40]), seen_at=rng.randint(1, 30)
    )
    shape = rng.randint(0, 2)
    if shape == 0:
        return batch
    if shape == 1:
        return FindingsUpsertBatch((finding,), (occurrence,))
    return FindingsUpsertBatch(observations=(observation,))  # may miss its parent


def run_stress(
    store: Any, submit: Callable[[Any], Any], make_payload: Callable[[random.Random], Any]
) -> tuple[RecordingBackend, list[tuple[Any, Any]]]:
    """Drive ``store`` from THREADS submitters and one releaser; return the recorder."""
    recorder = RecordingBackend(store._core.backend)
    store._core.backend = recorder
    outcomes: list[tuple[Any, Any]] = []
    outcomes_lock = threading.Lock()
    errors: list[BaseException] = []
    submitters_done = threading.Event()

    def submitter(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        try:
            for _ in range(WRITES_PER_THREAD):
                payload = make_payload(rng)
                if rng.random() < 0.7:
                    store.delay_next_writes(1)
                mine.append((payload, submit(payload)))
            for payload, handle in mine:
                try:
                    outcome = handle.wait(timeout=TIMEOUT)
                except InMemoryPersistenceError as error:
                    outcome = error
                with outcomes_lock:
                    outcomes.append((payload, outcome))
        except BaseException as exc:
            errors.append(exc)

    def releaser() -> None:
        rng = random.Random(99)
        faults_left = 12
        try:
            store.fail_next_commits(1)  # the first apply fails: faults are always exercised
            while not (submitters_done.is_set() and store.pending_count() == 0):
                choice = rng.randint(0, 9)
                order = rng.choice(list(CompletionOrder))
                if choice == 0 and faults_left and rng.random() < 0.05:
                    faults_left -= 1
                    store.fail_next_commits(1)
                elif choice < 4:
                    store.release_next(order)
                elif choice < 6:
                    store.release_all(order)
                else:
                    ids = store.pending_ids()
                    if ids:
                        store.release_specific(rng.choice(ids))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submitter, args=(s,), daemon=True) for s in range(THREADS)]
    release_thread = threading.Thread(target=releaser, daemon=True)
    release_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    submitters_done.set()
    release_thread.join(TIMEOUT)
    assert not any(t.is_alive() for t in [*threads, release_thread]), "a thread is stuck"
    assert errors == []
    return recorder, outcomes


def check_no_handle_lost(recorder: RecordingBackend, outcomes: list[tuple[Any, Any]]) -> None:
    assert len(outcomes) == THREADS * WRITES_PER_THREAD == len(recorder.log)
    # Each payload object (distinct per submission) was applied exactly once and its
    # handle got that very result.
    applied = {id(payload): outcome for payload, outcome in recorder.log}
    assert len(applied) == len(recorder.log)
    for payload, outcome in outcomes:
        assert applied[id(payload)] is outcome or applied[id(payload)] == outcome
    assert any(isinstance(o, InjectedCommitFailure) for _, o in outcomes), "no fault exercised"


def test_done_ledger_concurrent_submit_release_wait_equals_serial_replay() -> None:
    """TH-1, ST-20..ST-22: durable rows equal a serial replay of the applied order."""
    ledger = InMemoryDoneLedger(auto_complete=True)
    recorder, outcomes = run_stress(ledger, ledger.batch_upsert, ledger_payload)
    assert isinstance(recorder.inner, DoneLedgerBackend)
    check_no_handle_lost(recorder, outcomes)
    replay = InMemoryDoneLedger()
    for payload, outcome in recorder.log:
        if not isinstance(outcome, InjectedCommitFailure):
            assert replay.batch_upsert(payload).wait(timeout=1) == outcome
    assert ledger.snapshot() == replay.snapshot()
    assert ledger.pending_count() == 0
    assert ledger._core.ops == {}


def test_findings_sink_concurrent_submit_release_wait_equals_serial_replay() -> None:
    """TH-1, ST-20..ST-22 for the sink, including parent-order failures."""
    sink = InMemoryFindingsSink(auto_complete=True)
    recorder, outcomes = run_stress(sink, sink.upsert_batch, sink_payload)
    assert isinstance(recorder.inner, FindingsBackend)
    check_no_handle_lost(recorder, outcomes)
    replay = InMemoryFindingsSink()
    for payload, outcome in recorder.log:
        if isinstance(outcome, InjectedCommitFailure):
            continue
        handle = replay.upsert_batch(payload)
        try:
            got: Any = handle.wait(timeout=1)
        except InMemoryPersistenceError as error:
            got = error
        assert got == outcome
    assert sink.findings_snapshot() == replay.findings_snapshot()
    assert sink.occurrences_snapshot() == replay.occurrences_snapshot()
    assert sink.observations_snapshot() == replay.observations_snapshot()
    assert sink._core.ops == {}
