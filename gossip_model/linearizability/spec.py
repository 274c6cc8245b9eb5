"""The shape of a sequential specification as the checker consumes it.

A model (:class:`SequentialModel`) turns a :class:`History` into a
:class:`Partitioning`: the operations that can be judged on their own
(``local``: a receipt that does not depend on state, a listing with a
duplicate) and the :class:`Partition` s, each an independent sub-history with
its own initial state and step function (P-compositionality, Horn and Kroening
2015: a history is linearizable iff every partition is, when operations of
different partitions commute and never observe each other).

``step(state, op)`` returns the state after ``op`` or an :class:`Illegal`
naming why ``op`` cannot come next in that state. States must be hashable
(the checker memoizes ``(linearized set, state)``, Lowe 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from gossip_model.linearizability.history import History, Operation


@dataclass(frozen=True, slots=True)
class Illegal:
    """Why an operation cannot be linearized next (one sentence, no secrets)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Partition:
    """An independent sub-history: ``label`` names it (a key, a tenant, ``all``)."""

    label: str
    operations: tuple[Operation, ...]
    initial: Any
    step: Callable[[Any, Operation], Any]
    describe_state: Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class LocalViolation:
    """An operation wrong in every order (its answer does not depend on state)."""

    operation: Operation
    reason: str


@dataclass(frozen=True, slots=True)
class Partitioning:
    partitions: tuple[Partition, ...]
    local: tuple[LocalViolation, ...] = field(default=())


class SequentialModel(Protocol):
    """A sequential specification of one store interface (done ledger, findings sink)."""

    name: str

    def partition(self, history: History, *, partitioned: bool = True) -> Partitioning:
        """Split ``history``; ``partitioned=False`` gives one exact partition (``all``)."""
        ...


__all__ = ["Illegal", "LocalViolation", "Partition", "Partitioning", "SequentialModel"]
