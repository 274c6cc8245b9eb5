"""Foundation types: SIM-1, SIM-2, SIM-4, SIM-5, SIM-8, EV-1..EV-3."""

from __future__ import annotations

import random

import pytest

import gossip_model.sim as sim
from gossip_model.inmemory import PendingWriteId
from gossip_model.persistence import (
    DoneLedgerCommitReceipt,
    DoneLedgerErrorCode,
    DoneLedgerRecord,
    DoneLedgerStatus,
    InconsistentFindingsCount,
    MissingErrorCode,
    UnexpectedErrorCode,
)
from gossip_model.sim import (
    DoneLedgerFaultConfig,
    DoneLedgerSimEvent,
    DoneLedgerSimEventKind,
    FaultLevel,
    SimContext,
    record_event,
    should_inject,
)

K = DoneLedgerSimEventKind
Ev = DoneLedgerSimEvent


def test_should_inject_zero_draws_nothing() -> None:
    """SIM-1: ppm 0 returns False without drawing."""
    rng = random.Random(1)
    state = rng.getstate()
    assert should_inject(rng, 0) is False
    assert rng.getstate() == state


def test_should_inject_draws_once_and_compares() -> None:
    """SIM-1: one randrange(PPM_MAX) draw; True iff draw < ppm."""
    rng, twin = random.Random(9), random.Random(9)
    draw = twin.randrange(1_000_000)
    assert should_inject(rng, draw + 1) is True
    rng, twin = random.Random(9), random.Random(9)
    assert should_inject(rng, draw) is False
    assert rng.getstate() == (twin.randrange(1_000_000), twin)[1].getstate()
    assert should_inject(random.Random(3), 1_000_000) is True


@pytest.mark.parametrize("ppm", [-1, 1_000_001])
def test_should_inject_rejects_out_of_range(ppm: int) -> None:
    with pytest.raises(ValueError, match="ppm"):
        should_inject(random.Random(0), ppm)


def test_ppm_constants() -> None:
    """SIM-1 / SIM-8."""
    assert (sim.PPM_MAX, sim.FAIR_COIN_PPM, sim.SWIZZLE_COMMIT_FAIL_PPM) == (
        1_000_000,
        500_000,
        250_000,
    )
    assert (sim.OVID_POOL_SIZE, sim.WARMUP_OPS, sim.MAX_OP_RETRIES) == (50, 5, 10)
    assert (sim.SWIZZLE_BATCH_WIDTH, sim.SWIZZLE_OVERLAP_POOL, sim.PROPTEST_OVID_POOL_SIZE) == (
        3,
        5,
        8,
    )
    assert sim.SIM_ERROR_CODE == "SIM_ERROR"
    assert tuple(sim.ALL_STATUSES) == (
        DoneLedgerStatus.FAILED_RETRYABLE,
        DoneLedgerStatus.FAILED_PERMANENT,
        DoneLedgerStatus.SKIPPED,
        DoneLedgerStatus.SCANNED_CLEAN,
        DoneLedgerStatus.SCANNED_WITH_FINDINGS,
    )


def test_fault_levels_and_rates() -> None:
    """SIM-4 / SIM-5; SWARM (issue 12) is the project's fourth level, rates per seed."""
    assert [int(level) for level in FaultLevel] == [1, 2, 3, 4]
    assert FaultLevel.SWARM.cli_name == "swarm"
    with pytest.raises(ValueError, match="SWARM draws its rates per seed"):
        DoneLedgerFaultConfig.for_level(FaultLevel.SWARM)
    assert FaultLevel.SUNNY_DAY < FaultLevel.STORMY < FaultLevel.RADIOACTIVE
    assert DoneLedgerFaultConfig.for_level(FaultLevel.SUNNY_DAY) == DoneLedgerFaultConfig(0, 0, 0)
    assert DoneLedgerFaultConfig.for_level(FaultLevel.STORMY) == DoneLedgerFaultConfig(
        100_000, 100_000, 100_000
    )
    assert DoneLedgerFaultConfig.for_level(FaultLevel.RADIOACTIVE) == DoneLedgerFaultConfig(
        200_000, 200_000, 200_000
    )
    upstream = (FaultLevel.SUNNY_DAY, FaultLevel.STORMY, FaultLevel.RADIOACTIVE)
    assert [DoneLedgerFaultConfig.for_level(lv).is_fault_free() for lv in upstream] == [
        True,
        False,
        False,
    ]
    assert not DoneLedgerFaultConfig(0, 0, 1).is_fault_free()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("stormy", FaultLevel.STORMY),
        ("SUNNY_DAY", FaultLevel.SUNNY_DAY),
        ("sunny-day", FaultLevel.SUNNY_DAY),
        (" Radioactive ", FaultLevel.RADIOACTIVE),
        ("swarm", FaultLevel.SWARM),
    ],
)
def test_fault_level_parse(text: str, level: FaultLevel) -> None:
    assert FaultLevel.parse(text) is level
    assert FaultLevel.parse(level.cli_name) is level


def test_sim_context() -> None:
    """SIM-2: seed range, a Random(seed), step counter ticks."""
    ctx = SimContext(2**64 - 1, FaultLevel.STORMY)
    assert ctx.rng.getstate() == random.Random(2**64 - 1).getstate()
    assert ctx.step_counter == 0
    ctx.tick()
    ctx.tick()
    assert ctx.step_counter == 2
    assert repr(ctx) == "SimContext(seed=18446744073709551615, fault_level=STORMY, step_counter=2)"
    with pytest.raises(ValueError, match="seed"):
        SimContext(2**64, FaultLevel.STORMY)
    with pytest.raises(ValueError, match="seed"):
        SimContext(-1, FaultLevel.STORMY)
    with pytest.raises(TypeError, match="seed"):
        SimContext(True, FaultLevel.STORMY)
    with pytest.raises(TypeError, match="fault_level"):
        SimContext(1, 2)  # type: ignore[arg-type]


def test_event_kinds() -> None:
    """EV-2: ten kinds in declaration order with their CamelCase names."""
    assert [k.variant_name for k in K.ALL] == [
        "UpsertCommitted",
        "UpsertPending",
        "UpsertSubmitFailed",
        "UpsertCommitFailed",
        "GetOk",
        "Released",
        "ReleasedCommitFailed",
        "ReleasedAll",
        "ReleaseNoop",
        "FaultConfigured",
    ]
    assert sorted(K.ALL) == list(K.ALL)
    assert K.from_variant_name("GetOk") is K.GET_OK
    assert K.GET_OK.__lt__(3) is NotImplemented


def test_event_kind_mapping() -> None:
    """EV-1: each variant maps to its kind."""
    receipt = DoneLedgerCommitReceipt(1, 1, 0)
    op = PendingWriteId(1)
    events = [
        Ev.UpsertCommitted(op, receipt),
        Ev.UpsertPending(op),
        Ev.UpsertSubmitFailed(),
        Ev.UpsertCommitFailed(op),
        Ev.GetOk(()),
        Ev.Released(op, receipt),
        Ev.ReleasedCommitFailed(op),
        Ev.ReleasedAll(0, 0, 0),
        Ev.ReleaseNoop(),
        Ev.FaultConfigured(),
    ]
    assert [e.kind for e in events] == list(K.ALL)


def test_record_event_expands_bulk_releases() -> None:
    """EV-3: ReleasedAll adds committed to RELEASED and failed to RELEASED_COMMIT_FAILED."""
    counts: dict[DoneLedgerSimEventKind, int] = {}
    record_event(counts, Ev.ReleasedAll(5, 3, 2))
    record_event(counts, Ev.ReleasedAll(0, 0, 0))
    record_event(counts, Ev.ReleaseNoop())
    assert counts == {
        K.RELEASED_ALL: 2,
        K.RELEASED: 3,
        K.RELEASED_COMMIT_FAILED: 2,
        K.RELEASE_NOOP: 1,
    }


def test_persistence_sim_protocol() -> None:
    """SIM-6: DoneLedgerSim offers step(op) -> (event, violations)."""
    checked: sim.PersistenceSim[sim.DoneLedgerSimOp, DoneLedgerSimEvent, sim.DoneLedgerViolation]
    checked = sim.DoneLedgerSim(SimContext(0, FaultLevel.SUNNY_DAY))
    event, violations = checked.step(sim.DoneLedgerSimOp.ReleaseNewest())
    assert event == Ev.ReleaseNoop()
    assert violations == []


def test_record_model_the_simulation_relies_on() -> None:
    """LED-11: ranks, predicates, ``ALL`` in rank order, constructor and ``validate()`` rules."""
    statuses = DoneLedgerStatus
    assert [s.rank for s in statuses.ALL] == [1, 2, 3, 10, 11]
    assert list(statuses.ALL) == [
        statuses.FAILED_RETRYABLE,
        statuses.FAILED_PERMANENT,
        statuses.SKIPPED,
        statuses.SCANNED_CLEAN,
        statuses.SCANNED_WITH_FINDINGS,
    ]
    assert [s.is_scanned() for s in statuses.ALL] == [False, False, False, True, True]
    assert [s.is_failure() for s in statuses.ALL] == [True, True, False, False, False]
    assert [s.is_skipped() for s in statuses.ALL] == [False, False, True, False, False]

    simulation = sim.DoneLedgerSim(SimContext(0, FaultLevel.SUNNY_DAY))
    good = simulation.build_record(0, statuses.SCANNED_CLEAN, 1, 0, 1, 2)
    key, prov = good.key, good.provenance
    with pytest.raises(InconsistentFindingsCount):
        DoneLedgerRecord(key, statuses.SCANNED_WITH_FINDINGS, 1, 0, prov)
    with pytest.raises(InconsistentFindingsCount):
        DoneLedgerRecord(key, statuses.SCANNED_CLEAN, 1, 1, prov)
    code = DoneLedgerErrorCode("SIM_ERROR")
    with pytest.raises(UnexpectedErrorCode):
        DoneLedgerRecord(key, statuses.SCANNED_CLEAN, 1, 0, prov, code).validate()
    for status in (statuses.FAILED_RETRYABLE, statuses.FAILED_PERMANENT, statuses.SKIPPED):
        with pytest.raises(MissingErrorCode):
            DoneLedgerRecord(key, status, 1, 0, prov).validate()
        DoneLedgerRecord(key, status, 1, 0, prov, code).validate()
    good.validate()
