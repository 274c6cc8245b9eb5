"""``PlainDoneLedgerMachine``: the done-ledger machine for a store without controls.

A plain ``DoneLedger`` (issue 10 item 2) offers only the protocol's
``batch_upsert`` / ``wait``, ``batch_get``, ``list_done_hashes`` and
``count_done_hashes``: no ``snapshot()``, no delays, releases or fault
injection. This machine keeps the done-ledger rules that need nothing else,
on the same pure model (:mod:`rules._done_ledger_model`), with the same
builder, write and read rules (reused from
:class:`rules.done_ledger.DoneLedgerContract`, which call ``_submit``; here a
write is waited at once):

=======================  ===================================  ============================
rule                     store operation                      spec
=======================  ===================================  ============================
``new_key``              (builder)                            DLM-2, DLM-5
``build_batch``          (builder; resubmittable)             DLM-5, I10
``build_same_key_batch`` (builder; in-batch duplicates)       LED-4, DL-4
``upsert``               ``batch_upsert`` + ``wait`` at once  LED-3, LED-4
``replay``               a built batch written (again)        I10, DL-4
``upsert_with_invalid``  one invalid record: no state change  DL-3, DL-6
``read_batch_get``       ``batch_get`` (positional)           DL-10, I7
``read_done_hashes``     ``list/count_done_hashes``           DL-13, DL-15
invariant                ``batch_get`` of every pool key      I3, I5, I7
=======================  ===================================  ============================

Left out, since the store has no way to drive them: delays and releases
(LED-5..LED-7), fault injection (LED-2, ST-8, ST-9), ``snapshot()`` (DL-12)
and ``get_record`` (DL-11). Choices: a write predicted to fail validation must
raise (at ``batch_upsert`` or at ``wait``; any exception type, since a plain
store has its own errors) and leave every pool key as it was; durable state
is compared through ``batch_get`` on the DLM-2 pool keys, which are all the
keys the machine ever writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.persistence import DoneLedgerKey, DoneLedgerRecord

from ._checks import agree, guarded
from ._control import BATCHES
from ._done_ledger_model import apply_done_batch, done_hashes
from .done_ledger import DoneLedgerContract
from .strategies import DLM_OVIDS, DLM_POLICIES, DLM_TENANTS, KEYS, Batch

WAIT_TIMEOUT = 5.0
"""Seconds a plain store's handle may take; it has no delays, so a wait should not block."""


class WaitableLike(Protocol):
    def wait(self, timeout: float | None = None) -> object: ...


class PlainDoneLedger(Protocol):
    """The protocol's own operations (API.md ``DoneLedger``), nothing else."""

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> WaitableLike: ...

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]: ...

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]: ...

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None: ...


class _Refused:
    """The store raised: the exception's type name only (its text may quote a record)."""

    def __init__(self, error: BaseException) -> None:
        self.kind = type(error).__name__

    def __repr__(self) -> str:
        return f"<refused: {self.kind}>"


class PlainDoneLedgerMachine(RuleBasedStateMachine):
    """The done-ledger contract through the protocol's operations; see the module docstring."""

    batches = BATCHES
    keys = KEYS

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.durable: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        self.ledger: PlainDoneLedger = self.make_ledger()

    def make_ledger(self) -> PlainDoneLedger:
        """HYP-2: the store under test; override in a subclass to test another backend."""
        return InMemoryDoneLedger()

    def _label(self, label: str) -> None:
        event(label)

    def _submit(self, batch: Batch) -> None:
        """Predict with the model, write, wait at once; compare receipt or refusal (LED-4)."""
        durable, predicted = apply_done_batch(self.durable, batch)
        try:
            answered: object = self.ledger.batch_upsert(batch).wait(timeout=WAIT_TIMEOUT)
        except Exception as err:  # a plain store's errors are its own (compared by kind)
            answered = _Refused(err)
        if isinstance(predicted, BaseException):
            if not isinstance(answered, _Refused):
                agree("batch_upsert of a batch that fails validation (DL-3, DL-6)",
                      "an exception", answered)  # fmt: skip
            self._label("UpsertCommitFailed")
            self._compare_pool("durable state after the refused batch (DL-6)")
            return
        agree("batch_upsert(...).wait() receipt", predicted, answered)
        self.durable = durable
        self._label("UpsertCommitted")

    def _compare_pool(self, what: str) -> None:
        """Every DLM-2 pool key through ``batch_get``, against the model (I3, I5, I7)."""
        for tenant in DLM_TENANTS:
            for policy in DLM_POLICIES:
                predicted = [self.durable.get(DoneLedgerKey(tenant, policy, o)) for o in DLM_OVIDS]
                answered = self.ledger.batch_get(tenant, policy, DLM_OVIDS)
                agree(f"{what}: batch_get of the pool keys", predicted, answered)

    # -- the full machine's builders, writes and reads, reused as they are: they
    # call only ``_submit``, ``_label``, ``durable`` and ``ledger``, defined above.

    new_key = DoneLedgerContract.new_key
    build_batch = DoneLedgerContract.build_batch
    build_same_key_batch = DoneLedgerContract.build_same_key_batch
    upsert = DoneLedgerContract.upsert
    upsert_with_invalid = DoneLedgerContract.upsert_with_invalid
    read_batch_get = DoneLedgerContract.read_batch_get

    @rule(batch=BATCHES)
    @guarded
    def replay(self, batch: Batch) -> None:
        """A built batch written, possibly once more: I10 idempotence, DL-4 merges."""
        self._submit(batch)

    # -- invariants

    @invariant()
    @guarded
    def durable_matches_model(self) -> None:
        """I3, I5, I7 through ``batch_get`` (the store has no ``snapshot()``)."""
        self._compare_pool("after this step")

    @invariant()
    @guarded
    def done_hashes_match_model(self) -> None:
        """DL-13 / DL-15 for every (tenant, policy): terminal hashes only, no duplicates;
        the count is None or exact (open point 10)."""
        for tenant in DLM_TENANTS:
            for policy in DLM_POLICIES:
                predicted = done_hashes(self.durable, tenant, policy)
                listed = self.ledger.list_done_hashes(tenant, policy)
                agree("list_done_hashes (as a set)", predicted, set(listed))
                agree("list_done_hashes has no duplicates", len(set(listed)), len(listed))
                count = self.ledger.count_done_hashes(tenant, policy)
                if count is not None:
                    agree("count_done_hashes", len(predicted), count)


__all__ = ["PlainDoneLedger", "PlainDoneLedgerMachine"]
