"""A seeded cooperative scheduler: interleavings that replay exactly (issue 14 item 3).

Choice (documented as the issue asks): each client still runs on its own
thread, but only the thread holding the *baton* runs. A client gives the
baton up only at a yield point, :meth:`SeededScheduler.pause`, and a
``random.Random(seed)`` picks who runs next (possibly the same client). The
recorder calls ``pause`` before every invocation and after every response;
planted stores call it between their non-atomic steps (the window a real
race needs). Store code is not modified: the in-memory store's own lock is
never contended, because one client runs at a time, so every operation runs
atomically between yield points exactly as it would under its lock.

Given the seed, the programs and a deterministic store, the order of yield
points, hence the history, is identical on every run. A store call that
blocks on another client (which cannot run) would deadlock: the scheduler
detects it after ``stall_timeout`` seconds and raises ``RuntimeError``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence


class SchedulerStalled(RuntimeError):
    """A client blocked while holding the baton (a store call waited on another client)."""


class SeededScheduler:
    """Runs client bodies one at a time, switching at :meth:`pause` by a seeded choice."""

    def __init__(self, seed: int, *, stall_timeout: float = 30.0) -> None:
        self._rng = random.Random(seed)
        self._cond = threading.Condition()
        self._turn: int | None = None
        self._live: list[int] = []
        self._local = threading.local()
        self._stall_timeout = stall_timeout
        self.switches = 0

    def _hand_over_locked(self) -> None:
        self._turn = self._rng.choice(self._live) if self._live else None
        self._cond.notify_all()

    def _await_turn_locked(self, me: int) -> None:
        if not self._cond.wait_for(lambda: self._turn == me, timeout=self._stall_timeout):
            raise SchedulerStalled(
                f"client {me} waited {self._stall_timeout}s for the baton: a store call "
                "blocked on another client (use threads mode for blocking stores)"
            )

    def pause(self) -> None:
        """A yield point: the seeded choice decides which live client runs next."""
        me: int | None = getattr(self._local, "client", None)
        if me is None:
            return  # not a scheduled thread (e.g. the prefix): run straight through
        with self._cond:
            self.switches += 1
            self._hand_over_locked()
            self._await_turn_locked(me)

    def run(self, bodies: Sequence[Callable[[], None]]) -> list[BaseException]:
        """Run every body to completion; returns the exceptions they raised (in client order)."""
        errors: list[BaseException | None] = [None] * len(bodies)
        self._live = list(range(len(bodies)))

        def main(index: int) -> None:
            self._local.client = index
            try:
                with self._cond:
                    self._await_turn_locked(index)
                bodies[index]()
            except BaseException as error:  # reported to the caller, never lost
                errors[index] = error
            finally:
                with self._cond:
                    self._live.remove(index)
                    self._hand_over_locked()

        threads = [
            threading.Thread(target=main, args=(i,), daemon=True) for i in range(len(bodies))
        ]
        for thread in threads:
            thread.start()
        with self._cond:
            self._hand_over_locked()
        for thread in threads:
            thread.join(self._stall_timeout * 2)
            if thread.is_alive():
                raise SchedulerStalled("a client thread did not finish")
        return [e for e in errors if e is not None]


__all__ = ["SchedulerStalled", "SeededScheduler"]
