"""Conformance harness: passes on correct backends, fails loudly on broken ones.

Rules: CONF-1..CONF-7, CONF-DL1..DL5, CONF-DL-A, CONF-F1..F4, CONF-R1..R3
(inmemory.md §8) and RED-5 (contracts.md). The broken backends below each
carry one deliberate bug; each test asserts the error class AND the case
label, so a harness that fails for the wrong reason does not pass.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

from gossip_model import identity as ident
from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.inmemory import errors as inmemory_errors
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ReadyCommitHandle,
    errors,
)
from gossip_model.persistence import conformance as conf
from gossip_model.persistence.conformance import (
    DurableFindingsCounts,
    PersistenceConformanceError,
    PersistenceConformanceReport,
    conformance_cases,
    run_conformance,
    sample_fixture,
)
from tests.builders import fill

# --- backends under test ------------------------------------------------------------------


class DictLedger:
    """A dict-backed done ledger with a pluggable merge: correct by default."""

    def __init__(
        self,
        merge: Callable[[DoneLedgerRecord, DoneLedgerRecord], DoneLedgerRecord] | None = None,
    ) -> None:
        self.rows: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        self.merge = merge or (lambda existing, incoming: existing.merge(incoming))

    def batch_upsert(
        self, records: Sequence[DoneLedgerRecord]
    ) -> ReadyCommitHandle[DoneLedgerCommitReceipt]:
        folded: dict[DoneLedgerKey, DoneLedgerRecord] = {}
        for record in records:
            previous = folded.get(record.key)
            folded[record.key] = record if previous is None else self.merge(previous, record)
        for key, record in folded.items():
            existing = self.rows.get(key)
            self.rows[key] = record if existing is None else self.merge(existing, record)
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt.for_folded(folded.values()))

    def batch_get(
        self, tenant_id: Any, policy_hash: Any, ovid_hashes: Sequence[Any]
    ) -> list[DoneLedgerRecord | None]:
        return [self.rows.get(DoneLedgerKey(tenant_id, policy_hash, o)) for o in ovid_hashes]

    def list_done_hashes(self, tenant_id: Any, policy_hash: Any) -> list[Any]:
        return [
            key.ovid_hash
            for key, row in self.rows.items()
            if (key.tenant_id, key.policy_hash) == (tenant_id, policy_hash)
            and row.status.is_terminal()
        ]

    def count_done_hashes(self, tenant_id: Any, policy_hash: Any) -> int | None:
        return None


class Wrapper:
    """Delegates every attribute to ``inner``; subclasses override one method."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def ledger_with(**overrides: Callable[..., Any]) -> Any:
    """An in-memory ledger wrapper whose named methods are replaced."""
    wrapper = Wrapper(InMemoryDoneLedger())
    for name, fn in overrides.items():
        setattr(wrapper, name, fn.__get__(wrapper))
    return wrapper


def sink_with(**overrides: Callable[..., Any]) -> Any:
    """An in-memory sink wrapper whose named methods are replaced."""
    wrapper = Wrapper(InMemoryFindingsSink())
    for name, fn in overrides.items():
        setattr(wrapper, name, fn.__get__(wrapper))
    return wrapper


def expect_failure(
    ledger: Any, sink: Any, error: type[PersistenceConformanceError], case_prefix: str
) -> PersistenceConformanceError:
    with pytest.raises(error) as caught:
        run_conformance(ledger, sink, wait_timeout=0.2)
    assert caught.value.case.startswith(case_prefix + ":"), caught.value.case
    return caught.value


# --- passing runs (CONF-3, CONF-7) -------------------------------------------------------


def test_conf7_in_memory_backends_pass_persistence_conformance() -> None:
    """CONF-7: 5 done-ledger, 4 findings, 3 redaction checks; CONF-3 string form."""
    report = run_conformance(InMemoryDoneLedger(), InMemoryFindingsSink())
    assert (report.done_ledger_checks, report.findings_checks, report.redaction_checks) == (
        5,
        4,
        3,
    )
    assert report.total_checks() == 12
    assert str(report) == (
        "persistence conformance: 5 done-ledger, 4 findings, 3 redaction (12 total)"
    )


def test_conf7_dict_backend_passes_so_the_harness_is_backend_agnostic() -> None:
    """CONF-7: a second, independent correct ledger also passes."""
    assert run_conformance(DictLedger(), InMemoryFindingsSink()).total_checks() == 12


def test_conf_f1_harness_is_not_rerunnable_on_one_findings_sink() -> None:
    """CONF-F1: the second run on the same sink sees a first-write delta of (0, 0, 0)."""
    sink = InMemoryFindingsSink()
    run_conformance(InMemoryDoneLedger(), sink)
    expect_failure(InMemoryDoneLedger(), sink, conf.FindingsInvariant, "findings/idempotent")


@pytest.mark.parametrize("case", conformance_cases(), ids=str)
def test_conformance_case_passes_on_in_memory_stores(case: conf.ConformanceCase) -> None:
    """CONF-4: each check runs alone with its own seed, named ``suite/test``."""
    case.run(InMemoryDoneLedger(), InMemoryFindingsSink())
    assert case.family in ("done_ledger", "findings", "redaction")
    assert case.name.split("/")[0].replace("-", "_") == case.family


def test_conformance_cases_are_the_twelve_checks_in_order() -> None:
    names = [case.name for case in conformance_cases()]
    assert names == [
        "done-ledger/idempotent",
        "done-ledger/fail-then-scan",
        "done-ledger/scan-then-fail",
        "done-ledger/batch-get-positional",
        "done-ledger/terminal-keys",
        "findings/idempotent",
        "findings/missing-finding",
        "findings/missing-occurrence",
        "findings/observation-merge",
        "redaction/norm-hash",
        "redaction/secret-hash",
        "redaction/finding-record",
    ]


# --- must-fail: broken done ledgers (CONF-DL1..DL5) ------------------------------------------


def test_conf_dl2_dl3_last_writer_wins_ledger_is_caught() -> None:
    """DL-34/CONF-DL2/DL3: keeping the last write loses bytes, then downgrades status."""
    error = expect_failure(
        DictLedger(lambda e, i: i),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/fail-then-scan",
    )
    assert "bytes_scanned 2048 < 4096" in str(error)
    scan_then_fail = conformance_cases()[2]
    assert scan_then_fail.name == "done-ledger/scan-then-fail"
    with pytest.raises(conf.DoneLedgerInvariant) as caught:
        scan_then_fail.run(DictLedger(lambda e, i: i), InMemoryFindingsSink())
    assert "status FailedRetryable is below ScannedWithFindings" in str(caught.value)
    assert caught.value.case == "done-ledger/scan-then-fail:fetch"


def test_conf_dl2_wholesale_dominant_record_loses_bytes_max() -> None:
    """CONF-DL2: keeping the dominant record whole drops the failed record's 4096 bytes."""

    def dominant(existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        return incoming if incoming.status.rank >= existing.status.rank else existing

    error = expect_failure(
        DictLedger(dominant),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/fail-then-scan",
    )
    assert "bytes_scanned 2048 < 4096" in str(error)


def test_conf_dl1_replay_that_changes_the_record_is_caught() -> None:
    """CONF-DL1: a replay must leave the stored record equal to the original."""

    def additive(existing: DoneLedgerRecord, incoming: DoneLedgerRecord) -> DoneLedgerRecord:
        merged = existing.merge(incoming)
        return dataclasses.replace(merged, bytes_scanned=existing.bytes_scanned + 1)

    expect_failure(
        DictLedger(additive),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/idempotent",
    )


def test_conf_dl1_wrong_receipt_is_caught() -> None:
    """CONF-DL1 / DL-50: the first receipt must be exactly (1, 1, 1)."""

    def batch_upsert(self: Wrapper, records: Sequence[DoneLedgerRecord]) -> Any:
        self.inner.batch_upsert(records).wait(timeout=1)
        return ReadyCommitHandle.ok(DoneLedgerCommitReceipt(len(records), 0, 0))

    error = expect_failure(
        ledger_with(batch_upsert=batch_upsert),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/idempotent",
    )
    assert error.case == "done-ledger/idempotent:first"


def test_conf_dl5_listing_that_includes_failed_retryable_is_caught() -> None:
    """DL-41/CONF-DL5: FAILED_RETRYABLE keys are not done."""

    def list_done_hashes(self: Wrapper, tenant: Any, policy: Any) -> list[Any]:
        ledger: InMemoryDoneLedger = self.inner
        return [
            r.key.ovid_hash
            for r in ledger.snapshot()
            if (r.key.tenant_id, r.key.policy_hash) == (tenant, policy)
        ]

    error = expect_failure(
        ledger_with(list_done_hashes=list_done_hashes),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/terminal-keys",
    )
    assert error.case == "done-ledger/terminal-keys:list"
    assert "got 5 entries (1 unexpected, 0 missing)" in str(error)


def test_conf_dl5_listing_that_ignores_the_tenant_is_caught() -> None:
    """DL-41/CONF-DL5: another tenant's terminal keys never appear."""

    def list_done_hashes(self: Wrapper, tenant: Any, policy: Any) -> list[Any]:
        ledger: InMemoryDoneLedger = self.inner
        return [
            r.key.ovid_hash
            for r in ledger.snapshot()
            if r.key.policy_hash == policy and r.status.is_terminal()
        ]

    error = expect_failure(
        ledger_with(list_done_hashes=list_done_hashes),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/terminal-keys",
    )
    assert error.case == "done-ledger/terminal-keys:cross-tenant"


def test_conf_dl5_listing_with_duplicates_is_caught_by_the_raw_length() -> None:
    """CONF-DL5: the raw length is checked before the set."""

    def list_done_hashes(self: Wrapper, tenant: Any, policy: Any) -> list[Any]:
        hashes: list[Any] = self.inner.list_done_hashes(tenant, policy)
        return hashes + hashes[:1]

    error = expect_failure(
        ledger_with(list_done_hashes=list_done_hashes),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/terminal-keys",
    )
    assert "got 5 entries (0 unexpected, 0 missing)" in str(error)


def test_conf_dl4_batch_get_that_is_not_positional_is_caught() -> None:
    """DL-40/CONF-DL4: absent keys must be answered with ``None`` in place."""

    def batch_get(self: Wrapper, tenant: Any, policy: Any, ovids: Sequence[Any]) -> list[Any]:
        return [row for row in self.inner.batch_get(tenant, policy, ovids) if row is not None]

    error = expect_failure(
        ledger_with(batch_get=batch_get),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/batch-get-positional",
    )
    assert "expected [record, None] for [present, absent], got ['record']" in str(error)


def test_conf5_get_single_rejects_wrong_length_and_none() -> None:
    """CONF-5: get-single needs exactly one non-None element."""

    def two_rows(self: Wrapper, tenant: Any, policy: Any, ovids: Sequence[Any]) -> list[Any]:
        return [None, None]

    def lost(self: Wrapper, tenant: Any, policy: Any, ovids: Sequence[Any]) -> list[Any]:
        return [None]

    error = expect_failure(
        ledger_with(batch_get=two_rows),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/idempotent",
    )
    assert "expected 1 result, got 2" in str(error)
    error = expect_failure(
        ledger_with(batch_get=lost),
        InMemoryFindingsSink(),
        conf.DoneLedgerInvariant,
        "done-ledger/idempotent",
    )
    assert str(error).endswith("expected durable record, got None")


# --- operational failures carry the backend's exception (CONF-4, CONF-5) -------------------


def test_conf4_submit_failure_keeps_source_and_cause() -> None:
    boom = RuntimeError("disk on fire")

    def batch_upsert(self: Wrapper, records: Any) -> Any:
        raise boom

    error = expect_failure(
        ledger_with(batch_upsert=batch_upsert),
        InMemoryFindingsSink(),
        conf.DoneLedgerSubmit,
        "done-ledger/idempotent",
    )
    assert isinstance(error, conf.DoneLedgerSubmit)
    assert error.source is boom
    assert error.__cause__ is boom
    assert (
        str(error) == "done-ledger submission failed in done-ledger/idempotent:first: disk on fire"
    )


def test_conf4_never_completing_ledger_times_out_instead_of_hanging() -> None:
    """Issue 4: a write that never completes is a DoneLedgerWait failure, not a hang."""
    ledger = InMemoryDoneLedger(auto_complete=False)
    error = expect_failure(
        ledger, InMemoryFindingsSink(), conf.DoneLedgerWait, "done-ledger/idempotent"
    )
    assert isinstance(error, conf.DoneLedgerWait)
    assert isinstance(error.source, TimeoutError)
    assert ledger.pending_count() == 1


def test_conf4_never_completing_sink_times_out_instead_of_hanging() -> None:
    sink = InMemoryFindingsSink(auto_complete=False)
    error = expect_failure(InMemoryDoneLedger(), sink, conf.FindingsWait, "findings/idempotent")
    assert isinstance(error, conf.FindingsWait)
    assert isinstance(error.source, TimeoutError)


def test_conf4_injected_commit_failure_is_a_wait_failure() -> None:
    ledger = InMemoryDoneLedger()
    ledger.fail_next_commits(1)
    error = expect_failure(
        ledger, InMemoryFindingsSink(), conf.DoneLedgerWait, "done-ledger/idempotent"
    )
    assert isinstance(error, conf.DoneLedgerWait)
    assert isinstance(error.source, inmemory_errors.InjectedCommitFailure)


def test_conf4_lookup_and_listing_failures_are_done_ledger_get() -> None:
    def batch_get(self: Wrapper, *args: Any) -> Any:
        raise OSError("lookup down")

    def list_done_hashes(self: Wrapper, *args: Any) -> Any:
        raise OSError("listing down")

    expect_failure(
        ledger_with(batch_get=batch_get),
        InMemoryFindingsSink(),
        conf.DoneLedgerGet,
        "done-ledger/idempotent",
    )
    error = expect_failure(
        ledger_with(list_done_hashes=list_done_hashes),
        InMemoryFindingsSink(),
        conf.DoneLedgerGet,
        "done-ledger/terminal-keys",
    )
    assert error.case == "done-ledger/terminal-keys:list"


def test_conf4_findings_submit_failure() -> None:
    sink = InMemoryFindingsSink()
    sink.fail_next_submissions(1)
    error = expect_failure(InMemoryDoneLedger(), sink, conf.FindingsSubmit, "findings/idempotent")
    assert isinstance(error, conf.FindingsSubmit)
    assert isinstance(error.source, inmemory_errors.InjectedSubmissionFailure)


def test_conf2_probe_failures() -> None:
    """CONF-2/CONF-5: a probe that raises or answers the wrong type is a Probe failure."""

    def raising(self: Wrapper) -> Any:
        raise KeyError("no counts")

    def wrong_type(self: Wrapper) -> Any:
        return (1, 1, 1)

    expect_failure(
        InMemoryDoneLedger(), sink_with(durable_counts=raising), conf.Probe, "findings/idempotent"
    )
    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(durable_counts=wrong_type),
        conf.Probe,
        "findings/idempotent",
    )
    assert "durable_counts returned tuple" in str(error)


def test_conf_fixture_construction_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(seed: int) -> Any:
        raise ValueError(f"cannot build seed {seed}")

    monkeypatch.setattr(conf, "sample_fixture", broken)
    error = expect_failure(
        InMemoryDoneLedger(),
        InMemoryFindingsSink(),
        conf.FixtureConstruction,
        "done-ledger/idempotent",
    )
    assert error.case == "done-ledger/idempotent:fixture"
    assert (
        str(error)
        == "fixture construction failed for done-ledger/idempotent:fixture: cannot build seed 17"
    )


# --- must-fail: broken findings sinks (CONF-F1..F4) ---------------------------------------


def test_conf_f1_sink_that_double_counts_on_replay_is_caught() -> None:
    """FS-30/CONF-F1: a replay that adds rows breaks idempotence."""
    replays: list[FindingsUpsertBatch] = []

    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        replays.append(batch)
        return self.inner.upsert_batch(batch)

    def durable_counts(self: Wrapper) -> DurableFindingsCounts:
        real: DurableFindingsCounts = self.inner.durable_counts()
        extra = len(replays) - len(set(replays))
        return DurableFindingsCounts(real.findings + extra, real.occurrences, real.observations)

    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=upsert_batch, durable_counts=durable_counts),
        conf.FindingsInvariant,
        "findings/idempotent",
    )
    assert error.case == "findings/idempotent:replay"


def test_conf_f1_wrong_receipt_and_missing_rows_are_caught() -> None:
    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        self.inner.upsert_batch(batch).wait(timeout=1)
        return ReadyCommitHandle.ok(FindingsCommitReceipt(2, 1, 1))

    def frozen_counts(self: Wrapper) -> DurableFindingsCounts:
        return DurableFindingsCounts()

    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=upsert_batch),
        conf.FindingsInvariant,
        "findings/idempotent",
    )
    assert "expected receipt (1, 1, 1)" in str(error)
    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(durable_counts=frozen_counts),
        conf.FindingsInvariant,
        "findings/idempotent",
    )
    assert "expected durable delta (1, 1, 1)" in str(error)


def _swallow_orphans(layer: str) -> Callable[[Wrapper, FindingsUpsertBatch], Any]:
    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        orphan = not batch.findings if layer == "occurrence" else not batch.occurrences
        if orphan and batch.total_records() == 1:
            return ReadyCommitHandle.ok(FindingsCommitReceipt(0, 0, 0))
        return self.inner.upsert_batch(batch)

    return upsert_batch


def test_conf_f2_sink_that_accepts_an_orphan_occurrence_is_caught() -> None:
    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=_swallow_orphans("occurrence")),
        conf.FindingsInvariant,
        "findings/missing-finding",
    )
    assert "an invalid batch was durably accepted" in str(error)


def test_conf_f3_sink_that_accepts_an_orphan_observation_is_caught() -> None:
    """CONF-8 (contracts.md §11): an observation without its occurrence must fail."""
    expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=_swallow_orphans("observation")),
        conf.FindingsInvariant,
        "findings/missing-occurrence",
    )


def test_conf_f2_rejected_batch_that_leaves_rows_is_caught() -> None:
    """FS-30 item 4: a rejected orphan batch must leave no partial rows."""

    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        if batch.occurrences and not batch.findings:
            fx = sample_fixture(0x55)
            self.inner.upsert_batch(FindingsUpsertBatch((fx.finding,))).wait(timeout=1)
            raise RuntimeError("partial write, then failure")
        return self.inner.upsert_batch(batch)

    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=upsert_batch),
        conf.FindingsInvariant,
        "findings/missing-finding",
    )
    assert "rejected orphan occurrence changed counts" in str(error)


def test_conf8_rejected_orphan_observation_that_leaves_rows_is_caught() -> None:
    """CONF-8 (contracts.md §11): the failure must also leave the durable counts unchanged;
    a sink that writes a row before failing the orphan observation is caught."""

    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        if batch.observations and not batch.occurrences:
            fx = sample_fixture(0x77)
            self.inner.upsert_batch(FindingsUpsertBatch((fx.finding,))).wait(timeout=1)
            raise RuntimeError("partial write, then failure")
        return self.inner.upsert_batch(batch)

    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=upsert_batch),
        conf.FindingsInvariant,
        "findings/missing-occurrence",
    )
    assert "rejected orphan observation changed counts" in str(error)


def test_conf_f4_observation_resend_that_adds_a_row_is_caught() -> None:
    """BE-6/CONF-F4, CONF-9 (contracts.md §11): the observation re-sent with
    ``seen_at + 1000`` must leave the observation count unchanged."""
    seen: dict[Any, set[Any]] = {}

    def upsert_batch(self: Wrapper, batch: FindingsUpsertBatch) -> Any:
        if batch.findings:  # only complete batches are ever durable
            for obs in batch.observations:
                seen.setdefault(obs.observation_id, set()).add(obs.seen_at)
        return self.inner.upsert_batch(batch)

    def durable_counts(self: Wrapper) -> DurableFindingsCounts:
        real: DurableFindingsCounts = self.inner.durable_counts()
        extra = sum(len(times) - 1 for times in seen.values())
        return DurableFindingsCounts(real.findings, real.occurrences, real.observations + extra)

    error = expect_failure(
        InMemoryDoneLedger(),
        sink_with(upsert_batch=upsert_batch, durable_counts=durable_counts),
        conf.FindingsInvariant,
        "findings/observation-merge",
    )
    assert "observation count changed" in str(error)
    # The harness sent one observation twice, the second time 1000 ticks later.
    [times] = [t for t in seen.values() if len(t) > 1]
    first, second = sorted(int(t) for t in times)
    assert second == first + 1000


# --- dominance assertion (CONF-DL-A) --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"status": DoneLedgerStatus.SCANNED_CLEAN, "findings_count": 0}, "status ScannedClean"),
        (
            {"findings_count": 0, "status": DoneLedgerStatus.FAILED_PERMANENT},
            "status FailedPermanent",
        ),
        ({"bytes_scanned": 4095}, "bytes_scanned 4095 < 4096"),
    ],
)
def test_conf_dl_a_dominance_assertion_names_each_problem(
    changes: dict[str, Any], problem: str
) -> None:
    """CONF-DL-A: status, bytes and the status-aware findings minimum."""
    fx = sample_fixture(0x22)
    merged = fx.failed_record.merge(fx.scanned_record)
    if "status" in changes and not changes["status"].is_scanned():
        changes = {**changes, "error_code": fx.failed_record.error_code}
    actual = dataclasses.replace(merged, **changes)
    with pytest.raises(conf.DoneLedgerInvariant, match=problem):
        conf._assert_dominance("case:fetch", actual, fx)


def test_conf_dl_a_findings_minimum_for_unscanned_result_and_changed_key() -> None:
    fx = sample_fixture(0x22)
    other = sample_fixture(0x23)
    actual = dataclasses.replace(fx.failed_record, findings_count=0, key=other.key)
    with pytest.raises(conf.DoneLedgerInvariant) as caught:
        conf._assert_dominance("case:fetch", actual, fx)
    message = str(caught.value)
    assert "key changed" in message
    assert "findings_count 0 < 1" in message
    assert (
        conf._assert_dominance("case:fetch", fx.failed_record.merge(fx.scanned_record), fx) is None
    )


# --- redaction (CONF-R1..R3, RED-5) ----------------------------------------------------------

SECRET = bytes(range(0x40, 0x60))


@pytest.mark.parametrize(
    ("render", "fragment"),
    [
        (lambda raw: f"FindingRecord(secret={raw.hex()})", SECRET.hex()),
        (lambda raw: f"FindingRecord(secret={raw[:8].hex().upper()}..)", SECRET[:8].hex()),
        (
            lambda raw: f"FindingRecord(secret={base64.b64encode(raw).decode().rstrip('=')})",
            base64.b64encode(SECRET).decode().rstrip("="),
        ),
    ],
    ids=["hex", "hex-prefix-upper", "base64-unpadded"],
)
def test_red5_find_leak_catches_each_encoding(
    render: Callable[[bytes], str], fragment: str
) -> None:
    assert conf.find_leak(render(SECRET), SECRET) == fragment


def test_red5_find_leak_passes_redacted_and_prefix_free_output() -> None:
    assert conf.find_leak("SecretHash([redacted])", SECRET) is None
    # A 4-byte prefix is below the 8-byte threshold and is not a leak by RED-5.
    assert conf.find_leak(f"X({SECRET[:4].hex()}..)", SECRET) is None


@pytest.mark.parametrize(
    "leak",
    [
        lambda raw: raw.hex(),
        lambda raw: raw[:8].hex(),
        lambda raw: base64.b64encode(raw).decode().rstrip("="),
    ],
    ids=["hex", "hex-prefix", "base64-unpadded"],
)
def test_conf_r3_record_type_whose_repr_leaks_the_secret_is_caught(
    monkeypatch: pytest.MonkeyPatch, leak: Callable[[bytes], str]
) -> None:
    """CONF-R3: a FindingRecord rendering that leaks its secret hash fails the run."""

    def leaky_repr(self: FindingRecord) -> str:
        return f"FindingRecord(secret_hash={leak(bytes(self.secret_hash))})"

    monkeypatch.setattr(FindingRecord, "__repr__", leaky_repr)
    error = expect_failure(
        InMemoryDoneLedger(),
        InMemoryFindingsSink(),
        conf.RedactionLeak,
        "redaction/finding-record",
    )
    assert isinstance(error, conf.RedactionLeak)
    fx = sample_fixture(0x77)
    assert error.leaked_fragment == leak(bytes(fx.secret_hash))
    # The error never repeats the full output or fragment (CONF-4 open point).
    for text in (str(error), repr(error)):
        assert error.leaked_fragment not in text
        assert error.debug_output not in text
    assert str(error).startswith(
        "sensitive Debug output leaked raw bytes in redaction/finding-record:debug (fragment "
    )


@pytest.mark.parametrize(
    ("target", "case"),
    [(ident.NormHash, "redaction/norm-hash"), (ident.SecretHash, "redaction/secret-hash")],
)
def test_conf_r1_r2_restricted_types_that_leak_are_caught(
    monkeypatch: pytest.MonkeyPatch, target: type[Any], case: str
) -> None:
    monkeypatch.setattr(target, "__repr__", lambda self: bytes(self).hex())
    expect_failure(InMemoryDoneLedger(), InMemoryFindingsSink(), conf.RedactionLeak, case)


def _public_records() -> Iterable[object]:
    fx = sample_fixture(0x31)
    yield from (fx.finding, fx.occurrence, fx.observation, fx.key, fx.failed_record)
    yield from (fx.scanned_record, fx.findings_batch(), fx.scanned_record.write_context())
    yield fx.failed_record.provenance
    yield DoneLedgerCommitReceipt(1, 1, 1)
    yield FindingsCommitReceipt(1, 1, 1)


@pytest.mark.parametrize("value", list(_public_records()), ids=lambda v: type(v).__name__)
def test_red4_public_record_renderings_never_leak_the_secret(value: object) -> None:
    """RED-4/RED-5: every public record type renders without secret bytes."""
    fx = sample_fixture(0x31)
    for rendering in (repr(value), str(value)):
        assert conf.find_leak(rendering, bytes(fx.secret_hash)) is None
        assert conf.find_leak(rendering, bytes(fx.norm_hash)) is None


def _errors_carrying_secrets() -> Iterable[Exception]:
    fx = sample_fixture(0x32)
    obs = fx.observation
    yield errors.ObservationIdMismatch(obs.observation_id, ident.ObservationId.ZERO)
    yield errors.KeyMismatch(fx.key, sample_fixture(0x33).key)
    yield errors.InconsistentFindingsCount(DoneLedgerStatus.SCANNED_CLEAN, 3)
    yield inmemory_errors.FindingConflict(fx.tenant, fx.finding.finding_id)
    yield inmemory_errors.BatchValidation(errors.InconsistentTenant())
    yield conf.DoneLedgerInvariant("x:fetch", f"record {fx.finding!r} differs")
    yield conf.FindingsWait("x:wait", ValueError(repr(fx.finding)))


@pytest.mark.parametrize("error", list(_errors_carrying_secrets()), ids=lambda e: type(e).__name__)
def test_red5_error_messages_never_leak_a_secret_inside_a_finding_record(error: Exception) -> None:
    """RED-4/RED-5: a secret hash inside a record inside an error stays redacted."""
    fx = sample_fixture(0x32)
    for rendering in (str(error), repr(error)):
        assert conf.find_leak(rendering, bytes(fx.secret_hash)) is None


# --- types (CONF-1, CONF-3, CONF-6) -----------------------------------------------------------


def test_conf1_durable_counts_saturating_sub() -> None:
    counts = DurableFindingsCounts(5, 1, 0)
    assert counts.saturating_sub(DurableFindingsCounts(2, 4, 0)) == DurableFindingsCounts(3, 0, 0)
    assert DurableFindingsCounts() == DurableFindingsCounts(0, 0, 0)


def test_conf3_report_counts_and_total() -> None:
    report = PersistenceConformanceReport(1, 2, 3)
    assert report.total_checks() == 6
    assert (
        str(report) == "persistence conformance: 1 done-ledger, 2 findings, 3 redaction (6 total)"
    )


def test_conf6_fixture_follows_the_seed_rules() -> None:
    fx = sample_fixture(0x10)
    assert bytes(fx.tenant) == fill(0x10)
    assert bytes(fx.policy) == fill(0x11)
    assert fx.occurrence.byte_offset == 100 + 0x10
    assert fx.occurrence.byte_length == 32
    assert fx.failed_record.bytes_scanned > fx.scanned_record.bytes_scanned
    assert fx.failed_record.status is DoneLedgerStatus.FAILED_RETRYABLE
    assert int(fx.observation.seen_at) == 40_000 + 0x10
    assert fx.observation.location is not None
    assert fx.observation.location.display == "safe/path/conformance-16.txt"
    fx.findings_batch().validate_referential_integrity()
    assert sample_fixture(0x11).key != fx.key


@pytest.mark.parametrize("seed", [-1, 0xFA, 0x100])
def test_conf6_fixture_rejects_out_of_range_seeds(seed: int) -> None:
    with pytest.raises(ValueError, match="conformance fixture seed"):
        sample_fixture(seed)


def test_conf2_in_memory_sink_is_a_findings_conformance_probe() -> None:
    assert isinstance(InMemoryFindingsSink(), conf.FindingsConformanceProbe)
    assert not isinstance(DictLedger(), conf.FindingsConformanceProbe)
