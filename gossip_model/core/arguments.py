"""Argument checks shared by every store, run before the core lock (inmemory.md TH-6).

Type checks only (plus the batch-size limits of DBL-1, DBL-7 and DBF-1, which
the callers apply right after): a wrong argument raises ``TypeError`` and never
reaches the core, so it can neither poison it nor consume an op id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from gossip_model.identity import OvidHash
from gossip_model.persistence.done_ledger import DoneLedgerRecord


def check_arg(owner: str, method: str, name: str, value: object, expected: type) -> None:
    """TH-6: ``value`` must be an instance of ``expected``."""
    if not isinstance(value, expected):
        raise TypeError(
            f"{owner}.{method}: {name} must be {expected.__name__}, "
            f"got {type(value).__name__} (TH-6)"
        )


def check_flag(owner: str, name: str, value: object) -> bool:
    """TH-6 / ST-2 / ST-4: ``value`` must be a ``bool`` (not merely truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {type(value).__name__} (TH-6)")
    return value


def _materialise(
    owner: str, method: str, name: str, items: object, element: str
) -> tuple[object, ...]:
    """TH-6: ``tuple(items)``, with a message naming what was expected if it is no iterable."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"{owner}.{method}: {name} must be an iterable of {element} "
            f"(a list or tuple), got {type(items).__name__} (TH-6)"
        )
    return tuple(items)


def records_arg(owner: str, records: Iterable[DoneLedgerRecord]) -> tuple[DoneLedgerRecord, ...]:
    """TH-6: ``batch_upsert`` materialises an iterable of ``DoneLedgerRecord`` into a tuple."""
    if isinstance(records, DoneLedgerRecord):
        raise TypeError(
            f"{owner}.batch_upsert: records must be an iterable of DoneLedgerRecord, "
            "got a single DoneLedgerRecord (wrap it in a list) (TH-6)"
        )
    payload = _materialise(owner, "batch_upsert", "records", records, "DoneLedgerRecord")
    for index, record in enumerate(payload):
        if not isinstance(record, DoneLedgerRecord):
            raise TypeError(
                f"{owner}.batch_upsert: records[{index}] must be DoneLedgerRecord, "
                f"got {type(record).__name__} (TH-6)"
            )
    return cast(tuple[DoneLedgerRecord, ...], payload)


def ovids_arg(owner: str, ovid_hashes: Iterable[OvidHash]) -> tuple[OvidHash, ...]:
    """TH-6: ``batch_get`` materialises its ovid hashes and checks their type."""
    if isinstance(ovid_hashes, OvidHash):
        raise TypeError(
            f"{owner}.batch_get: ovid_hashes must be an iterable of OvidHash, "
            "got a single OvidHash (wrap it in a list) (TH-6)"
        )
    ovids = _materialise(owner, "batch_get", "ovid_hashes", ovid_hashes, "OvidHash")
    for index, ovid in enumerate(ovids):
        if not isinstance(ovid, OvidHash):
            raise TypeError(
                f"{owner}.batch_get: ovid_hashes[{index}] must be OvidHash, "
                f"got {type(ovid).__name__} (TH-6)"
            )
    return cast(tuple[OvidHash, ...], ovids)


__all__ = ["check_arg", "check_flag", "ovids_arg", "records_arg"]
