"""``PlainDoneLedgerMachine``: the done-ledger machine for a store without controls.

A plain ``DoneLedger`` (issue 10 item 2) offers only the protocol's
``batch_upsert`` / ``wait``, ``batch_get``, ``list_done_hashes`` and
``count_done_hashes``: no ``snapshot()``, no delays, releases or fault
injection. This machine keeps the done-ledger rules that need nothing else,
on the same pure model (:mod:`rules._done_ledger_model`) and the same DLM-2
pools (:mod:`rules.strategies`) as :class:`rules.done_ledger.DoneLedgerMachine`:

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
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.persistence import DoneLedgerKey, DoneLedgerRecord

from ._checks import agree, guarded
from ._control import BATCHES
from ._done_ledger_model import apply_done_batch, done_hashes
from .strategies import (
    DLM_OVIDS,
    DLM_POLICIES,
    DLM_TENANTS,
    FLAWS,
    KEYS,
    Batch,
    DlFields,
    DlRecordSpec,
    dl_fields,
    dl_policies,
    dl_slot_lists,
    dl_slots,
    dl_tenants,
    flawed,
    keyed_fields,
    make_dl_record,
    pool_key,
    record_specs,
    spec_record,
)

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

    def _write(self, batch: Batch) -> None:
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
            event("UpsertCommitFailed")
            self._compare_pool("durable state after the refused batch (DL-6)")
            return
        agree("batch_upsert(...).wait() receipt", predicted, answered)
        self.durable = durable
        event("UpsertCommitted")

    def _compare_pool(self, what: str) -> None:
        """Every DLM-2 pool key through ``batch_get``, against the model (I3, I5, I7)."""
        for tenant in DLM_TENANTS:
            for policy in DLM_POLICIES:
                predicted = [self.durable.get(DoneLedgerKey(tenant, policy, o)) for o in DLM_OVIDS]
                answered = self.ledger.batch_get(tenant, policy, DLM_OVIDS)
                agree(f"{what}: batch_get of the pool keys", predicted, answered)

    # -- builders and writes

    @rule(target=KEYS, tenant=dl_tenants, policy=dl_policies, slot=dl_slots)
    @guarded
    def new_key(self, tenant: int, policy: int, slot: int) -> DoneLedgerKey:
        """A key at these DLM-2 pool positions."""
        return pool_key(tenant, policy, slot)

    @rule(target=BATCHES, records=st.lists(keyed_fields(KEYS), max_size=10))
    @guarded
    def build_batch(self, records: list[tuple[DoneLedgerKey, DlFields]]) -> Batch:
        """Conflicting, out-of-order records on the keys built so far (DLM-5)."""
        return tuple(make_dl_record(key, fields) for key, fields in records)

    @rule(target=BATCHES, key=KEYS, records=st.lists(dl_fields, min_size=2, max_size=4))
    @guarded
    def build_same_key_batch(self, key: DoneLedgerKey, records: list[DlFields]) -> Batch:
        """In-batch duplicates of one key, folded by LED-4 / DL-4."""
        return tuple(make_dl_record(key, fields) for fields in records)

    @rule(target=BATCHES, records=st.lists(record_specs, min_size=1, max_size=10))
    @guarded
    def upsert(self, records: list[DlRecordSpec]) -> Batch:
        """Build and write in one step (HYP-16); kept so ``replay`` can write it again."""
        batch = tuple(spec_record(spec) for spec in records)
        self._write(batch)
        return batch

    @rule(batch=BATCHES)
    @guarded
    def replay(self, batch: Batch) -> None:
        """A built batch written, possibly once more: I10 idempotence, DL-4 merges."""
        self._write(batch)

    @rule(
        records=st.lists(record_specs, min_size=1, max_size=4),
        position=st.integers(0, 4),
        flaw=st.sampled_from(FLAWS),
    )
    @guarded
    def upsert_with_invalid(self, records: list[DlRecordSpec], position: int, flaw: str) -> None:
        """DL-3 / DL-6: one invalid record anywhere refuses the whole batch, no change."""
        valid = [spec_record(spec) for spec in records]
        at = position % (len(valid) + 1)
        bad = flawed(valid[position % len(valid)], flaw)
        self._write((*valid[:at], bad, *valid[at:]))

    # -- reads

    @rule(tenant=dl_tenants, policy=dl_policies, slots=dl_slot_lists)
    @guarded
    def read_batch_get(self, tenant: int, policy: int, slots: list[int]) -> None:
        """DL-10: aligned with the input, duplicates repeated, absent keys None."""
        tenant_id, policy_hash = DLM_TENANTS[tenant], DLM_POLICIES[policy]
        ovids = [DLM_OVIDS[s] for s in slots]
        predicted = [self.durable.get(DoneLedgerKey(tenant_id, policy_hash, o)) for o in ovids]
        agree(f"batch_get(slots={slots})", predicted,
              self.ledger.batch_get(tenant_id, policy_hash, ovids))  # fmt: skip

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
