"""Sequential specification of the done ledger for the checker (contracts.md DL-*).

State: a :class:`FrozenMap` ``DoneLedgerKey -> DoneLedgerRecord`` (absent =
never written). Built only on the pure functions of
:mod:`gossip_model.persistence`: ``DoneLedgerRecord.validate`` / ``merge``
(DL-32, DL-34), ``fold_records`` (DL-43) and
``DoneLedgerCommitReceipt.for_folded`` (DL-50).

Operations (``Operation.kind`` and ``args``, as the recorder logs them):

* ``batch_upsert(records)``: a valid batch merges its fold into state (DL-43,
  ``durable.merge(folded)``); its receipt depends only on the batch (DL-50),
  so it is checked locally, as is the validation error of an invalid batch
  (``BatchValidation(<source>)``, DL-3 of inmemory.md), which has no effect;
* ``batch_get(tenant, policy, ovids)`` and ``get_record(key)``: point reads (DL-40);
* ``list_done_hashes(tenant, policy)``: terminal ovids of the scope, each once (DL-41);
* ``count_done_hashes(tenant, policy)``: its size, or ``None`` (DL-42: no constraint);
* ``snapshot()``: every row, sorted by key bytes (inmemory.md DL-12).

Partitioning (P-compositionality), a choice documented here: keys are joined
(union-find) when one operation writes or point-reads several of them
atomically (a multi-key batch, a multi-key ``batch_get``) or counts a scope;
each group of keys is a partition. ``list_done_hashes`` and ``snapshot`` span
partitions: each partition checks the slice of the answer that falls in its
keys. That checks every key's answer, but not that one listing saw a single
consistent cut across partitions; ``partitioned=False`` checks that too,
exactly, at a higher cost (see ``benchmarks/bench_linearizability.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.linearizability.frozen_map import FrozenMap
from gossip_model.linearizability.history import (
    Failed,
    History,
    Maybe,
    Operation,
    Raised,
    Returned,
    describe_value,
)
from gossip_model.linearizability.spec import (
    Illegal,
    LocalViolation,
    Partition,
    Partitioning,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    fold_records,
)
from gossip_model.persistence.errors import PersistenceInputError, ProvenanceOrdering

LedgerState = FrozenMap[DoneLedgerKey, DoneLedgerRecord]
EMPTY: LedgerState = FrozenMap()

UPSERT = "batch_upsert"
BATCH_GET = "batch_get"
GET_RECORD = "get_record"
LIST = "list_done_hashes"
COUNT = "count_done_hashes"
SNAPSHOT = "snapshot"
KINDS = (UPSERT, BATCH_GET, GET_RECORD, LIST, COUNT, SNAPSHOT)


def key_order(key: DoneLedgerKey) -> tuple[bytes, bytes, bytes]:
    """DL-12: tenant bytes, then policy bytes, then ovid bytes."""
    return (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)


def validation_error(records: Iterable[DoneLedgerRecord]) -> str | None:
    """DL-3 (inmemory.md): the error kind of the first invalid record, else ``None``."""
    for record in records:
        error: PersistenceInputError | None = record.strict_error()
        if error is None and not record.provenance.is_ordered():
            error = ProvenanceOrdering(
                record.provenance.started_at.value, record.provenance.finished_at.value
            )
        if error is not None:
            return f"BatchValidation({type(error).__name__})"
    return None


@dataclass(frozen=True, slots=True)
class _Write:
    """A classified upsert: the fold to merge (empty for a rejected batch)."""

    folded: dict[DoneLedgerKey, DoneLedgerRecord]


def _classify_upsert(op: Operation) -> _Write | LocalViolation | None:
    """Local checks of an upsert (DL-3, DL-50); ``None``: no effect, nothing to order."""
    records: Sequence[DoneLedgerRecord] = op.args[0]
    predicted = validation_error(records)
    outcome = op.outcome
    if predicted is not None:
        if isinstance(outcome, Returned):
            return LocalViolation(op, f"returned a receipt, but the batch is invalid: {predicted}")
        if isinstance(outcome, Raised) and outcome.kind != predicted:
            return LocalViolation(op, f"raised {outcome.kind}, the model predicts {predicted}")
        return None
    if isinstance(outcome, Raised):
        return LocalViolation(op, f"raised {outcome.kind}, but the batch is valid (DL-43)")
    folded = fold_records(records)
    if isinstance(outcome, Returned):
        expected = DoneLedgerCommitReceipt.for_folded(folded.values())
        if outcome.value != expected:
            return LocalViolation(
                op,
                f"receipt {describe_value(outcome.value)}, the folded batch gives "
                f"{describe_value(expected)} (DL-50)",
            )
    return _Write(folded)


def _scope_keys(
    tenant: TenantId, policy: PolicyHash, ovids: Iterable[OvidHash]
) -> set[DoneLedgerKey]:
    return {DoneLedgerKey(tenant, policy, ovid) for ovid in ovids}


def _local_read_check(op: Operation) -> LocalViolation | None:
    """Shape checks that hold in every state: one answer per input, no duplicates, order."""
    assert isinstance(op.outcome, Returned)
    value = op.value
    if op.kind == BATCH_GET:
        ovids: Sequence[OvidHash] = op.args[2]
        if not isinstance(value, list | tuple) or len(value) != len(ovids):
            return LocalViolation(op, "batch_get must answer once per input hash (DL-40)")
    elif op.kind == LIST:
        if not isinstance(value, list | tuple) or len(set(value)) != len(value):
            return LocalViolation(op, "list_done_hashes repeated a hash (DL-41)")
    elif op.kind == SNAPSHOT:
        if not isinstance(value, list | tuple):
            return LocalViolation(op, "snapshot must return a list (DL-12)")
        keys = [key_order(r.key) for r in value]
        if keys != sorted(set(keys)):
            return LocalViolation(
                op, "snapshot rows are not sorted by key bytes, once each (DL-12)"
            )
    return None


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[DoneLedgerKey, DoneLedgerKey] = {}

    def find(self, key: DoneLedgerKey) -> DoneLedgerKey:
        parent = self.parent.setdefault(key, key)
        if parent != key:
            root = self.find(parent)
            self.parent[key] = root
            return root
        return key

    def union(self, keys: Iterable[DoneLedgerKey]) -> None:
        roots = [self.find(k) for k in keys]
        for other in roots[1:]:
            self.parent[self.find(other)] = self.find(roots[0])


def make_step(
    keys: frozenset[DoneLedgerKey] | None, writes: dict[int, _Write]
) -> Callable[[LedgerState, Operation], LedgerState | Illegal]:
    """The step function of a partition holding ``keys`` (``None``: every key)."""

    def inside(key: DoneLedgerKey) -> bool:
        return keys is None or key in keys

    def step(state: LedgerState, op: Operation) -> LedgerState | Illegal:
        kind = op.kind
        if kind == UPSERT:
            changes: dict[DoneLedgerKey, DoneLedgerRecord] = {}
            for key, record in writes[op.op_id].folded.items():
                if inside(key):
                    prior = state.get(key)
                    merged = record if prior is None else prior.merge(record)
                    if merged != prior:
                        changes[key] = merged
            # An unchanged state is returned as is: replays are common and cheap.
            return state.updated(changes) if changes else state
        assert isinstance(op.outcome, Returned)
        value = op.value
        if kind == GET_RECORD:
            wanted: DoneLedgerKey = op.args[0]
            expected = state.get(wanted)
            if value != expected:
                return Illegal(
                    f"get_record({describe_value(wanted)}) returned {describe_value(value)}, "
                    f"state holds {describe_value(expected)}"
                )
            return state
        if kind == BATCH_GET:
            tenant, policy, ovids = op.args
            for ovid, got in zip(ovids, value, strict=True):
                key = DoneLedgerKey(tenant, policy, ovid)
                if inside(key) and got != state.get(key):
                    return Illegal(
                        f"batch_get answered {describe_value(got)} for {describe_value(key)}, "
                        f"state holds {describe_value(state.get(key))}"
                    )
            return state
        if kind in (LIST, COUNT):
            tenant, policy = op.args
            terminal = {
                k.ovid_hash
                for k, r in state.items()
                if k.tenant_id == tenant and k.policy_hash == policy and r.status.is_terminal()
            }
            if kind == COUNT:
                if value != len(terminal):
                    return Illegal(
                        f"count_done_hashes returned {value}, state has {len(terminal)}"
                    )
                return state
            seen = {o for o in value if inside(DoneLedgerKey(tenant, policy, o))}
            if seen != terminal:
                extra = sorted(repr(o) for o in seen - terminal)
                missing = sorted(repr(o) for o in terminal - seen)
                return Illegal(
                    f"list_done_hashes: listed but not terminal {extra}, "
                    f"terminal but not listed {missing}"
                )
            return state
        rows = {r.key: r for r in value if inside(r.key)}
        if rows != dict(state.items()):
            return Illegal(
                f"snapshot shows {describe_rows(rows)}, state holds {describe_rows(state)}"
            )
        return state

    return step


def describe_rows(
    rows: FrozenMap[DoneLedgerKey, DoneLedgerRecord] | dict[DoneLedgerKey, DoneLedgerRecord],
) -> str:
    """``{key: record}`` in key order, or ``{}`` (records redact nothing secret)."""
    if not rows:
        return "{} (no rows)"
    parts = [
        f"{describe_value(k)}: {describe_value(rows[k])}" for k in sorted(rows, key=key_order)
    ]
    return "{" + ", ".join(parts) + "}"


class DoneLedgerModel:
    """The done ledger's sequential specification (``check(history, DONE_LEDGER)``)."""

    name = "done ledger"

    def partition(self, history: History, *, partitioned: bool = True) -> Partitioning:
        local: list[LocalViolation] = []
        writes: dict[int, _Write] = {}
        ordered: list[Operation] = []  # operations that need an order
        for op in history:
            if op.kind not in KINDS:
                raise ValueError(f"done-ledger history: unknown operation kind {op.kind!r}")
            if isinstance(op.outcome, Failed):
                continue
            if op.kind == UPSERT:
                classified = _classify_upsert(op)
                if isinstance(classified, LocalViolation):
                    local.append(classified)
                elif classified is not None and classified.folded:
                    writes[op.op_id] = classified
                    ordered.append(op)
                continue
            if isinstance(op.outcome, Maybe | Raised):
                continue  # a read that did not answer constrains nothing
            if op.kind == COUNT and op.value is None:
                continue  # DL-42: counting may be declined
            violation = _local_read_check(op)
            if violation is not None:
                local.append(violation)
                continue
            ordered.append(op)
        if not partitioned:
            whole = Partition("all", tuple(ordered), EMPTY, make_step(None, writes), describe_rows)
            return Partitioning((whole,) if ordered else (), tuple(local))
        return Partitioning(self._split(ordered, writes), tuple(local))

    def _split(self, ordered: list[Operation], writes: dict[int, _Write]) -> tuple[Partition, ...]:
        groups = _UnionFind()
        scopes: dict[tuple[TenantId, PolicyHash], set[DoneLedgerKey]] = {}

        def note(keys: Iterable[DoneLedgerKey]) -> list[DoneLedgerKey]:
            listed = list(keys)
            for k in listed:
                groups.find(k)
                scopes.setdefault((k.tenant_id, k.policy_hash), set()).add(k)
            return listed

        counts: list[Operation] = []
        for op in ordered:
            kind = op.kind
            if kind == UPSERT:
                groups.union(note(writes[op.op_id].folded))
            elif kind == GET_RECORD:
                note([op.args[0]])
            elif kind == BATCH_GET:
                groups.union(note(_scope_keys(*op.args)))
            elif kind == LIST:
                note(_scope_keys(op.args[0], op.args[1], op.value))
            elif kind == SNAPSHOT:
                note(r.key for r in op.value)
            else:
                counts.append(op)
        for op in counts:
            groups.union(scopes.get((op.args[0], op.args[1]), set()))
        members: dict[DoneLedgerKey, set[DoneLedgerKey]] = {}
        for key in list(groups.parent):
            members.setdefault(groups.find(key), set()).add(key)
        ops_of: dict[DoneLedgerKey, list[Operation]] = {root: [] for root in members}
        for op in ordered:
            kind = op.kind
            if kind == UPSERT:
                roots = {groups.find(next(iter(writes[op.op_id].folded)))}
            elif kind == GET_RECORD:
                roots = {groups.find(op.args[0])}
            elif kind == BATCH_GET:
                ovids: Sequence[OvidHash] = op.args[2]
                if not ovids:
                    continue
                roots = {groups.find(DoneLedgerKey(op.args[0], op.args[1], ovids[0]))}
            elif kind == SNAPSHOT:
                roots = set(members)
            else:
                scope = scopes.get((op.args[0], op.args[1]), set())
                roots = {groups.find(k) for k in scope}
            for root in roots:
                ops_of[root].append(op)
        partitions = []
        for op in counts:
            if not scopes.get((op.args[0], op.args[1])):
                # A count over a scope nobody wrote must be 0: judged on an empty partition.
                empty = Partition(
                    f"empty scope of #{op.op_id}",
                    (op,),
                    EMPTY,
                    make_step(frozenset(), writes),
                    describe_rows,
                )
                partitions.append(empty)
        for root in sorted(members, key=key_order):
            keys = frozenset(members[root])
            label = describe_value(root)
            if len(keys) > 1:
                label += f" and {len(keys) - 1} more keys"
            partitions.append(
                Partition(
                    label, tuple(ops_of[root]), EMPTY, make_step(keys, writes), describe_rows
                )
            )
        return tuple(partitions)


DONE_LEDGER = DoneLedgerModel()

__all__ = ["DONE_LEDGER", "DoneLedgerModel", "LedgerState", "describe_rows", "validation_error"]
