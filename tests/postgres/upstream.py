"""Build databases the way the upstream Rust migrator leaves them (issue 13).

Upstream's runner (crates ``gossip-done-ledger-postgres`` and
``gossip-findings-postgres``) takes the same advisory lock, creates the same
history table (``version TEXT PRIMARY KEY, checksum BYTEA NOT NULL CHECK
(octet_length(checksum) = 32), applied_at TIMESTAMPTZ NOT NULL DEFAULT
NOW()``), runs its migration text and records ``(version, BLAKE3(text))``.
Its texts differ from ours in comments and layout only (for the versions we
adopt), so this builder runs our DDL (same catalog result) and records the
upstream digest from :mod:`gossip_model.db.upstream`, never ours.
``variant`` applies the structural differences of older upstream texts.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from gossip_model.db.upstream import UPSTREAM_CHECKSUMS, UpstreamChecksum
from gossip_model.postgres.migrate import DONE_LEDGER_MIGRATIONS, FINDINGS_MIGRATIONS, MigrationSet

Conn = psycopg.Connection[tuple[object, ...]]

#: Upstream texts with our structure (adopted) and with a different one (refused).
DONE_SAME = "b51c9d7ebf8fb04ab13d0e1a5acf3aeb064b7dd2f4f757fc5881315553dfcf40"
DONE_PINNED_BIGINT = "2c6a36c62f0c6f8e66e6d7c71b00b49a13c61f3a4f02c4c384960e0a9f539dd5"
FINDINGS_SAME = "520ddb36ee644e1985208f1b7cea7ba7c10eaa901e288d629a10e35b6815e160"
FINDINGS_PINNED = "0e4db3e9eb0d1755c5ba77931c322c9da182faedfe1957d334e6668f5db7dcdb"
FINDINGS_NO_SPAN_CHECK = "a79746057e029e8f5a7e123067e3eafd4d6ec587639f8d645234d1ceba258bb0"

#: The SQL differences of older upstream texts from ours (read from those texts).
VARIANTS = {
    DONE_PINNED_BIGINT: (
        "ALTER TABLE done_ledger_entries ALTER COLUMN findings_count TYPE BIGINT, "
        "DROP CONSTRAINT done_ledger_entries_findings_count_check, "
        "ADD CONSTRAINT done_ledger_entries_findings_count_check "
        "CHECK (findings_count BETWEEN 0 AND 4294967295)"
    ),
    FINDINGS_NO_SPAN_CHECK: (
        "ALTER TABLE occurrences DROP CONSTRAINT occurrences_span_no_overflow_ck"
    ),
}


def upstream_entry(checksum_hex: str) -> UpstreamChecksum:
    (entry,) = (e for e in UPSTREAM_CHECKSUMS if e.checksum_hex == checksum_hex)
    return entry


def migrate_like_upstream(conn: Conn, migrations: MigrationSet, checksum_hex: str) -> None:
    """One transaction, like upstream's runner: lock, history table, DDL, history row."""
    entry = upstream_entry(checksum_hex)
    (migration,) = migrations.migrations
    assert entry.version == migration.version
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations.lock_key,))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (version TEXT PRIMARY KEY, "
                "checksum BYTEA NOT NULL CHECK (octet_length(checksum) = 32), "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"
            ).format(sql.Identifier(migrations.history_table))
        )
        conn.execute(migration.sql.encode("utf-8"))
        variant = VARIANTS.get(checksum_hex)
        if variant is not None:
            conn.execute(variant.encode("utf-8"))
        conn.execute(
            sql.SQL("INSERT INTO {} (version, checksum) VALUES (%s, %s)").format(
                sql.Identifier(migrations.history_table)
            ),
            (entry.version, entry.checksum),
        )


def build_upstream_database(
    conninfo: str, *, done: str = DONE_SAME, findings: str = FINDINGS_SAME
) -> None:
    """Both stores' schemas and history rows as upstream's migrators leave them."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        migrate_like_upstream(conn, DONE_LEDGER_MIGRATIONS, done)
        migrate_like_upstream(conn, FINDINGS_MIGRATIONS, findings)


def stored_checksum(conn: Conn, migrations: MigrationSet) -> bytes:
    row = conn.execute(
        sql.SQL("SELECT checksum FROM {}").format(sql.Identifier(migrations.history_table))
    ).fetchone()
    assert row is not None
    return bytes(row[0])  # type: ignore[arg-type]
