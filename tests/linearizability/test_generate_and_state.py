"""Seeded program generation, the hashable state map, and the workload values."""

from __future__ import annotations

from gossip_model.linearizability.frozen_map import FrozenMap
from gossip_model.linearizability.generate import random_program
from gossip_model.linearizability.programs import GetFinding, GetObservation, Submit, Write
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
    assert kinds == {Submit, GetFinding, GetObservation}
    assert len(sink.prefix) == 2
    assert "client 2:" in sink.render()


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
