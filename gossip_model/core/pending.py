"""Operation records of the generic store core (inmemory.md ST-12).

An operation (op) is in exactly one of these states:

* Pending: delayed, payload held, id queued in the core's ``order`` deque;
* Finished with a result not yet collected (a receipt or a captured error);
* Finished with the result already taken (transient: ``wait()`` removes the
  entry in the same critical section);
* absent from the op table (never existed, or already collected).

The only transition is Pending -> Finished; an op is applied at most once.
These objects are owned by the core and only touched under its lock.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

from gossip_model.core.errors import InMemoryPersistenceError

P = TypeVar("P")
R = TypeVar("R")


class PendingState(enum.Enum):
    """ST-12: the life-cycle state of an op in the op table."""

    PENDING = "pending"
    FINISHED = "finished"


class PendingOp(Generic[P, R]):
    """One entry of the op table: payload (while Pending) and result (once Finished).

    Exactly one of ``receipt`` / ``error`` is meaningful once the op is
    Finished; ``taken`` records that ``wait()`` already collected it. The
    payload is dropped when the op finishes, so collected-but-leaked entries
    (ST-13) hold no records.
    """

    __slots__ = ("error", "payload", "receipt", "state", "taken")

    def __init__(
        self,
        state: PendingState,
        payload: P | None = None,
        receipt: R | None = None,
        error: InMemoryPersistenceError | None = None,
    ) -> None:
        self.state = state
        self.payload = payload
        self.receipt = receipt
        self.error = error
        self.taken = False

    @classmethod
    def pending(cls, payload: P) -> PendingOp[P, R]:
        """A delayed op holding ``payload`` (ST-6 step 5a)."""
        return cls(PendingState.PENDING, payload=payload)

    @classmethod
    def finished(
        cls, receipt: R | None, error: InMemoryPersistenceError | None
    ) -> PendingOp[P, R]:
        """An op whose apply produced ``receipt`` or ``error`` (ST-6 step 5b, ST-17)."""
        return cls(PendingState.FINISHED, receipt=receipt, error=error)

    def finish(self, receipt: R | None, error: InMemoryPersistenceError | None) -> None:
        """Pending -> Finished with the apply result; the payload is released (ST-17)."""
        self.state = PendingState.FINISHED
        self.payload = None
        self.receipt = receipt
        self.error = error

    @property
    def is_pending(self) -> bool:
        """``True`` while the op waits for a release (ST-12)."""
        return self.state is PendingState.PENDING

    def __repr__(self) -> str:
        if self.state is PendingState.PENDING:
            return "PendingOp(Pending)"
        outcome = "taken" if self.taken else ("error" if self.error is not None else "receipt")
        return f"PendingOp(Finished, {outcome})"


__all__ = ["PendingOp", "PendingState"]
