"""Argument checks shared by every store, run before the core lock (inmemory.md TH-6).

Type checks only (plus the batch-size limits of DBL-1, DBL-7 and DBF-1, which
the callers apply right after): a wrong argument raises ``TypeError`` and never
reaches the core, so it can neither poison it nor consume an op id.
"""

from __future__ import annotations

from collections.abc import Iterable

from gossip_model.identity import OvidHash
from gossip_model.persistence.done_ledger import DoneLedgerRecord


def check_arg(owner: str, method: str, name: str, value: object, expected: type) -> None:
    """TH-6: ``value`` must be an instance of ``expected``."""
    if not isinstance(value, expected):
        raise TypeError(
            f"{owner}.{method}: {name} must be {expected.__name__}, "
            f"got {type(value).__name__} (TH-6)"
        )


def records_arg(owner: str, records: Iterable[DoneLedgerRecord]) -> tuple[DoneLedgerRecord, ...]:
    """TH-6: ``batch_upsert`` materialises an iterable of ``DoneLedgerRecord`` into a tuple."""
    if isinstance(records, DoneLedgerRecord):
        raise TypeError(
            f"{owner}.batch_upsert: records must be an iterable of DoneLedgerRecord, "
            "got a single DoneLedgerRecord (wrap it in a list) (TH-6)"
        )
    payload = tuple(records)
    for index, record in enumerate(payload):
        if not isinstance(record, DoneLedgerRecord):
            raise TypeError(
                f"{owner}.batch_upsert: records[{index}] must be DoneLedgerRecord, "
                f"got {type(record).__name__} (TH-6)"
            )
    return payload


def ovids_arg(owner: str, ovid_hashes: Iterable[OvidHash]) -> tuple[OvidHash, ...]:
    """TH-6: ``batch_get`` materialises its ovid hashes and checks their type."""
    ovids = tuple(ovid_hashes)
    for index, ovid in enumerate(ovids):
        if not isinstance(ovid, OvidHash):
            raise TypeError(
                f"{owner}.batch_get: ovid_hashes[{index}] must be OvidHash, "
                f"got {type(ovid).__name__} (TH-6)"
            )
    return ovids


__all__ = ["check_arg", "ovids_arg", "records_arg"]
