"""Backend-agnostic conformance harness (inmemory.md §8, contracts.md §11, RED-5).

``run_conformance(done_ledger, findings_sink)`` runs five done-ledger checks,
four findings checks and three redaction checks, in that order, and raises at
the first failure. Each check derives its keys from its own seed byte
(CONF-6), so all checks can share one backend.

For pytest, ``conformance_cases()`` returns the twelve checks as named
callables; parametrize over them to get one test per check::

    @pytest.mark.parametrize("case", conformance_cases(), ids=str)
    def test_conformance(case):
        case.run(MyDoneLedger(), MyFindingsSink())

What ``run_conformance`` checks (contracts.md §11, unchanged from upstream):
idempotent done-ledger upserts and the exact first receipt (CONF-1), scan
dominating failure in both orders (status, bytes, findings count; CONF-2/3),
``batch_get`` for ``[present, absent]`` (CONF-4), ``list_done_hashes`` of one
scope (CONF-5), the first findings write and its replay by counts (CONF-6),
orphan occurrences and observations refused without new rows (CONF-7/8), an
observation re-sent later adding no row (CONF-9), and three redactions.

What it does NOT check: the merged provenance (a last-writer-wins ledger
passes), ``bytes_scanned`` beyond one pair, positional answers for longer or
duplicated ``batch_get`` lists, replay receipts, atomicity of mixed batches,
stored observation values (location, provenance), anything about delays,
releases or injected faults, concurrency and durability. The extended
battery (:func:`run_extended_conformance`, module
:mod:`gossip_model.persistence.conformance_extended`) covers all of those
but the last two; its docstring lists what it leaves out.

Choices where the spec leaves one open:

* Case labels (CONF-4) are ``suite/test:phase`` with the suites and phases the
  spec lists, e.g. ``done-ledger/terminal-keys:cross-policy``.
* The harness never blocks forever (issue 4, beyond CONF-5): every ``wait``
  gets ``wait_timeout`` seconds (default 5.0); a ``TimeoutError`` is reported
  as ``DoneLedgerWait`` / ``FindingsWait`` naming the case.
* ``RedactionLeak``'s message shows at most the first 8 characters of the
  leaked fragment; the full output and fragment are kept only as attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gossip_model.identity import (
    LogicalTime,
    NormHash,
    OvidHash,
    StableItemId,
)
from gossip_model.persistence.conformance_extended import (
    ExtendedCase,
    ExtendedConformanceReport,
    extended_conformance_cases,
    run_extended_conformance,
)
from gossip_model.persistence.conformance_fixture import (
    ConformanceFixture,
    fill32,
    ovid_for,
    sample_fixture,
    terminal_fixture,
)
from gossip_model.persistence.conformance_types import (
    DoneLedgerGet,
    DoneLedgerInvariant,
    DoneLedgerSubmit,
    DoneLedgerWait,
    FindingsConformanceProbe,
    FindingsInvariant,
    FindingsSubmit,
    FindingsWait,
    FixtureConstruction,
    PersistenceConformanceError,
    PersistenceConformanceReport,
    Probe,
    RedactionLeak,
    find_leak,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.done_ledger import (
    DoneLedger,
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.findings import (
    FindingsCommitReceipt,
    FindingsSink,
    FindingsUpsertBatch,
    ObservationRecord,
)

DEFAULT_WAIT_TIMEOUT = 5.0

# --- Steps (CONF-5) ------------------------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Target:
    """The backends under test and the harness's patience."""

    done_ledger: DoneLedger
    findings_sink: FindingsSink
    wait_timeout: float


def _fixture(case: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except Exception as error:
        raise FixtureConstruction(case, error) from error


def _submit_done(
    target: _Target, case: str, records: Sequence[DoneLedgerRecord]
) -> DoneLedgerCommitReceipt:
    try:
        handle = target.done_ledger.batch_upsert(list(records))
    except Exception as error:
        raise DoneLedgerSubmit(case, error) from error
    try:
        return handle.wait(timeout=target.wait_timeout)
    except Exception as error:
        raise DoneLedgerWait(case, error) from error


def _submit_findings(
    target: _Target, case: str, batch: FindingsUpsertBatch
) -> FindingsCommitReceipt:
    try:
        handle = target.findings_sink.upsert_batch(batch)
    except Exception as error:
        raise FindingsSubmit(case, error) from error
    try:
        return handle.wait(timeout=target.wait_timeout)
    except Exception as error:
        raise FindingsWait(case, error) from error


def _get(target: _Target, case: str, key: DoneLedgerKey, ovids: list[OvidHash]) -> list[Any]:
    try:
        return list(target.done_ledger.batch_get(key.tenant_id, key.policy_hash, ovids))
    except Exception as error:
        raise DoneLedgerGet(case, error) from error


def _get_single(target: _Target, case: str, key: DoneLedgerKey) -> DoneLedgerRecord:
    rows = _get(target, case, key, [key.ovid_hash])
    if len(rows) != 1:
        raise DoneLedgerInvariant(case, f"expected 1 result, got {len(rows)}")
    if rows[0] is None:
        raise DoneLedgerInvariant(case, "expected durable record, got None")
    row: DoneLedgerRecord = rows[0]
    return row


def _probe(target: _Target, case: str) -> DurableFindingsCounts:
    sink: Any = target.findings_sink
    try:
        counts = sink.durable_counts()
    except Exception as error:
        raise Probe(case, error) from error
    if not isinstance(counts, DurableFindingsCounts):
        raise Probe(case, TypeError(f"durable_counts returned {type(counts).__name__}"))
    return counts


def _expect_failure(target: _Target, case: str, batch: FindingsUpsertBatch) -> None:
    """CONF-5: the batch must fail at submit or at wait; any exception counts."""
    try:
        handle = target.findings_sink.upsert_batch(batch)
    except Exception:
        return
    try:
        handle.wait(timeout=target.wait_timeout)
    except Exception:
        return
    raise FindingsInvariant(case, "an invalid batch was durably accepted")


# --- Done-ledger checks (CONF-DL1..DL5) -------------------------------------------------


def _check_idempotent(target: _Target) -> None:
    """CONF-DL1: receipt (1, 1, 1); a replay leaves the stored record equal."""
    name = "done-ledger/idempotent"
    fx = _fixture(f"{name}:fixture", lambda: sample_fixture(0x11))
    receipt = _submit_done(target, f"{name}:first", [fx.scanned_record])
    if receipt != DoneLedgerCommitReceipt(1, 1, 1):
        raise DoneLedgerInvariant(f"{name}:first", f"expected receipt (1, 1, 1), got {receipt}")
    _submit_done(target, f"{name}:replay", [fx.scanned_record])
    stored = _get_single(target, f"{name}:fetch", fx.key)
    if stored != fx.scanned_record:
        raise DoneLedgerInvariant(
            f"{name}:fetch",
            f"replay changed the record: expected {fx.scanned_record}, got {stored}",
        )


def _assert_dominance(case: str, actual: DoneLedgerRecord, fx: ConformanceFixture) -> None:
    """CONF-DL-A: scanned, max bytes, status-aware count; provenance not checked."""
    failed, scanned = fx.failed_record, fx.scanned_record
    problems = []
    if actual.key != fx.key:
        problems.append(f"key changed to {actual.key}")
    if not actual.status.is_scanned() or actual.status.rank < scanned.status.rank:
        problems.append(f"status {actual.status.variant_name} is below ScannedWithFindings")
    max_bytes = max(failed.bytes_scanned, scanned.bytes_scanned)
    if actual.bytes_scanned < max_bytes:
        problems.append(f"bytes_scanned {actual.bytes_scanned} < {max_bytes}")
    if actual.status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        swf = [
            r.findings_count
            for r in (failed, scanned)
            if r.status is DoneLedgerStatus.SCANNED_WITH_FINDINGS
        ]
        minimum = max([*swf, 1])
    elif actual.status is DoneLedgerStatus.SCANNED_CLEAN:
        minimum = 0
    else:
        minimum = max(failed.findings_count, scanned.findings_count)
    if actual.findings_count < minimum:
        problems.append(f"findings_count {actual.findings_count} < {minimum}")
    if problems:
        raise DoneLedgerInvariant(case, "; ".join(problems))


def _check_fail_then_scan(target: _Target) -> None:
    """CONF-DL2: a failure followed by a scan leaves the dominant merged record."""
    name = "done-ledger/fail-then-scan"
    fx = _fixture(f"{name}:fixture", lambda: sample_fixture(0x22))
    _submit_done(target, f"{name}:first", [fx.failed_record])
    _submit_done(target, f"{name}:replay", [fx.scanned_record])
    _assert_dominance(f"{name}:fetch", _get_single(target, f"{name}:fetch", fx.key), fx)


def _check_scan_then_fail(target: _Target) -> None:
    """CONF-DL3: a scan followed by a failure is never downgraded."""
    name = "done-ledger/scan-then-fail"
    fx = _fixture(f"{name}:fixture", lambda: sample_fixture(0x33))
    _submit_done(target, f"{name}:first", [fx.scanned_record])
    _submit_done(target, f"{name}:replay", [fx.failed_record])
    _assert_dominance(f"{name}:fetch", _get_single(target, f"{name}:fetch", fx.key), fx)


def _check_batch_get_positional(target: _Target) -> None:
    """CONF-DL4: ``batch_get([present, absent])`` is ``[record, None]``."""
    name = "done-ledger/batch-get-positional"

    def build() -> tuple[ConformanceFixture, OvidHash]:
        fx = sample_fixture(0xAA)
        return fx, ovid_for(StableItemId(fill32(0xAA + 20)), "conformance-absent-version")

    fx, absent = _fixture(f"{name}:fixture", build)
    _submit_done(target, f"{name}:submit", [fx.scanned_record])
    rows = _get(target, f"{name}:fetch", fx.key, [fx.ovid_hash, absent])
    if len(rows) != 2 or rows[0] is None or rows[1] is not None:
        shape = [None if row is None else "record" for row in rows]
        raise DoneLedgerInvariant(
            f"{name}:fetch", f"expected [record, None] for [present, absent], got {shape}"
        )


def _check_terminal_keys(target: _Target) -> None:
    """CONF-DL5: ``list_done_hashes`` lists each terminal key of the scope once."""
    name = "done-ledger/terminal-keys"
    tf = _fixture(f"{name}:fixture", terminal_fixture)
    _submit_done(target, f"{name}:submit", [tf.fx.scanned_record, *tf.rows])

    def check_listing(phase: str) -> None:
        case = f"{name}:{phase}"
        try:
            hashes = list(target.done_ledger.list_done_hashes(tf.fx.tenant, tf.fx.policy))
        except Exception as error:
            raise DoneLedgerGet(case, error) from error
        # The raw length is checked before the set, so duplicates are caught.
        if len(hashes) != len(tf.expected) or set(hashes) != tf.expected:
            raise DoneLedgerInvariant(
                case,
                f"expected the {len(tf.expected)} terminal hashes of the scope, got "
                f"{len(hashes)} entries ({len(set(hashes) - tf.expected)} unexpected, "
                f"{len(tf.expected - set(hashes))} missing)",
            )

    check_listing("list")
    _submit_done(target, f"{name}:cross-tenant", [tf.cross_tenant])
    check_listing("cross-tenant")
    _submit_done(target, f"{name}:cross-policy", [tf.cross_policy])
    check_listing("cross-policy")


# --- Findings checks (CONF-F1..F4) -----------------------------------------------------


def _check_findings_idempotent(target: _Target) -> None:
    """CONF-F1: first write (1, 1, 1) in receipt and counts; a replay adds no row."""
    name = "findings/idempotent"
    fx = _fixture(f"{name}:fixture", lambda: sample_fixture(0x44))
    before = _probe(target, f"{name}:probe")
    receipt = _submit_findings(target, f"{name}:first", fx.findings_batch())
    if receipt != FindingsCommitReceipt(1, 1, 1):
        raise FindingsInvariant(f"{name}:first", f"expected receipt (1, 1, 1), got {receipt}")
    after_first = _probe(target, f"{name}:probe")
    delta = after_first.saturating_sub(before)
    if delta != DurableFindingsCounts(1, 1, 1):
        raise FindingsInvariant(f"{name}:first", f"expected durable delta (1, 1, 1), got {delta}")
    _submit_findings(target, f"{name}:replay", fx.findings_batch())
    after_replay = _probe(target, f"{name}:probe")
    if after_replay != after_first:
        raise FindingsInvariant(
            f"{name}:replay", f"replay changed durable counts: {after_first} -> {after_replay}"
        )


def _check_orphan(target: _Target, name: str, seed: int, layer: str) -> None:
    fx = _fixture(f"{name}:fixture", lambda: sample_fixture(seed))
    batch = (
        FindingsUpsertBatch(occurrences=(fx.occurrence,))
        if layer == "occurrence"
        else FindingsUpsertBatch(observations=(fx.observation,))
    )
    before = _probe(target, f"{name}:probe")
    _expect_failure(target, f"{name}:submit", batch)
    after = _probe(target, f"{name}:probe")
    if after != before:
        raise FindingsInvariant(
            f"{name}:probe", f"a rejected orphan {layer} changed counts: {before} -> {after}"
        )


def _check_missing_finding(target: _Target) -> None:
    """CONF-F2: an occurrence without its finding fails and leaves no rows."""
    _check_orphan(target, "findings/missing-finding", 0x55, "occurrence")


def _check_missing_occurrence(target: _Target) -> None:
    """CONF-F3: an observation without its occurrence fails and leaves no rows."""
    _check_orphan(target, "findings/missing-occurrence", 0x66, "observation")


def _check_observation_merge(target: _Target) -> None:
    """CONF-F4: re-sending an observation with a later ``seen_at`` adds no row (BE-6)."""
    name = "findings/observation-merge"

    def build() -> tuple[ConformanceFixture, ObservationRecord]:
        fx = sample_fixture(0x88)
        obs = fx.observation
        later = ObservationRecord(
            obs.tenant_id,
            obs.observation_id,
            obs.occurrence_id,
            obs.policy_hash,
            obs.ovid_hash,
            obs.run_id,
            obs.shard_id,
            obs.fence_epoch,
            LogicalTime(obs.seen_at.value + 1000),
        )
        return fx, later

    fx, later = _fixture(f"{name}:fixture", build)
    _submit_findings(target, f"{name}:first", fx.findings_batch())
    after_first = _probe(target, f"{name}:probe")
    batch = FindingsUpsertBatch((fx.finding,), (fx.occurrence,), (later,))
    _submit_findings(target, f"{name}:replay", batch)
    after_merge = _probe(target, f"{name}:probe")
    if after_merge.observations != after_first.observations:
        raise FindingsInvariant(
            f"{name}:replay",
            f"observation count changed {after_first.observations} -> {after_merge.observations}",
        )


# --- Redaction checks (CONF-R1..R3, RED-5) -------------------------------------------------


def check_redacted(case: str, rendering: str, raw: bytes) -> None:
    """RED-5: raise ``RedactionLeak`` when ``rendering`` reveals ``raw``."""
    fragment = find_leak(rendering, raw)
    if fragment is not None:
        raise RedactionLeak(case, rendering, fragment)


def _check_norm_hash(target: _Target) -> None:
    """CONF-R1: a NormHash renders without its bytes."""
    raw = bytes([0xE7]) * 32
    norm = _fixture("redaction/norm-hash:fixture", lambda: NormHash.from_digest(raw))
    check_redacted("redaction/norm-hash:debug", repr(norm), raw)


def _check_secret_hash(target: _Target) -> None:
    """CONF-R2: a SecretHash renders without its bytes."""
    fx = _fixture("redaction/secret-hash:fixture", lambda: sample_fixture(0x77))
    check_redacted("redaction/secret-hash:debug", repr(fx.secret_hash), bytes(fx.secret_hash))


def _check_finding_record(target: _Target) -> None:
    """CONF-R3: a FindingRecord renders without its secret-hash bytes."""
    fx = _fixture("redaction/finding-record:fixture", lambda: sample_fixture(0x77))
    check_redacted("redaction/finding-record:debug", repr(fx.finding), bytes(fx.secret_hash))


# --- Cases and the runner (CONF-7) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConformanceCase:
    """One named check; ``run`` raises ``PersistenceConformanceError`` on failure."""

    name: str
    family: str
    check: Callable[[_Target], None]

    def run(
        self,
        done_ledger: DoneLedger,
        findings_sink: FindingsSink,
        *,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self.check(_Target(done_ledger, findings_sink, wait_timeout))

    def __str__(self) -> str:
        return self.name


_CASES = (
    ConformanceCase("done-ledger/idempotent", "done_ledger", _check_idempotent),
    ConformanceCase("done-ledger/fail-then-scan", "done_ledger", _check_fail_then_scan),
    ConformanceCase("done-ledger/scan-then-fail", "done_ledger", _check_scan_then_fail),
    ConformanceCase(
        "done-ledger/batch-get-positional", "done_ledger", _check_batch_get_positional
    ),
    ConformanceCase("done-ledger/terminal-keys", "done_ledger", _check_terminal_keys),
    ConformanceCase("findings/idempotent", "findings", _check_findings_idempotent),
    ConformanceCase("findings/missing-finding", "findings", _check_missing_finding),
    ConformanceCase("findings/missing-occurrence", "findings", _check_missing_occurrence),
    ConformanceCase("findings/observation-merge", "findings", _check_observation_merge),
    ConformanceCase("redaction/norm-hash", "redaction", _check_norm_hash),
    ConformanceCase("redaction/secret-hash", "redaction", _check_secret_hash),
    ConformanceCase("redaction/finding-record", "redaction", _check_finding_record),
)


def conformance_cases() -> tuple[ConformanceCase, ...]:
    """The twelve checks in CONF-7 order, for ``pytest.mark.parametrize``."""
    return _CASES


def run_conformance(
    done_ledger: DoneLedger,
    findings_sink: FindingsSink,
    *,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
) -> PersistenceConformanceReport:
    """CONF-7: run all checks in order; the first failure raises and stops the run.

    ``findings_sink`` must also offer ``durable_counts()`` (CONF-2). Stores must
    complete writes on their own (auto-complete): a write still pending after
    ``wait_timeout`` seconds fails its case.
    """
    report = PersistenceConformanceReport()
    for case in _CASES:
        case.run(done_ledger, findings_sink, wait_timeout=wait_timeout)
        field = f"{case.family}_checks"
        setattr(report, field, getattr(report, field) + 1)
    return report


__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "ConformanceCase",
    "ConformanceFixture",
    "DoneLedgerGet",
    "DoneLedgerInvariant",
    "DoneLedgerSubmit",
    "DoneLedgerWait",
    "DurableFindingsCounts",
    "ExtendedCase",
    "ExtendedConformanceReport",
    "FindingsConformanceProbe",
    "FindingsInvariant",
    "FindingsSubmit",
    "FindingsWait",
    "FixtureConstruction",
    "PersistenceConformanceError",
    "PersistenceConformanceReport",
    "Probe",
    "RedactionLeak",
    "check_redacted",
    "conformance_cases",
    "extended_conformance_cases",
    "find_leak",
    "run_conformance",
    "run_extended_conformance",
    "sample_fixture",
]
