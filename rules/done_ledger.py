"""``DoneLedgerMachine``: a Hypothesis state machine for any done ledger (sim.md §11.2).

The control rules (submit, wait, releases, faults, auto-complete, the pending
invariant, teardown) come from :class:`rules._control.ControlMachine`; the
depth scenarios of HYP-16 from :class:`rules.depth.DoneLedgerDepth`. This
module holds the done-ledger contract:

=======================  ===================================  ============================
rule                     store operation                      spec
=======================  ===================================  ============================
``start``                the PT-7 fault prefix                DLM-4
``new_key``              (builder)                            DLM-2, DLM-5
``build_batch``          (builder; resubmittable)             DLM-5, I10
``build_same_key_batch`` (builder; in-batch duplicates)       LED-4, DL-4
``upsert``               ``batch_upsert``, built in one step  HYP-16, LED-3
``upsert_with_invalid``  ``batch_upsert``, one invalid record DL-3, DL-6 (atomic abort)
``read_batch_get``       ``batch_get``                        DL-10, I7
``read_key``             ``get_record``                       DL-11
``read_snapshot``        ``snapshot``                         DL-12
``read_done_hashes``     ``list/count_done_hashes``           DL-13, DL-15
invariants               ``snapshot`` vs the model; I1, I2    DLM-7.1, DLM-7.3
=======================  ===================================  ============================

Testing another backend (HYP-2): subclass :class:`DoneLedgerMachine`, override
:meth:`~DoneLedgerContract.make_ledger` (one fresh store per example, offering
:class:`DoneLedgerUnderTest`) and wire the subclass's ``TestCase`` with
settings derived from its default (HYP-13)::

    class SqliteDoneLedgerMachine(DoneLedgerMachine):
        def make_ledger(self):
            return SqliteDoneLedger()

    TestSqliteDoneLedger = SqliteDoneLedgerMachine.TestCase
    TestSqliteDoneLedger.settings = settings(
        SqliteDoneLedgerMachine.TestCase.settings, stateful_step_count=150
    )

Choices: open point 1 (8 ovid slots) and the record pools are in
:mod:`rules.strategies`; open point 10: ``count_done_hashes`` may answer None
or the exact count; open point 11: labels are the DLM-10 names. A batch that
fails validation at apply is labelled ``UpsertCommitFailed`` (DLM-10 labels
by prediction) and must leave ``snapshot()`` unchanged, like a commit fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hypothesis import note, target
from hypothesis.stateful import initialize, invariant, precondition, rule

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    OvidHash,
    PolicyHash,
    RunId,
    ShardId,
    TenantId,
)
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.inmemory.errors import (
    CompletionOrder,
    InjectedCommitFailure,
    InMemoryStoreKind,
    PendingWriteId,
)
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)

from ._checks import HandleLike, StoreControls, agree, guarded
from ._control import BATCHES, ControlMachine, committed
from ._done_ledger_model import apply_done_batch, done_hashes, snapshot_of
from ._store_model import Application
from .depth import DoneLedgerDepth
from .strategies import (
    DLM_OVIDS,
    DLM_POLICIES,
    DLM_TENANTS,
    KEYS,
    PREFIX_KEY,
    Batch,
    DlFields,
    DlRecordSpec,
    FlawAt,
    KeyAt,
    Scope,
    dl_fields_lists,
    dl_slot_lists,
    flawed,
    flaws_at,
    key_positions,
    keyed_fields_lists,
    make_dl_record,
    pool_key,
    record_spec_lists,
    scopes,
    spec_record,
)


class DoneLedgerUnderTest(StoreControls, Protocol):
    """The control surface a done ledger needs for this machine (API.md, LED-1..LED-10)."""

    def batch_upsert(self, records: Sequence[DoneLedgerRecord]) -> HandleLike: ...

    def batch_get(
        self, tenant_id: TenantId, policy_hash: PolicyHash, ovid_hashes: Sequence[OvidHash]
    ) -> list[DoneLedgerRecord | None]: ...

    def get_record(self, key: DoneLedgerKey) -> DoneLedgerRecord | None: ...

    def snapshot(self) -> list[DoneLedgerRecord]: ...

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> list[OvidHash]: ...

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int | None: ...


def prefix_record(run: int) -> DoneLedgerRecord:
    """DLM-4 R1 (run 1) / R2 (run 2): SCANNED_WITH_FINDINGS, 512 bytes, 3 findings."""
    return DoneLedgerRecord(
        key=PREFIX_KEY,
        status=DoneLedgerStatus.SCANNED_WITH_FINDINGS,
        bytes_scanned=512,
        findings_count=3,
        provenance=DoneLedgerProvenance(
            run_id=RunId(run),
            shard_id=ShardId(1),
            fence_epoch=FenceEpoch(1),
            started_at=LogicalTime(10),
            finished_at=LogicalTime(15),
        ),
    )


class DoneLedgerContract(ControlMachine[Batch]):
    """The done-ledger rules of DLM-1..DLM-10 on top of the shared control rules."""

    KIND = InMemoryStoreKind.DONE_LEDGER
    LABEL_PENDING = "UpsertPending"
    LABEL_SUBMIT_FAILED = "UpsertSubmitFailed"

    keys = KEYS

    def build_store(self) -> DoneLedgerUnderTest:
        self.durable: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        self._snapshot_cache: tuple[object, list[DoneLedgerRecord]] = (None, [])
        self.high_water: dict[DoneLedgerKey, tuple[int, int]] = {}
        self._high_water_of: dict[DoneLedgerKey, DoneLedgerRecord] | None = None
        """The durable map the marks were last updated from: every apply replaces the
        map, so the check runs once per model state (a precondition, HYP-8)."""
        self.ledger: DoneLedgerUnderTest = self.make_ledger()
        return self.ledger

    def make_ledger(self) -> DoneLedgerUnderTest:
        """HYP-2: the store under test; override in a subclass to test another backend."""
        return InMemoryDoneLedger()

    # -- domain hooks of ControlMachine

    def send(self, payload: Batch) -> HandleLike:
        return self.ledger.batch_upsert(payload)

    def apply_payload(self, payload: Batch) -> object:
        """LED-4 after the fault check, on the pure model (DLM-6)."""
        self.durable, outcome = apply_done_batch(self.durable, payload)
        return outcome

    def durable_reads(self) -> object:
        return self.ledger.snapshot()

    def after_apply(self, app: Application[Batch], outcome: object, released: bool) -> None:
        """DLM-10 labels, by prediction."""
        if released:
            self._label("Released" if committed(outcome) else "ReleasedCommitFailed")
        else:
            self._label("UpsertCommitted" if committed(outcome) else "UpsertCommitFailed")

    def converged(self) -> None:
        agree("snapshot() after the drain (I6)", snapshot_of(self.durable), self.ledger.snapshot())

    def final_targets(self) -> None:
        target(float(self.commit_failures), label="commit failures seen")

    def _model_snapshot(self) -> list[DoneLedgerRecord]:
        """``snapshot_of(self.durable)``, computed once per model state: every apply
        replaces the durable map, so the per-step invariant stays cheap (HYP-8)."""
        durable, snapshot = self._snapshot_cache
        if durable is not self.durable:
            snapshot = snapshot_of(self.durable)
            self._snapshot_cache = (self.durable, snapshot)
        return snapshot

    # -- initialize: the PT-7 fault prefix (DLM-4)

    @initialize(target=KEYS)
    @guarded
    def start(self) -> DoneLedgerKey:
        """DLM-4: delay, release fails on an injected commit fault and stays invisible, retry."""
        r1, r2 = prefix_record(1), prefix_record(2)
        note(f"start() writes R1 = {r1!r} (delayed, its apply fails) then R2 = R1 with run 2")
        tenant, policy, ovid = PREFIX_KEY.tenant_id, PREFIX_KEY.policy_hash, [PREFIX_KEY.ovid_hash]
        # 1. a delayed write is queued and invisible.
        self.model.delay_next_writes(1)
        self.ledger.delay_next_writes(1)
        first = self._submit((r1,))
        agree("prefix op id", 1, None if first is None else first.op_id)
        agree("prefix pending_ids", [PendingWriteId(1)], self.ledger.pending_ids())
        agree(
            "prefix batch_get of the pending write",
            [None],
            self.ledger.batch_get(tenant, policy, ovid),
        )
        # 2. its release fails on an injected commit fault; still invisible.
        self.model.fail_next_commits(1)
        self.ledger.fail_next_commits(1)
        self._release_next(CompletionOrder.OLDEST_FIRST)
        agree(
            "prefix failed release result",
            InjectedCommitFailure(self.KIND),
            self.model.results.get(1),
        )
        self._collect(1)
        agree(
            "prefix batch_get after the failed release",
            [None],
            self.ledger.batch_get(tenant, policy, ovid),
        )
        # 3. a retry with a new run id commits.
        second = self._submit((r2,))
        agree("prefix retry op id", 2, None if second is None else second.op_id)
        agree("prefix retry receipt", DoneLedgerCommitReceipt(1, 1, 3), self.model.results.get(2))
        self._collect(2)
        agree(
            "prefix batch_get after the retry", [r2], self.ledger.batch_get(tenant, policy, ovid)
        )
        agree("prefix pending_count", 0, self.ledger.pending_count())
        return PREFIX_KEY

    # -- builders and one-step submissions

    @rule(target=KEYS, at=key_positions)
    @guarded
    def new_key(self, at: KeyAt) -> DoneLedgerKey:
        """A key at these DLM-2 pool positions (tenant, policy and slot drawn as one
        value: a choice of ours, the spec lists the three, issue 11 item 3)."""
        return pool_key(*at)

    @rule(target=BATCHES, records=keyed_fields_lists(KEYS, max_size=10))
    @guarded
    def build_batch(self, records: list[tuple[DoneLedgerKey, DlFields]]) -> Batch:
        """An empty batch is allowed: receipt (0, 0, 0), still consumes an id and a fault."""
        return tuple(make_dl_record(key, fields) for key, fields in records)

    @rule(target=BATCHES, key=KEYS, records=dl_fields_lists(2, 4))
    @guarded
    def build_same_key_batch(self, key: DoneLedgerKey, records: list[DlFields]) -> Batch:
        """In-batch duplicates of one key, folded by LED-4 / DL-4."""
        return tuple(make_dl_record(key, fields) for fields in records)

    @rule(target=BATCHES, records=record_spec_lists(1, 10))
    @guarded
    def upsert(self, records: list[DlRecordSpec]) -> Batch:
        """HYP-16: build and submit in one step, keys straight from the DLM-2 pools; kept
        in ``batches`` so later replays exercise I10 idempotence."""
        batch = tuple(spec_record(spec) for spec in records)
        self._submit(batch)
        return batch

    @rule(target=BATCHES, records=record_spec_lists(1, 4), invalid=flaws_at)
    @guarded
    def upsert_with_invalid(self, records: list[DlRecordSpec], invalid: FlawAt) -> Batch:
        """DL-3 / DL-6 (issue 11 item 7): valid records with one invalid record at any
        position (a flawed copy of one of them): the whole batch fails validation at apply
        and durable state is unchanged; a store that applies record by record is caught."""
        valid = [spec_record(spec) for spec in records]
        at = invalid.position % (len(valid) + 1)
        bad = flawed(valid[invalid.position % len(valid)], invalid.flaw)
        batch = (*valid[:at], bad, *valid[at:])
        self._submit(batch)
        return batch

    # -- reads (I7)

    @rule(scope=scopes, slots=dl_slot_lists)
    @guarded
    def read_batch_get(self, scope: Scope, slots: list[int]) -> None:
        """DL-10: aligned with the input, duplicates repeated, pending writes invisible."""
        tenant_id, policy_hash = DLM_TENANTS[scope.tenant], DLM_POLICIES[scope.policy]
        ovids = [DLM_OVIDS[s] for s in slots]
        predicted = [self.durable.get(DoneLedgerKey(tenant_id, policy_hash, o)) for o in ovids]
        answered = self.ledger.batch_get(tenant_id, policy_hash, ovids)
        agree(f"batch_get(slots={slots})", predicted, answered)
        self._label("GetOk")

    @rule(key=KEYS)
    @guarded
    def read_key(self, key: DoneLedgerKey) -> None:
        """DL-11 ``get_record``."""
        agree(f"get_record({key})", self.durable.get(key), self.ledger.get_record(key))
        self._label("GetOk")

    @rule()
    @guarded
    def read_snapshot(self) -> None:
        """DL-12 ``snapshot`` in (tenant, policy, ovid) byte order."""
        agree("snapshot()", self._model_snapshot(), self.ledger.snapshot())
        self._label("GetOk")

    @rule(scope=scopes)
    @guarded
    def read_done_hashes(self, scope: Scope) -> None:
        """DL-13 / DL-15: terminal hashes, no duplicates; the count is None or exact."""
        tenant, policy = DLM_TENANTS[scope.tenant], DLM_POLICIES[scope.policy]
        predicted = done_hashes(self.durable, tenant, policy)
        listed = self.ledger.list_done_hashes(tenant, policy)
        agree("list_done_hashes (as a set)", predicted, set(listed))
        agree("list_done_hashes has no duplicates", len(set(listed)), len(listed))
        count = self.ledger.count_done_hashes(tenant, policy)
        if count is not None:
            agree("count_done_hashes", len(predicted), count)
        self._label("GetOk")

    # -- invariants (DLM-7; pending_matches_model comes from ControlMachine)

    @precondition(lambda self: self._store_touched_since("durable_matches_oracle"))
    @invariant()
    @guarded
    def durable_matches_oracle(self) -> None:
        """I3, I5, I6, I7 at every step that called the store (see
        ``ControlMachine._store_touched_since``); no pending write is visible."""
        self._checked("durable_matches_oracle")
        agree("snapshot() vs model", self._model_snapshot(), self.ledger.snapshot())

    @precondition(lambda self: self.durable is not self._high_water_of)
    @invariant()
    @guarded
    def monotonic_per_key(self) -> None:
        """I1, I2: rank and bytes never decrease; a durable key never disappears.

        Checked on the model's snapshot, recomputed only when the model changed:
        ``durable_matches_oracle`` (run before it, invariants run in name order) has
        just found the store's snapshot equal to it, and this catches a merge that is
        wrong on both sides (the model reuses the production merge, ORA-3)."""
        self._high_water_of = self.durable
        snapshot = self._model_snapshot()
        current = {r.key: (r.status.rank, r.bytes_scanned) for r in snapshot}
        for key, (rank, scanned) in self.high_water.items():
            now = current.get(key)
            if now is None or now[0] < rank or now[1] < scanned:
                agree(f"I1/I2 high-water mark (rank, bytes) of {key}", (rank, scanned), now)
        self.high_water = current


class DoneLedgerMachine(DoneLedgerDepth, DoneLedgerContract):
    """DLM-1..DLM-10 plus the HYP-16 depth scenarios; see the module docstring."""


__all__ = ["DoneLedgerContract", "DoneLedgerMachine", "DoneLedgerUnderTest", "prefix_record"]
