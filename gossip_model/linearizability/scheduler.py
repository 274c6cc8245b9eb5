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
    """Runs client bodies one at a time, switching at :meth:`pause` by a seeded choice.

    The baton is one ``threading.Event`` per client: a switch sets the next
    client's event and waits on its own, so exactly one thread wakes.
    """

    def __init__(self, seed: int, *, stall_timeout: float = 30.0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._events: list[threading.Event] = []
        self._live: list[int] = []
        self._local = threading.local()
        self._stall_timeout = stall_timeout
        self.switches = 0

    def _wait_for_baton(self, me: int) -> None:
        if not self._events[me].wait(self._stall_timeout):
            raise SchedulerStalled(
                f"client {me} waited {self._stall_timeout}s for the baton: a store call "
                "blocked on another client (use threads mode for blocking stores)"
            )
        self._events[me].clear()

    def pause(self) -> None:
        """A yield point: the seeded choice decides which live client runs next."""
        me: int | None = getattr(self._local, "client", None)
        if me is None:
            return  # not a scheduled thread (e.g. the prefix): run straight through
        with self._lock:
            chosen = self._rng.choice(self._live)
        if chosen == me:
            return
        self.switches += 1
        self._events[chosen].set()
        self._wait_for_baton(me)

    def run(self, bodies: Sequence[Callable[[], None]]) -> list[BaseException]:
        """Run every body to completion; returns the exceptions they raised (in client order)."""
        errors: list[BaseException | None] = [None] * len(bodies)
        self._live = list(range(len(bodies)))
        self._events = [threading.Event() for _ in bodies]

        def main(index: int) -> None:
            self._local.client = index
            try:
                self._wait_for_baton(index)
                bodies[index]()
            except BaseException as error:  # reported to the caller, never lost
                errors[index] = error
            finally:
                with self._lock:
                    self._live.remove(index)
                    chosen = self._rng.choice(self._live) if self._live else None
                if chosen is not None:
                    self._events[chosen].set()

        threads = [
            threading.Thread(target=main, args=(i,), daemon=True) for i in range(len(bodies))
        ]
        for thread in threads:
            thread.start()
        if bodies:
            with self._lock:
                first = self._rng.choice(self._live)
            self._events[first].set()
        for thread in threads:
            thread.join(self._stall_timeout * 2)
            if thread.is_alive():
                raise SchedulerStalled("a client thread did not finish")
        return [e for e in errors if e is not None]


__all__ = ["SchedulerStalled", "SeededScheduler"]
