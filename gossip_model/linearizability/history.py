"""Concurrent histories: operations with invocation, response and outcome (issue 14 item 1).

A :class:`History` is what the checker reads: one :class:`Operation` per call
a client made, with the logical time of its invocation and of its response.

Choices (the spec leaves them open):

* **Clock.** Times come from one shared logical counter, advanced under a lock
  at every invocation and every response (:class:`HistoryBuilder`). It is
  monotonic and totally ordered, and it preserves real-time precedence: when
  operation A responded before B was invoked, ``A.respond < B.invoke``. No wall
  clock enters the logic, so a history recorded under the seeded scheduler is
  reproduced exactly.
* **Outcomes.** :class:`Returned` (a value), :class:`Raised` (an error the
  sequential model can predict, named by :func:`error_kind`), :class:`Failed`
  (an injected failure that by contract had no effect: dropped by the
  checker), :class:`Maybe` (Jepsen's ``:info``: a timeout, a lost connection,
  an unexpected exception, or a write never waited on; it may or may not have
  taken effect, at any time after its invocation).
* Secrets never appear: operations print through :func:`describe_value`,
  which relies on the records' own redacting ``repr``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from gossip_model.inmemory.errors import (
    BatchValidation,
    InjectedCommitFailure,
    InjectedSubmissionFailure,
    InMemoryPersistenceError,
)
from gossip_model.persistence.done_ledger import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
)
from gossip_model.persistence.errors import PersistenceInputError

#: Errors a sequential model cannot predict and that left no effect by contract:
#: injected faults (ST-6, ST-9) and argument checks made before the lock (TH-6).
NO_EFFECT_ERRORS: tuple[type[BaseException], ...] = (
    InjectedSubmissionFailure,
    InjectedCommitFailure,
    TypeError,
)


@dataclass(frozen=True, slots=True)
class Returned:
    """The operation returned ``value``."""

    value: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """The operation raised an error the model predicts; ``kind`` is :func:`error_kind`."""

    kind: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The operation failed without effect (an injected fault): the checker drops it."""

    kind: str


@dataclass(frozen=True, slots=True)
class Maybe:
    """Indeterminate (Jepsen ``:info``): may have taken effect at any time after invocation."""

    reason: str


Outcome = Returned | Raised | Failed | Maybe


def error_kind(error: BaseException) -> str:
    """A backend-independent name of an error: its class, with the source of a wrapper.

    ``BatchValidation`` is named with its source (``BatchValidation(TooLarge)``)
    so that a model can predict which input rule fired.
    """
    if isinstance(error, BatchValidation):
        return f"BatchValidation({type(error.source).__name__})"
    return type(error).__name__


def classify_error(error: BaseException) -> Outcome:
    """The outcome of an operation that raised ``error``.

    Injected faults and ``TypeError`` (TH-6 argument checks) are :class:`Failed`;
    contract errors (``InMemoryPersistenceError`` subclasses other than the
    database and poisoning errors, and input errors) are :class:`Raised`;
    anything else (``TimeoutError``, a lost connection, ``DatabaseBackendError``,
    ``Poisoned``) is :class:`Maybe`.
    """
    if isinstance(error, NO_EFFECT_ERRORS):
        return Failed(error_kind(error))
    name = type(error).__name__
    if name in ("DatabaseBackendError", "Poisoned", "UnknownOperation", "CorruptRow"):
        return Maybe(name)
    if isinstance(error, InMemoryPersistenceError | PersistenceInputError):
        return Raised(error_kind(error))
    return Maybe(name)


@dataclass(frozen=True, slots=True)
class Operation:
    """One call of one client: ``kind`` names the method, ``args`` its arguments.

    ``respond`` is ``None`` for a :class:`Maybe` outcome with no response at all;
    the checker places such a response after every other event.
    """

    op_id: int
    client: int
    kind: str
    args: tuple[Any, ...]
    invoke: int
    respond: int | None
    outcome: Outcome

    def __post_init__(self) -> None:
        if self.respond is None and not isinstance(self.outcome, Maybe):
            raise ValueError(
                f"Operation {self.op_id}: only a Maybe outcome may lack a response time"
            )
        if self.respond is not None and self.respond <= self.invoke:
            raise ValueError(
                f"Operation {self.op_id}: respond ({self.respond}) must be after "
                f"invoke ({self.invoke})"
            )

    @property
    def value(self) -> Any:
        """The returned value (``ValueError`` unless the outcome is :class:`Returned`)."""
        if not isinstance(self.outcome, Returned):
            raise ValueError(f"Operation {self.op_id} did not return a value: {self.outcome!r}")
        return self.outcome.value

    @property
    def is_maybe(self) -> bool:
        return isinstance(self.outcome, Maybe)

    def describe(self) -> str:
        """One line: ``[t3..t7] client 1 batch_upsert(...) -> Returned(...)``."""
        end = "?" if self.respond is None else str(self.respond)
        args = ", ".join(describe_value(a) for a in self.args)
        return (
            f"#{self.op_id} [t{self.invoke}..t{end}] client {self.client} "
            f"{self.kind}({args}) -> {describe_outcome(self.outcome)}"
        )


def _short(raw: bytes) -> str:
    return raw[:2].hex()


def describe_value(value: object) -> str:
    """A short, secret-free rendering (records redact themselves; sequences recurse).

    Done-ledger keys and records are abbreviated to the first two bytes of each
    id (``key(0101/0202/4141)``); everything else uses its own ``repr``.
    """
    if isinstance(value, tuple | list):
        inner = ", ".join(describe_value(v) for v in value)
        return f"[{inner}]"
    if isinstance(value, DoneLedgerKey):
        return (
            f"key({_short(value.tenant_id.raw)}/{_short(value.policy_hash.raw)}/"
            f"{_short(value.ovid_hash.raw)})"
        )
    if isinstance(value, DoneLedgerRecord):
        prov = value.provenance
        code = "" if value.error_code is None else f", code={value.error_code.code}"
        return (
            f"record({describe_value(value.key)}, {value.status.variant_name}, "
            f"bytes={value.bytes_scanned}, findings={value.findings_count}, "
            f"run={prov.run_id.value}, "
            f"t={prov.started_at.value}..{prov.finished_at.value}{code})"
        )
    if isinstance(value, DoneLedgerCommitReceipt):
        return f"receipt({value.record_count}, {value.scanned_count}, {value.findings_count})"
    return repr(value)


def describe_outcome(outcome: Outcome) -> str:
    if isinstance(outcome, Returned):
        return describe_value(outcome.value)
    if isinstance(outcome, Raised):
        return f"raised {outcome.kind}"
    if isinstance(outcome, Failed):
        return f"failed without effect ({outcome.kind})"
    return f"maybe ({outcome.reason})"


@dataclass(frozen=True, slots=True)
class History:
    """A complete concurrent history: operations ordered by invocation time."""

    operations: tuple[Operation, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.operations, key=lambda op: op.invoke))
        object.__setattr__(self, "operations", ordered)
        ids = [op.op_id for op in ordered]
        if len(set(ids)) != len(ids):
            raise ValueError("History: op_id values must be unique")

    def __len__(self) -> int:
        return len(self.operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def clients(self) -> list[int]:
        return sorted({op.client for op in self.operations})

    def render(self, limit: int | None = None) -> str:
        """One line per operation in invocation order (at most ``limit`` lines)."""
        ops = self.operations if limit is None else self.operations[:limit]
        lines = [op.describe() for op in ops]
        if limit is not None and len(self.operations) > limit:
            lines.append(f"... {len(self.operations) - limit} more operations")
        return "\n".join(lines)


@dataclass(slots=True)
class _Open:
    client: int
    kind: str
    args: tuple[object, ...]
    invoke: int


@dataclass(slots=True)
class HistoryBuilder:
    """Thread-safe recorder of invocations and responses on one logical clock.

    ``invoke`` returns a token; ``respond`` / ``fail`` / ``maybe`` close it.
    ``history()`` closes every still-open operation as :class:`Maybe`
    ("never completed") and returns the :class:`History`.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clock: int = 0
    _next_id: int = 0
    _open: dict[int, _Open] = field(default_factory=dict)
    _done: list[Operation] = field(default_factory=list)

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def stamp(self) -> int:
        """A time on this history's clock, for events outside it (control drivers)."""
        with self._lock:
            return self._tick()

    def invoke(self, client: int, kind: str, args: Sequence[object]) -> int:
        with self._lock:
            token = self._next_id
            self._next_id += 1
            self._open[token] = _Open(client, kind, tuple(args), self._tick())
            return token

    def respond(self, token: int, outcome: Outcome) -> None:
        with self._lock:
            entry = self._open.pop(token)
            respond = None if isinstance(outcome, Maybe) else self._tick()
            self._done.append(
                Operation(
                    token, entry.client, entry.kind, entry.args, entry.invoke, respond, outcome
                )
            )

    def returned(self, token: int, value: object) -> None:
        self.respond(token, Returned(value))

    def raised(self, token: int, error: BaseException) -> None:
        self.respond(token, classify_error(error))

    def history(self) -> History:
        with self._lock:
            for token in sorted(self._open):
                entry = self._open.pop(token)
                self._done.append(
                    Operation(
                        token,
                        entry.client,
                        entry.kind,
                        entry.args,
                        entry.invoke,
                        None,
                        Maybe("never completed"),
                    )
                )
            return History(tuple(self._done))


def history_of(operations: Iterable[Operation]) -> History:
    """A :class:`History` from hand-built operations (tests and tools)."""
    return History(tuple(operations))


__all__ = [
    "NO_EFFECT_ERRORS",
    "Failed",
    "History",
    "HistoryBuilder",
    "Maybe",
    "Operation",
    "Outcome",
    "Raised",
    "Returned",
    "classify_error",
    "describe_outcome",
    "describe_value",
    "error_kind",
    "history_of",
]
