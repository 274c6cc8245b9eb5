"""The generic store core (inmemory.md §1, §2 ST-*, §3 TH-*, §11 P-*; backends.md FC-1).

One :class:`InMemoryStoreCore` holds, behind ONE plain lock with ONE
condition variable (TH-4): the backend's durable state, the op table ``ops``
(``PendingWriteId -> PendingOp``), the FIFO ``order`` deque of delayed op ids,
``next_op_id``, the ``auto_complete`` flag, the fault counters
(:class:`FaultCounters`: ``delay_next``, ``fail_submit_remaining``,
``fail_commit_remaining``) and the ``poisoned`` flag. The name keeps its
"InMemory" prefix because API.md pins it; the core serves every backend (the
in-memory, SQLite and PostgreSQL stores and any user backend plugged in
through :mod:`gossip_model.backend`).

The core never knows what it stores. A domain plugs in through a
:class:`StoreBackend`:

* ``new_durable()``: a factory for empty durable state (or, for a database,
  the connection holder);
* ``apply(durable, counters, payload) -> receipt``: validate and mutate.
  It must call ``counters.check_commit_fault()`` FIRST (ST-9) and must not
  mutate ``durable`` unless it is going to succeed (validate-then-mutate). It
  reports failures by raising an :class:`InMemoryPersistenceError` or a
  :class:`PersistenceInputError`; the core stores the first as is and the
  second wrapped as ``BatchValidation`` in the op (ST-11, TH-3). Anything else
  it raises is a bug and poisons the core (TH-3).

The store kind used in errors is given to the core by the facade (``kind=``),
or read from the backend's ``kind`` attribute. :class:`StoreFacade` is the thin
public facade every store shares (controls, releases, queries, ``clone()``,
``reset()``, ST-3), and :class:`StoreHandle` the blocking commit handle
(ST-19..ST-23).

Python-specific choices (D-7), all documented here:

* ``wait(timeout=...)`` raises the built-in ``TimeoutError`` and leaves the op
  and the handle untouched (ST-23); a negative timeout acts as 0, an infinite
  one (or an int too large for a float) as ``None``, NaN raises ``ValueError``
  and a non-number (including ``bool``) ``TypeError``.
* Poisoning is a flag set when an unexpected exception escapes a critical
  section (TH-3); ``InMemoryPersistenceError`` never poisons, and the
  ``TimeoutError`` of ST-23 and exceptions out of the blocking sleep of
  ``wait()`` are raised after the critical section is left, so they cannot.
* Argument checks run before the lock (TH-6); counters reject ``bool`` and
  negative values, ``set_auto_complete`` accepts only a ``bool``.
* ``pending_count()`` is kept as a running count of Pending ops, updated on
  every Pending -> Finished transition, so it is O(1); it always equals the
  number of Pending entries of ``ops`` (ST-18).
* ``reset()`` (not in the reference; added so a harness can reuse one store,
  a database connection say, between runs) empties the durable state and is
  refused while an op is Pending: discarding a queued op would leave its
  handle waiting for ever. Counters, op ids and auto-complete are untouched.
"""

from __future__ import annotations

import math
import threading
import time
from abc import abstractmethod
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import (
    Any,
    ClassVar,
    Generic,
    NoReturn,
    Protocol,
    Self,
    TypeVar,
    cast,
    runtime_checkable,
)

from gossip_model.core.arguments import check_flag
from gossip_model.core.errors import (
    U64_MAX,
    BatchValidation,
    CompletionOrder,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryPersistenceError,
    InMemoryStoreKind,
    PendingWriteId,
    Poisoned,
    UnknownOperation,
)
from gossip_model.core.pending import PendingOp, PendingState
from gossip_model.persistence.errors import PersistenceInputError

D = TypeVar("D")
P = TypeVar("P")
R = TypeVar("R")
T = TypeVar("T")
P_contra = TypeVar("P_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)

_PENDING = PendingState.PENDING
_FINISHED = PendingState.FINISHED


# --- argument checks (TH-6), all before the lock ------------------------------------


# ``where`` is the ``Owner.method`` prefix of the message (style: core/arguments.py).


def check_count(where: str, n: object) -> int:
    """ST-5 / TH-6: ``n`` must be a non-negative int (``bool`` is rejected)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(
            f"{where}: n must be a non-negative int, got {type(n).__name__}; "
            "pass a count such as 0 or 1"
        )
    if n < 0:
        raise ValueError(
            f"{where}: n must be a non-negative int, got {n}; pass 0 or more (0 changes nothing)"
        )
    return n


def check_order(where: str, order: object) -> CompletionOrder:
    """TH-6: releases take a :class:`CompletionOrder`."""
    if not isinstance(order, CompletionOrder):
        raise TypeError(
            f"{where}: order must be a CompletionOrder, got {type(order).__name__}; "
            "pass CompletionOrder.OLDEST_FIRST or CompletionOrder.NEWEST_FIRST"
        )
    return order


def check_op_id(where: str, op_id: object) -> None:
    """TH-6: ``release_specific`` takes a :class:`PendingWriteId`."""
    if not isinstance(op_id, PendingWriteId):
        raise TypeError(
            f"{where}: op_id must be a PendingWriteId, got {type(op_id).__name__}; "
            "pass handle.op_id or an id from pending_ids()"
        )


def normalise_timeout(timeout: object, where: str = "InMemoryStoreCore.wait") -> float | None:
    """ST-23: ``None`` / infinite -> ``None``; negative -> 0; NaN -> ``ValueError``."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(
            f"{where}: timeout must be a number of seconds or None, "
            f"got {type(timeout).__name__}; pass e.g. 1.5, or None to wait until the write ends"
        )
    try:
        value = float(timeout)
    except OverflowError:  # an int beyond the float range: effectively forever
        return None
    if math.isnan(value):
        raise ValueError(
            f"{where}: timeout must not be NaN; pass a number of seconds, or None to wait "
            "until the write ends"
        )
    if math.isinf(value):
        return None if value > 0 else 0.0
    return max(value, 0.0)


# --- fault counters and the backend plug-in -----------------------------------------


class FaultCounters:
    """The three fault-injection counters of one core (ST-5).

    Python ints need no saturation cap. Only the core (under its lock) and a
    backend's ``apply`` (through :meth:`check_commit_fault`) touch them.
    """

    __slots__ = ("delay_next", "fail_commit_remaining", "fail_submit_remaining", "kind")

    def __init__(self, kind: InMemoryStoreKind | None = None) -> None:
        self.kind = kind
        self.delay_next = 0
        self.fail_submit_remaining = 0
        self.fail_commit_remaining = 0

    def check_commit_fault(self, store: InMemoryStoreKind | None = None) -> None:
        """ST-9: if a commit failure is armed, consume one and raise it.

        Every backend ``apply`` calls this before any validation or mutation,
        so the counter is consumed at APPLY time, in release order (ST-10),
        even for payloads that would fail validation and for empty ones.
        ``store`` defaults to the kind of the core that owns these counters.
        """
        if self.fail_commit_remaining > 0:
            self.fail_commit_remaining -= 1
            kind = store if store is not None else self.kind
            if kind is None:  # counters made outside a core, and no kind given
                raise TypeError(
                    "FaultCounters.check_commit_fault: store is missing (these counters "
                    "belong to no store); pass store=InMemoryStoreKind.DONE_LEDGER or "
                    "store=InMemoryStoreKind.FINDINGS"
                )
            raise InjectedCommitFailure(kind)

    def __repr__(self) -> str:
        return (
            f"FaultCounters(delay_next={self.delay_next}, "
            f"fail_submit_remaining={self.fail_submit_remaining}, "
            f"fail_commit_remaining={self.fail_commit_remaining})"
        )


@runtime_checkable
class StoreBackend(Protocol[D, P_contra, R_co]):
    """The domain plug-in of the core (P-1, FC-1): empty durable state and ``apply``.

    A structural protocol: any object with these two methods plugs in, whether
    or not it subclasses this class. See the module docstring for the
    ``apply`` contract (commit-fault check first, validate then mutate, errors
    as ``InMemoryPersistenceError`` or ``PersistenceInputError``). ``apply``
    runs under the core's lock and must not block on, or take, other locks of
    the same store (TH-1). A backend may also define ``reset(durable)`` (empty
    the durable state in place; the default replaces it with
    ``new_durable()``) and ``describe(durable) -> str`` (extra ``repr`` fields).
    """

    @abstractmethod
    def new_durable(self) -> D:
        """Return empty durable state (ST-1)."""

    @abstractmethod
    def apply(self, durable: D, counters: FaultCounters, payload: P_contra) -> R_co:
        """Apply ``payload`` to ``durable`` and return the receipt (ST-9, ST-11)."""


# --- the core ---------------------------------------------------------------------


class _CriticalSection:
    """TH-3 / TH-4 / P-11: the one way into a core's locked state.

    On entry: acquire the lock, raise ``Poisoned`` if the core is poisoned. On
    exit by an exception that is not an ``InMemoryPersistenceError``: set the
    poisoned flag and wake every waiter before the lock is released; the
    exception propagates unchanged.
    """

    __slots__ = ("_core",)

    def __init__(self, core: InMemoryStoreCore[Any, Any, Any]) -> None:
        self._core = core

    def __enter__(self) -> None:
        core = self._core
        core.lock.acquire()
        if core.poisoned:
            core.lock.release()
            raise Poisoned(core.kind)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        core = self._core
        try:
            if exc_type is not None and not issubclass(exc_type, InMemoryPersistenceError):
                core.poisoned = True
                core.cond.notify_all()
        finally:
            core.lock.release()


class InMemoryStoreCore(Generic[D, P, R]):
    """Shared state of one store and all its clones (ST-1..ST-23, TH-1..TH-6).

    Attributes are internal; tests may read them (and set ``next_op_id`` to
    exercise ST-6 step 3), everything else goes through the methods, which
    take the lock. Methods whose names end in ``_locked`` expect the lock to
    be held and never take it again (TH-4).
    """

    __slots__ = (
        "auto_complete",
        "backend",
        "cond",
        "durable",
        "faults",
        "kind",
        "lock",
        "next_op_id",
        "ops",
        "order",
        "pending_total",
        "poisoned",
        "section",
    )

    def __init__(
        self,
        backend: StoreBackend[D, P, R],
        *,
        auto_complete: bool = True,
        kind: InMemoryStoreKind | None = None,
    ) -> None:
        check_flag("InMemoryStoreCore.__init__", "auto_complete", auto_complete)
        self.backend = backend
        self.kind: InMemoryStoreKind = kind if kind is not None else cast(Any, backend).kind
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.section = _CriticalSection(self)
        self.durable: D = backend.new_durable()
        self.ops: dict[PendingWriteId, PendingOp[P, R]] = {}
        self.order: deque[PendingWriteId] = deque()
        self.next_op_id = 1
        self.auto_complete = auto_complete
        self.faults = FaultCounters(self.kind)
        self.pending_total = 0
        self.poisoned = False

    # -- counters, read-only views for tests (there is no public reader, ST-5) -------

    @property
    def delay_next(self) -> int:
        return self.faults.delay_next

    @property
    def fail_submit_remaining(self) -> int:
        return self.faults.fail_submit_remaining

    @property
    def fail_commit_remaining(self) -> int:
        return self.faults.fail_commit_remaining

    # -- controls (ST-4, ST-5) -----------------------------------------------------

    def set_auto_complete(self, flag: bool) -> None:
        """ST-4: affects future submissions only; queued ops are untouched."""
        check_flag("InMemoryStoreCore.set_auto_complete", "flag", flag)
        with self.section:
            self.auto_complete = flag

    def delay_next_writes(self, n: int) -> None:
        """ST-5: add ``n`` to ``delay_next`` (cumulative)."""
        check_count("InMemoryStoreCore.delay_next_writes", n)
        with self.section:
            self.faults.delay_next += n

    def fail_next_submissions(self, n: int) -> None:
        """ST-5: add ``n`` to ``fail_submit_remaining`` (cumulative)."""
        check_count("InMemoryStoreCore.fail_next_submissions", n)
        with self.section:
            self.faults.fail_submit_remaining += n

    def fail_next_commits(self, n: int) -> None:
        """ST-5: add ``n`` to ``fail_commit_remaining`` (cumulative)."""
        check_count("InMemoryStoreCore.fail_next_commits", n)
        with self.section:
            self.faults.fail_commit_remaining += n

    # -- submission (ST-6 .. ST-8) ---------------------------------------------------

    def submit(self, payload: P) -> PendingWriteId:
        """ST-6 steps 1-6; the caller has done step 0 (argument checks, FS-2/FS-3).

        Order: poison check -> submission fault -> id allocation with the u64
        overflow check -> delay decision (``delay_next`` first, then
        ``auto_complete``) -> enqueue, or apply now and notify -> the id. Only
        steps 1-3 can raise; an apply failure is stored in the op (ST-7).
        """
        with self.section:
            faults = self.faults
            if faults.fail_submit_remaining > 0:
                faults.fail_submit_remaining -= 1
                raise InjectedSubmissionFailure(self.kind)
            if self.next_op_id >= U64_MAX:
                raise InjectedSubmissionFailure(self.kind)
            op_id = PendingWriteId(self.next_op_id)
            self.next_op_id += 1
            if faults.delay_next > 0:
                faults.delay_next -= 1
                delay = True
            else:
                delay = not self.auto_complete
            if delay:
                self.order.append(op_id)
                self.ops[op_id] = PendingOp.pending(payload)
                self.pending_total += 1
            else:
                receipt, error = self._apply_locked(payload)
                self.ops[op_id] = PendingOp.finished(receipt, error)
                self.cond.notify_all()
            return op_id

    def _apply_locked(self, payload: P) -> tuple[R | None, InMemoryPersistenceError | None]:
        """Run the backend ``apply``, capturing its expected failures (ST-11, TH-3)."""
        try:
            return self.backend.apply(self.durable, self.faults, payload), None
        except InMemoryPersistenceError as error:
            return None, error
        except PersistenceInputError as source:
            return None, BatchValidation(source)

    def _finish_locked(self, op_id: PendingWriteId) -> None:
        """ST-17: apply a Pending op and record its result; a Finished op is left alone."""
        op = self.ops.get(op_id)
        if op is None:
            raise UnknownOperation(self.kind, op_id)
        if op.state is _FINISHED:
            return
        receipt, error = self._apply_locked(cast(P, op.payload))
        op.finish(receipt, error)
        self.pending_total -= 1

    # -- releases (ST-14 .. ST-16) ------------------------------------------------

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None:
        """ST-14: apply the oldest / newest Pending op, skipping stale ids."""
        check_order("InMemoryStoreCore.release_next", order)
        with self.section:
            queue = self.order
            pop = queue.popleft if order is CompletionOrder.OLDEST_FIRST else queue.pop
            ops = self.ops
            while queue:
                op_id = pop()
                op = ops.get(op_id)
                if op is not None and op.state is _PENDING:
                    self._finish_locked(op_id)
                    self.cond.notify_all()
                    return op_id
            return None

    def release_specific(self, op_id: PendingWriteId) -> bool:
        """ST-15: apply ``op_id`` if it is Pending (``True``); otherwise ``False``, no change."""
        check_op_id("InMemoryStoreCore.release_specific", op_id)
        with self.section:
            op = self.ops.get(op_id)
            if op is None or op.state is not _PENDING:
                return False
            self._finish_locked(op_id)
            queue = self.order
            while True:
                try:
                    queue.remove(op_id)
                except ValueError:
                    break
            self.cond.notify_all()
            return True

    def release_all(self, order: CompletionOrder) -> int:
        """ST-16: apply every op Pending now, in ``order``, under one hold of the lock."""
        check_order("InMemoryStoreCore.release_all", order)
        with self.section:
            ops = self.ops
            snapshot = [
                op_id
                for op_id in self.order
                if (op := ops.get(op_id)) is not None and op.state is _PENDING
            ]
            if not snapshot:
                return 0
            if order is CompletionOrder.NEWEST_FIRST:
                snapshot.reverse()
            for op_id in snapshot:
                self._finish_locked(op_id)
            released = set(snapshot)
            self.order = deque(op_id for op_id in self.order if op_id not in released)
            self.cond.notify_all()
            return len(snapshot)

    # -- queries (ST-18) ------------------------------------------------------------

    def pending_count(self) -> int:
        """ST-18: the number of Pending ops (independent of ``order``)."""
        with self.section:
            return self.pending_total

    def pending_ids(self) -> list[PendingWriteId]:
        """ST-18: the queued ids still Pending, oldest first."""
        with self.section:
            ops = self.ops
            return [
                op_id
                for op_id in self.order
                if (op := ops.get(op_id)) is not None and op.state is _PENDING
            ]

    # -- reset (not in the reference; see the module docstring) ---------------------

    def reset(self, where: str = "InMemoryStoreCore.reset") -> None:
        """Empty the durable state; refused (``RuntimeError``) while an op is Pending.

        The refusal is raised after the critical section is left, so it does
        not poison the core (TH-3). ``where`` prefixes its message.
        """
        with self.section:
            pending = self.pending_total
            if not pending:
                reset = getattr(self.backend, "reset", None)
                if reset is None:
                    self.durable = self.backend.new_durable()
                else:
                    reset(self.durable)
        if pending:
            raise RuntimeError(
                f"{where}: {pending} write(s) of this {self.kind} store are still pending; "
                "release them (release_all) or wait for them first"
            )

    # -- reads ---------------------------------------------------------------------

    def read(self, reader: Callable[[D], T]) -> T:
        """Run ``reader(durable)`` under the lock (TH-1); pending payloads are invisible."""
        with self.section:
            return reader(self.durable)

    def close_durable(self, closer: Callable[[D], object]) -> None:
        """Run ``closer(durable)`` (a database store's ``close()``) under the lock; on a
        poisoned core, directly.

        Choice (the spec leaves closing a poisoned store open): ``close()`` always
        releases the connection. After a bug poisoned the core nothing else can use
        the durable state, and a store that refused to close would leak its
        connection (and, for SQLite, its file lock) until the process exits.
        """
        try:
            self.read(closer)
        except Poisoned:
            closer(self.durable)

    def inspect(self, reader: Callable[[D, int, bool], T]) -> T:
        """TH-5: ``reader(durable, pending_count, auto_complete)`` in ONE critical section."""
        with self.section:
            return reader(self.durable, self.pending_total, self.auto_complete)

    # -- wait (ST-20 .. ST-23) ------------------------------------------------------

    def wait(
        self, op_id: PendingWriteId, timeout: float | None = None, where: str | None = None
    ) -> R:
        """ST-20: block until ``op_id`` is Finished, then return or raise its result.

        ``where`` prefixes the message of a bad ``timeout`` (the handle passes
        its own ``Owner.wait``).

        One deadline from ``time.monotonic()``; each sleep is at most the
        remaining time and at most ``threading.TIMEOUT_MAX``; wake-ups re-check
        the poisoned flag, then the op. ``TimeoutError`` and an exception out
        of the sleep itself (``KeyboardInterrupt``) are raised after the lock
        is released, so they change nothing and never poison (ST-23, TH-3).
        """
        limit = normalise_timeout(timeout, where or "InMemoryStoreCore.wait")
        deadline = None if limit is None else time.monotonic() + limit
        interrupted: BaseException | None = None
        with self.section:
            ops = self.ops
            cond = self.cond
            while True:
                op = ops.get(op_id)
                if op is None:
                    raise UnknownOperation(self.kind, op_id)
                if op.state is _FINISHED:
                    del ops[op_id]
                    if op.taken:
                        raise UnknownOperation(self.kind, op_id)
                    op.taken = True
                    if op.error is not None:
                        raise op.error
                    return cast(R, op.receipt)
                if deadline is None:
                    sleep = threading.TIMEOUT_MAX
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    sleep = min(remaining, threading.TIMEOUT_MAX)
                try:
                    cond.wait(sleep)
                except BaseException as exc:  # the sleep itself was interrupted (TH-3)
                    interrupted = exc
                    break
                if self.poisoned:
                    raise Poisoned(self.kind)
        if interrupted is not None:
            raise interrupted
        self._raise_timeout(op_id, timeout)

    def _raise_timeout(self, op_id: PendingWriteId, timeout: float | None) -> NoReturn:
        shown = timeout if timeout is not None and timeout >= 0 else 0
        raise TimeoutError(
            f"in-memory {self.kind} operation {op_id} still pending after {shown} seconds"
        )

    def __repr__(self) -> str:
        return f"InMemoryStoreCore(kind={self.kind.name})"


# --- handle and facade -----------------------------------------------------------


class StoreHandle(Generic[R]):
    """The blocking commit handle of one op (ST-19..ST-23, CH-1).

    ``op_id`` is read without the lock and works on a poisoned core. Handles
    have no finaliser: discarding one never cancels its op (ST-13).
    """

    __slots__ = ("_core", "_op_id")

    def __init__(self, core: InMemoryStoreCore[Any, Any, R], op_id: PendingWriteId) -> None:
        self._core = core
        self._op_id = op_id

    @property
    def op_id(self) -> PendingWriteId:
        """ST-19: the op's id."""
        return self._op_id

    def wait(self, timeout: float | None = None) -> R:
        """ST-20: the receipt, or the stored error raised; see :meth:`InMemoryStoreCore.wait`."""
        if timeout is None:
            return self._core.wait(self._op_id)
        return self._core.wait(self._op_id, timeout, f"{type(self).__name__}.wait")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(op_id={self._op_id!r})"


class StoreFacade(Generic[D, P, R]):
    """Public facade over a shared core: controls, releases, queries (DL-14, FS-18).

    ST-3: :meth:`clone` and ``copy.copy`` give a new facade on the SAME core;
    ``copy.deepcopy`` and pickling raise ``TypeError``; equality is identity.
    """

    __slots__ = ("_core",)

    _core: InMemoryStoreCore[D, P, R]
    #: The name ``repr`` shows; ``None``: the class name. A store sets it so
    #: that test subclasses (planted bugs) still render as the store they wrap.
    repr_name: ClassVar[str | None] = None

    @classmethod
    def _from_core(cls, core: InMemoryStoreCore[D, P, R]) -> Self:
        facade = cls.__new__(cls)
        facade._core = core
        return facade

    def clone(self) -> Self:
        """ST-3: a second facade on the same core (takes no lock; works when poisoned)."""
        return self._from_core(self._core)

    def __copy__(self) -> Self:
        return self.clone()

    def __deepcopy__(self, memo: dict[int, Any]) -> NoReturn:
        """ST-3: refused; the message points to ``clone()``."""
        raise TypeError(
            f"{type(self).__name__}.__deepcopy__: a store cannot be deep-copied (its state "
            "is shared and lock-protected); use clone() for a second handle on the same store"
        )

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        """ST-3: refused; a store holds a lock and live pending operations."""
        raise TypeError(
            f"{type(self).__name__}.__reduce_ex__: a store cannot be pickled (it wraps a lock "
            "and live pending operations); pickle its snapshot() instead"
        )

    def _where(self, method: str) -> str:
        """The ``Owner.method`` prefix of this store's argument errors."""
        return f"{type(self).__name__}.{method}"

    # -- controls (ST-4, ST-5) and releases (ST-14..ST-16) --------------------------

    def set_auto_complete(self, flag: bool) -> None:
        """ST-4: future submissions auto-complete (``True``) or queue (``False``)."""
        check_flag(self._where("set_auto_complete"), "flag", flag)
        self._core.set_auto_complete(flag)

    def delay_next_writes(self, n: int) -> None:
        """ST-5: delay the next ``n`` accepted submissions (cumulative)."""
        check_count(self._where("delay_next_writes"), n)
        self._core.delay_next_writes(n)

    def fail_next_submissions(self, n: int) -> None:
        """ST-5: reject the next ``n`` submissions with ``InjectedSubmissionFailure``."""
        check_count(self._where("fail_next_submissions"), n)
        self._core.fail_next_submissions(n)

    def fail_next_commits(self, n: int) -> None:
        """ST-5, ST-9, ST-10: fail the next ``n`` applies with ``InjectedCommitFailure``."""
        check_count(self._where("fail_next_commits"), n)
        self._core.fail_next_commits(n)

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None:
        """ST-14: apply one queued op from the front or back; ``None`` if none is Pending."""
        check_order(self._where("release_next"), order)
        return self._core.release_next(order)

    def release_specific(self, op_id: PendingWriteId) -> bool:
        """ST-15: apply ``op_id`` if Pending; ``False`` (no change) in every other case."""
        check_op_id(self._where("release_specific"), op_id)
        return self._core.release_specific(op_id)

    def release_all(self, order: CompletionOrder) -> int:
        """ST-16: apply every currently Pending op in ``order``; return how many."""
        check_order(self._where("release_all"), order)
        return self._core.release_all(order)

    def pending_count(self) -> int:
        """ST-18: number of Pending ops."""
        return self._core.pending_count()

    def pending_ids(self) -> list[PendingWriteId]:
        """ST-18: Pending op ids, oldest first."""
        return self._core.pending_ids()

    def reset(self) -> None:
        """Empty the durable state of this store and its clones (refused while ops are Pending).

        Not in the reference: a harness that reuses one store (a database,
        say) between runs calls this instead of deleting rows behind the
        store's back. Counters, op ids and the auto-complete flag are kept.
        """
        self._core.reset(self._where("reset"))

    # -- repr (TH-5) ------------------------------------------------------------------

    def _describe(self, durable: D, pending: int, auto_complete: bool) -> str:
        """``Name(<backend fields>, pending_ops=N, auto_complete=B)``; never the records."""
        describe = getattr(self._core.backend, "describe", None)
        extra = f"{describe(durable)}, " if describe is not None else ""
        name = self.repr_name or type(self).__name__
        return f"{name}({extra}pending_ops={pending}, auto_complete={auto_complete})"

    def __repr__(self) -> str:
        """TH-5: counts computed in one critical section; ``<poisoned>`` never raises."""
        try:
            return self._core.inspect(self._describe)
        except Poisoned:
            return f"{type(self).__name__}(<poisoned>)"


StoreCore = InMemoryStoreCore
"""The core's backend-neutral name (``InMemoryStoreCore`` is kept because API.md pins it)."""

__all__ = [
    "FaultCounters",
    "InMemoryStoreCore",
    "StoreBackend",
    "StoreCore",
    "StoreFacade",
    "StoreHandle",
    "check_count",
    "check_op_id",
    "check_order",
    "normalise_timeout",
]
