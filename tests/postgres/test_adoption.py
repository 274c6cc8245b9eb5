"""Adopting upstream-migrated databases; checksum errors with digests (issue 13, MIG-1..MIG-5).

* Our migrations' checksums are pinned, so an accidental edit fails here
  loudly (MIG-1: never edit an applied migration, add a version).
* Stored checksums of 0, 31 and 33 bytes are ``CorruptedHistoryRecord``
  naming the length; 32 unknown bytes are ``ChecksumMismatch`` with version,
  expected and found digests (MIG-3 step 5), in both modes (MIG-5).
* A known upstream digest is adopted only when the catalog equals what our
  migration creates; a structural difference is refused with every
  difference listed, and nothing is written either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
import pytest

from gossip_model.db.errors import (
    ChecksumMismatch,
    CorruptedHistoryRecord,
    SchemaMigrationError,
    SchemaStructureMismatch,
)
from gossip_model.db.migrations import Migration, classify_history
from gossip_model.db.upstream import (
    REPOSITORY,
    UPSTREAM_CHECKSUMS,
    known_upstream_checksums,
    upstream_source,
)
from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres.adopt import describe_differences
from gossip_model.postgres.migrate import DONE_LEDGER_MIGRATIONS, FINDINGS_MIGRATIONS, MigrationSet
from gossip_model.sqlite.migrate import DONE_LEDGER_SCHEMA, FINDINGS_SCHEMA
from tests.builders import fill
from tests.postgres.roles import temporary_role
from tests.postgres.upstream import (
    DONE_PINNED_BIGINT,
    DONE_SAME,
    FINDINGS_NO_SPAN_CHECK,
    FINDINGS_PINNED,
    FINDINGS_SAME,
    build_upstream_database,
    migrate_like_upstream,
    stored_checksum,
)

Conn = psycopg.Connection[tuple[object, ...]]
StoreType = Callable[..., PostgresDoneLedger | PostgresFindingsSink]
STORES = [
    pytest.param(PostgresDoneLedger, DONE_LEDGER_MIGRATIONS, id="done-ledger"),
    pytest.param(PostgresFindingsSink, FINDINGS_MIGRATIONS, id="findings"),
]

#: MIG-1: our migration texts' BLAKE3 digests. Changing a file changes these: add a
#: version instead (databases in the field carry the old digest).
PINNED = {
    ("postgres", "0001_done_ledger_entries"): (
        "510adacc21fe4d7c15783778e994959de5e2eca506b9b300916299fbd9fee0f5"
    ),
    ("postgres", "0001_findings_schema"): (
        "723a9ff4324a5eda31ee6b42ec3cb26b1b0b5e25954559312e2aaf38e7c798a2"
    ),
    ("sqlite", "0001_done_ledger_entries"): (
        "903c01e1f90b343d81089ba8742df17a67444409de1458cff240057da0dbf0c3"
    ),
    ("sqlite", "0001_findings_schema"): (
        "36b7eb6049d4f64f6b623ab866747438599a5061878ed03acfebcf1e12388dc3"
    ),
}


def test_mig1_our_migration_checksums_are_pinned() -> None:
    """MIG-1: an accidental edit of a migration file fails this test loudly."""
    actual = {
        ("postgres", m.version): m.checksum.hex()
        for s in (DONE_LEDGER_MIGRATIONS, FINDINGS_MIGRATIONS)
        for m in s.migrations
    } | {
        ("sqlite", m.version): m.checksum.hex()
        for s in (DONE_LEDGER_SCHEMA, FINDINGS_SCHEMA)
        for m in s.migrations
    }
    assert actual == PINNED


def test_upstream_checksums_are_sourced_data() -> None:
    """Each known upstream digest names crate, file and a full commit; none is ours."""
    ours = {bytes.fromhex(v) for v in PINNED.values()}
    assert REPOSITORY == "ahrav/Gossip-rs"
    versions = {
        m.version for s in (DONE_LEDGER_MIGRATIONS, FINDINGS_MIGRATIONS) for m in s.migrations
    }
    for entry in UPSTREAM_CHECKSUMS:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.checksum_hex)
        assert re.fullmatch(r"[0-9a-f]{40}", entry.commit)
        assert entry.crate in ("gossip-done-ledger-postgres", "gossip-findings-postgres")
        assert entry.file.startswith(f"crates/{entry.crate}/")
        assert entry.version in versions
        assert entry.checksum not in ours
        assert upstream_source(entry.version, entry.checksum) is entry
    known = known_upstream_checksums()
    # The digests upstream's own golden tests pin are known (issue 13).
    assert bytes.fromhex(DONE_PINNED_BIGINT) in known["0001_done_ledger_entries"]
    assert bytes.fromhex(FINDINGS_PINNED) in known["0001_findings_schema"]
    assert upstream_source("0001_findings_schema", bytes.fromhex(DONE_SAME)) is None


# --- MIG-3 step 5: stored checksums of 0, 31, 32 and 33 bytes ------------------------------

MIGRATION = Migration("0001_x", "SELECT 1;")


@pytest.mark.parametrize("length", [0, 31, 33])
def test_mig3_wrong_length_is_corrupted_history_with_the_length(length: int) -> None:
    with pytest.raises(CorruptedHistoryRecord) as info:
        classify_history("postgres", [MIGRATION], {"0001_x": b"\x01" * length})
    assert info.value == CorruptedHistoryRecord(
        "postgres", "0001_x", "history-checksum-length", length
    )
    assert f"stored checksum is {length} bytes, expected 32" in str(info.value)


def test_mig3_32_unknown_bytes_is_checksum_mismatch_with_both_digests() -> None:
    found = bytes(range(32))
    with pytest.raises(ChecksumMismatch) as info:
        classify_history(
            "postgres", [MIGRATION], {"0001_x": found}, {"0001_x": frozenset({fill(0x02)})}
        )
    expected = MIGRATION.checksum.hex()
    assert info.value == ChecksumMismatch("postgres", "0001_x", "checksum", expected, found.hex())
    text = str(info.value)
    assert "0001_x" in text
    assert expected in text
    assert found.hex() in text


def test_classify_history_adopts_only_known_upstream_digests() -> None:
    upstream = fill(0x02)
    other = Migration("0002_y", "SELECT 2;")
    plan = classify_history(
        "postgres",
        [MIGRATION, other],
        {"0001_x": upstream},
        {"0001_x": frozenset({upstream})},
    )
    assert plan.adopted == (MIGRATION,)
    assert plan.pending == (other,)
    # Without the upstream table the same history is a mismatch.
    with pytest.raises(ChecksumMismatch):
        classify_history("postgres", [MIGRATION], {"0001_x": upstream})


def test_migration_errors_pickle_with_their_detail() -> None:
    import pickle

    error = SchemaStructureMismatch("postgres", "v", "adopt-structure", ("a", "b"), detail="d")
    copy = pickle.loads(pickle.dumps(error))
    assert copy == error
    assert copy.detail == "d"
    assert str(copy) == str(error)
    assert SchemaMigrationError("p", "v", "s", detail="x") == SchemaMigrationError("p", "v", "s")


def test_describe_differences_names_missing_unexpected_and_changed() -> None:
    found = {("column", "t", "a"): "#1 bigint", ("index", "t", "extra"): "CREATE INDEX extra"}
    expected = {("column", "t", "a"): "#1 integer", ("constraint", "t", "ck"): "CHECK (a > 0)"}
    assert describe_differences(found, expected) == [
        "column t.a: #1 bigint, expected #1 integer",
        "missing constraint t.ck: expected CHECK (a > 0)",
        "unexpected index t.extra: CREATE INDEX extra",
    ]
    assert describe_differences(expected, dict(expected)) == []


# --- on PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(("store_type", "migrations"), STORES)
@pytest.mark.parametrize("length", [0, 31, 32, 33])
def test_stored_checksum_lengths_on_postgres(
    pg_conninfo: str,
    raw: Conn,
    store_type: StoreType,
    migrations: MigrationSet,
    length: int,
) -> None:
    """MIG-3 step 5 / MIG-5: 0, 31, 33 bytes are corrupt history; 32 unknown bytes mismatch."""
    store_type(pg_conninfo).close()
    table = migrations.history_table
    raw.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_checksum_check")
    raw.execute(f"UPDATE {table} SET checksum = %s", (b"\x07" * length,))
    (migration,) = migrations.migrations
    for migrate in (True, False):
        with pytest.raises(SchemaMigrationError) as info:
            store_type(pg_conninfo, migrate=migrate)
        if length == 32:
            assert info.value == ChecksumMismatch(
                "postgres", migration.version, "checksum", migration.checksum.hex(), "07" * 32
            )
        else:
            assert info.value == CorruptedHistoryRecord(
                "postgres", migration.version, "history-checksum-length", length
            )
    assert stored_checksum(raw, migrations) == b"\x07" * length


@pytest.mark.postgres
def test_upstream_database_is_adopted_in_both_modes_and_history_kept(
    pg_conninfo: str, raw: Conn
) -> None:
    """Issue 13: upstream digests with our structure are accepted; the rows stay upstream's."""
    build_upstream_database(pg_conninfo)
    for migrate in (True, False):
        with PostgresDoneLedger(pg_conninfo, migrate=migrate) as ledger:
            assert ledger.snapshot() == []
        with PostgresFindingsSink(pg_conninfo, migrate=migrate) as sink:
            assert sink.durable_counts().findings == 0
    assert stored_checksum(raw, DONE_LEDGER_MIGRATIONS).hex() == DONE_SAME
    assert stored_checksum(raw, FINDINGS_MIGRATIONS).hex() == FINDINGS_SAME
    # The scratch build lives in pg_temp under a rolled-back savepoint: nothing remains.
    leftovers = raw.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname LIKE 'pg_temp%%'"
    ).fetchone()
    assert leftovers == (0,)


@pytest.mark.postgres
def test_pinned_bigint_upstream_ledger_is_refused_listing_the_differences(
    pg_conninfo: str, raw: Conn
) -> None:
    """The digest upstream's test pins is a text with ``findings_count BIGINT``: refused."""
    migrate_like_upstream(raw, DONE_LEDGER_MIGRATIONS, DONE_PINNED_BIGINT)
    for migrate in (True, False):
        with pytest.raises(SchemaStructureMismatch) as info:
            PostgresDoneLedger(pg_conninfo, migrate=migrate)
        assert info.value.step == "adopt-structure"
        assert info.value.version == "0001_done_ledger_entries"
        assert info.value.differences == (
            "column done_ledger_entries.findings_count: #6 bigint NOT NULL, "
            "expected #6 integer NOT NULL",
            "constraint done_ledger_entries.done_ledger_entries_findings_count_check: "
            "CHECK (((findings_count >= 0) AND (findings_count <= '4294967295'::bigint))), "
            "expected CHECK ((findings_count >= 0))",
        )
        assert "findings_count" in str(info.value)
    assert stored_checksum(raw, DONE_LEDGER_MIGRATIONS).hex() == DONE_PINNED_BIGINT


@pytest.mark.postgres
def test_findings_without_span_check_and_extra_objects_are_refused(
    pg_conninfo: str, raw: Conn
) -> None:
    """Every kind of difference is listed: a missing CHECK, an extra index, a changed default."""
    migrate_like_upstream(raw, FINDINGS_MIGRATIONS, FINDINGS_NO_SPAN_CHECK)
    raw.execute("CREATE INDEX findings_extra_idx ON findings (secret_hash)")
    raw.execute("ALTER TABLE observations ALTER COLUMN seen_at SET DEFAULT 0")
    with pytest.raises(SchemaStructureMismatch) as info:
        PostgresFindingsSink(pg_conninfo)
    assert info.value.differences == (
        "column observations.seen_at: #9 bigint NOT NULL DEFAULT 0, expected #9 bigint NOT NULL",
        "missing constraint occurrences.occurrences_span_no_overflow_ck: expected "
        "CHECK ((byte_offset <= ('9223372036854775806'::bigint - byte_length)))",
        "unexpected index findings.findings_extra_idx: "
        "CREATE INDEX findings_extra_idx ON findings USING btree (secret_hash)",
    )


@pytest.mark.postgres
def test_structure_check_sees_a_dropped_table_and_a_trigger(pg_conninfo: str, raw: Conn) -> None:
    migrate_like_upstream(raw, FINDINGS_MIGRATIONS, FINDINGS_SAME)
    raw.execute(
        "CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"
    )
    raw.execute(
        "CREATE TRIGGER findings_noop BEFORE INSERT ON findings "
        "FOR EACH ROW EXECUTE FUNCTION noop()"
    )
    with pytest.raises(SchemaStructureMismatch) as info:
        PostgresFindingsSink(pg_conninfo)
    assert [d.split(":")[0] for d in info.value.differences] == [
        "unexpected trigger findings.findings_noop"
    ]
    raw.execute("DROP TABLE observations")
    with pytest.raises(SchemaMigrationError) as missing:
        PostgresFindingsSink(pg_conninfo, migrate=False)
    assert missing.value.step == "table-missing"
    with pytest.raises(SchemaStructureMismatch) as info:
        PostgresFindingsSink(pg_conninfo)
    assert "missing table observations: expected present" in info.value.differences


@pytest.mark.postgres
def test_driver_error_is_chained_and_named(pg_conninfo: str, raw: Conn) -> None:
    """Issue 13: a failed migration shows the driver's own message and chains its error."""
    raw.execute("REVOKE CREATE ON SCHEMA public FROM pg_database_owner")
    with pytest.raises(SchemaMigrationError) as info:
        PostgresDoneLedger(pg_conninfo)
    assert info.value == SchemaMigrationError(
        "postgres", "0001_done_ledger_entries", "history-table"
    )
    assert info.value.detail == "permission denied for schema public"
    assert str(info.value) == (
        "postgres migration 0001_done_ledger_entries failed at history-table: "
        "permission denied for schema public"
    )
    assert isinstance(info.value.__cause__, psycopg.errors.InsufficientPrivilege)


@pytest.mark.postgres
def test_adoption_without_temp_privilege_names_the_cause(pg_conninfo: str, raw: Conn) -> None:
    """The structure check needs the default TEMP privilege; without it the cause is named."""
    build_upstream_database(pg_conninfo)
    dbname = psycopg.conninfo.conninfo_to_dict(pg_conninfo)["dbname"]
    grants = (
        f'REVOKE TEMPORARY ON DATABASE "{dbname}" FROM PUBLIC',
        "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}",
    )
    with temporary_role(pg_conninfo, *grants) as role_conninfo:
        # Without CREATE on the schema the runner stops before adoption; the cause is named.
        with pytest.raises(SchemaMigrationError) as info:
            PostgresDoneLedger(role_conninfo)
        assert info.value.step == "history-table"
        assert info.value.detail == "permission denied for schema public"
        # Validation reaches the structure check, which needs TEMP.
        with pytest.raises(SchemaMigrationError) as info:
            PostgresDoneLedger(role_conninfo, migrate=False)
        assert info.value.step == "adopt-structure"
        assert info.value.detail is not None
        assert "permission denied to create temporary tables" in info.value.detail
        assert isinstance(info.value.__cause__, psycopg.errors.InsufficientPrivilege)
