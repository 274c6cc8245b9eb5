"""The generic store core (inmemory.md §1, §2).

Defined in :mod:`gossip_model.core.store` (the core serves every backend, not
only the in-memory one); re-exported here, where API.md pins the names.
"""

from __future__ import annotations

from gossip_model.core.store import (
    FaultCounters,
    InMemoryStoreCore,
    StoreBackend,
    StoreCore,
    StoreFacade,
    StoreHandle,
    check_count,
    check_order,
    normalise_timeout,
)

__all__ = [
    "FaultCounters",
    "InMemoryStoreCore",
    "StoreBackend",
    "StoreCore",
    "StoreFacade",
    "StoreHandle",
    "check_count",
    "check_order",
    "normalise_timeout",
]
