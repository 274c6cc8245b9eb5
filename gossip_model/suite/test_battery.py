"""The battery items (see the package docstring); run with ``pytest --pyargs gossip_model.suite``.

Sizes (chosen small so the battery takes about a minute on two cores for
the in-memory stores; ``--gossip-scale`` multiplies them): machines 25
examples of at most 40 steps (``--hypothesis-profile=gossip-thorough``: that
profile's example count), differential 4 seeds x 25 batches, stormy sweep 4
seeds x 300 operations.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.persistence import (
    DoneLedgerErrorCode,
    DoneLedgerKey,
    DoneLedgerProvenance,
    DoneLedgerRecord,
    DoneLedgerStatus,
    FenceEpoch,
    FindingRecord,
    FindingsUpsertBatch,
    LogicalTime,
    NormHash,
    ObjectVersionId,
    ObservationRecord,
    OccurrenceRecord,
    OvidHash,
    PolicyHash,
    RuleFingerprint,
    RunId,
    ShardId,
    StableItemId,
    TenantId,
    TenantSecretKey,
    key_secret_hash,
)
from gossip_model.persistence.conformance import conformance_cases, extended_conformance_cases

Factory = Callable[[], Any]

MACHINE_EXAMPLES = 25
MACHINE_STEPS = 40
DIFFERENTIAL_SEEDS = (0, 1, 2, 3)
DIFFERENTIAL_BATCHES = 25
SWEEP_SEEDS = (0, 1, 2, 3)
SWEEP_OPS = 300

LEDGER_SURFACE = (
    "batch_upsert", "batch_get", "get_record", "snapshot", "list_done_hashes",
    "count_done_hashes",
)  # fmt: skip
PROTOCOL_SURFACE = ("batch_upsert", "batch_get", "list_done_hashes", "count_done_hashes")
"""A plain DoneLedger: the protocol's operations, no snapshot and no controls."""
PLAIN_LEFT_OUT = "delays, releases, fault injection, snapshot() and get_record()"
SINK_SURFACE = (
    "upsert_batch", "findings_snapshot", "occurrences_snapshot", "observations_snapshot",
    "get_finding", "get_occurrence", "get_observation", "durable_counts",
)  # fmt: skip
CONTROL_SURFACE = (
    "set_auto_complete", "delay_next_writes", "fail_next_submissions", "fail_next_commits",
    "release_next", "release_specific", "release_all", "pending_count", "pending_ids",
)  # fmt: skip


def _missing(store: object, names: Sequence[str]) -> list[str]:
    return [n for n in names if not callable(getattr(store, n, None))]


def _require(store: object, names: Sequence[str], what: str) -> None:
    missing = _missing(store, names)
    if missing:
        pytest.skip(f"{what} skipped: {type(store).__name__} lacks {', '.join(missing)}")


def _cases(family: str) -> list[Any]:
    return [case for case in conformance_cases() if case.family == family]


def _extended(store: str) -> list[Any]:
    return [case for case in extended_conformance_cases() if case.store == store]


# --- conformance (run_conformance's twelve cases) ---------------------------------------------


@pytest.mark.parametrize("case", _cases("done_ledger"), ids=str)
def test_conformance_done_ledger(case: Any, gossip_ledger_factory: Factory) -> None:
    """CONF-1..CONF-5 on a fresh ledger (no findings sink involved)."""
    case.run(gossip_ledger_factory(), None)


@pytest.mark.parametrize("case", _cases("findings"), ids=str)
def test_conformance_findings(case: Any, gossip_sink_factory: Factory) -> None:
    """CONF-6..CONF-9 on a fresh sink (no done ledger involved)."""
    case.run(None, gossip_sink_factory())


@pytest.mark.parametrize("case", _cases("redaction"), ids=str)
def test_conformance_redaction(case: Any, pytestconfig: pytest.Config) -> None:
    """RED-5: the redaction checks (they involve no store; run when any store is given)."""
    if not (pytestconfig.getoption("--gossip-ledger") or pytestconfig.getoption("--gossip-sink")):
        pytest.skip("no --gossip-ledger / --gossip-sink given")
    case.run(None, None)


# --- extended conformance ----------------------------------------------------------------------


@pytest.mark.parametrize("case", _extended("done_ledger"), ids=str)
def test_extended_done_ledger(case: Any, gossip_ledger_factory: Factory) -> None:
    """The extended done-ledger checks on a fresh ledger."""
    store = gossip_ledger_factory()
    _require(store, case.needs, case.name)
    case.run(done_ledger=store)


@pytest.mark.parametrize("case", _extended("findings_sink"), ids=str)
def test_extended_findings(case: Any, gossip_sink_factory: Factory) -> None:
    """The extended findings checks on a fresh sink."""
    store = gossip_sink_factory()
    _require(store, case.needs, case.name)
    case.run(findings_sink=store)


# --- state machines --------------------------------------------------------------------------


def _machine_settings(scale: float) -> settings:
    base = settings()  # the active profile's values
    examples = base.max_examples
    if getattr(settings, "_current_profile", None) != "gossip-thorough":
        examples = min(examples, MACHINE_EXAMPLES)
    return settings(
        base,
        max_examples=max(1, round(examples * scale)),
        stateful_step_count=max(5, round(MACHINE_STEPS * min(scale, 4))),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def _machine(module: str, name: str) -> Any:
    """``gossip_model.rules.<module>.<name>`` where installed, else ``rules.<module>.<name>``.

    The package-qualified name cannot be shadowed by a user project's own
    ``rules`` package; the top-level one is where the machines live today.
    """
    try:
        found = importlib.import_module(f"gossip_model.rules.{module}")
    except ImportError:
        found = importlib.import_module(f"rules.{module}")
    return getattr(found, name)


def test_done_ledger_machine(gossip_ledger_factory: Factory, gossip_scale: float) -> None:
    """rules.done_ledger.DoneLedgerMachine with the store built by the factory (HYP-2).

    A plain DoneLedger (the protocol's operations only) is skipped here, the
    note naming what is left out for it; ``test_protocol_done_ledger_machine``
    checks its operations instead."""
    store = gossip_ledger_factory()
    missing = _missing(store, LEDGER_SURFACE + CONTROL_SURFACE)
    if missing and not _missing(store, PROTOCOL_SURFACE):
        pytest.skip(
            f"the state machine skipped: {type(store).__name__} lacks {', '.join(missing)}; "
            f"left out for this store: {PLAIN_LEFT_OUT} (test_protocol_done_ledger_machine "
            "checks writes, replays, invalid batches and reads through the protocol's operations)"
        )
    _require(store, LEDGER_SURFACE + CONTROL_SURFACE, "the state machine")
    base = _machine("done_ledger", "DoneLedgerMachine")
    # A subclass overriding the one method that builds the store (HYP-2).
    machine = type(
        "UserLedgerMachine", (base,), {"make_ledger": lambda self: gossip_ledger_factory()}
    )

    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        machine, settings=_machine_settings(gossip_scale)
    )


def test_protocol_done_ledger_machine(gossip_ledger_factory: Factory, gossip_scale: float) -> None:
    """rules.plain_done_ledger.PlainDoneLedgerMachine: any DoneLedger, through the protocol's
    operations only (writes waited at once, batch_get, list/count_done_hashes; DL-3..DL-15)."""
    _require(gossip_ledger_factory(), PROTOCOL_SURFACE, "the protocol state machine")
    base = _machine("plain_done_ledger", "PlainDoneLedgerMachine")
    machine = type(
        "UserPlainLedgerMachine", (base,), {"make_ledger": lambda self: gossip_ledger_factory()}
    )

    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        machine, settings=_machine_settings(gossip_scale)
    )


def test_findings_machine(gossip_sink_factory: Factory, gossip_scale: float) -> None:
    """rules.findings.FindingsSinkMachine with the store built by the factory (HYP-2)."""
    _require(gossip_sink_factory(), SINK_SURFACE + CONTROL_SURFACE, "the state machine")
    base = _machine("findings", "FindingsSinkMachine")
    build = {"make_sink": lambda self: gossip_sink_factory()}
    machine = type("UserSinkMachine", (base,), build)

    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        machine, settings=_machine_settings(gossip_scale)
    )


# --- differential runs against the in-memory reference ---------------------------------------


def _outcome(write: Callable[[Any], Any], payload: Any) -> tuple[str, Any]:
    """``("ok", receipt)`` or ``("refused", None)``: error types may differ between backends."""
    try:
        return "ok", write(payload).wait(timeout=5.0)
    except Exception:
        return "refused", None


def _ledger_record(rng: random.Random, keys: Sequence[DoneLedgerKey]) -> DoneLedgerRecord:
    """A record over a small key pool with boundary values; about 1 in 20 is invalid."""
    status = rng.choice(DoneLedgerStatus.ALL)
    started = rng.choice((0, 5, 10, 2**63 - 1))
    finished = rng.choice((started, started + 1, 2**63)) if rng.random() < 0.95 else 0
    provenance = DoneLedgerProvenance(
        RunId(rng.choice((0, 1, 2**63, 2**64 - 1))),
        ShardId(rng.randint(0, 3)),
        FenceEpoch(rng.randint(0, 3)),
        LogicalTime(started),
        LogicalTime(finished),
    )
    findings = rng.choice((0, 1, 7)) if status is not DoneLedgerStatus.SCANNED_CLEAN else 0
    if status is DoneLedgerStatus.SCANNED_WITH_FINDINGS:
        findings = max(findings, 1)
    code = None if status.is_scanned() else DoneLedgerErrorCode(rng.choice(("A", "TIMEOUT")))
    return DoneLedgerRecord(
        rng.choice(keys), status, rng.choice((0, 1, 4096, 2**63)), findings, provenance, code
    )


@pytest.mark.parametrize("seed", DIFFERENTIAL_SEEDS)
def test_differential_done_ledger(
    seed: int, gossip_ledger_factory: Factory, gossip_scale: float
) -> None:
    """Same batches, same outcomes, receipts and reads as InMemoryDoneLedger (DL-40..DL-50)."""
    rng = random.Random(seed)
    store, reference = gossip_ledger_factory(), InMemoryDoneLedger()
    tenants = [TenantId(bytes([0xD0, t]) * 16) for t in (1, 2)]
    policy = PolicyHash(b"\xd1" * 32)
    ovids = [OvidHash(bytes([0xD2, o]) * 16) for o in range(4)]
    keys = [DoneLedgerKey(t, policy, o) for t in tenants for o in ovids]
    for step in range(max(1, round(DIFFERENTIAL_BATCHES * gossip_scale))):
        batch = [_ledger_record(rng, keys) for _ in range(rng.randint(0, 4))]
        got = _outcome(store.batch_upsert, batch)
        want = _outcome(reference.batch_upsert, batch)
        assert got == want, f"seed {seed} batch {step}: {batch!r}"
        for tenant in tenants:
            assert store.batch_get(tenant, policy, ovids) == reference.batch_get(
                tenant, policy, ovids
            ), f"seed {seed} after batch {step}: batch_get differs"
            assert sorted(store.list_done_hashes(tenant, policy)) == sorted(
                reference.list_done_hashes(tenant, policy)
            ), f"seed {seed} after batch {step}: list_done_hashes differs"


def _findings_pool(tenant: TenantId) -> tuple[list[FindingRecord], list[OccurrenceRecord]]:
    findings = [
        FindingRecord.new(
            tenant,
            StableItemId(bytes([0xE0, i]) * 16),
            RuleFingerprint(bytes([0xE1, i]) * 16),
            key_secret_hash(TenantSecretKey(b"\xe2" * 32), NormHash.from_digest(bytes([i]) * 32)),
        )
        for i in range(3)
    ]
    occurrences = [
        OccurrenceRecord.new(tenant, f.finding_id, ObjectVersionId(bytes([0xE3, j]) * 16), j, 8)
        for j, f in enumerate(findings + findings[:1])
    ]
    return findings, occurrences


def _observation(rng: random.Random, tenant: TenantId, occurrence: Any) -> ObservationRecord:
    from gossip_model.persistence import Location

    location = rng.choice((None, Location("a/b.txt"), Location("c.txt", "https://x.invalid/c")))
    return ObservationRecord.new(
        tenant,
        occurrence.occurrence_id,
        PolicyHash(b"\xe4" * 32),
        OvidHash(bytes([0xE5, rng.randint(0, 1)]) * 16),
        RunId(rng.randint(0, 3)),
        ShardId(rng.randint(0, 3)),
        FenceEpoch(rng.randint(0, 3)),
        LogicalTime(rng.choice((0, 5, 9))),
        location,
    )


@pytest.mark.parametrize("seed", DIFFERENTIAL_SEEDS)
def test_differential_findings(
    seed: int, gossip_sink_factory: Factory, gossip_scale: float
) -> None:
    """Same batches, same outcomes, receipts and counts as InMemoryFindingsSink (FS-30, BE-5)."""
    rng = random.Random(seed)
    store, reference = gossip_sink_factory(), InMemoryFindingsSink()
    tenant = TenantId(b"\xe6" * 32)
    findings, occurrences = _findings_pool(tenant)
    has_get = callable(getattr(store, "get_observation", None))
    for step in range(max(1, round(DIFFERENTIAL_BATCHES * gossip_scale))):
        batch = FindingsUpsertBatch(
            tuple(rng.sample(findings, rng.randint(0, 2))),
            tuple(rng.sample(occurrences, rng.randint(0, 2))),
            tuple(
                _observation(rng, tenant, rng.choice(occurrences))
                for _ in range(rng.randint(0, 2))
            ),
        )
        got = _outcome(store.upsert_batch, batch)
        want = _outcome(reference.upsert_batch, batch)
        assert got == want, f"seed {seed} batch {step}: {batch!r}"
        assert store.durable_counts() == reference.durable_counts(), f"seed {seed} batch {step}"
        if has_get:
            for observation in batch.observations:
                assert store.get_observation(tenant, observation.observation_id) == (
                    reference.get_observation(tenant, observation.observation_id)
                ), f"seed {seed} after batch {step}: stored observation differs"


# --- stormy simulation sweep -------------------------------------------------------------------


@pytest.mark.parametrize("seed", SWEEP_SEEDS)
def test_stormy_sweep(seed: int, gossip_ledger_factory: Factory, gossip_scale: float) -> None:
    """sim.md: a stormy run of the seeded simulation reports no violation and converges."""
    store = gossip_ledger_factory()
    _require(store, LEDGER_SURFACE + CONTROL_SURFACE, "the simulation")
    from gossip_model.sim import DoneLedgerSim, FaultLevel, SimContext

    ops = max(10, round(SWEEP_OPS * gossip_scale))
    report = DoneLedgerSim(SimContext(seed, FaultLevel.STORMY), ledger=store).run(ops)
    shown = "\n".join(str(v) for v in report.violations[:5])
    assert not report.violations, (
        f"stormy seed {seed}, {ops} ops: invariants {report.violated_invariants()} violated; "
        f"replay with `gossip-sim replay {seed}` and your backend\n{shown}"
    )
    assert report.converged, f"stormy seed {seed}: the ledger did not converge (I6)"
