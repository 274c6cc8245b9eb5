"""Small pieces both machines repeat: the HYP-9 guard, agreement checks, handles.

* :func:`guarded` wraps every rule, invariant and ``@initialize`` rule so an
  escaping exception sets ``self.broken`` and ``teardown`` then stays quiet
  instead of masking the first failure (HYP-9).
* :func:`agree` compares the model's prediction with the store's answer and, on a
  difference, fails with :func:`disagreement`: the operation, the first differing
  item and field with its two values, then both full values (HYP-11).
* :func:`outcome_of` runs a call and returns its value or the
  ``InMemoryPersistenceError`` it raised, so receipts and errors are compared
  by value in one place (FSM-8 item 5, DLM-7 item 4).
* :class:`SubmittedWrite` is the bundle value of an accepted write (HYP-5).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, Generic, ParamSpec, Protocol, TypeVar

from hypothesis import currently_in_test_context, note

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


class _Absent:
    """The missing side of a length or key difference (prints as ``<absent>``)."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT = _Absent()


def _compared_fields(value: object) -> list[str]:
    """Fields that take part in ``==`` of a dataclass with two or more of them (records,
    provenance, receipts); single-field wrappers such as ``RunId`` count as one value."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return []
    names = [f.name for f in dataclasses.fields(value) if f.compare]
    return names if len(names) >= 2 else []


def first_difference(
    predicted: object, answered: object, path: str = ""
) -> tuple[str, object, object]:
    """The path (``[2].provenance.run_id``, ``[key]``) of the first differing item and
    field, with the two values found there (HYP-11: the difference, not two reprs).

    Sequences are compared item by item (a length difference points at the first
    missing item), mappings key by key in the model's key order, dataclasses of
    one type field by field; anything else is a leaf.
    """
    if isinstance(predicted, list | tuple) and isinstance(answered, list | tuple):
        for index, (p, a) in enumerate(zip(predicted, answered, strict=False)):
            if p != a:
                return first_difference(p, a, f"{path}[{index}]")
        index = min(len(predicted), len(answered))
        missing = ABSENT
        return (
            f"{path}[{index}]",
            predicted[index] if index < len(predicted) else missing,
            answered[index] if index < len(answered) else missing,
        )
    if isinstance(predicted, dict) and isinstance(answered, dict):
        for key in [*predicted, *(k for k in answered if k not in predicted)]:
            p, a = predicted.get(key, ABSENT), answered.get(key, ABSENT)
            if p != a:
                return first_difference(p, a, f"{path}[{key!r}]")
    if type(predicted) is type(answered):
        for name in _compared_fields(predicted):
            p, a = getattr(predicted, name), getattr(answered, name)
            if p != a:
                return first_difference(p, a, f"{path}.{name}")
    return path, predicted, answered


def disagreement(what: str, predicted: object, answered: object) -> str:
    """The failure text: operation, first differing item and field, that field's two
    values, then both full values (issue 11 item 2; the shape is pinned by a test)."""
    where, p, a = first_difference(predicted, answered)
    at = f" at {where}" if where else ""
    return (
        f"{what}: store and model disagree{at}\n"
        f"  model predicted: {p!r}\n"
        f"  store answered:  {a!r}\n"
        f"full values:\n"
        f"  model predicted: {predicted!r}\n"
        f"  store answered:  {answered!r}"
    )


def agree(what: str, predicted: object, answered: object) -> None:
    """Fail with the first difference (and a ``note``) when the store disagrees with the
    model; ``what`` names the store operation."""
    if predicted != answered:
        message = disagreement(what, predicted, answered)
        if currently_in_test_context():
            # HYP-11: the head goes next to the printed program; the full values
            # appear once, in the exception (not twice).
            note("\n".join(message.splitlines()[:3]))
        raise AssertionError(message)


def outcome_of(call: Callable[[], object]) -> object:
    """The call's value, or the store error it raised (errors compare by value, ERR-4)."""
    try:
        return call()
    except InMemoryPersistenceError as err:
        return err


def expect_raises(what: str, expected: BaseException, call: Callable[[], object]) -> None:
    """``call`` must raise an exception equal to ``expected`` (type and fields).

    Any other exception is a disagreement too (reported as such, so a store that
    raises the wrong error fails with the two errors side by side, and shrinks).
    """
    try:
        answered = call()
    except Exception as err:
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
    "ABSENT",
    "HandleLike",
    "StoreControls",
    "SubmittedWrite",
    "agree",
    "disagreement",
    "expect_raises",
    "expect_timeout",
    "first_difference",
    "guarded",
    "outcome_of",
]
