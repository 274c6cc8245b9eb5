"""Pure done-ledger model: durable map plus apply, as plain data and functions.

This is the oracle of :class:`rules.done_ledger.DoneLedgerMachine` (DLM-1,
ORA-1..ORA-7 of ``sim.md``), kept inside ``rules/`` so the machine does not
depend on the simulation package. ``apply_done_batch`` is LED-4 / DL-2..DL-7
after the commit-fault check (which :mod:`rules._store_model` handles):
validate every record (``validate()`` then ``started_at <= finished_at``,
first failure wins, wrapped in ``BatchValidation``), fold the batch by key
with ``merge`` left to right (DL-4), merge each folded record into durable
state (DL-5) and compute the receipt from the **folded batch** (DL-7, I9).

Like ORA-3, it deliberately reuses the production ``DoneLedgerRecord.merge``:
the machine checks that the store commits and aborts the right batches in the
right order and answers reads correctly, not the merge algorithm itself
(``contracts.md`` tests merge on its own). Open point 5 (merge tie-breaks):
the machine applies to this model in exactly the store's apply order
(ORA-6), so even an order-sensitive merge gives the same result on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory.errors import BatchValidation
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
)
from gossip_model.persistence.errors import PersistenceInputError, ProvenanceOrdering

DurableMap = Mapping[DoneLedgerKey, DoneLedgerRecord]


def key_order(key: DoneLedgerKey) -> tuple[bytes, bytes, bytes]:
    """DL-12 snapshot order: tenant bytes, then policy bytes, then ovid bytes."""
    return (bytes(key.tenant_id), bytes(key.policy_hash), bytes(key.ovid_hash))


def snapshot_of(durable: DurableMap) -> list[DoneLedgerRecord]:
    """What ``snapshot()`` must return for this durable map (DL-12)."""
    return [durable[k] for k in sorted(durable, key=key_order)]


def validation_error(records: Iterable[DoneLedgerRecord]) -> BatchValidation | None:
    """DL-3: the first record failing ``validate()`` or the provenance order check."""
    for record in records:
        try:
            record.validate()
        except PersistenceInputError as err:
            return BatchValidation(err)
        started = int(record.provenance.started_at)
        finished = int(record.provenance.finished_at)
        if started > finished:
            return BatchValidation(ProvenanceOrdering(started, finished))
    return None


def fold_batch(records: Iterable[DoneLedgerRecord]) -> dict[DoneLedgerKey, DoneLedgerRecord]:
    """DL-4: in-batch dedup by key, folding ``merge`` left to right."""
    folded: dict[DoneLedgerKey, DoneLedgerRecord] = {}
    for record in records:
        prior = folded.get(record.key)
        folded[record.key] = record if prior is None else prior.merge(record)
    return folded


def receipt_of(folded: Mapping[DoneLedgerKey, DoneLedgerRecord]) -> DoneLedgerCommitReceipt:
    """DL-7 / I9: counts over the folded incoming batch, never the durable rows."""
    return DoneLedgerCommitReceipt(
        len(folded),
        sum(1 for r in folded.values() if r.status.is_scanned()),
        sum(r.findings_count for r in folded.values()),
    )


def apply_done_batch(
    durable: DurableMap, records: Sequence[DoneLedgerRecord]
) -> tuple[dict[DoneLedgerKey, DoneLedgerRecord], DoneLedgerCommitReceipt | BatchValidation]:
    """LED-4 after the fault check: the new durable map and the predicted result.

    On a validation error the durable map is returned unchanged (DL-6).
    """
    error = validation_error(records)
    if error is not None:
        return dict(durable), error
    folded = fold_batch(records)
    after = dict(durable)
    for key, record in folded.items():
        prior = after.get(key)
        after[key] = record if prior is None else prior.merge(record)
    return after, receipt_of(folded)


def done_hashes(durable: DurableMap, tenant: TenantId, policy: PolicyHash) -> set[OvidHash]:
    """DL-13: ovid hashes of durable rows under (tenant, policy) with a terminal status."""
    return {
        key.ovid_hash
        for key, record in durable.items()
        if key.tenant_id == tenant and key.policy_hash == policy and record.status.is_terminal()
    }


__all__ = [
    "DurableMap",
    "apply_done_batch",
    "done_hashes",
    "fold_batch",
    "key_order",
    "receipt_of",
    "snapshot_of",
    "validation_error",
]
