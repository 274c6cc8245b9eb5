"""``check(history, model) -> LinearizabilityResult`` (API.md, issue 14 item 2).

Steps: the model splits the history into local checks and independent
partitions (P-compositionality); each partition runs the Wing-Gong-Lowe
search (:mod:`gossip_model.linearizability.wgl`); the first failing partition
(in the model's order) is explained.

The explanation is minimal in two senses (choices documented here):

* the counter-history is 1-minimal: starting from the failing partition
  (first cut to the operations invoked before the blocked operation
  responded), each operation is dropped in turn, reads before writes, and
  stays dropped when the rest is still not linearizable. Every remaining
  operation is needed for the violation. Minimisation is skipped above
  ``MINIMISE_LIMIT`` operations (the stuck point is still reported);
* it names the last state both sides agree on (the model state after the
  longest legal order found in the counter-history), the operation whose
  response came before any legal order could include it, and for each open
  operation the model's reason why it cannot come next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gossip_model.linearizability.history import History, Operation
from gossip_model.linearizability.spec import (
    Illegal,
    LocalViolation,
    Partition,
    SequentialModel,
)
from gossip_model.linearizability.wgl import Stuck, search

#: Partitions larger than this are reported without minimisation.
MINIMISE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Violation:
    """Where linearizability fails: the partition and a minimal counter-history."""

    partition: str
    counter_history: History
    stuck: Stuck | None
    local_reason: str | None = None


@dataclass(frozen=True, slots=True)
class LinearizabilityResult:
    """``ok`` is the verdict; ``explanation`` is empty when ``ok``, else human-readable."""

    ok: bool
    explanation: str
    model: str
    operations: int
    partitions: int
    explored: int
    violation: Violation | None = None

    def __bool__(self) -> bool:
        return self.ok


def _fails(partition: Partition, ops: Sequence[Operation]) -> bool:
    return not search(ops, partition.initial, partition.step, explain=False).ok


def _is_write(op: Operation) -> bool:
    return op.kind in ("batch_upsert", "upsert_batch")


def minimise(partition: Partition, stuck: Stuck | None) -> tuple[Operation, ...]:
    """A 1-minimal non-linearizable sub-history of ``partition`` (see module docstring)."""
    ops = list(partition.operations)
    if stuck is not None and stuck.blocked.respond is not None:
        cut = stuck.blocked.respond
        prefix = [op for op in ops if op.invoke < cut]
        if _fails(partition, prefix):
            ops = prefix
    if len(ops) > MINIMISE_LIMIT:
        return tuple(ops)
    order = sorted(ops, key=lambda op: (_is_write(op), -op.invoke))
    kept = list(ops)
    for op in order:
        trial = [o for o in kept if o is not op]
        if _fails(partition, trial):
            kept = trial
    return tuple(kept)


def _explain_stuck(partition: Partition, stuck: Stuck) -> list[str]:
    order = ", ".join(f"#{op.op_id}" for op in stuck.linearized)
    lines = [
        f"  last state both sides agree on: {partition.describe_state(stuck.state)}",
        f"  after the legal order: {order or '(none)'}",
        f"  #{stuck.blocked.op_id} responded before it could be linearized; open operations:",
    ]
    for op in stuck.candidates:
        after = partition.step(stuck.state, op)
        if isinstance(after, Illegal):
            why = after.reason
        else:
            why = "legal here, but every order continuing with it fails later"
        lines.append(f"    #{op.op_id}: {why}")
    return lines


def explain(model_name: str, violation: Violation, partition: Partition | None) -> str:
    """The text of ``LinearizabilityResult.explanation``."""
    lines = [f"{model_name}: history is not linearizable (partition {violation.partition})"]
    if violation.local_reason is not None:
        lines.append(f"  wrong in every order: {violation.local_reason}")
    lines.append(
        "  minimal counter-history (dropping any one operation makes it linearizable; "
        "a read may show values of writes left out):"
    )
    lines.extend(f"    {op.describe()}" for op in violation.counter_history)
    if violation.stuck is not None and partition is not None:
        lines.extend(_explain_stuck(partition, violation.stuck))
    return "\n".join(lines)


def _local_result(
    model: SequentialModel, history: History, local: LocalViolation, count: int
) -> LinearizabilityResult:
    violation = Violation("local", History((local.operation,)), None, local.reason)
    return LinearizabilityResult(
        False, explain(model.name, violation, None), model.name, len(history), count, 0, violation
    )


def check(
    history: History,
    model: SequentialModel,
    *,
    partitioned: bool = True,
    minimal: bool = True,
) -> LinearizabilityResult:
    """Check ``history`` against the sequential specification ``model``.

    ``partitioned=False`` searches the whole history as one partition (exact
    for operations spanning partitions, slower). ``minimal=False`` skips the
    counter-history minimisation.
    """
    split = model.partition(history, partitioned=partitioned)
    count = len(split.partitions)
    if split.local:
        return _local_result(model, history, split.local[0], count)
    explored = 0
    for partition in split.partitions:
        result = search(partition.operations, partition.initial, partition.step, explain=False)
        explored += result.explored
        if result.ok:
            continue
        first = search(partition.operations, partition.initial, partition.step).stuck
        ops = minimise(partition, first) if minimal else partition.operations
        narrowed = Partition(
            partition.label, ops, partition.initial, partition.step, partition.describe_state
        )
        stuck = search(ops, partition.initial, partition.step).stuck
        violation = Violation(partition.label, History(ops), stuck)
        return LinearizabilityResult(
            False,
            explain(model.name, violation, narrowed),
            model.name,
            len(history),
            count,
            explored,
            violation,
        )
    return LinearizabilityResult(True, "", model.name, len(history), count, explored)


__all__ = ["MINIMISE_LIMIT", "LinearizabilityResult", "Violation", "check", "explain", "minimise"]
