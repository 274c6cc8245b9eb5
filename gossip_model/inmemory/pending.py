"""Operation records of the generic store core (inmemory.md ST-12).

Defined in :mod:`gossip_model.core.pending`; re-exported here, where API.md
pins the names.
"""

from __future__ import annotations

from gossip_model.core.pending import PendingOp, PendingState

__all__ = ["PendingOp", "PendingState"]
