"""Pure model of the in-memory store core: op ids, pending queue, fault counters.

Shared by :mod:`rules.done_ledger` and :mod:`rules.findings` (HYP-1, HYP-3).
It mirrors the generic store core of ``inmemory.md`` §2 (ST-1..ST-18, the
done-ledger restatement LED-1..LED-9 of ``sim.md``) and knows nothing about
what a payload means: a submission or release returns the
:class:`Application` values the store is about to apply, **in the store's
apply order**; the machine runs its domain model on each one and hands the
predicted outcome back with :meth:`StoreModel.finish`. So this module stays
domain-free, like the store core it models (STYLE: "domain logic injected
into shared machinery").

The commit-fault counter is consumed here, at apply time (ST-9, ST-10): an
:class:`Application` whose ``commit_fault`` is true must be predicted as an
``InjectedCommitFailure`` whatever its payload (also for an empty payload).

Everything is plain data plus deterministic methods; nothing here touches a
store, a clock, a thread or a PRNG (HYP-4), so it can be unit-tested alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Application(Generic[P]):
    """One apply the store performs (ST-17): ``op_id``, its payload, and whether
    the commit-failure counter fired for it (ST-9)."""

    op_id: int
    payload: P
    commit_fault: bool


@dataclass(frozen=True, slots=True)
class Submission(Generic[P]):
    """Predicted result of one submit (ST-6 / LED-3).

    ``op_id`` is None when the submission fault fired (no id consumed, ST-8).
    ``application`` is set for an immediate (auto-completed) submit.
    """

    op_id: int | None
    delayed: bool
    application: Application[P] | None


class WaitState(enum.Enum):
    """What ``handle.wait(timeout=0)`` does for an op id (ST-20, ST-21)."""

    PENDING = "pending"  # raises TimeoutError, changes nothing
    FINISHED = "finished"  # returns / raises the stored result, then forgets it
    UNKNOWN = "unknown"  # raises UnknownOperation


@dataclass(slots=True)
class StoreModel(Generic[P]):
    """The store core as plain data (ST-1 initial state; HYP-3 fields).

    ``results`` holds the predicted outcome (a receipt or an exception
    instance) of every finished op whose result was not collected yet;
    ``collected`` the ids whose result ``wait`` has already returned.
    """

    next_op_id: int = 1
    auto_complete: bool = True
    delay_next: int = 0
    fail_submit: int = 0
    fail_commit: int = 0
    queue: list[int] = field(default_factory=list)
    payloads: dict[int, P] = field(default_factory=dict)
    results: dict[int, object] = field(default_factory=dict)
    collected: set[int] = field(default_factory=set)
    max_queue: int = 0

    # -- controls (ST-4, ST-5 / LED-2: counters are additive) -----------------

    def set_auto_complete(self, flag: bool) -> None:
        self.auto_complete = flag

    def delay_next_writes(self, n: int) -> None:
        self.delay_next += n

    def fail_next_submissions(self, n: int) -> None:
        self.fail_submit += n

    def fail_next_commits(self, n: int) -> None:
        self.fail_commit += n

    # -- predicted outcome helpers --------------------------------------------

    @property
    def submit_is_rejected(self) -> bool:
        """The next accepted-by-validation submit hits the submission fault."""
        return self.fail_submit > 0

    @property
    def submit_is_delayed(self) -> bool:
        """The next accepted submit is queued (ST-6 step 4: delay beats auto-complete)."""
        return self.fail_submit == 0 and (self.delay_next > 0 or not self.auto_complete)

    @property
    def submit_is_immediate(self) -> bool:
        return self.fail_submit == 0 and self.delay_next == 0 and self.auto_complete

    # -- submission and release (ST-6, ST-14..ST-16) ---------------------------

    def submit(self, payload: P) -> Submission[P]:
        """ST-6 steps 2-5: submission fault, id, delay decision, maybe apply."""
        if self.fail_submit > 0:
            self.fail_submit -= 1
            return Submission(op_id=None, delayed=False, application=None)
        op_id = self.next_op_id
        self.next_op_id += 1
        if self.delay_next > 0:
            self.delay_next -= 1
            delayed = True
        else:
            delayed = not self.auto_complete
        if delayed:
            self.queue.append(op_id)
            self.payloads[op_id] = payload
            self.max_queue = max(self.max_queue, len(self.queue))
            return Submission(op_id=op_id, delayed=True, application=None)
        return Submission(op_id=op_id, delayed=False, application=self._apply(op_id, payload))

    def release_next(self, newest_first: bool) -> Application[P] | None:
        """ST-14: the front (oldest) or back (newest) pending op, or None."""
        if not self.queue:
            return None
        op_id = self.queue.pop() if newest_first else self.queue.pop(0)
        return self._apply(op_id, self.payloads.pop(op_id))

    def release_specific(self, op_id: int) -> Application[P] | None:
        """ST-15: apply ``op_id`` if it is pending, else None (the store returns False)."""
        if op_id not in self.payloads:
            return None
        self.queue.remove(op_id)
        return self._apply(op_id, self.payloads.pop(op_id))

    def release_all(self, newest_first: bool) -> list[Application[P]]:
        """ST-16 / LED-7: every pending op, in queue order or reversed."""
        ids = list(reversed(self.queue)) if newest_first else list(self.queue)
        self.queue.clear()
        return [self._apply(op_id, self.payloads.pop(op_id)) for op_id in ids]

    def _apply(self, op_id: int, payload: P) -> Application[P]:
        """ST-9: the commit-fault counter is consumed first, at apply time."""
        fault = self.fail_commit > 0
        if fault:
            self.fail_commit -= 1
        return Application(op_id=op_id, payload=payload, commit_fault=fault)

    def finish(self, op_id: int, outcome: object) -> None:
        """Record the predicted result of an applied op (ST-11: terminal)."""
        self.results[op_id] = outcome

    # -- wait (ST-20, ST-21) and queries (ST-18) -------------------------------

    def wait(self, op_id: int) -> tuple[WaitState, object]:
        """Predict ``wait(timeout=0)``; a finished result is collected (forgotten)."""
        if op_id in self.payloads:
            return WaitState.PENDING, None
        if op_id in self.results:
            self.collected.add(op_id)
            return WaitState.FINISHED, self.results.pop(op_id)
        return WaitState.UNKNOWN, None

    def pending_ids(self) -> list[int]:
        return list(self.queue)

    def uncollected_ids(self) -> list[int]:
        """Finished ops whose result nobody collected yet, ascending."""
        return sorted(self.results)


__all__ = ["Application", "StoreModel", "Submission", "WaitState"]
