"""MIG-3 step 5 / MIG-5 on SQLite: stored checksums of 0, 31, 32 and 33 bytes (issue 13).

0, 31 and 33 bytes are ``CorruptedHistoryRecord`` naming the length; 32
bytes that are not this migration's digest are ``ChecksumMismatch`` with the
version, the expected and the found digest. Both constructor modes refuse;
nothing is rewritten. SQLite has no upstream to adopt from (backends.md §8),
so no digest other than ours is accepted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gossip_model.db.errors import ChecksumMismatch, CorruptedHistoryRecord, SchemaMigrationError
from gossip_model.db.upstream import UPSTREAM_CHECKSUMS
from gossip_model.sqlite import SqliteDoneLedger
from gossip_model.sqlite.migrate import DONE_LEDGER_SCHEMA


@pytest.mark.parametrize("length", [0, 31, 32, 33])
def test_stored_checksum_lengths(tmp_path: Path, length: int) -> None:
    path = str(tmp_path / "ledger.db")
    SqliteDoneLedger(path)._core.durable.connection.close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA ignore_check_constraints = ON")
    raw.execute("UPDATE done_ledger_schema_migrations SET checksum = ?", (b"\x07" * length,))
    (migration,) = DONE_LEDGER_SCHEMA.migrations
    for migrate in (True, False):
        with pytest.raises(SchemaMigrationError) as info:
            SqliteDoneLedger(path, migrate=migrate)
        if length == 32:
            assert info.value == ChecksumMismatch(
                "sqlite", migration.version, "checksum", migration.checksum.hex(), "07" * 32
            )
            assert "07" * 32 in str(info.value)
        else:
            assert info.value == CorruptedHistoryRecord(
                "sqlite", migration.version, "history-checksum-length", length
            )
    stored = raw.execute("SELECT checksum FROM done_ledger_schema_migrations").fetchone()
    assert stored == (b"\x07" * length,)
    raw.close()


def test_upstream_digests_are_not_adopted_on_sqlite(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.db")
    SqliteDoneLedger(path)._core.durable.connection.close()
    upstream = next(e for e in UPSTREAM_CHECKSUMS if e.version == "0001_done_ledger_entries")
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("UPDATE done_ledger_schema_migrations SET checksum = ?", (upstream.checksum,))
    raw.close()
    with pytest.raises(ChecksumMismatch):
        SqliteDoneLedger(path)
