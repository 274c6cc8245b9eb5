"""SQLite done ledger and findings sink (backends.md §0, §8 SQ-*, §9 FC-*).

``SqliteDoneLedger`` and ``SqliteFindingsSink`` are the generic in-memory
store core with a SQLite backend plugged in: the same controls, delayed
completion, release orders, fault injection, handles, ``clone()`` and reads
as ``InMemoryDoneLedger`` / ``InMemoryFindingsSink``, with rows kept in a
database file or a private ``:memory:`` database. Only the standard library's
``sqlite3`` is used; SQLite 3.24 or newer is required (SQ-1, checked here at
import).

Modules: ``connection`` (the connection holder, transactions, error mapping),
``migrate`` (schema versioning), ``done_ledger`` and ``findings`` (one
backend plug-in and facade each), ``arguments`` (TH-6 checks); the schema is
in ``migrations/*.sql`` (package data).
"""

from __future__ import annotations

import sqlite3

from gossip_model.sqlite.connection import require_sqlite_version

require_sqlite_version(sqlite3.sqlite_version_info)

from gossip_model.sqlite.done_ledger import SqliteDoneLedger, SqliteDoneLedgerHandle  # noqa: E402
from gossip_model.sqlite.findings import SqliteFindingsHandle, SqliteFindingsSink  # noqa: E402

__all__ = [
    "SqliteDoneLedger",
    "SqliteDoneLedgerHandle",
    "SqliteFindingsHandle",
    "SqliteFindingsSink",
]
