"""The planted done-ledger bugs of ``rules.planted`` misbehave as described (issue 11 item 7).

Each is driven by hand next to the correct ``InMemoryDoneLedger``: the
machines must catch them (``test_rules_power``), so each must really differ
from the correct store on exactly the input it names.
"""

from __future__ import annotations

import dataclasses

import pytest

from gossip_model.identity import LogicalTime
from gossip_model.inmemory import InMemoryDoneLedger
from gossip_model.inmemory.errors import BatchValidation
from gossip_model.persistence import DoneLedgerCommitReceipt, DoneLedgerRecord
from gossip_model.persistence.errors import ProvenanceOrdering
from rules._checks import outcome_of
from rules.planted import PLANTED_LEDGER_BUGS, make_planted_ledger_bug
from rules.strategies import flawed, pool_record_at

# Issue 11 item 4: as in test_rules_power.py, the tracer adds time and no coverage here.
pytestmark = pytest.mark.untraced


def _equal_timestamps(record: DoneLedgerRecord) -> DoneLedgerRecord:
    at = record.provenance.finished_at
    return dataclasses.replace(
        record, provenance=dataclasses.replace(record.provenance, started_at=LogicalTime(at.value))
    )


def test_apply_streams_records_keeps_the_records_before_the_invalid_one() -> None:
    """DL-6: the correct ledger applies nothing of a batch that fails validation."""
    good = pool_record_at(1)
    bad = flawed(pool_record_at(2), "missing_error_code")
    for ledger, expected in (
        (InMemoryDoneLedger(), []),
        (make_planted_ledger_bug("apply_streams_records"), [good]),
    ):
        result = outcome_of(lambda ledger=ledger: ledger.batch_upsert([good, bad]).wait(timeout=0))
        assert isinstance(result, BatchValidation)
        assert ledger.snapshot() == expected


def test_rejects_equal_timestamps_fails_a_valid_record() -> None:
    """DL-21: ``started_at == finished_at`` is valid and commits in the correct ledger."""
    record = _equal_timestamps(pool_record_at(5))
    correct = InMemoryDoneLedger().batch_upsert([record]).wait(timeout=0)
    assert correct == DoneLedgerCommitReceipt.for_folded([record])
    planted = make_planted_ledger_bug("rejects_equal_timestamps")
    at = record.provenance.finished_at.value
    assert outcome_of(lambda: planted.batch_upsert([record]).wait(timeout=0)) == BatchValidation(
        ProvenanceOrdering(at, at)
    )
    assert planted.snapshot() == []


def test_unknown_planted_ledger_bug_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="apply_streams_records, rejects_equal_timestamps"):
        make_planted_ledger_bug("nope")
    assert repr(PLANTED_LEDGER_BUGS["apply_streams_records"].make()).startswith(
        "PlantedDoneLedger('apply_streams_records'"
    )
