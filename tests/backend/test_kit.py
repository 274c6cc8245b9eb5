"""The public backend kit (API.md "Additions"; issue 10 item 1, issue 11 item 6).

A backend that offers only the required methods gets the whole control
surface and every read; the in-memory, SQLite and PostgreSQL stores are
subclasses of the kit's facades; bad arguments name what was expected.
"""

from __future__ import annotations

import ast
import copy
import importlib
from pathlib import Path
from typing import Any

import pytest

import gossip_model.identity as identity
import gossip_model.persistence as persistence
from gossip_model.backend import (
    CompletionOrder,
    ControlledDoneLedger,
    ControlledFindingsSink,
    DoneLedgerStoreBackend,
    FaultCounters,
    FindingsStoreBackend,
    InjectedCommitFailure,
    StoreBackend,
    StoreKind,
    validate_and_fold,
)
from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.inmemory.findings import FindingsState, apply_findings_batch
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerRecord,
    DoneLedgerStatus,
    DurableFindingsCounts,
    OvidHash,
    PolicyHash,
    TenantId,
)
from gossip_model.persistence.conformance import run_conformance
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from tests.builders import done_record, full_batch, key, ovid, policy, tenant

SC = DoneLedgerStatus.SCANNED_CLEAN
FR = DoneLedgerStatus.FAILED_RETRYABLE


class MinimalLedgerBackend:
    """Only the required methods, written from the kit's helpers (no subclassing)."""

    def new_durable(self) -> dict[Any, DoneLedgerRecord]:
        return {}

    def apply(
        self, durable: dict[Any, DoneLedgerRecord], counters: FaultCounters, payload: Any
    ) -> DoneLedgerCommitReceipt:
        counters.check_commit_fault()
        folded = validate_and_fold(payload)
        receipt = DoneLedgerCommitReceipt.for_folded(folded.values())
        for k, record in folded.items():
            stored = durable.get(k)
            durable[k] = record if stored is None else stored.merge(record)
        return receipt

    def batch_get(
        self, durable: dict[Any, DoneLedgerRecord], tenant_id: TenantId, policy_hash: PolicyHash,
        ovid_hashes: tuple[OvidHash, ...],
    ) -> list[DoneLedgerRecord | None]:  # fmt: skip
        return [durable.get((tenant_id.raw, policy_hash.raw, o.raw)) for o in ovid_hashes]

    def snapshot(self, durable: dict[Any, DoneLedgerRecord]) -> tuple[DoneLedgerRecord, ...]:
        return tuple(durable.values())

    def list_done_hashes(
        self, durable: dict[Any, DoneLedgerRecord], tenant_id: TenantId, policy_hash: PolicyHash
    ) -> list[OvidHash]:
        return [
            r.key.ovid_hash
            for r in durable.values()
            if r.key.tenant_id == tenant_id
            and r.key.policy_hash == policy_hash
            and r.status.is_terminal()
        ]


class MinimalSinkBackend:
    """Only the required methods, over the in-memory state and apply."""

    def new_durable(self) -> FindingsState:
        return FindingsState()

    def apply(self, durable: FindingsState, counters: FaultCounters, payload: Any) -> Any:
        counters.check_commit_fault()
        return apply_findings_batch(durable, payload)

    def findings_snapshot(self, durable: FindingsState) -> list[Any]:
        return list(durable.findings.values())

    def occurrences_snapshot(self, durable: FindingsState) -> list[Any]:
        return list(durable.occurrences.values())

    def observations_snapshot(self, durable: FindingsState) -> list[Any]:
        return list(durable.observations.values())


def test_minimal_backends_satisfy_the_protocols_and_pass_conformance() -> None:
    """CONF-1..CONF-9 over the kit: a structural backend is enough (no subclassing)."""
    assert isinstance(MinimalLedgerBackend(), DoneLedgerStoreBackend)
    assert isinstance(MinimalSinkBackend(), FindingsStoreBackend)
    assert isinstance(MinimalSinkBackend(), StoreBackend)
    report = run_conformance(
        ControlledDoneLedger(MinimalLedgerBackend()),
        ControlledFindingsSink(MinimalSinkBackend()),
    )
    assert (report.done_ledger_checks, report.findings_checks) == (5, 4)


def test_optional_ledger_reads_fall_back_to_the_required_ones() -> None:
    """DL-11, DL-42: get_record through batch_get, count through list_done_hashes."""
    ledger = ControlledDoneLedger(MinimalLedgerBackend())
    clean = done_record(1, 1, 1, SC, 10)
    retry = done_record(1, 1, 2, FR, 5, error_code="TIMEOUT")
    assert ledger.batch_upsert([clean, retry]).wait(1) == DoneLedgerCommitReceipt(2, 1, 0)
    assert ledger.get_record(key(1, 1, 1)) == clean
    assert ledger.get_record(key(1, 1, 9)) is None
    assert ledger.count_done_hashes(tenant(1), policy(1)) == 1
    assert ledger.list_done_hashes(tenant(1), policy(1)) == [ovid(1)]
    assert ledger.batch_get(tenant(1), policy(1), []) == []
    assert sorted(ledger.snapshot(), key=lambda r: r.key) == [clean, retry]


def test_optional_sink_reads_fall_back_to_snapshots() -> None:
    """FS-16, FS-17: get_* scan the snapshots, durable_counts counts them."""
    sink = ControlledFindingsSink(MinimalSinkBackend())
    batch, finding, occurrence, observation = full_batch(tenant(3))
    sink.upsert_batch(batch).wait(1)
    assert sink.get_finding(tenant(3), finding.finding_id) == finding
    assert sink.get_occurrence(tenant(3), occurrence.occurrence_id) == occurrence
    assert sink.get_observation(tenant(3), observation.observation_id) == observation
    assert sink.get_finding(tenant(4), finding.finding_id) is None
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)


def test_kit_controls_work_over_a_user_backend() -> None:
    """ST-6, ST-9, ST-14: delays, NEWEST_FIRST releases and commit faults over the kit."""
    ledger = ControlledDoneLedger(MinimalLedgerBackend(), auto_complete=False)
    first = ledger.batch_upsert([done_record(1, 1, 1, SC, 1)])
    second = ledger.batch_upsert([done_record(1, 1, 2, SC, 2)])
    assert ledger.pending_ids() == [first.op_id, second.op_id]
    assert ledger.snapshot() == []
    ledger.fail_next_commits(1)
    assert ledger.release_next(CompletionOrder.NEWEST_FIRST) == second.op_id
    with pytest.raises(InjectedCommitFailure) as info:
        second.wait(1)
    assert info.value == InjectedCommitFailure(StoreKind.DONE_LEDGER)
    assert ledger.release_all(CompletionOrder.OLDEST_FIRST) == 1
    assert first.wait(1) == DoneLedgerCommitReceipt(1, 1, 0)
    assert [r.key for r in ledger.snapshot()] == [key(1, 1, 1)]
    assert ledger.clone().snapshot() == copy.copy(ledger).snapshot() == ledger.snapshot()


def test_backend_missing_methods_is_named() -> None:
    """A backend without the required reads is refused at construction, naming them."""

    class Incomplete:
        def new_durable(self) -> dict[Any, Any]:
            return {}

        def apply(self, durable: Any, counters: FaultCounters, payload: Any) -> Any:
            return None

    with pytest.raises(TypeError, match=r"lacks batch_get, snapshot, list_done_hashes"):
        ControlledDoneLedger(Incomplete())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lacks findings_snapshot"):
        ControlledFindingsSink(Incomplete())  # type: ignore[arg-type]


def test_repr_uses_describe_and_class_names() -> None:
    """TH-5: a working repr for any backend; the stores keep their documented shapes."""
    assert repr(ControlledDoneLedger(MinimalLedgerBackend())) == (
        "ControlledDoneLedger(pending_ops=0, auto_complete=True)"
    )

    class MyLedger(ControlledDoneLedger[Any]):
        __slots__ = ()

    mine = MyLedger(MinimalLedgerBackend(), auto_complete=False)
    mine.batch_upsert([])
    assert repr(mine) == "MyLedger(pending_ops=1, auto_complete=False)"
    assert repr(InMemoryDoneLedger()) == (
        "InMemoryDoneLedger(durable_rows=0, pending_ops=0, auto_complete=True)"
    )
    assert repr(InMemoryFindingsSink()) == (
        "InMemoryFindingsSink(durable_findings=0, durable_occurrences=0, "
        "durable_observations=0, pending_ops=0, auto_complete=True)"
    )
    assert repr(SqliteDoneLedger()) == (
        "SqliteDoneLedger(database=':memory:', pending_ops=0, auto_complete=True)"
    )


def test_stores_are_built_on_the_public_kit() -> None:
    """Issue 10 item 1: the three stores are subclasses of the public facades."""
    assert issubclass(InMemoryDoneLedger, ControlledDoneLedger)
    assert issubclass(SqliteDoneLedger, ControlledDoneLedger)
    assert issubclass(InMemoryFindingsSink, ControlledFindingsSink)
    assert issubclass(SqliteFindingsSink, ControlledFindingsSink)
    for module, names in {
        "gossip_model.postgres.done_ledger": ("PostgresDoneLedger", ControlledDoneLedger),
        "gossip_model.postgres.findings": ("PostgresFindingsSink", ControlledFindingsSink),
    }.items():
        try:
            mod = importlib.import_module(module)
        except ImportError:  # psycopg missing: nothing to check
            continue
        assert issubclass(getattr(mod, names[0]), names[1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: ControlledDoneLedger(MinimalLedgerBackend()),
        InMemoryDoneLedger,
        SqliteDoneLedger,
    ],
    ids=["kit", "inmemory", "sqlite"],
)
def test_ledger_reset_empties_and_is_refused_while_pending(make: Any) -> None:
    """reset(): durable rows go, op ids and counters stay; refused with a pending op."""
    ledger = make()
    ledger.batch_upsert([done_record(1, 1, 1, SC, 1)]).wait(1)
    ledger.reset()
    assert ledger.snapshot() == []
    assert ledger.count_done_hashes(tenant(1), policy(1)) == 0
    ledger.delay_next_writes(1)
    handle = ledger.batch_upsert([done_record(1, 1, 2, SC, 1)])
    assert int(handle.op_id) == 2
    with pytest.raises(RuntimeError, match=r"1 write\(s\) .* still pending; release them"):
        ledger.reset()
    assert ledger.pending_count() == 1
    ledger.release_all(CompletionOrder.OLDEST_FIRST)
    handle.wait(1)
    assert [r.key for r in ledger.snapshot()] == [key(1, 1, 2)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ControlledFindingsSink(MinimalSinkBackend()),
        InMemoryFindingsSink,
        SqliteFindingsSink,
    ],
    ids=["kit", "inmemory", "sqlite"],
)
def test_sink_reset_empties_every_layer(make: Any) -> None:
    """reset() on sinks: every layer emptied (children first on databases)."""
    sink = make()
    sink.upsert_batch(full_batch(tenant(2))[0]).wait(1)
    assert sink.durable_counts() == DurableFindingsCounts(1, 1, 1)
    sink.reset()
    assert sink.durable_counts() == DurableFindingsCounts(0, 0, 0)
    assert sink.observations_snapshot() == []


def test_sqlite_file_reset_survives_reopen(tmp_path: Path) -> None:
    """reset() on a file database deletes committed rows, as a second store sees."""
    path = tmp_path / "ledger.db"
    ledger = SqliteDoneLedger(path)
    ledger.batch_upsert([done_record(1, 1, 1, SC, 1)]).wait(1)
    ledger.reset()
    ledger.close()
    assert SqliteDoneLedger(path).snapshot() == []


@pytest.mark.parametrize("make", [InMemoryDoneLedger, SqliteDoneLedger, ControlledDoneLedger])
def test_arguments_name_what_was_expected(make: Any) -> None:
    """TH-6: batch_upsert(3) and friends name the argument and the expected type."""
    ledger = make(MinimalLedgerBackend()) if make is ControlledDoneLedger else make()
    name = type(ledger).__name__
    with pytest.raises(TypeError) as info:
        ledger.batch_upsert(3)
    assert str(info.value) == (
        f"{name}.batch_upsert: records must be an iterable of DoneLedgerRecord, "
        "got int; pass a list or tuple of DoneLedgerRecord"
    )
    with pytest.raises(TypeError, match=r"ovid_hashes must be an iterable of OvidHash"):
        ledger.batch_get(tenant(1), policy(1), 5)
    with pytest.raises(TypeError, match=r"got a single OvidHash; wrap it in a list"):
        ledger.batch_get(tenant(1), policy(1), ovid(1))
    with pytest.raises(TypeError, match=r"records must be an iterable .* got str"):
        ledger.batch_upsert("abc")
    assert ledger.pending_count() == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda flag: InMemoryDoneLedger(auto_complete=flag),
        lambda flag: InMemoryFindingsSink(auto_complete=flag),
        lambda flag: SqliteDoneLedger(auto_complete=flag),
        lambda flag: SqliteFindingsSink(auto_complete=flag),
        lambda flag: ControlledDoneLedger(MinimalLedgerBackend(), auto_complete=flag),
    ],
)
def test_auto_complete_must_be_a_bool_everywhere(make: Any) -> None:
    """ST-2 / TH-6: one check, one message shape, for every store."""
    with pytest.raises(TypeError, match=r"^\w+\.__init__: auto_complete must be a bool, got int"):
        make(1)


def test_counters_commit_fault_defaults_to_their_store() -> None:
    """ST-9: check_commit_fault() needs no kind inside a store; outside one it says so."""
    counters = FaultCounters(StoreKind.FINDINGS)
    counters.check_commit_fault()  # nothing armed: no effect
    counters.fail_commit_remaining = 1
    with pytest.raises(InjectedCommitFailure) as info:
        counters.check_commit_fault()
    assert info.value == InjectedCommitFailure(StoreKind.FINDINGS)
    orphan = FaultCounters()
    orphan.fail_commit_remaining = 1
    with pytest.raises(TypeError, match="pass store="):
        orphan.check_commit_fault()


def test_persistence_reexports_every_identity_type() -> None:
    """API.md Additions: ids and values from gossip_model.persistence; identity has __all__."""
    for name in ("TenantId", "PolicyHash", "OvidHash", "FindingId", "OccurrenceId",
                 "ObservationId", "StableItemId", "ObjectVersionId", "RuleFingerprint",
                 "SecretHash", "NormHash", "RunId", "ShardId", "FenceEpoch", "LogicalTime",
                 "ConnectorInstanceIdHash", "TenantSecretKey", "key_secret_hash"):  # fmt: skip
        assert getattr(persistence, name) is getattr(identity, name)
        assert name in persistence.__all__
        assert name in identity.__all__
    assert all(hasattr(identity, name) for name in identity.__all__)
    assert all(hasattr(persistence, name) for name in persistence.__all__)


def test_pinned_internal_names_still_import_from_inmemory() -> None:
    """API.md: the core moved to gossip_model.core; the pinned names are the same objects."""
    from gossip_model.core import errors, pending, store
    from gossip_model.inmemory import errors as old_errors
    from gossip_model.inmemory import pending as old_pending
    from gossip_model.inmemory import store as old_store

    assert old_store.InMemoryStoreCore is store.InMemoryStoreCore
    assert old_store.StoreBackend is store.StoreBackend
    assert old_store.StoreHandle is store.StoreHandle
    assert old_pending.PendingOp is pending.PendingOp
    assert old_pending.PendingState is pending.PendingState
    assert old_errors.Poisoned is errors.Poisoned


def test_no_import_cycle_between_done_ledger_and_errors() -> None:
    """Issue 11 item 6: persistence/errors.py does not import persistence/done_ledger.py."""
    source = Path(persistence.__file__).with_name("errors.py").read_text(encoding="utf-8")
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "gossip_model.persistence.done_ledger" not in imported
    assert "TYPE_CHECKING" not in source
