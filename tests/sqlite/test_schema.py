"""DT-6: schema introspection (``sqlite_master``, ``PRAGMA index_xinfo``, ``PRAGMA
foreign_key_list``) and every CHECK made to fire by raw SQL, including the shape check
on a proposed row the merge would repair (DBL-6). Also DBE-2's constraint naming.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from gossip_model.db.encoding import DONE_COLUMNS, OBSERVATION_COLUMNS, OCCURRENCE_COLUMNS
from gossip_model.db.errors import DatabaseBackendError
from gossip_model.inmemory import InMemoryStoreKind
from gossip_model.sqlite.connection import CONSTRAINTS, SqliteDatabase, backend_error
from gossip_model.sqlite.done_ledger import UPSERT_SQL
from gossip_model.sqlite.migrate import DONE_LEDGER_SCHEMA, FINDINGS_SCHEMA, apply_migrations
from tests.builders import fill

B32 = fill(0x01)
I31 = 2**31 - 1


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh ``:memory:`` database with both schemas (SCH-3: they may share one)."""
    db = SqliteDatabase(InMemoryStoreKind.DONE_LEDGER, ":memory:", timeout=1, synchronous="FULL")
    apply_migrations(db, DONE_LEDGER_SCHEMA)
    apply_migrations(db, FINDINGS_SCHEMA)
    yield db.connection
    db.close()


def names(conn: sqlite3.Connection, kind: str) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {name for (name,) in rows if not name.startswith("sqlite_autoindex")}


def index_columns(conn: sqlite3.Connection, index: str) -> list[tuple[str, bool]]:
    """Key columns of ``index`` with their DESC flag (``PRAGMA index_xinfo``)."""
    rows = conn.execute(f"PRAGMA index_xinfo({index})").fetchall()
    return [(row[2], bool(row[3])) for row in rows if row[5] == 1]


def test_tables_indexes_and_history_tables_exist(conn: sqlite3.Connection) -> None:
    assert names(conn, "table") == {
        "done_ledger_entries",
        "findings",
        "occurrences",
        "observations",
        "done_ledger_schema_migrations",
        "findings_schema_migrations",
    }
    assert names(conn, "index") == {
        "done_ledger_entries_tenant_policy_finished_at_idx",
        "done_ledger_entries_run_shard_idx",
        "findings_tenant_secret_hash_idx",
        "findings_tenant_stable_item_id_idx",
        "occurrences_tenant_finding_id_idx",
        "occurrences_tenant_object_version_id_idx",
        "observations_tenant_seen_at_idx",
        "observations_tenant_policy_seen_at_idx",
        "observations_tenant_occurrence_id_idx",
        "observations_tenant_ovid_hash_idx",
        "observations_tenant_run_shard_idx",
    }


@pytest.mark.parametrize(
    ("index", "columns"),
    [
        (
            "done_ledger_entries_tenant_policy_finished_at_idx",
            [
                ("tenant_id", False),
                ("policy_hash", False),
                ("finished_at", True),
                ("ovid_hash", False),
            ],
        ),
        (
            "done_ledger_entries_run_shard_idx",
            [(c, False) for c in ("run_id", "shard_id", "tenant_id", "policy_hash", "ovid_hash")],
        ),
        (
            "observations_tenant_seen_at_idx",
            [("tenant_id", False), ("seen_at", True), ("observation_id", False)],
        ),
        (
            "observations_tenant_policy_seen_at_idx",
            [
                ("tenant_id", False),
                ("policy_hash", False),
                ("seen_at", True),
                ("observation_id", False),
            ],
        ),
        (
            "findings_tenant_secret_hash_idx",
            [("tenant_id", False), ("secret_hash", False), ("finding_id", False)],
        ),
    ],
)
def test_secondary_keys_keep_columns_and_desc(
    conn: sqlite3.Connection, index: str, columns: list[tuple[str, bool]]
) -> None:
    """SQ-2: key names and DESC columns kept."""
    assert index_columns(conn, index) == columns


def test_columns_types_and_not_null(conn: sqlite3.Connection) -> None:
    rows = conn.execute("PRAGMA table_xinfo(done_ledger_entries)").fetchall()
    assert [r[1] for r in rows] == list(DONE_COLUMNS)
    types = {r[1]: r[2] for r in rows}
    assert {types[c] for c in ("tenant_id", "policy_hash", "ovid_hash")} == {"BLOB"}
    assert types["error_code"] == "TEXT"
    assert {r[1] for r in rows if r[3] == 0} == {"error_code"}
    columns = [r[1] for r in conn.execute("PRAGMA table_xinfo(observations)")]
    assert columns == list(OBSERVATION_COLUMNS)
    columns = [r[1] for r in conn.execute("PRAGMA table_xinfo(occurrences)")]
    assert columns == list(OCCURRENCE_COLUMNS)


def test_primary_keys_and_without_rowid(conn: sqlite3.Connection) -> None:
    """SQ-2 open point: WITHOUT ROWID data tables with their composite primary keys."""
    expected = {
        "done_ledger_entries": ["tenant_id", "policy_hash", "ovid_hash"],
        "findings": ["tenant_id", "finding_id"],
        "occurrences": ["tenant_id", "occurrence_id"],
        "observations": ["tenant_id", "observation_id"],
    }
    for table, key in expected.items():
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        assert [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] == key
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        assert sql.rstrip().endswith("WITHOUT ROWID")
        assert f"CONSTRAINT {table}_pk PRIMARY KEY" in sql


def test_foreign_keys(conn: sqlite3.Connection) -> None:
    occurrences = conn.execute("PRAGMA foreign_key_list(occurrences)").fetchall()
    assert sorted((r[2], r[3], r[4], r[6]) for r in occurrences) == [
        ("findings", "finding_id", "finding_id", "CASCADE"),
        ("findings", "tenant_id", "tenant_id", "CASCADE"),
    ]
    observations = conn.execute("PRAGMA foreign_key_list(observations)").fetchall()
    assert sorted((r[2], r[3], r[4]) for r in observations) == [
        ("occurrences", "occurrence_id", "occurrence_id"),
        ("occurrences", "tenant_id", "tenant_id"),
    ]
    assert conn.execute("PRAGMA foreign_key_list(findings)").fetchall() == []


# --- every CHECK fires (DT-6) ------------------------------------------------------------


def done_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": B32,
        "policy_hash": B32,
        "ovid_hash": B32,
        "status": 10,
        "bytes_scanned": 1,
        "findings_count": 0,
        "fence_epoch": 1,
        "started_at": 1,
        "finished_at": 2,
        "run_id": -1,
        "shard_id": 2**63 - 1,
        "error_code": None,
    }
    row.update(overrides)
    return row


def finding_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": B32,
        "finding_id": B32,
        "stable_item_id": B32,
        "rule_fingerprint": B32,
        "secret_hash": B32,
    }
    row.update(overrides)
    return row


def occurrence_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": B32,
        "occurrence_id": B32,
        "finding_id": B32,
        "object_version_id": B32,
        "byte_offset": 0,
        "byte_length": 1,
    }
    row.update(overrides)
    return row


def observation_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "tenant_id": B32,
        "observation_id": B32,
        "occurrence_id": B32,
        "policy_hash": B32,
        "ovid_hash": B32,
        "run_id": 1,
        "shard_id": 1,
        "fence_epoch": 0,
        "seen_at": 0,
        "location_display": None,
        "location_url": None,
    }
    row.update(overrides)
    return row


def insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("done_ledger_entries_tenant_id_check", "done_ledger_entries", done_row(tenant_id=b"x" * 31)),
    (
        "done_ledger_entries_policy_hash_check",
        "done_ledger_entries",
        done_row(policy_hash="x" * 32),
    ),
    ("done_ledger_entries_ovid_hash_check", "done_ledger_entries", done_row(ovid_hash=b"x" * 33)),
    ("done_ledger_entries_status_check", "done_ledger_entries", done_row(status=4)),
    ("done_ledger_entries_bytes_scanned_check", "done_ledger_entries", done_row(bytes_scanned=-1)),
    (
        "done_ledger_entries_findings_count_check",
        "done_ledger_entries",
        done_row(status=11, findings_count=I31 + 1),
    ),
    ("done_ledger_entries_fence_epoch_check", "done_ledger_entries", done_row(fence_epoch=-1)),
    (
        "done_ledger_entries_started_at_check",
        "done_ledger_entries",
        done_row(started_at=-2, finished_at=-1),
    ),
    ("done_ledger_entries_check", "done_ledger_entries", done_row(started_at=3, finished_at=2)),
    (
        "done_ledger_entries_error_code_size_ck",
        "done_ledger_entries",
        done_row(status=1, error_code="é" * 65),
    ),
    ("done_ledger_entries_status_shape_ck", "done_ledger_entries", done_row(status=1)),
    ("done_ledger_entries_status_shape_ck", "done_ledger_entries", done_row(findings_count=1)),
    ("done_ledger_entries_status_shape_ck", "done_ledger_entries", done_row(error_code="E")),
    ("done_ledger_entries_status_shape_ck", "done_ledger_entries", done_row(status=11)),
    *[
        (f"findings_{column}_len_ck", "findings", finding_row(**{column: b"x"}))
        for column in (
            "tenant_id",
            "finding_id",
            "stable_item_id",
            "rule_fingerprint",
            "secret_hash",
        )
    ],
    *[
        (f"occurrences_{column}_len_ck", "occurrences", occurrence_row(**{column: "x" * 32}))
        for column in ("tenant_id", "occurrence_id", "finding_id", "object_version_id")
    ],
    ("occurrences_byte_offset_nonnegative_ck", "occurrences", occurrence_row(byte_offset=-1)),
    ("occurrences_byte_length_positive_ck", "occurrences", occurrence_row(byte_length=0)),
    (
        "occurrences_span_no_overflow_ck",
        "occurrences",
        occurrence_row(byte_offset=2**63 - 2, byte_length=1),
    ),
    *[
        (f"observations_{column}_len_ck", "observations", observation_row(**{column: b""}))
        for column in ("tenant_id", "observation_id", "occurrence_id", "policy_hash", "ovid_hash")
    ],
    ("observations_fence_epoch_nonnegative_ck", "observations", observation_row(fence_epoch=-1)),
    ("observations_seen_at_nonnegative_ck", "observations", observation_row(seen_at=-1)),
    (
        "observations_location_display_ck",
        "observations",
        observation_row(location_display=""),
    ),
    (
        "observations_location_url_ck",
        "observations",
        observation_row(location_display="d", location_url="u" * 4097),
    ),
]


@pytest.mark.parametrize(("constraint", "table", "row"), CASES, ids=[c[0] for c in CASES])
def test_every_check_fires_and_maps_to_its_name(
    conn: sqlite3.Connection, constraint: str, table: str, row: dict[str, Any]
) -> None:
    """DT-6: raw SQL violating exactly one CHECK; DBE-2 names it without driver text."""
    conn.execute("PRAGMA foreign_keys=OFF")  # parents are irrelevant to the CHECKs
    with pytest.raises(sqlite3.IntegrityError) as info:
        insert(conn, table, row)
    assert str(info.value) == f"CHECK constraint failed: {constraint}"
    mapped = backend_error(InMemoryStoreKind.FINDINGS, "raw", info.value, table)
    assert mapped == DatabaseBackendError(
        InMemoryStoreKind.FINDINGS, "raw", "SQLITE_CONSTRAINT_CHECK", table, constraint
    )


def test_every_named_check_is_exercised() -> None:
    declared = set()
    for migration in (*DONE_LEDGER_SCHEMA.migrations, *FINDINGS_SCHEMA.migrations):
        declared |= set(re.findall(r"CONSTRAINT (\w+)\s+CHECK", migration.sql))
    assert declared == {case[0] for case in CASES}
    assert declared <= CONSTRAINTS.checks


def test_boundary_rows_pass_every_check(conn: sqlite3.Connection) -> None:
    """The limits themselves are accepted (ENC-2..ENC-4)."""
    conn.execute("PRAGMA foreign_keys=OFF")
    insert(
        conn,
        "done_ledger_entries",
        done_row(status=11, findings_count=I31, bytes_scanned=2**63 - 1),
    )
    insert(conn, "occurrences", occurrence_row(byte_offset=2**63 - 3, byte_length=1))
    insert(conn, "observations", observation_row(location_display="d" * 4096, location_url="u"))
    assert conn.execute("SELECT count(*) FROM occurrences").fetchone() == (1,)


def test_dbl6_shape_check_fires_on_a_row_the_merge_would_repair(conn: sqlite3.Connection) -> None:
    """DBL-6: CHECKs see the proposed row before the conflict update."""
    stored = done_row(status=11, findings_count=5)
    conn.execute(UPSERT_SQL, tuple(stored.values()))
    proposed = done_row(status=11, findings_count=0)  # merged, it would be (11, 5): valid
    with pytest.raises(sqlite3.IntegrityError, match="done_ledger_entries_status_shape_ck"):
        conn.execute(UPSERT_SQL, tuple(proposed.values()))
    assert conn.execute("SELECT findings_count FROM done_ledger_entries").fetchall() == [(5,)]


def test_unique_and_foreign_key_failures_are_named(conn: sqlite3.Connection) -> None:
    """DBE-2: key and foreign-key failures map to our constraint names, never to values."""
    kind = InMemoryStoreKind.FINDINGS
    insert(conn, "findings", finding_row())
    with pytest.raises(sqlite3.IntegrityError) as pk:
        insert(conn, "findings", finding_row(stable_item_id=fill(0x03)))
    assert backend_error(kind, "raw", pk.value, "findings").constraint == "findings_pk"
    with pytest.raises(sqlite3.IntegrityError) as natural:
        insert(conn, "findings", finding_row(finding_id=fill(0x02)))
    error = backend_error(kind, "raw", natural.value, "findings")
    assert error.constraint == "findings_natural_unique"
    assert error.code == "SQLITE_CONSTRAINT_UNIQUE"
    with pytest.raises(sqlite3.IntegrityError) as orphan:
        insert(conn, "observations", observation_row())
    error = backend_error(kind, "raw", orphan.value, "observations")
    assert (error.code, error.constraint) == (
        "SQLITE_CONSTRAINT_FOREIGNKEY",
        "observations_occurrence_fk",
    )
    with pytest.raises(sqlite3.IntegrityError) as not_null:
        conn.execute("INSERT INTO findings (tenant_id) VALUES (?)", (B32,))
    assert backend_error(kind, "raw", not_null.value, "findings").constraint is None
    with pytest.raises(sqlite3.OperationalError) as other:
        conn.execute("SELECT * FROM no_such_table")
    assert backend_error(kind, "raw", other.value, None).constraint is None
