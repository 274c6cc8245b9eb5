"""Small pieces both machines repeat: the HYP-9 guard, agreement checks, handles.

* :func:`guarded` wraps every rule, invariant and ``@initialize`` rule so an
  escaping exception sets ``self.broken`` and ``teardown`` then stays quiet
  instead of masking the first failure (HYP-9).
* :func:`agree` compares the model's prediction with the store's answer in one
  assertion and ``note()``s both first (HYP-11, STYLE "side by side").
* :func:`outcome_of` runs a call and returns its value or the
  ``InMemoryPersistenceError`` it raised, so receipts and errors are compared
  by value in one place (FSM-8 item 5, DLM-7 item 4).
* :class:`SubmittedWrite` is the bundle value of an accepted write (HYP-5).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, Generic, ParamSpec, Protocol, TypeVar

from hypothesis import note

from gossip_model.inmemory.errors import CompletionOrder, InMemoryPersistenceError, PendingWriteId

Params = ParamSpec("Params")
R = TypeVar("R")
P = TypeVar("P")


class Breakable(Protocol):
    broken: bool


M = TypeVar("M", bound=Breakable)


def guarded(fn: Callable[Concatenate[M, Params], R]) -> Callable[Concatenate[M, Params], R]:
    """HYP-9: mark the machine broken when ``fn`` lets an exception escape."""

    @functools.wraps(fn)
    def wrapper(self: M, /, *args: Params.args, **kwargs: Params.kwargs) -> R:
        try:
            return fn(self, *args, **kwargs)
        except BaseException:
            self.broken = True
            raise

    return wrapper


def agree(what: str, predicted: object, answered: object) -> None:
    """Fail with both values (and a ``note``) when the store disagrees with the model."""
    if predicted != answered:
        message = f"{what}: model predicted {predicted!r}, store answered {answered!r}"
        note(message)
        raise AssertionError(message)


def outcome_of(call: Callable[[], object]) -> object:
    """The call's value, or the store error it raised (errors compare by value, ERR-4)."""
    try:
        return call()
    except InMemoryPersistenceError as err:
        return err


def expect_raises(what: str, expected: BaseException, call: Callable[[], object]) -> None:
    """``call`` must raise an exception equal to ``expected`` (type and fields)."""
    try:
        answered = call()
    except InMemoryPersistenceError as err:
        agree(what, expected, err)
        return
    agree(what, expected, f"returned {answered!r}")


def expect_timeout(what: str, call: Callable[[], object]) -> None:
    """``wait(timeout=0)`` on a pending op raises the built-in ``TimeoutError`` (ST-23)."""
    try:
        answered = call()
    except TimeoutError:
        return
    except InMemoryPersistenceError as err:
        agree(what, "TimeoutError", err)
        return
    agree(what, "TimeoutError", f"returned {answered!r}")


class HandleLike(Protocol):
    """What the machines need from a commit handle (API.md, LED-9)."""

    @property
    def op_id(self) -> PendingWriteId: ...

    def wait(self, timeout: float | None = None) -> object: ...


@dataclass(frozen=True, slots=True)
class SubmittedWrite(Generic[P]):
    """An accepted write: its op id, the payload as submitted, and its handle (HYP-5)."""

    op_id: int
    payload: P
    handle: HandleLike

    def __repr__(self) -> str:
        return f"SubmittedWrite(op_id={self.op_id})"


class StoreControls(Protocol):
    """The pending-op control surface both stores share (API.md, ST-4..ST-18).

    The four controls are typed ``-> object`` so the machines can check that
    they return None (LED-2) without the type checker rejecting the call.
    """

    def set_auto_complete(self, flag: bool) -> object: ...

    def delay_next_writes(self, n: int) -> object: ...

    def fail_next_submissions(self, n: int) -> object: ...

    def fail_next_commits(self, n: int) -> object: ...

    def release_next(self, order: CompletionOrder) -> PendingWriteId | None: ...

    def release_specific(self, op_id: PendingWriteId) -> bool: ...

    def release_all(self, order: CompletionOrder) -> int: ...

    def pending_count(self) -> int: ...

    def pending_ids(self) -> list[PendingWriteId]: ...


__all__ = [
    "HandleLike",
    "StoreControls",
    "SubmittedWrite",
    "agree",
    "expect_raises",
    "expect_timeout",
    "guarded",
    "outcome_of",
]
