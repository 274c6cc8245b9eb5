"""Zero-argument factories of planted stores, for ``--gossip-ledger`` / ``--gossip-sink``.

The campaign tests aim HypoFuzz and the battery at these the way a user aims
them at a backend (``MODULE:FACTORY``).
"""

from __future__ import annotations

from rules.planted import (
    PlantedDoneLedger,
    PlantedFindingsSink,
    make_planted_ledger_bug,
    make_planted_sink,
)


def make_merge_drops_location() -> PlantedFindingsSink:
    """FS-10 broken: a re-send without a location erases the stored one."""
    return make_planted_sink("merge_drops_location")


def make_apply_streams_records() -> PlantedDoneLedger:
    """DL-6 broken: a batch whose later record is invalid leaves the earlier ones applied."""
    return make_planted_ledger_bug("apply_streams_records")
