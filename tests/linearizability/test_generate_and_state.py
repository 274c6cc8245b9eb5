"""Seeded program generation, the hashable state map, and the workload values."""

from __future__ import annotations

from gossip_model.inmemory import InMemoryDoneLedger, InMemoryFindingsSink
from gossip_model.linearizability.frozen_map import FrozenMap
from gossip_model.linearizability.generate import (
    ALL_CAPABILITIES,
    capabilities_of,
    left_out,
    random_program,
)
from gossip_model.linearizability.programs import (
    FindingsSnapshot,
    GetFinding,
    GetObservation,
    ListDone,
    Snapshot,
    Submit,
    Write,
)
from gossip_model.linearizability.workload import (
    TENANTS,
    done_record,
    finding_batch,
    finding_of,
    hot_key,
)


def test_random_program_is_a_function_of_its_seed() -> None:
    a = random_program(3, clients=4, ops=25, keys=8)
    assert a == random_program(3, clients=4, ops=25, keys=8)
    assert a != random_program(4, clients=4, ops=25, keys=8)
    assert len(a.clients) == 4
    assert a.size() == 100
    assert any(isinstance(c, Write) for client in a.clients for c in client)
    sink = random_program(3, clients=2, ops=40, keys=2, findings=True, prefix=2)
    kinds = {type(c) for client in sink.clients for c in client}
    assert kinds == {Submit, GetFinding, GetObservation, FindingsSnapshot}
    assert len(sink.prefix) == 2
    assert "client 2:" in sink.render()


def _kinds(program: object) -> set[type]:
    return {type(c) for client in program.clients for c in client}  # type: ignore[attr-defined]


def test_programs_leave_out_operations_the_store_lacks_deterministically() -> None:
    """Issue 14 item 6: without ``snapshot`` its draws become listings; one seed, one program."""
    full = random_program(7, clients=3, ops=60, keys=4)
    plain = random_program(7, clients=3, ops=60, keys=4, capabilities=())
    assert Snapshot in _kinds(full)
    assert Snapshot not in _kinds(plain)
    assert plain == random_program(7, clients=3, ops=60, keys=4, capabilities=frozenset())
    # Only the snapshots changed: every other command is the same draw.
    for full_client, plain_client in zip(full.clients, plain.clients, strict=True):
        for a, b in zip(full_client, plain_client, strict=True):
            assert a == b or (isinstance(a, Snapshot) and isinstance(b, ListDone))


def test_findings_programs_without_reads_submit_only() -> None:
    writes_only = random_program(2, clients=2, ops=50, keys=2, findings=True, capabilities=())
    assert _kinds(writes_only) == {Submit}
    assert writes_only == random_program(
        2, clients=2, ops=50, keys=2, findings=True, capabilities=()
    )
    one_read = random_program(
        2, clients=2, ops=50, keys=2, findings=True, capabilities={"get_observation"}
    )
    assert _kinds(one_read) == {Submit, GetObservation}


def test_capabilities_are_the_optional_methods_a_store_has() -> None:
    assert capabilities_of(InMemoryDoneLedger(), "done_ledger") == {"snapshot"}
    assert capabilities_of(InMemoryFindingsSink(), "findings") == {
        "get_finding",
        "get_observation",
        "findings_snapshot",
    }
    assert capabilities_of(object(), "done_ledger") == frozenset()
    assert left_out((), "done_ledger") == ("snapshot",)
    assert left_out(ALL_CAPABILITIES, "findings") == ()


def test_frozen_map_is_hashable_by_content_and_copy_on_update() -> None:
    empty: FrozenMap[str, int] = FrozenMap()
    one = empty.updated({"a": 1})
    assert len(empty) == 0
    assert one == FrozenMap({"a": 1})
    assert hash(one) == hash(FrozenMap({"a": 1}))
    assert one != empty
    assert (one == {"a": 1}) is False  # only maps of this type compare equal
    assert list(one) == ["a"]
    assert repr(one) == "FrozenMap(1 entries)"


def test_workload_values_are_valid_and_distinct_per_slot() -> None:
    assert hot_key(1) != hot_key(2)
    for status in range(5):
        record = done_record(0, status, 7, 2)
        record.validate()
        assert record.provenance.is_ordered()
    twin = finding_of(0, 1, variant=1)
    assert twin.finding_id == finding_of(0, 1).finding_id
    assert twin != finding_of(0, 1)
    batch = finding_batch(1, 0, 0, 3, 4)
    assert batch.tenant() == TENANTS[1]
    assert (len(batch.findings), len(batch.occurrences), len(batch.observations)) == (1, 1, 1)
    assert batch.observations[0].verify_id()
