"""Commit handles (contracts.md §9, CM-1..CM-3)."""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar, runtime_checkable

ReceiptT = TypeVar("ReceiptT")
ReceiptT_co = TypeVar("ReceiptT_co", covariant=True)


@runtime_checkable
class CommitHandle(Protocol[ReceiptT_co]):
    """CM-2: ``wait`` blocks until the write is durable, then returns the receipt.

    A handle may be waited on successfully at most once. ``timeout`` (seconds)
    is a Python addition; backends that resolve immediately ignore it.
    """

    def wait(self, timeout: float | None = None) -> ReceiptT_co: ...


class ReadyCommitHandle(Generic[ReceiptT]):
    """CM-3: an already-resolved handle holding a receipt or an error.

    Open point (CM-2, §13 item 15): a second ``wait`` raises
    ``RuntimeError("commit handle already consumed")``.
    """

    __slots__ = ("_consumed", "_error", "_lock", "_receipt")

    def __init__(self, receipt: ReceiptT | None, error: BaseException | None) -> None:
        self._receipt = receipt
        self._error = error
        self._consumed = False
        self._lock = threading.Lock()

    @classmethod
    def ok(cls, receipt: ReceiptT) -> ReadyCommitHandle[ReceiptT]:
        return cls(receipt, None)

    @classmethod
    def err(cls, error: BaseException) -> ReadyCommitHandle[ReceiptT]:
        if not isinstance(error, BaseException):
            raise TypeError(
                f"ReadyCommitHandle.err: error must be an exception, got "
                f"{type(error).__name__}; pass the exception the commit failed with "
                "(ReadyCommitHandle.ok takes a receipt)"
            )
        return cls(None, error)

    def wait(self, timeout: float | None = None) -> ReceiptT:
        """Return the receipt or raise the error at once; ``timeout`` is ignored."""
        with self._lock:
            if self._consumed:
                raise RuntimeError("commit handle already consumed")
            self._consumed = True
        if self._error is not None:
            raise self._error
        assert self._receipt is not None
        return self._receipt

    def __repr__(self) -> str:
        state = "consumed" if self._consumed else ("err" if self._error else "ok")
        return f"ReadyCommitHandle({state})"
