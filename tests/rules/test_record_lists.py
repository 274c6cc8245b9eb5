"""Record lists drawn as a length and one integer per record (issue 11 item 3, DLM-5).

``rules.strategies`` draws the machines' record lists without ``st.lists``; these
tests pin what the rules rely on: sizes within the bounds the rules state, every
record one of the DLM-2 / DLM-5 pool values, and every pool value reachable.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, rule

from rules.strategies import (
    DL_FIELD_POOLS,
    DlFields,
    DlRecordSpec,
    dl_fields_at,
    dl_fields_lists,
    keyed_fields_lists,
    record_spec_at,
    record_spec_lists,
)

pytestmark = pytest.mark.untraced


def run_derandomized(machine: type[RuleBasedStateMachine], max_examples: int, steps: int) -> None:
    """Run ``machine``'s TestCase derandomized, without an example database."""
    machine.TestCase.settings = settings(
        machine.TestCase.settings,
        max_examples=max_examples,
        stateful_step_count=steps,
        derandomize=True,
        database=None,
    )
    machine.TestCase().runTest()


@settings(max_examples=50, derandomize=True, database=None)
@given(st.data())
def test_fields_and_spec_lists_stay_within_their_sizes(data: st.DataObject) -> None:
    fields = data.draw(dl_fields_lists(2, 4))
    specs = data.draw(record_spec_lists(1, 10))
    assert 2 <= len(fields) <= 4
    assert 1 <= len(specs) <= 10
    assert all(isinstance(f, DlFields) for f in fields)
    assert all(isinstance(s, DlRecordSpec) for s in specs)
    for f in fields:
        for name, pool in DL_FIELD_POOLS.items():
            assert getattr(f, name) in pool, (name, f)


def test_every_pool_value_is_reachable_from_some_index() -> None:
    """Index 0 is every pool's first value; the decoding covers each field's pool."""
    assert dl_fields_at(0) == DlFields(*(pool[0] for pool in DL_FIELD_POOLS.values()))  # type: ignore[arg-type]
    seen: dict[str, set[object]] = {name: set() for name in DL_FIELD_POOLS}
    size = 1
    for pool in DL_FIELD_POOLS.values():
        size *= len(pool)
    for index in range(0, size, 7):
        for name in DL_FIELD_POOLS:
            seen[name].add(getattr(dl_fields_at(index), name))
    assert seen == {name: set(pool) for name, pool in DL_FIELD_POOLS.items()}
    assert record_spec_at(31) == DlRecordSpec(1, 1, 7, dl_fields_at(0))
    assert "index_lists" in repr(dl_fields_lists(2, 4))


def test_keyed_lists_take_their_keys_from_the_bundle() -> None:
    """DLM-5 ``dl_record(keys)``: each record's key is a value of the ``keys`` bundle."""
    drawn: list[list[tuple[Any, DlFields]]] = []

    class Keyed(RuleBasedStateMachine):
        keys = Bundle("keys")

        @initialize(target=keys)
        def start(self) -> str:
            return "k0"

        @rule(target=keys, name=st.sampled_from(["k1", "k2"]))
        def add(self, name: str) -> str:
            return name

        @rule(records=keyed_fields_lists(keys, max_size=5))
        def take(self, records: list[tuple[Any, DlFields]]) -> None:
            drawn.append(records)

    run_derandomized(Keyed, max_examples=20, steps=10)
    assert drawn
    assert all(len(records) <= 5 for records in drawn)
    keys = {key for records in drawn for key, _ in records}
    assert keys, "no record was drawn"
    assert keys <= {"k0", "k1", "k2"}


def test_keyed_lists_from_an_empty_bundle_discard_like_a_nested_bundle_draw() -> None:
    """HYP-5: before any key exists only the empty list can be drawn; a longer one
    discards the example, as Hypothesis does for a bundle nested in ``st.lists``
    (the plain-ledger machine has no ``@initialize`` rule filling ``keys``)."""
    drawn: list[list[tuple[Any, DlFields]]] = []

    class Unfilled(RuleBasedStateMachine):
        keys = Bundle("keys")

        @rule(target=keys)
        def add(self) -> str:
            return "k"

        @rule(records=keyed_fields_lists(keys, max_size=3))
        def take(self, records: list[tuple[Any, DlFields]]) -> None:
            drawn.append(records)

    run_derandomized(Unfilled, max_examples=30, steps=6)
    assert any(records for records in drawn), "no non-empty list was drawn once keys existed"
    assert {key for records in drawn for key, _ in records} == {"k"}
