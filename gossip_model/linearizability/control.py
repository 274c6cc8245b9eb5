"""Delayed mode: parallel programs that drive the control surface concurrently (issue 14).

In the default mode every write is auto-completed and waited on at once. In
*delayed mode* the stores run with ``auto_complete`` off (ST-2, LED-3 step 4)
and the commands are the state machines' rules (``rules/_control.py``, HYP-3..
HYP-9), by the same names:

==========================  ======================================  ==============
command (printed as)        store operation                         spec
==========================  ======================================  ==============
``submit(...)``             ``batch_upsert`` / ``upsert_batch``     LED-3, ST-6
``wait_handle()``           ``wait(timeout)`` on the oldest handle  LED-9, ST-20
``release_next(order)``     ``release_next(order)``                 LED-5, ST-14
``release_pending(#n)``     ``release_specific(id)``, ``id`` the    LED-6, ST-15
                            ``n``-th of the ``pending_ids()`` seen
``release_all(order)``      ``release_all(order)``                  LED-7, ST-16
``arm(counter, n)``         ``fail_next_submissions`` /             LED-2, ST-5
                            ``fail_next_commits`` /
                            ``delay_next_writes``
``set_auto_complete(f)``    ``set_auto_complete(f)``                LED-2, ST-4
==========================  ======================================  ==============

plus the machines' reads (:mod:`gossip_model.linearizability.programs`). Any
client may release, arm faults or switch auto-complete while the others
submit: a release racing a submission on the *real* controls is what issue 14
item 4 asks to catch.

How the checker treats control operations (a choice; the spec has no
concurrent model of the pending queue):

* **Releases, arms and auto-complete switches are drivers**, not checked
  operations: they are logged (:class:`ControlEvent`, on the history's clock,
  printed with a failing history) but never enter the sequential model. Their
  effect is attributed to the writes they complete: a write's interval runs
  from its submission to the end of its ``wait`` (the recorder's rule, CM-2),
  and a release that applies it necessarily falls inside that interval, so
  the write is linearized there, whoever released it.
* A write whose submission raised ``InjectedSubmissionFailure`` (ST-6) or
  whose ``wait`` raised ``InjectedCommitFailure`` (ST-9) had no effect: the
  checker drops it (:class:`~gossip_model.linearizability.history.Failed`).
* A ``wait`` that times out leaves the write open (ST-23); ``wait_handle``
  tries it again later. After the clients finish, a final **drain** runs
  ``release_all(oldest_first)`` on every queue and waits (timeout 0) on every
  handle still open, so normally no write stays indeterminate; a write still
  pending after the drain is reported as an error (a release lost it) and
  stays "maybe" in the history. Then client 0 takes a **final read** of the
  whole store (``snapshot()`` / ``findings_snapshot()`` when the store has
  it, else ``list_done_hashes`` of the hot scope), recorded and checked like
  any read, so a write acknowledged but never applied cannot go unseen.
* A client keeps at most :data:`MAX_OPEN` writes open (a choice, to bound the
  concurrency the checker must search: every open write overlaps every later
  operation, and the search is exponential in how many overlap). A ``submit``
  with ``MAX_OPEN`` writes open first releases the oldest of them itself
  (``release_specific`` of its id on its own queue, logged like any control
  call) and collects it; a write another client already released is simply
  collected.
* Waits always have a timeout: ``0`` under the seeded scheduler (a blocking
  wait would hold the baton), :data:`THREAD_WAIT_TIMEOUT` on real threads.

Queues: every distinct store core is one pending queue (``clone()`` shares it,
ST-3). The in-memory stores give all clients clones of one store, hence one
queue; the SQLite and PostgreSQL stores give each client its own store (own
connection), hence one queue per client, and a control command names the
queue it acts on (``q1``): client 2 releasing ``q1`` acts, through a clone, on
the writes client 1 submitted, while client 1 keeps submitting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gossip_model.core.errors import CompletionOrder, InMemoryPersistenceError
from gossip_model.linearizability.history import HistoryBuilder
from gossip_model.linearizability.recorder import RecordedHandle
from gossip_model.linearizability.workload import POLICY, TENANT, done_record, finding_batch
from gossip_model.persistence.errors import PersistenceInputError

#: Seconds a ``wait_handle`` blocks on real threads before the write stays open.
THREAD_WAIT_TIMEOUT = 0.02

#: Writes one client keeps open at most before a ``submit`` collects the oldest.
MAX_OPEN = 2

#: The control surface delayed mode needs (API.md "Controls (both stores)").
CONTROL_METHODS = (
    "set_auto_complete",
    "release_next",
    "release_specific",
    "release_all",
    "pending_ids",
    "fail_next_submissions",
    "fail_next_commits",
    "delay_next_writes",
)
#: The three additive counters ``arm`` tops up (LED-2), by their store call.
COUNTERS = ("fail_next_submissions", "fail_next_commits", "delay_next_writes")


def missing_controls(store: object) -> tuple[str, ...]:
    """The control methods of :data:`CONTROL_METHODS` that ``store`` lacks."""
    return tuple(name for name in CONTROL_METHODS if not callable(getattr(store, name, None)))


class ControlsMissing(ValueError):
    """Delayed mode was asked of a store without the control surface."""

    def __init__(self, store: object, missing: Sequence[str]) -> None:
        super().__init__(
            f"delayed mode needs the store's control surface, but {type(store).__name__} "
            f"lacks {', '.join(missing)}; build the store on gossip_model.backend "
            "(ControlledDoneLedger / ControlledFindingsSink) or run without delayed mode"
        )
        self.missing = tuple(missing)


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """One control call of one client, on the history's logical clock (a driver)."""

    client: int
    call: str
    result: str
    invoke: int
    respond: int

    def describe(self) -> str:
        return (
            f"[t{self.invoke}..t{self.respond}] client {self.client} {self.call} -> {self.result}"
        )


def _order(newest_first: bool) -> CompletionOrder:
    return CompletionOrder.NEWEST_FIRST if newest_first else CompletionOrder.OLDEST_FIRST


def _order_name(newest_first: bool) -> str:
    return "newest_first" if newest_first else "oldest_first"


@dataclass(slots=True)
class ControlLog:
    """Thread-safe list of :class:`ControlEvent` stamped by ``builder``'s clock."""

    builder: HistoryBuilder
    events: list[ControlEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, client: int, call: str, action: Callable[[], object]) -> object:
        """Run ``action`` and log it; an exception is logged and raised again."""
        invoke = self.builder.stamp()
        try:
            value = action()
        except Exception as error:
            self._add(
                ControlEvent(
                    client, call, f"raised {type(error).__name__}", invoke, self.builder.stamp()
                )
            )
            raise
        self._add(ControlEvent(client, call, repr(value), invoke, self.builder.stamp()))
        return value

    def _add(self, event: ControlEvent) -> None:
        with self._lock:
            self.events.append(event)


class ClientContext:
    """What a command runs against in delayed mode: one client's view.

    ``store`` is the client's recording wrapper (reads and submissions are
    recorded); ``queues`` are unrecorded handles on every pending queue (the
    drivers); ``handles`` are this client's submitted, not yet collected
    writes, oldest first. Attribute access falls through to ``store``, so
    the read commands of :mod:`~gossip_model.linearizability.programs` run
    unchanged.
    """

    def __init__(
        self,
        client: int,
        store: Any,
        queues: Sequence[Any],
        log: ControlLog,
        pause: Callable[[], None],
        wait_timeout: float,
        own_queue: Any = None,
    ) -> None:
        self.client = client
        self.own_queue = own_queue
        self.store = store
        self.queues = list(queues)
        self.log = log
        self.pause = pause
        self.wait_timeout = wait_timeout
        self.handles: list[RecordedHandle[Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def make_room(self) -> None:
        """Before a submission: collect the oldest write while :data:`MAX_OPEN` are open."""
        while len(self.handles) >= MAX_OPEN and self.own_queue is not None:
            handle = self.handles.pop(0)
            op_id = handle.op_id
            own = self.own_queue
            self.pause()
            self.log.call(
                self.client,
                f"release_specific({op_id!r}) [own write, MAX_OPEN]",
                partial(own.release_specific, op_id),
            )
            self.pause()
            try:
                handle.wait(self.wait_timeout)
            except TimeoutError:
                self.handles.append(handle)  # not ours to finish (a broken release): go on
                return
            except (InMemoryPersistenceError, PersistenceInputError):
                continue  # a contract outcome, recorded in the history by the handle

    def control(self, queue: int, call: str, action: Callable[[Any], object]) -> object:
        """Run a control ``action`` on queue ``queue`` (modulo the queue count), logged."""
        index = queue % len(self.queues)
        handle = self.queues[index]
        self.pause()
        try:
            return self.log.call(self.client, f"{call} on q{index}", lambda: action(handle))
        finally:
            self.pause()


@dataclass(frozen=True, slots=True)
class Upsert:
    """``submit``: ``batch_upsert`` of ``(slot, status, nbytes, run)`` records, no wait."""

    records: tuple[tuple[int, int, int, int], ...]

    def run(self, ctx: ClientContext) -> None:
        batch = [done_record(*spec) for spec in self.records]
        ctx.make_room()
        ctx.handles.append(ctx.store.batch_upsert(batch))

    def __str__(self) -> str:
        return f"submit({', '.join(f'slot{s}:st{st}:b{b}:r{r}' for s, st, b, r in self.records)})"


@dataclass(frozen=True, slots=True)
class UpsertFindings:
    """``submit``: ``upsert_batch`` of :func:`finding_batch`, no wait."""

    tenant: int
    slot: int
    variant: int
    depth: int
    seen_at: int

    def run(self, ctx: ClientContext) -> None:
        batch = finding_batch(self.tenant, self.slot, self.variant, self.depth, self.seen_at)
        ctx.make_room()
        ctx.handles.append(ctx.store.upsert_batch(batch))

    def __str__(self) -> str:
        return (
            f"submit(t{self.tenant}, slot{self.slot}, variant{self.variant}, "
            f"depth{self.depth}, seen{self.seen_at})"
        )


@dataclass(frozen=True, slots=True)
class WaitHandle:
    """``wait_handle``: wait on this client's oldest open write (nothing if none).

    A timeout puts the handle at the back (ST-23: still usable), so the next
    ``wait_handle`` tries another write first.
    """

    def run(self, ctx: ClientContext) -> None:
        if not ctx.handles:
            return
        handle = ctx.handles.pop(0)
        try:
            handle.wait(ctx.wait_timeout)
        except TimeoutError:
            ctx.handles.append(handle)
            raise

    def __str__(self) -> str:
        return "wait_handle()"


def _ordered_release(ctx: ClientContext, queue: int, method: str, newest_first: bool) -> None:
    """``release_next`` / ``release_all`` in one order on one queue, as a logged control op."""
    order = _order(newest_first)
    ctx.control(
        queue,
        f"{method}({_order_name(newest_first)})",
        lambda q: getattr(q, method)(order),
    )


@dataclass(frozen=True, slots=True)
class ReleaseNext:
    newest_first: bool
    queue: int = 0

    def run(self, ctx: ClientContext) -> None:
        _ordered_release(ctx, self.queue, "release_next", self.newest_first)

    def __str__(self) -> str:
        return f"release_next({_order_name(self.newest_first)}, q{self.queue})"


@dataclass(frozen=True, slots=True)
class ReleasePending:
    """``release_pending``: ``release_specific`` of the ``nth`` id of ``pending_ids()``."""

    nth: int
    queue: int = 0

    def run(self, ctx: ClientContext) -> None:
        def release(q: Any) -> object:
            seen = q.pending_ids()
            if not seen:
                return "no pending id"
            op_id = seen[self.nth % len(seen)]
            return (op_id, q.release_specific(op_id))

        ctx.control(self.queue, f"release_specific(#{self.nth} of pending_ids())", release)

    def __str__(self) -> str:
        return f"release_pending(#{self.nth}, q{self.queue})"


@dataclass(frozen=True, slots=True)
class ReleaseAll:
    newest_first: bool
    queue: int = 0

    def run(self, ctx: ClientContext) -> None:
        _ordered_release(ctx, self.queue, "release_all", self.newest_first)

    def __str__(self) -> str:
        return f"release_all({_order_name(self.newest_first)}, q{self.queue})"


@dataclass(frozen=True, slots=True)
class Arm:
    """``arm``: add ``n`` to one fault counter (LED-2; faults stay small, HYP-16)."""

    counter: str
    n: int
    queue: int = 0

    def __post_init__(self) -> None:
        if self.counter not in COUNTERS:
            raise ValueError(f"Arm.counter must be one of {COUNTERS}, got {self.counter!r}")

    def run(self, ctx: ClientContext) -> None:
        ctx.control(
            self.queue, f"{self.counter}({self.n})", lambda q: getattr(q, self.counter)(self.n)
        )

    def __str__(self) -> str:
        return f"arm({self.counter}, {self.n}, q{self.queue})"


@dataclass(frozen=True, slots=True)
class SetAutoComplete:
    flag: bool
    queue: int = 0

    def run(self, ctx: ClientContext) -> None:
        ctx.control(
            self.queue, f"set_auto_complete({self.flag})", lambda q: q.set_auto_complete(self.flag)
        )

    def __str__(self) -> str:
        return f"set_auto_complete({self.flag}, q{self.queue})"


ControlCommand = ReleaseNext | ReleasePending | ReleaseAll | Arm | SetAutoComplete


def distinct_queues(stores: Sequence[Any]) -> list[Any]:
    """One store per pending queue: stores sharing a core (``clone()``) count once."""
    seen: dict[int, Any] = {}
    for store in stores:
        seen.setdefault(id(getattr(store, "_core", store)), store)
    return list(seen.values())


def drain(contexts: Sequence[ClientContext], queues: Sequence[Any], log: ControlLog) -> list[str]:
    """The final drain: ``release_all`` every queue, collect every open handle (timeout 0).

    Returns one error line per write still pending afterwards.
    """
    for index, queue in enumerate(queues):
        log.call(
            0,
            f"drain: release_all(oldest_first) on q{index}",
            partial(queue.release_all, CompletionOrder.OLDEST_FIRST),
        )
    errors: list[str] = []
    for ctx in contexts:
        for handle in ctx.handles:
            try:
                handle.wait(0)
            except TimeoutError:
                errors.append(
                    f"client {ctx.client}: a write is still pending after the final "
                    "release_all (a release lost it)"
                )
            except (InMemoryPersistenceError, PersistenceInputError):
                continue  # a contract outcome, recorded in the history by the handle
            except Exception as error:
                errors.append(f"client {ctx.client}: drain wait: {type(error).__name__}: {error}")
        ctx.handles.clear()
    return errors


def final_read(ctx: ClientContext, findings: bool) -> None:
    """The quiescent read after the drain (see the module docstring)."""
    if findings:
        if callable(getattr(ctx.store, "findings_snapshot", None)):
            ctx.store.findings_snapshot()
    elif callable(getattr(ctx.store, "snapshot", None)):
        ctx.store.snapshot()
    else:
        ctx.store.list_done_hashes(TENANT, POLICY)


__all__ = [
    "COUNTERS",
    "CONTROL_METHODS",
    "MAX_OPEN",
    "THREAD_WAIT_TIMEOUT",
    "Arm",
    "ClientContext",
    "ControlCommand",
    "ControlEvent",
    "ControlLog",
    "ControlsMissing",
    "ReleaseAll",
    "ReleaseNext",
    "ReleasePending",
    "SetAutoComplete",
    "Upsert",
    "UpsertFindings",
    "WaitHandle",
    "distinct_queues",
    "drain",
    "final_read",
    "missing_controls",
]
