"""Argument checks shared by every store, and the style of every user-facing error text.

Message style (issue 11 item 6; one style for the whole package)
----------------------------------------------------------------
Every exception a user can cause (a wrong argument, a bad record, a setup
error) reads::

    Owner.method: <field> <problem>; <what to pass instead>

* ``Owner`` is the public class the user called, as ``type(self).__name__``
  (so a subclass shows its own name), and ``method`` the method called: for
  example ``InMemoryDoneLedger.batch_upsert``, ``SqliteDoneLedger.__init__``,
  ``InMemoryDoneLedgerHandle.wait``. A module-level function shows just its
  name (``encode_u64: value ...``).
* Value types (identity types, records, receipts) are checked by their
  generated dataclass constructor, which has no method name worth showing:
  their errors read ``TypeName: field <problem>; <fix>`` (``TenantId: raw
  ...``, ``DoneLedgerRecord: bytes_scanned ...``). A method or classmethod of
  a value type is named like a store method (``DoneLedgerRecord.merge:``).
* The text carries no spec rule id: the rule is cited in the docstring of the
  function that raises (here TH-6), where a backend author looks for it.
  Diagnostics meant for a backend author (simulation invariant reports,
  linearizability verdicts, conformance failures) keep their rule ids.
* The text names sizes and type names, never the content of a value: an id
  may be secret (RED-1).
* Messages pinned by the spec keep their exact templates: the
  ``InMemoryPersistenceError`` messages of inmemory.md ERR-4 / ERR-7 (and the
  database errors of backends.md DBE-1), the ``TimeoutError`` of ST-23,
  ``FenceEpoch overflow`` (ID-5) and ``commit handle already consumed``.

Checks here (inmemory.md TH-6): type checks only (plus the batch-size limits
of DBL-1, DBL-7 and DBF-1, which the callers apply right after), run before
the core lock: a wrong argument raises ``TypeError`` and never reaches the
core, so it can neither poison it nor consume an op id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from gossip_model.identity import OvidHash, pass_hint
from gossip_model.persistence.done_ledger import DoneLedgerRecord


def check_arg(owner: str, method: str, name: str, value: object, expected: type) -> None:
    """TH-6: ``value`` must be an instance of ``expected``."""
    if not isinstance(value, expected):
        raise TypeError(
            f"{owner}.{method}: {name} must be {expected.__name__}, "
            f"got {type(value).__name__}; {pass_hint(expected, value)}"
        )


def check_flag(where: str, name: str, value: object) -> bool:
    """TH-6 / ST-2 / ST-4: ``value`` must be a ``bool`` (not merely truthy).

    ``where`` is the ``Owner.method`` prefix, e.g. ``"SqliteDoneLedger.__init__"``.
    """
    if not isinstance(value, bool):
        raise TypeError(
            f"{where}: {name} must be a bool, got {type(value).__name__}; pass True or False"
        )
    return value


def _materialise(
    owner: str, method: str, name: str, items: object, element: str
) -> tuple[object, ...]:
    """TH-6: ``tuple(items)``, with a message naming what was expected if it is no iterable."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(
            f"{owner}.{method}: {name} must be an iterable of {element}, "
            f"got {type(items).__name__}; pass a list or tuple of {element}"
        )
    return tuple(items)


def records_arg(owner: str, records: Iterable[DoneLedgerRecord]) -> tuple[DoneLedgerRecord, ...]:
    """TH-6: ``batch_upsert`` materialises an iterable of ``DoneLedgerRecord`` into a tuple."""
    if isinstance(records, DoneLedgerRecord):
        raise TypeError(
            f"{owner}.batch_upsert: records must be an iterable of DoneLedgerRecord, "
            "got a single DoneLedgerRecord; wrap it in a list: [record]"
        )
    payload = _materialise(owner, "batch_upsert", "records", records, "DoneLedgerRecord")
    for index, record in enumerate(payload):
        if not isinstance(record, DoneLedgerRecord):
            raise TypeError(
                f"{owner}.batch_upsert: records[{index}] must be DoneLedgerRecord, "
                f"got {type(record).__name__}; pass only DoneLedgerRecord items"
            )
    return cast(tuple[DoneLedgerRecord, ...], payload)


def ovids_arg(owner: str, ovid_hashes: Iterable[OvidHash]) -> tuple[OvidHash, ...]:
    """TH-6: ``batch_get`` materialises its ovid hashes and checks their type."""
    if isinstance(ovid_hashes, OvidHash):
        raise TypeError(
            f"{owner}.batch_get: ovid_hashes must be an iterable of OvidHash, "
            "got a single OvidHash; wrap it in a list: [ovid_hash]"
        )
    ovids = _materialise(owner, "batch_get", "ovid_hashes", ovid_hashes, "OvidHash")
    for index, ovid in enumerate(ovids):
        if not isinstance(ovid, OvidHash):
            raise TypeError(
                f"{owner}.batch_get: ovid_hashes[{index}] must be OvidHash, "
                f"got {type(ovid).__name__}; {pass_hint(OvidHash, ovid)}"
            )
    return cast(tuple[OvidHash, ...], ovids)


__all__ = ["check_arg", "check_flag", "ovids_arg", "records_arg"]
