"""Run a parallel program against a store, record the history, check it (issue 14 item 3).

A :class:`~gossip_model.linearizability.targets.Target` opens fresh, empty
state for each execution and one handle (or connection) per client:
``clone()`` of one in-memory store, a new SQLite store on one file, a new
PostgreSQL connection, or a planted store given the scheduler's ``pause``.
Client 0 runs the prefix alone; clients 1..N then run at once, either

* ``seed=None``: on real threads released together by a barrier (the
  interpreter's switch interval is lowered meanwhile, and every yield point
  releases the GIL, so threads interleave within operations more often), or
* ``seed=S``: under :class:`SeededScheduler` (exact replay of the interleaving).

``delayed=True`` runs the program in delayed mode (auto-complete off after
the prefix, clients releasing and arming faults while others submit, a final
drain): see :mod:`gossip_model.linearizability.control`, which also says how
the checker treats the control operations.

Contract errors raised by the store (``InMemoryPersistenceError``,
``PersistenceInputError``, ``TimeoutError``) are part of the history; any other
exception is recorded as "maybe" and listed in ``Execution.errors``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from gossip_model.inmemory.errors import InMemoryPersistenceError
from gossip_model.linearizability.checker import LinearizabilityResult, check
from gossip_model.linearizability.control import (
    THREAD_WAIT_TIMEOUT,
    ClientContext,
    ControlEvent,
    ControlLog,
    ControlsMissing,
    distinct_queues,
    drain,
    final_read,
    missing_controls,
)
from gossip_model.linearizability.done_ledger_model import DONE_LEDGER
from gossip_model.linearizability.findings_model import FINDINGS
from gossip_model.linearizability.history import History
from gossip_model.linearizability.programs import ParallelProgram
from gossip_model.linearizability.recorder import Recorder
from gossip_model.linearizability.scheduler import SeededScheduler
from gossip_model.linearizability.spec import SequentialModel
from gossip_model.linearizability.targets import SINK, Pause, Target
from gossip_model.persistence.errors import PersistenceInputError

_EXPECTED = (InMemoryPersistenceError, PersistenceInputError, TimeoutError)
#: Switch interval (seconds) while threads run: more preemption points than the default 5 ms.
SWITCH_INTERVAL = 1e-5


def yield_gil() -> None:
    """The yield point on real threads: release the GIL so another client may run.

    ``time.sleep(0)`` never waits for time to pass; it only lets the
    interpreter switch threads here, at the race windows the planted stores
    mark and at operation boundaries.
    """
    time.sleep(0)


@dataclass(frozen=True, slots=True)
class Execution:
    history: History
    errors: tuple[str, ...]
    controls: tuple[ControlEvent, ...] = ()


def model_for(target: Target) -> SequentialModel:
    """The sequential specification of the interface ``target`` serves."""
    return FINDINGS if target.interface == SINK else DONE_LEDGER


def _body(commands: Sequence[Any], client: Any, errors: list[str]) -> Callable[[], None]:
    def run() -> None:
        for command in commands:
            try:
                command.run(client)
            except _EXPECTED:
                continue
            except Exception as error:  # recorded as maybe by the recorder; reported here
                errors.append(f"{command}: {type(error).__name__}: {error}")

    return run


@contextmanager
def _switch_interval(seconds: float) -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def execute(
    program: ParallelProgram,
    target: Target,
    *,
    seed: int | None = None,
    delayed: bool = False,
) -> Execution:
    """One execution of ``program``; see the module docstring for the modes."""
    scheduler = SeededScheduler(seed) if seed is not None else None
    pause: Pause = scheduler.pause if scheduler is not None else yield_gil
    recorder = Recorder(pause)
    findings = target.interface == SINK
    errors: list[str] = []
    stores = target.open(len(program.clients) + 1, pause)
    wrap = recorder.findings_sink if findings else recorder.done_ledger
    clients: list[Any] = [wrap(store, i) for i, store in enumerate(stores)]
    log = ControlLog(recorder.builder)
    try:
        if delayed:
            queues = distinct_queues(stores)
            missing = missing_controls(queues[0])
            if missing:
                raise ControlsMissing(queues[0], missing)
            timeout = 0.0 if scheduler is not None else THREAD_WAIT_TIMEOUT
            clients = [
                ClientContext(
                    i, client, [q.clone() for q in queues], log, pause, timeout, stores[i]
                )
                for i, client in enumerate(clients)
            ]
        _body(program.prefix, clients[0], errors)()
        if delayed:
            for index, queue in enumerate(queues):
                log.call(
                    0,
                    f"set_auto_complete(False) on q{index}",
                    partial(queue.set_auto_complete, False),
                )
        bodies = [_body(cmds, clients[i + 1], errors) for i, cmds in enumerate(program.clients)]
        if scheduler is not None:
            failures = scheduler.run(bodies)
            errors.extend(f"{type(e).__name__}: {e}" for e in failures)
        else:
            _run_threads(bodies)
        if delayed:
            errors.extend(drain(clients, queues, log))
            final_read(clients[0], findings)
    finally:
        target.close(stores)
    return Execution(recorder.history(), tuple(errors), tuple(log.events))


def _run_threads(bodies: Sequence[Callable[[], None]], timeout: float = 60.0) -> None:
    barrier = threading.Barrier(len(bodies))

    def start(body: Callable[[], None]) -> Callable[[], None]:
        def main() -> None:
            barrier.wait(timeout)
            body()

        return main

    threads = [threading.Thread(target=start(b), daemon=True) for b in bodies]
    with _switch_interval(SWITCH_INTERVAL):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"a client thread did not finish within {timeout}s (a hang?)")


@dataclass(frozen=True, slots=True)
class ProgramFailure:
    """A failing execution: the program, its history and the verdict."""

    program: ParallelProgram
    execution: Execution
    result: LinearizabilityResult
    seed: int | None
    delayed: bool = False

    def report(self, history_limit: int = 60) -> str:
        mode = "threads" if self.seed is None else f"seeded scheduler, seed {self.seed}"
        if self.delayed:
            mode += ", delayed mode"
        parts = [
            f"non-linearizable execution ({mode})",
            "parallel program:",
            self.program.render(),
            "history:",
            self.execution.history.render(history_limit),
        ]
        if self.execution.controls:
            events = sorted(self.execution.controls, key=lambda e: e.invoke)
            parts.append("control operations (drivers, not checked; see control.py):")
            parts.extend(e.describe() for e in events[:history_limit])
        parts.append(self.result.explanation)
        if self.execution.errors:
            parts.append("unexpected errors: " + "; ".join(self.execution.errors))
        return "\n".join(parts)


def run_and_check(
    program: ParallelProgram,
    target: Target,
    *,
    executions: int = 3,
    seeds: Sequence[int] | None = None,
    partitioned: bool = True,
    minimal: bool = True,
    delayed: bool = False,
) -> ProgramFailure | None:
    """Run ``program`` several times (threads, or one execution per seed); first failure.

    ``minimal=False`` skips minimising the counter-history (faster while searching).
    """
    model = model_for(target)
    modes: list[int | None] = list(seeds) if seeds is not None else [None] * executions
    for seed in modes:
        execution = execute(program, target, seed=seed, delayed=delayed)
        result = check(execution.history, model, partitioned=partitioned, minimal=minimal)
        if not result.ok or execution.errors:
            return ProgramFailure(program, execution, result, seed, delayed)
    return None


__all__ = [
    "Execution",
    "ProgramFailure",
    "execute",
    "model_for",
    "run_and_check",
]
