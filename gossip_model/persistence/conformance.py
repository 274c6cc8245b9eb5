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

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from gossip_model.identity import (
    FenceEpoch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    SecretHash,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.done_ledger import (
    DoneLedger,
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
)
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsSink,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.persistence.location import Location
from gossip_model.persistence.ovid import OvidHashInputs, VersionId, derive_ovid_hash

DEFAULT_WAIT_TIMEOUT = 5.0
_MAX_SEED = 0xF9

# --- Types (CONF-1..CONF-4) ----------------------------------------------------------


@runtime_checkable
class FindingsConformanceProbe(Protocol):
    """CONF-2: test-only view of durable row counts, reflecting every acknowledged write."""

    def durable_counts(self) -> DurableFindingsCounts: ...


@dataclass(slots=True)
class PersistenceConformanceReport:
    """CONF-3: how many checks of each family passed."""

    done_ledger_checks: int = 0
    findings_checks: int = 0
    redaction_checks: int = 0

    def total_checks(self) -> int:
        return self.done_ledger_checks + self.findings_checks + self.redaction_checks

    def __str__(self) -> str:
        return (
            f"persistence conformance: {self.done_ledger_checks} done-ledger, "
            f"{self.findings_checks} findings, {self.redaction_checks} redaction "
            f"({self.total_checks()} total)"
        )


class PersistenceConformanceError(Exception):
    """CONF-4: a failed check; ``case`` is the ``suite/test:phase`` label."""

    def __init__(self, case: str, message: str) -> None:
        super().__init__(message)
        self.case = case


class _Operational(PersistenceConformanceError):
    """The backend raised: ``source`` is its exception, also set as ``__cause__``."""

    _template = "{case}: {source}"

    def __init__(self, case: str, source: BaseException) -> None:
        super().__init__(case, self._template.format(case=case, source=source))
        self.source = source
        self.__cause__ = source


class FixtureConstruction(_Operational):
    _template = "fixture construction failed for {case}: {source}"


class DoneLedgerSubmit(_Operational):
    _template = "done-ledger submission failed in {case}: {source}"


class DoneLedgerWait(_Operational):
    _template = "done-ledger wait failed in {case}: {source}"


class DoneLedgerGet(_Operational):
    _template = "done-ledger lookup failed in {case}: {source}"


class FindingsSubmit(_Operational):
    _template = "findings submission failed in {case}: {source}"


class FindingsWait(_Operational):
    _template = "findings wait failed in {case}: {source}"


class Probe(_Operational):
    _template = "findings probe failed in {case}: {source}"


class _Invariant(PersistenceConformanceError):
    """The backend answered, but wrongly: ``message`` says how."""

    _template = "{case}: {message}"

    def __init__(self, case: str, message: str) -> None:
        super().__init__(case, self._template.format(case=case, message=message))
        self.message = message


class DoneLedgerInvariant(_Invariant):
    _template = "done-ledger invariant failed in {case}: {message}"


class FindingsInvariant(_Invariant):
    _template = "findings invariant failed in {case}: {message}"


class RedactionLeak(PersistenceConformanceError):
    """A rendering revealed sensitive bytes; the message never repeats them in full."""

    def __init__(self, case: str, debug_output: str, leaked_fragment: str) -> None:
        shown = leaked_fragment[:8] + ("..." if len(leaked_fragment) > 8 else "")
        super().__init__(
            case, f"sensitive Debug output leaked raw bytes in {case} (fragment {shown})"
        )
        self.debug_output = debug_output
        self.leaked_fragment = leaked_fragment

    def __repr__(self) -> str:
        return f"RedactionLeak(case={self.case!r})"


def find_leak(rendering: str, raw: bytes) -> str | None:
    """RED-5: the fragment of ``raw`` that ``rendering`` reveals, or ``None``.

    Checks the full lowercase hex, the 8-byte hex prefix, then the unpadded
    standard base64 (case-sensitive, only when at least 4 characters long).
    """
    lowered = rendering.lower()
    for fragment in (raw.hex(), raw[:8].hex()):
        if fragment in lowered:
            return fragment
    encoded = base64.b64encode(raw).decode("ascii").rstrip("=")
    if len(encoded) >= 4 and encoded in rendering:
        return encoded
    return None


# --- Fixture (CONF-6) ---------------------------------------------------------------------


def _fill32(byte: int) -> bytes:
    return bytes([byte]) * 32


def _ovid(stable_item: StableItemId, version_text: str) -> OvidHash:
    version = ObjectVersionId.from_version_bytes(version_text.encode("ascii"))
    return derive_ovid_hash(OvidHashInputs(stable_item, VersionId.strong(version)))


def _provenance(
    run: int, shard: int, epoch: int, started: int, finished: int
) -> DoneLedgerProvenance:
    return DoneLedgerProvenance(
        RunId(run), ShardId(shard), FenceEpoch(epoch), LogicalTime(started), LogicalTime(finished)
    )


@dataclass(frozen=True, slots=True)
class ConformanceFixture:
    """CONF-6: every value one check needs, derived from one seed byte."""

    seed: int
    tenant: TenantId
    policy: PolicyHash
    stable_item: StableItemId
    rule: RuleFingerprint
    norm_hash: NormHash
    secret_hash: SecretHash
    finding: FindingRecord
    occurrence: OccurrenceRecord
    observation: ObservationRecord
    ovid_hash: OvidHash
    key: DoneLedgerKey
    failed_record: DoneLedgerRecord
    scanned_record: DoneLedgerRecord

    def findings_batch(self) -> FindingsUpsertBatch:
        """One finding, its occurrence and its observation."""
        return FindingsUpsertBatch((self.finding,), (self.occurrence,), (self.observation,))


def sample_fixture(seed: int) -> ConformanceFixture:
    """CONF-6: build the fixture for ``seed`` (at most 0xF9, else ``ValueError``)."""
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"conformance fixture seed must be in 0..={_MAX_SEED:#x}, got {seed}")
    s = seed
    tenant = TenantId(_fill32(s))
    policy = PolicyHash(_fill32(s + 1))
    stable_item = StableItemId(_fill32(s + 2))
    rule = RuleFingerprint(_fill32(s + 3))
    norm_hash = NormHash.from_digest(_fill32(s + 5))
    secret_hash = key_secret_hash(TenantSecretKey(_fill32(s + 4)), norm_hash)
    finding = FindingRecord.new(tenant, stable_item, rule, secret_hash)
    version = ObjectVersionId.from_version_bytes(f"conformance-version-{s}".encode("ascii"))
    occurrence = OccurrenceRecord.new(tenant, finding.finding_id, version, 100 + s, 32)
    ovid_hash = derive_ovid_hash(OvidHashInputs(stable_item, VersionId.strong(version)))
    observation = ObservationRecord.new(
        tenant,
        occurrence.occurrence_id,
        policy,
        ovid_hash,
        RunId(10_000 + s),
        ShardId(20_000 + s),
        FenceEpoch(30_000 + s),
        LogicalTime(40_000 + s),
        Location(f"safe/path/conformance-{s}.txt", f"https://example.invalid/conformance/{s}"),
    )
    key = DoneLedgerKey(tenant, policy, ovid_hash)
    failed = DoneLedgerRecord(
        key,
        DoneLedgerStatus.FAILED_RETRYABLE,
        4_096,
        1,
        _provenance(50_000 + s, 60_000 + s, 70_000 + s, 80_000 + s, 80_010 + s),
        DoneLedgerErrorCode("TIMEOUT"),
    )
    scanned = DoneLedgerRecord(
        key,
        DoneLedgerStatus.SCANNED_WITH_FINDINGS,
        2_048,
        1,
        _provenance(50_100 + s, 60_100 + s, 70_100 + s, 80_100 + s, 80_110 + s),
    )
    return ConformanceFixture(
        s,
        tenant,
        policy,
        stable_item,
        rule,
        norm_hash,
        secret_hash,
        finding,
        occurrence,
        observation,
        ovid_hash,
        key,
        failed,
        scanned,
    )


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
        return fx, _ovid(StableItemId(_fill32(0xAA + 20)), "conformance-absent-version")

    fx, absent = _fixture(f"{name}:fixture", build)
    _submit_done(target, f"{name}:submit", [fx.scanned_record])
    rows = _get(target, f"{name}:fetch", fx.key, [fx.ovid_hash, absent])
    if len(rows) != 2 or rows[0] is None or rows[1] is not None:
        shape = [None if row is None else "record" for row in rows]
        raise DoneLedgerInvariant(
            f"{name}:fetch", f"expected [record, None] for [present, absent], got {shape}"
        )


@dataclass(frozen=True, slots=True)
class _TerminalFixture:
    fx: ConformanceFixture
    rows: tuple[DoneLedgerRecord, ...]
    expected: frozenset[OvidHash]
    cross_tenant: DoneLedgerRecord
    cross_policy: DoneLedgerRecord


def _terminal_fixture() -> _TerminalFixture:
    fx = sample_fixture(0xBB)
    specs = (
        (
            DoneLedgerStatus.FAILED_RETRYABLE,
            512,
            (33, 34, 35, 36, 37),
            "TEMP_RETRYABLE",
            "conformance-retryable-version",
        ),
        (
            DoneLedgerStatus.FAILED_PERMANENT,
            1_024,
            (40, 41, 42, 43, 44),
            "PERM_FAILURE",
            "conformance-failed-permanent-version",
        ),
        (
            DoneLedgerStatus.SKIPPED,
            512,
            (50, 51, 52, 53, 54),
            "UNSUPPORTED_FORMAT",
            "conformance-skipped-version",
        ),
        (
            DoneLedgerStatus.SCANNED_CLEAN,
            2_048,
            (60, 61, 62, 63, 64),
            None,
            "conformance-scanned-clean-version",
        ),
    )
    rows = []
    for offset, (status, size, prov, code, version) in enumerate(specs):
        key = DoneLedgerKey(
            fx.tenant, fx.policy, _ovid(StableItemId(_fill32(0xBB + 20 + offset)), version)
        )
        error_code = DoneLedgerErrorCode(code) if code is not None else None
        rows.append(DoneLedgerRecord(key, status, size, 0, _provenance(*prov), error_code))
    expected = frozenset(
        [fx.ovid_hash, *(r.key.ovid_hash for r in rows if r.status.is_terminal())]
    )

    def scanned_clean(
        tenant: TenantId,
        policy: PolicyHash,
        item: int,
        version: str,
        prov: tuple[int, int, int, int, int],
    ) -> DoneLedgerRecord:
        key = DoneLedgerKey(tenant, policy, _ovid(StableItemId(_fill32(item)), version))
        return DoneLedgerRecord(key, DoneLedgerStatus.SCANNED_CLEAN, 256, 0, _provenance(*prov))

    cross_tenant = scanned_clean(
        TenantId(_fill32(0xBB + 30)),
        fx.policy,
        0xBB + 31,
        "conformance-cross-tenant-version",
        (70, 71, 72, 73, 74),
    )
    cross_policy = scanned_clean(
        fx.tenant,
        PolicyHash(_fill32(0xBB + 32)),
        0xBB + 33,
        "conformance-cross-policy-version",
        (80, 81, 82, 83, 84),
    )
    return _TerminalFixture(fx, tuple(rows), expected, cross_tenant, cross_policy)


def _check_terminal_keys(target: _Target) -> None:
    """CONF-DL5: ``list_done_hashes`` lists each terminal key of the scope once."""
    name = "done-ledger/terminal-keys"
    tf = _fixture(f"{name}:fixture", _terminal_fixture)
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
    "find_leak",
    "run_conformance",
    "sample_fixture",
]
