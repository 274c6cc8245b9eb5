"""Extended conformance (issue 10 item 3): passes on the reference stores, catches each bug.

Every planted bug of ``gossip_model.sim.planted`` and ``rules.planted`` is a
single-client bug, so each must be caught; so must the six bugs the issue
names (provenance and bytes last-writer-wins, release order ignored, listing
of non-terminal keys, non-positional ``batch_get``, replay double-counting),
written here as small kit backends.
"""

from __future__ import annotations

from typing import Any

import pytest

from gossip_model.backend import ControlledDoneLedger, ControlledFindingsSink, FaultCounters
from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.inmemory.done_ledger import DoneLedgerBackend, DoneLedgerRows
from gossip_model.inmemory.findings import FindingsBackend, FindingsState
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    FindingsCommitReceipt,
    OvidHash,
    PolicyHash,
    TenantId,
)
from gossip_model.persistence.conformance import (
    ExtendedConformanceReport,
    PersistenceConformanceError,
    extended_conformance_cases,
    run_conformance,
    run_extended_conformance,
)
from gossip_model.sim.planted import PLANTED_BUGS
from gossip_model.sqlite import SqliteDoneLedger, SqliteFindingsSink
from rules.planted import PLANTED_FINDINGS_BUGS


def test_reference_stores_pass_every_extended_check() -> None:
    """All 15 checks pass on the in-memory and SQLite stores, sharing one store each."""
    for ledger, sink in (
        (InMemoryDoneLedger(), InMemoryFindingsSink()),
        (SqliteDoneLedger(), SqliteFindingsSink()),
    ):
        run_conformance(ledger, sink)  # the two batteries share a store without interfering
        report = run_extended_conformance(ledger, sink)
        assert report.passed == [case.name for case in extended_conformance_cases()]
        assert report.skipped == {}
        assert str(report) == "extended conformance: 15 passed, 0 skipped"


def test_one_side_only_and_nothing_replaced() -> None:
    """Ledger-only and sink-only runs check only the given side; none at all is refused."""
    ledger_only = run_extended_conformance(done_ledger=InMemoryDoneLedger())
    assert all(name.startswith("extended/done-ledger/") for name in ledger_only.passed)
    assert ledger_only.total_checks() == 10
    sink_only = run_extended_conformance(findings_sink=InMemoryFindingsSink())
    assert all(name.startswith("extended/findings/") for name in sink_only.passed)
    assert sink_only.total_checks() == 5
    with pytest.raises(TypeError, match="give done_ledger"):
        run_extended_conformance()


class PlainLedger:
    """A DoneLedger without controls (the DoneLedger protocol only)."""

    def __init__(self) -> None:
        self._inner = InMemoryDoneLedger()

    def batch_upsert(self, records: Any) -> Any:
        return self._inner.batch_upsert(records)

    def batch_get(self, tenant_id: TenantId, policy_hash: PolicyHash, ovids: Any) -> Any:
        return self._inner.batch_get(tenant_id, policy_hash, ovids)

    def list_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> Any:
        return self._inner.list_done_hashes(tenant_id, policy_hash)

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> Any:
        return None  # DL-42: allowed


def test_store_without_controls_skips_the_controlled_checks_by_name() -> None:
    """A plain DoneLedger gets the protocol checks; the rest are skipped, naming what lacks."""
    report = run_extended_conformance(done_ledger=PlainLedger())
    assert report.total_checks() == 5
    assert set(report.skipped) == {
        "extended/done-ledger/pending-invisible",
        "extended/done-ledger/release-order",
        "extended/done-ledger/release-all",
        "extended/done-ledger/submission-fault",
        "extended/done-ledger/commit-fault",
    }
    assert all(reason.startswith("PlainLedger lacks delay_next_writes") for reason in
               report.skipped.values())  # fmt: skip
    assert isinstance(report, ExtendedConformanceReport)


@pytest.mark.parametrize("name", sorted(PLANTED_BUGS))
def test_every_planted_done_ledger_bug_is_caught(name: str) -> None:
    """sim.planted: each of the ten planted ledgers fails the extended battery."""
    with pytest.raises(PersistenceConformanceError) as info:
        run_extended_conformance(done_ledger=PLANTED_BUGS[name].make())
    assert info.value.case.startswith("extended/done-ledger/")


@pytest.mark.parametrize("name", sorted(PLANTED_FINDINGS_BUGS))
def test_every_planted_findings_bug_is_caught(name: str) -> None:
    """rules.planted: each of the four planted sinks fails the extended battery."""
    with pytest.raises(PersistenceConformanceError) as info:
        run_extended_conformance(findings_sink=PLANTED_FINDINGS_BUGS[name].make())
    assert info.value.case.startswith("extended/findings/")


# --- the bugs the issue names, as small kit backends ---------------------------------------


class ProvenanceLastWriterWins(DoneLedgerBackend):
    """Merged provenance is the incoming record's, whatever DL-34 step 7 says."""

    def apply(self, durable: DoneLedgerRows, counters: FaultCounters, payload: Any) -> Any:
        receipt = super().apply(durable, counters, payload)
        for record in payload:
            k = (record.key.tenant_id.raw, record.key.policy_hash.raw, record.key.ovid_hash.raw)
            stored = durable[k]
            durable[k] = DoneLedgerRecord(
                stored.key, stored.status, stored.bytes_scanned, stored.findings_count,
                DoneLedgerProvenance(*(getattr(record.provenance, f) for f in (
                    "run_id", "shard_id", "fence_epoch", "started_at", "finished_at"))),
                stored.error_code,
            )  # fmt: skip
        return receipt


class BytesLastWriterWins(DoneLedgerBackend):
    """bytes_scanned is the incoming value instead of the maximum."""

    def apply(self, durable: DoneLedgerRows, counters: FaultCounters, payload: Any) -> Any:
        receipt = super().apply(durable, counters, payload)
        for record in payload:
            k = (record.key.tenant_id.raw, record.key.policy_hash.raw, record.key.ovid_hash.raw)
            s = durable[k]
            durable[k] = DoneLedgerRecord(
                s.key, s.status, record.bytes_scanned, s.findings_count, s.provenance, s.error_code
            )
        return receipt


class ListsEveryKey(DoneLedgerBackend):
    """list_done_hashes includes FAILED_RETRYABLE keys."""

    def list_done_hashes(
        self, durable: DoneLedgerRows, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> list[OvidHash]:
        return [
            r.key.ovid_hash
            for k, r in sorted(durable.items())
            if k[0] == tenant_id.raw and k[1] == policy_hash.raw
        ]

    def count_done_hashes(self, durable: DoneLedgerRows, t: TenantId, p: PolicyHash) -> int:
        return len(self.list_done_hashes(durable, t, p))


class NonPositionalGet(DoneLedgerBackend):
    """batch_get answers found records, one per distinct hash, then pads with None."""

    def batch_get(self, durable: DoneLedgerRows, t: TenantId, p: PolicyHash, ovids: Any) -> Any:
        found = [r for r in super().batch_get(durable, t, p, tuple(dict.fromkeys(ovids))) if r]
        return found + [None] * (len(ovids) - len(found))


class ReplayDoubleCounts(DoneLedgerBackend):
    """The receipt also counts the keys that were already stored (a replay doubles)."""

    def apply(self, durable: DoneLedgerRows, counters: FaultCounters, payload: Any) -> Any:
        known = sum(
            (r.key.tenant_id.raw, r.key.policy_hash.raw, r.key.ovid_hash.raw) in durable
            for r in {r.key: r for r in payload}.values()
        )
        receipt = super().apply(durable, counters, payload)
        return DoneLedgerCommitReceipt(
            receipt.record_count + known, receipt.scanned_count, receipt.findings_count
        )


class ReleaseOrderIgnored(ControlledDoneLedger[Any]):
    """NEWEST_FIRST releases are served oldest first."""

    __slots__ = ()

    def release_next(self, order: Any) -> Any:
        from gossip_model.backend import CompletionOrder

        return super().release_next(CompletionOrder.OLDEST_FIRST)


class FindingsReplayDoubleCounts(FindingsBackend):
    """The findings receipt counts raw records, not distinct keys."""

    def apply(self, durable: FindingsState, counters: FaultCounters, payload: Any) -> Any:
        super().apply(durable, counters, payload)
        return FindingsCommitReceipt(
            len(payload.findings), len(payload.occurrences), len(payload.observations)
        )


@pytest.mark.parametrize(
    ("make", "symptom"),
    [
        (lambda: ControlledDoneLedger(ProvenanceLastWriterWins()), "merge-parity"),
        (lambda: ControlledDoneLedger(BytesLastWriterWins()), "merge-parity"),
        (lambda: ControlledDoneLedger(ListsEveryKey()), "terminal-listing:list"),
        (lambda: ControlledDoneLedger(NonPositionalGet()), "batch-get-positional"),
        (lambda: ControlledDoneLedger(ReplayDoubleCounts()), "receipts:replay"),
        (lambda: ReleaseOrderIgnored(DoneLedgerBackend()), "release-order:newest-first"),
    ],
    ids=[
        "provenance-lww",
        "bytes-lww",
        "lists-retryable",
        "non-positional",
        "replay-double",
        "release-order-ignored",
    ],
)
def test_issue_named_ledger_bugs_are_caught(make: Any, symptom: str) -> None:
    """Issue 10 item 3: each named bug fails its check (case label names the symptom)."""
    with pytest.raises(PersistenceConformanceError) as info:
        run_extended_conformance(done_ledger=make())
    assert symptom in info.value.case


def test_non_positional_get_is_caught_by_the_positional_check_alone() -> None:
    """DL-40: the positional check by itself sees a compacted answer list."""
    (case,) = [c for c in extended_conformance_cases() if c.name.endswith("batch-get-positional")]
    with pytest.raises(PersistenceConformanceError) as info:
        case.run(ControlledDoneLedger(NonPositionalGet()))
    assert "[absent, b, a, b, absent]" in str(info.value)
    case.run(InMemoryDoneLedger())


def test_findings_replay_double_counting_is_caught() -> None:
    """FS-31: a receipt of raw records instead of distinct keys fails the receipts check."""
    with pytest.raises(PersistenceConformanceError) as info:
        run_extended_conformance(
            findings_sink=ControlledFindingsSink(FindingsReplayDoubleCounts())
        )
    assert info.value.case == "extended/findings/receipts:first"
    assert "field finding_count expected 1, got 2" in str(info.value)
