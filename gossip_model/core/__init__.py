"""The generic store core shared by every store (inmemory.md §1-§3, backends.md FC-1).

Modules: :mod:`~gossip_model.core.store` (the core, its facade and handle, the
``StoreBackend`` plug-in protocol), :mod:`~gossip_model.core.pending` (op
records), :mod:`~gossip_model.core.errors` (store kinds, op ids, completion
orders and the store errors) and :mod:`~gossip_model.core.arguments` (the
argument checks run before the lock, TH-6). Backend authors use the public
kit :mod:`gossip_model.backend`, built on this package; the names API.md pins
under ``gossip_model.inmemory`` are re-exported there.
"""

from __future__ import annotations
