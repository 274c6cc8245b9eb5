"""Hand-built operations for checker tests: ``op(...)`` with explicit logical times."""

from __future__ import annotations

import itertools
from typing import Any

from gossip_model.linearizability import Failed, History, Maybe, Operation, Raised, Returned
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord, fold_records

_IDS = itertools.count()


def op(
    client: int,
    kind: str,
    args: tuple[Any, ...],
    invoke: int,
    respond: int | None,
    outcome: object,
) -> Operation:
    """An operation; a bare value as ``outcome`` means ``Returned(value)``."""
    if not isinstance(outcome, Returned | Raised | Failed | Maybe):
        outcome = Returned(outcome)
    return Operation(next(_IDS), client, kind, args, invoke, respond, outcome)


def receipt(*records: DoneLedgerRecord) -> DoneLedgerCommitReceipt:
    return DoneLedgerCommitReceipt.for_folded(fold_records(records).values())


def write(client: int, invoke: int, respond: int | None, *records: DoneLedgerRecord) -> Operation:
    """A successful ``batch_upsert`` (``respond=None``: a maybe write)."""
    outcome: object = Maybe("timeout") if respond is None else receipt(*records)
    return op(client, "batch_upsert", (tuple(records),), invoke, respond, outcome)


def hist(*ops: Operation) -> History:
    return History(ops)
