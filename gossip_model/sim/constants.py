"""Simulation constants (SIM-8)."""

from __future__ import annotations

from typing import Final

from gossip_model.persistence import DoneLedgerStatus

__all__ = [
    "ALL_STATUSES",
    "MAX_OP_RETRIES",
    "OVID_POOL_SIZE",
    "PROPTEST_OVID_POOL_SIZE",
    "SIM_ERROR_CODE",
    "SWIZZLE_BATCH_WIDTH",
    "SWIZZLE_OVERLAP_POOL",
    "WARMUP_OPS",
]

OVID_POOL_SIZE: Final = 50
"""Number of object-version hashes per run; all keys of a run come from this pool."""

WARMUP_OPS: Final = 5
"""The first safety ops never inject faults (RUN-2)."""

MAX_OP_RETRIES: Final = 10
"""Rolls tried by GEN-1 before falling back to a plain BatchUpsert."""

ALL_STATUSES: Final = DoneLedgerStatus.ALL
"""The five statuses in rank order, indexed by GEN-9's ``status_idx``."""

SIM_ERROR_CODE: Final = "SIM_ERROR"
"""Error code of every failed or skipped record the simulation builds (SIM-11)."""

SWIZZLE_BATCH_WIDTH: Final = 3
"""Records per swizzle-clog batch (SWZ-3)."""

SWIZZLE_OVERLAP_POOL: Final = 5
"""Pool positions shared by the swizzle-clog batches (SWZ-3)."""

PROPTEST_OVID_POOL_SIZE: Final = 8
"""Pool positions addressed by the property case (PT-3).

Open point 1: 8 is chosen. It is <= ``OVID_POOL_SIZE`` so the positions are
distinct pool keys, and small so that keys collide in both the property case
and the state machine.
"""
