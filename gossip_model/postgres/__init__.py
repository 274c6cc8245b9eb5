"""PostgreSQL backends: ``PostgresDoneLedger`` and ``PostgresFindingsSink`` (backends.md §0).

Both are the generic in-memory store core with a PostgreSQL ``StoreBackend``
(FC-1): the in-memory stores' controls, handles, ``clone()`` and reads over
one psycopg 3 connection per core (PG-1). Install with the extra
``gossip-model[postgres]``. Modules: :mod:`.connection` (connection holder,
reconnection, driver-error mapping), :mod:`.migrate` (MIG-*),
:mod:`.done_ledger` (DBL-*), :mod:`.findings` (DBF-*); SQL migrations in
``migrations/`` (SCH-1, SCH-2).
"""

from __future__ import annotations

from gossip_model.postgres.done_ledger import PostgresDoneLedger, PostgresDoneLedgerHandle
from gossip_model.postgres.findings import PostgresFindingsHandle, PostgresFindingsSink

__all__ = [
    "PostgresDoneLedger",
    "PostgresDoneLedgerHandle",
    "PostgresFindingsHandle",
    "PostgresFindingsSink",
]
