"""The shape of a model/store disagreement (issue 11 item 2, HYP-11).

A failure names the operation, the first differing item (index or key) and
field, shows the model's and the store's value of that field only, then both
full values. The shape is pinned for one done-ledger and one findings
disagreement built by hand, and checked on a real machine failure.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from gossip_model.identity import RunId
from gossip_model.persistence import Location
from gossip_model.sim.planted import make_planted_ledger
from rules._checks import ABSENT, agree, disagreement, first_difference
from rules._findings_batches import chain_records
from rules.done_ledger import DoneLedgerMachine, DoneLedgerUnderTest, prefix_record
from rules.strategies import (
    FS_ITEMS,
    FS_OVIDS,
    FS_POLICIES,
    FS_RULES,
    FS_SECRETS,
    FS_TENANTS,
    FS_VERSIONS,
    pool_record_at,
)


def test_ledger_disagreement_names_index_field_and_both_values() -> None:
    """A snapshot whose second record carries another run id (DL-34 provenance)."""
    first, second = pool_record_at(0), prefix_record(2)
    store_second = dataclasses.replace(
        second, provenance=dataclasses.replace(second.provenance, run_id=RunId(7))
    )
    message = disagreement("snapshot() vs model", [first, second], [first, store_second])
    lines = message.splitlines()
    assert lines[:4] == [
        "snapshot() vs model: store and model disagree at [1].provenance.run_id",
        "  model predicted: RunId(2)",
        "  store answered:  RunId(7)",
        "full values:",
    ]
    assert lines[4] == f"  model predicted: {[first, second]!r}"
    assert lines[5] == f"  store answered:  {[first, store_second]!r}"
    assert len(lines) == 6


def test_findings_disagreement_names_index_field_and_both_values() -> None:
    """An observations snapshot whose only record lost its location (FS-10)."""
    _, _, b = chain_records(
        tenant=FS_TENANTS[0],
        item=FS_ITEMS[0],
        rule_fp=FS_RULES[0],
        secret=FS_SECRETS[0],
        version=FS_VERSIONS[0],
        offset=0,
        length=1,
        policy=FS_POLICIES[0],
        ovid=FS_OVIDS[0],
        seen_at=2,
        location=Location("repo/a"),
    )
    stored = b.with_location(None)
    message = disagreement("durable_matches_model: observations_snapshot()", [b], [stored])
    assert message.splitlines()[:4] == [
        "durable_matches_model: observations_snapshot(): store and model disagree at [0].location",
        f"  model predicted: {Location('repo/a')!r}",
        "  store answered:  None",
        "full values:",
    ]


def test_first_difference_handles_lengths_mappings_and_leaves() -> None:
    r = pool_record_at(3)
    assert first_difference([r], [r, r]) == ("[1]", ABSENT, r)
    assert first_difference({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ("['b']", 2, 3)
    assert first_difference({"a": 1}, {"a": 1, "c": 4}) == ("['c']", ABSENT, 4)
    assert repr(ABSENT) == "<absent>"
    assert first_difference(1, "x") == ("", 1, "x")


def test_agree_raises_with_the_disagreement_and_passes_on_equal_values() -> None:
    agree("same", [1, 2], [1, 2])
    with pytest.raises(AssertionError) as failure:
        agree("pending_ids()", [1, 2], [1, 3])
    assert str(failure.value) == disagreement("pending_ids()", [1, 2], [1, 3])
    assert str(failure.value).startswith("pending_ids(): store and model disagree at [1]\n")


def test_a_machine_failure_reads_in_ten_seconds() -> None:
    """A planted merge bug (I2): the first three lines name the check, the field and the
    two values; the full values follow and no line of the head repeats a record."""

    class BytesMachine(DoneLedgerMachine):
        def make_ledger(self) -> DoneLedgerUnderTest:
            return make_planted_ledger("bytes_last_writer_wins")

    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(
            BytesMachine,
            settings=settings(
                max_examples=300,
                stateful_step_count=20,
                derandomize=True,
                database=None,
                deadline=None,
                print_blob=False,
                suppress_health_check=list(HealthCheck),
                phases=(Phase.generate, Phase.shrink),
            ),
        )
    head = str(failure.value).splitlines()[:4]
    assert re.fullmatch(r".+: store and model disagree at .*\.bytes_scanned", head[0]), head
    assert re.fullmatch(r"  model predicted: \d+", head[1]), head
    assert re.fullmatch(r"  store answered:  \d+", head[2]), head
    assert head[3] == "full values:"
