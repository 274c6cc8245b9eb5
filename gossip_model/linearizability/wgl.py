"""Wing-Gong search with Lowe's memoization, on one partition.

Wing and Gong (1993) search for a linearization: walk the invocation/response
events in time order; try to linearize a pending call now (the model must
accept it in the current state); when a response is reached whose call has not
been linearized, backtrack. Lowe (2017) adds a cache of ``(linearized set,
model state)`` pairs already explored, which turns the exponential search
into one that is near-linear on histories with bounded concurrency. This is
the algorithm Porcupine uses.

Representation (choices): events live in a doubly linked list over arrays
(index 0 is the head, ``2n + 1`` the tail); the linearized set is a Python int
used as a bitset over operations in invocation order. The cache key stores it
shifted right past its lowest unset bit, ``(low, bits >> low, state)``: in
practice almost every linearized operation lies below ``low``, so keys stay
small and memory grows with the concurrency, not the history length.

"Maybe" operations (no response) have their response after every other
event: reaching one means every completed operation is linearized, so the
history is accepted (a maybe operation is free to have never happened).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gossip_model.linearizability.history import Operation
from gossip_model.linearizability.spec import Illegal


@dataclass(frozen=True, slots=True)
class Stuck:
    """The deepest point of a failed search (for the explanation).

    ``linearized``: the longest legal order found; ``state``: the model state
    after it; ``blocked``: the operation whose response arrived before it could
    be linearized; ``candidates``: the calls that were open at that point.
    """

    linearized: tuple[Operation, ...]
    state: Any
    blocked: Operation
    candidates: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class SearchResult:
    ok: bool
    explored: int
    stuck: Stuck | None = None


def search(
    operations: Sequence[Operation],
    initial: Any,
    step: Callable[[Any, Operation], Any],
    *,
    explain: bool = True,
) -> SearchResult:
    """Is ``operations`` linearizable from ``initial`` under ``step``?"""
    ops = sorted(operations, key=lambda op: op.invoke)
    n = len(ops)
    if n == 0:
        return SearchResult(True, 0)
    horizon = max((op.respond or op.invoke) for op in ops) + 1
    # A maybe operation may take effect at any time after its invocation, or never.
    maybe = [op.is_maybe for op in ops]
    events: list[tuple[int, int, int]] = []  # (time, 0 call / 1 return, op index)
    for i, op in enumerate(ops):
        events.append((op.invoke, 0, i))
        respond = horizon if maybe[i] or op.respond is None else op.respond
        events.append((respond, 1, i))
    events.sort()
    tail = 2 * n + 1
    nxt = [0] * (tail + 1)
    prv = [0] * (tail + 1)
    entry_op = [0] * (tail + 1)
    is_call = [False] * (tail + 1)
    match = [0] * (tail + 1)
    call_of = [0] * n
    for pos, (_, ret, i) in enumerate(events, start=1):
        entry_op[pos] = i
        is_call[pos] = ret == 0
        if ret == 0:
            call_of[i] = pos
        else:
            match[call_of[i]] = pos
        prv[pos] = pos - 1
        nxt[pos - 1] = pos
    nxt[tail - 1] = tail
    prv[tail] = tail - 1

    def lift(call: int) -> None:
        ret = match[call]
        nxt[prv[call]] = nxt[call]
        prv[nxt[call]] = prv[call]
        nxt[prv[ret]] = nxt[ret]
        prv[nxt[ret]] = prv[ret]

    def unlift(call: int) -> None:
        ret = match[call]
        nxt[prv[ret]] = ret
        prv[nxt[ret]] = ret
        nxt[prv[call]] = call
        prv[nxt[call]] = call

    cache: set[tuple[int, int, Any]] = set()
    stack: list[tuple[int, Any]] = []
    state = initial
    bits = 0
    explored = 0
    best_depth = -1
    stuck: Stuck | None = None
    entry = nxt[0]
    while entry != tail:
        if is_call[entry]:
            i = entry_op[entry]
            after = step(state, ops[i])
            explored += 1
            if not isinstance(after, Illegal):
                new_bits = bits | (1 << i)
                low = (~new_bits & (new_bits + 1)).bit_length() - 1
                key = (low, new_bits >> low, after)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state = after
                    bits = new_bits
                    lift(entry)
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
            continue
        if maybe[entry_op[entry]]:
            return SearchResult(True, explored)
        if explain and len(stack) > best_depth:
            best_depth = len(stack)
            candidates = []
            walk = nxt[0]
            while walk != entry:
                if is_call[walk]:
                    candidates.append(ops[entry_op[walk]])
                walk = nxt[walk]
            stuck = Stuck(
                tuple(ops[entry_op[e]] for e, _ in stack),
                state,
                ops[entry_op[entry]],
                tuple(candidates),
            )
        if not stack:
            return SearchResult(False, explored, stuck)
        entry, state = stack.pop()
        bits &= ~(1 << entry_op[entry])
        unlift(entry)
        entry = nxt[entry]
    return SearchResult(True, explored)


__all__ = ["SearchResult", "Stuck", "search"]
