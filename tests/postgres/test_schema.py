"""DT-6: the migrated schema matches SCH-1 / SCH-2, and every CHECK fires.

Names, columns and definitions come from the catalogs (``pg_constraint``,
``pg_indexes``, ``information_schema.columns``); raw SQL then violates each
CHECK one at a time (SQLSTATE 23514 naming that constraint), the foreign keys
(23503) and the natural keys (23505), including DBL-6's shape check on a
proposed row that the merge would repair.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from gossip_model.postgres import PostgresDoneLedger, PostgresFindingsSink
from gossip_model.postgres.done_ledger import MERGE_SQL
from tests.builders import fill

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[tuple[object, ...]]

EXPECTED_COLUMNS = {
    "done_ledger_entries": [
        ("tenant_id", "bytea"),
        ("policy_hash", "bytea"),
        ("ovid_hash", "bytea"),
        ("status", "smallint"),
        ("bytes_scanned", "bigint"),
        ("findings_count", "integer"),
        ("fence_epoch", "bigint"),
        ("started_at", "bigint"),
        ("finished_at", "bigint"),
        ("run_id", "bigint"),
        ("shard_id", "bigint"),
        ("error_code", "text"),
    ],
    "findings": [
        ("tenant_id", "bytea"),
        ("finding_id", "bytea"),
        ("stable_item_id", "bytea"),
        ("rule_fingerprint", "bytea"),
        ("secret_hash", "bytea"),
    ],
    "occurrences": [
        ("tenant_id", "bytea"),
        ("occurrence_id", "bytea"),
        ("finding_id", "bytea"),
        ("object_version_id", "bytea"),
        ("byte_offset", "bigint"),
        ("byte_length", "bigint"),
    ],
    "observations": [
        ("tenant_id", "bytea"),
        ("observation_id", "bytea"),
        ("occurrence_id", "bytea"),
        ("policy_hash", "bytea"),
        ("ovid_hash", "bytea"),
        ("run_id", "bigint"),
        ("shard_id", "bigint"),
        ("fence_epoch", "bigint"),
        ("seen_at", "bigint"),
        ("location_display", "text"),
        ("location_url", "text"),
    ],
}
NULLABLE = {"error_code", "location_display", "location_url"}


def _len_checks(table: str, columns: list[str]) -> dict[str, str]:
    return {f"{table}_{c}_len_ck": f"CHECK ((octet_length({c}) = 32))" for c in columns}


EXPECTED_CONSTRAINTS: dict[str, dict[str, str]] = {
    "done_ledger_entries": {
        "done_ledger_entries_pk": "PRIMARY KEY (tenant_id, policy_hash, ovid_hash)",
        "done_ledger_entries_tenant_id_check": "CHECK ((octet_length(tenant_id) = 32))",
        "done_ledger_entries_policy_hash_check": "CHECK ((octet_length(policy_hash) = 32))",
        "done_ledger_entries_ovid_hash_check": "CHECK ((octet_length(ovid_hash) = 32))",
        "done_ledger_entries_status_check": ("CHECK ((status = ANY (ARRAY[1, 2, 3, 10, 11])))"),
        "done_ledger_entries_bytes_scanned_check": "CHECK ((bytes_scanned >= 0))",
        "done_ledger_entries_findings_count_check": "CHECK ((findings_count >= 0))",
        "done_ledger_entries_fence_epoch_check": "CHECK ((fence_epoch >= 0))",
        "done_ledger_entries_started_at_check": "CHECK ((started_at >= 0))",
        # A column CHECK naming two columns gets the table-level default name.
        "done_ledger_entries_check": "CHECK ((finished_at >= started_at))",
        "done_ledger_entries_error_code_size_ck": (
            "CHECK (((error_code IS NULL) OR "
            "((octet_length(error_code) >= 1) AND (octet_length(error_code) <= 128))))"
        ),
        "done_ledger_entries_status_shape_ck": (
            "CHECK ((((status = 10) AND (findings_count = 0) AND (error_code IS NULL)) OR "
            "((status = 11) AND (findings_count > 0) AND (error_code IS NULL)) OR "
            "((status = ANY (ARRAY[1, 2, 3])) AND (error_code IS NOT NULL))))"
        ),
    },
    "findings": {
        "findings_pk": "PRIMARY KEY (tenant_id, finding_id)",
        "findings_natural_unique": (
            "UNIQUE (tenant_id, stable_item_id, rule_fingerprint, secret_hash)"
        ),
        **_len_checks(
            "findings",
            ["tenant_id", "finding_id", "stable_item_id", "rule_fingerprint", "secret_hash"],
        ),
    },
    "occurrences": {
        "occurrences_pk": "PRIMARY KEY (tenant_id, occurrence_id)",
        "occurrences_byte_offset_nonnegative_ck": "CHECK ((byte_offset >= 0))",
        "occurrences_byte_length_positive_ck": "CHECK ((byte_length > 0))",
        "occurrences_span_no_overflow_ck": (
            "CHECK ((byte_offset <= ('9223372036854775806'::bigint - byte_length)))"
        ),
        "occurrences_finding_fk": (
            "FOREIGN KEY (tenant_id, finding_id) REFERENCES findings(tenant_id, finding_id) "
            "ON DELETE CASCADE"
        ),
        "occurrences_natural_unique": (
            "UNIQUE (tenant_id, finding_id, object_version_id, byte_offset, byte_length)"
        ),
        **_len_checks(
            "occurrences", ["tenant_id", "occurrence_id", "finding_id", "object_version_id"]
        ),
    },
    "observations": {
        "observations_pk": "PRIMARY KEY (tenant_id, observation_id)",
        "observations_fence_epoch_nonnegative_ck": "CHECK ((fence_epoch >= 0))",
        "observations_seen_at_nonnegative_ck": "CHECK ((seen_at >= 0))",
        "observations_occurrence_fk": (
            "FOREIGN KEY (tenant_id, occurrence_id) "
            "REFERENCES occurrences(tenant_id, occurrence_id) ON DELETE CASCADE"
        ),
        "observations_natural_unique": "UNIQUE (tenant_id, policy_hash, occurrence_id)",
        "observations_location_display_ck": (
            "CHECK (((location_display IS NULL) OR ((octet_length(location_display) >= 1) "
            "AND (octet_length(location_display) <= 4096))))"
        ),
        "observations_location_url_ck": (
            "CHECK (((location_url IS NULL) OR ((octet_length(location_url) >= 1) "
            "AND (octet_length(location_url) <= 4096))))"
        ),
        **_len_checks(
            "observations",
            ["tenant_id", "observation_id", "occurrence_id", "policy_hash", "ovid_hash"],
        ),
    },
}

EXPECTED_INDEXES = {
    "done_ledger_entries": {
        "done_ledger_entries_pk": "(tenant_id, policy_hash, ovid_hash)",
        "done_ledger_entries_tenant_policy_finished_at_idx": (
            "(tenant_id, policy_hash, finished_at DESC, ovid_hash)"
        ),
        "done_ledger_entries_run_shard_idx": (
            "(run_id, shard_id, tenant_id, policy_hash, ovid_hash)"
        ),
    },
    "findings": {
        "findings_pk": "(tenant_id, finding_id)",
        "findings_natural_unique": "(tenant_id, stable_item_id, rule_fingerprint, secret_hash)",
        "findings_tenant_secret_hash_idx": "(tenant_id, secret_hash, finding_id)",
        "findings_tenant_stable_item_id_idx": "(tenant_id, stable_item_id, finding_id)",
    },
    "occurrences": {
        "occurrences_pk": "(tenant_id, occurrence_id)",
        "occurrences_natural_unique": (
            "(tenant_id, finding_id, object_version_id, byte_offset, byte_length)"
        ),
        "occurrences_tenant_finding_id_idx": "(tenant_id, finding_id, occurrence_id)",
        "occurrences_tenant_object_version_id_idx": (
            "(tenant_id, object_version_id, occurrence_id)"
        ),
    },
    "observations": {
        "observations_pk": "(tenant_id, observation_id)",
        "observations_natural_unique": "(tenant_id, policy_hash, occurrence_id)",
        "observations_tenant_seen_at_idx": "(tenant_id, seen_at DESC, observation_id)",
        "observations_tenant_policy_seen_at_idx": (
            "(tenant_id, policy_hash, seen_at DESC, observation_id)"
        ),
        "observations_tenant_occurrence_id_idx": "(tenant_id, occurrence_id, observation_id)",
        "observations_tenant_ovid_hash_idx": "(tenant_id, ovid_hash, observation_id)",
        "observations_tenant_run_shard_idx": "(tenant_id, run_id, shard_id, observation_id)",
    },
}


@pytest.fixture(scope="module")
def migrated(module_conninfo: str) -> Iterator[Conn]:
    """Both stores migrated into one database (SCH-3: distinct tables), plus a raw connection."""
    PostgresDoneLedger(module_conninfo).close()
    PostgresFindingsSink(module_conninfo).close()
    with psycopg.connect(module_conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture
def schema(migrated: Conn) -> Iterator[Conn]:
    """The raw connection inside a transaction rolled back after the test."""
    with migrated.transaction(force_rollback=True):
        yield migrated


@pytest.mark.parametrize("table", sorted(EXPECTED_COLUMNS))
def test_columns_types_and_nullability(schema: Conn, table: str) -> None:
    rows = schema.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    assert [(name, kind) for name, kind, _ in rows] == EXPECTED_COLUMNS[table]
    for name, _, nullable in rows:
        assert (nullable == "YES") == (name in NULLABLE), name


@pytest.mark.parametrize("table", sorted(EXPECTED_CONSTRAINTS))
def test_constraints_from_pg_constraint(schema: Conn, table: str) -> None:
    rows = schema.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass",
        (table,),
    ).fetchall()
    assert dict(rows) == EXPECTED_CONSTRAINTS[table]


@pytest.mark.parametrize("table", sorted(EXPECTED_INDEXES))
def test_indexes_from_pg_indexes(schema: Conn, table: str) -> None:
    rows = schema.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)
    ).fetchall()
    found = {name: definition.split(" USING btree ", 1)[1] for name, definition in rows}
    assert found == EXPECTED_INDEXES[table]


def test_history_tables_from_mig_2(schema: Conn) -> None:
    for table in ("done_ledger_schema_migrations", "findings_schema_migrations"):
        rows = schema.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        assert rows == [
            ("version", "text", "NO"),
            ("checksum", "bytea", "NO"),
            ("applied_at", "timestamp with time zone", "NO"),
        ]
        checks = schema.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'c'",
            (table,),
        ).fetchall()
        assert checks == [("CHECK ((octet_length(checksum) = 32))",)]


# --- CHECKs firing ------------------------------------------------------------------------------

B32 = fill(0x01)
B31 = b"\x01" * 31
DONE_INSERT = (
    "INSERT INTO done_ledger_entries (tenant_id, policy_hash, ovid_hash, status, bytes_scanned, "
    "findings_count, fence_epoch, started_at, finished_at, run_id, shard_id, error_code) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
DONE_VALID: dict[str, Any] = {
    "tenant_id": B32,
    "policy_hash": B32,
    "ovid_hash": B32,
    "status": 1,
    "bytes_scanned": 0,
    "findings_count": 0,
    "fence_epoch": 0,
    "started_at": 0,
    "finished_at": 0,
    "run_id": -1,
    "shard_id": -(2**63),
    "error_code": "E1",
}
DONE_VIOLATIONS = [
    ("tenant_id", B31, "done_ledger_entries_tenant_id_check"),
    ("policy_hash", B31, "done_ledger_entries_policy_hash_check"),
    ("ovid_hash", b"\x01" * 33, "done_ledger_entries_ovid_hash_check"),
    ("status", 4, "done_ledger_entries_status_check"),
    ("bytes_scanned", -1, "done_ledger_entries_bytes_scanned_check"),
    ("findings_count", -1, "done_ledger_entries_findings_count_check"),
    ("fence_epoch", -1, "done_ledger_entries_fence_epoch_check"),
    ("started_at", -1, "done_ledger_entries_started_at_check"),
    ("finished_at", -1, "done_ledger_entries_check"),
    ("error_code", "", "done_ledger_entries_error_code_size_ck"),
    ("error_code", "E" * 129, "done_ledger_entries_error_code_size_ck"),
    ("error_code", None, "done_ledger_entries_status_shape_ck"),
]


def expect_violation(conn: Conn, query: str, params: Any, error: type, constraint: str) -> None:
    with pytest.raises(error) as excinfo, conn.transaction():
        conn.execute(query, params)
    assert excinfo.value.diag.constraint_name == constraint


@pytest.mark.parametrize(("column", "value", "constraint"), DONE_VIOLATIONS)
def test_done_ledger_checks_fire(
    schema: Conn, column: str, value: object, constraint: str
) -> None:
    schema.execute(DONE_INSERT, list(DONE_VALID.values()))  # the valid row is accepted
    schema.execute("DELETE FROM done_ledger_entries")
    row = {**DONE_VALID, column: value}
    expect_violation(schema, DONE_INSERT, list(row.values()), pg_errors.CheckViolation, constraint)


@pytest.mark.parametrize(
    ("status", "count", "code"),
    [(10, 1, None), (10, 0, "E1"), (11, 0, None), (11, 1, "E1"), (2, 0, None)],
)
def test_status_shape_check_is_dl_32(
    schema: Conn, status: int, count: int, code: str | None
) -> None:
    row = {**DONE_VALID, "status": status, "findings_count": count, "error_code": code}
    expect_violation(
        schema,
        DONE_INSERT,
        list(row.values()),
        pg_errors.CheckViolation,
        "done_ledger_entries_status_shape_ck",
    )


def test_shape_check_rejects_a_proposed_row_the_merge_would_repair(schema: Conn) -> None:
    """DBL-6: (11, count 5) stored; proposing (11, count 0) fails although the merge gives 5."""
    stored = {**DONE_VALID, "status": 11, "findings_count": 5, "error_code": None}
    schema.execute(DONE_INSERT, list(stored.values()))
    proposed = {**stored, "findings_count": 0, "finished_at": 9}
    expect_violation(
        schema,
        MERGE_SQL,
        [[v] for v in proposed.values()],
        pg_errors.CheckViolation,
        "done_ledger_entries_status_shape_ck",
    )
    assert schema.execute(
        "SELECT findings_count, finished_at FROM done_ledger_entries"
    ).fetchone() == (
        5,
        0,
    )


FINDING_INSERT = (
    "INSERT INTO findings (tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash) "
    "VALUES (%s, %s, %s, %s, %s)"
)
OCCURRENCE_INSERT = (
    "INSERT INTO occurrences (tenant_id, occurrence_id, finding_id, object_version_id, "
    "byte_offset, byte_length) VALUES (%s, %s, %s, %s, %s, %s)"
)
OBSERVATION_INSERT = (
    "INSERT INTO observations (tenant_id, observation_id, occurrence_id, policy_hash, ovid_hash, "
    "run_id, shard_id, fence_epoch, seen_at, location_display, location_url) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
FINDING_ROW = [B32, B32, B32, B32, B32]
OCCURRENCE_ROW = [B32, B32, B32, B32, 0, 1]
OBSERVATION_ROW = [B32, B32, B32, B32, B32, -1, 0, 0, 0, "d", "u"]
FINDING_NAMES = ["tenant_id", "finding_id", "stable_item_id", "rule_fingerprint", "secret_hash"]
OCCURRENCE_NAMES = ["tenant_id", "occurrence_id", "finding_id", "object_version_id"]
OBSERVATION_NAMES = ["tenant_id", "observation_id", "occurrence_id", "policy_hash", "ovid_hash"]


def findings_violations() -> list[Any]:
    cases: list[Any] = []
    for i, name in enumerate(FINDING_NAMES):
        row = list(FINDING_ROW)
        row[i] = B31
        cases.append(pytest.param(FINDING_INSERT, row, f"findings_{name}_len_ck", id=name))
    for i, name in enumerate(OCCURRENCE_NAMES):
        row = list(OCCURRENCE_ROW)
        row[i] = B31
        cases.append(pytest.param(OCCURRENCE_INSERT, row, f"occurrences_{name}_len_ck", id=name))
    for index, value, constraint in [
        (4, -1, "occurrences_byte_offset_nonnegative_ck"),
        (5, 0, "occurrences_byte_length_positive_ck"),
    ]:
        row = list(OCCURRENCE_ROW)
        row[index] = value
        cases.append(pytest.param(OCCURRENCE_INSERT, row, constraint, id=constraint))
    cases.append(
        pytest.param(
            OCCURRENCE_INSERT,
            [B32, B32, B32, B32, 2**63 - 2, 1],
            "occurrences_span_no_overflow_ck",
            id="span-end-2**63-1",
        )
    )
    for i, name in enumerate(OBSERVATION_NAMES):
        row = list(OBSERVATION_ROW)
        row[i] = B31
        cases.append(pytest.param(OBSERVATION_INSERT, row, f"observations_{name}_len_ck", id=name))
    for index, value, constraint in [
        (7, -1, "observations_fence_epoch_nonnegative_ck"),
        (8, -1, "observations_seen_at_nonnegative_ck"),
        (9, "", "observations_location_display_ck"),
        (9, "d" * 4097, "observations_location_display_ck"),
        (10, "", "observations_location_url_ck"),
        (10, "u" * 4097, "observations_location_url_ck"),
    ]:
        row = list(OBSERVATION_ROW)
        row[index] = value
        cases.append(pytest.param(OBSERVATION_INSERT, row, constraint, id=f"{constraint}-{index}"))
    return cases


@pytest.mark.parametrize(("query", "row", "constraint"), findings_violations())
def test_findings_checks_fire(schema: Conn, query: str, row: list[Any], constraint: str) -> None:
    schema.execute(FINDING_INSERT, FINDING_ROW)
    schema.execute(OCCURRENCE_INSERT, OCCURRENCE_ROW)
    expect_violation(schema, query, row, pg_errors.CheckViolation, constraint)


def test_span_check_accepts_the_last_allowed_end(schema: Conn) -> None:
    """ENC-4: ``offset + length = 2**63 - 2`` passes ``occurrences_span_no_overflow_ck``."""
    schema.execute(FINDING_INSERT, FINDING_ROW)
    schema.execute(OCCURRENCE_INSERT, [B32, B32, B32, B32, 2**63 - 3, 1])
    assert schema.execute("SELECT count(*) FROM occurrences").fetchone() == (1,)


def test_foreign_keys_and_natural_keys_fire(schema: Conn) -> None:
    other = fill(0x02)
    expect_violation(
        schema,
        OCCURRENCE_INSERT,
        OCCURRENCE_ROW,
        pg_errors.ForeignKeyViolation,
        "occurrences_finding_fk",
    )
    schema.execute(FINDING_INSERT, FINDING_ROW)
    expect_violation(
        schema,
        OBSERVATION_INSERT,
        OBSERVATION_ROW,
        pg_errors.ForeignKeyViolation,
        "observations_occurrence_fk",
    )
    expect_violation(
        schema,
        FINDING_INSERT,
        [B32, other, B32, B32, B32],
        pg_errors.UniqueViolation,
        "findings_natural_unique",
    )
    schema.execute(OCCURRENCE_INSERT, OCCURRENCE_ROW)
    expect_violation(
        schema,
        OCCURRENCE_INSERT,
        [B32, other, B32, B32, 0, 1],
        pg_errors.UniqueViolation,
        "occurrences_natural_unique",
    )
    schema.execute(OBSERVATION_INSERT, OBSERVATION_ROW)
    row = list(OBSERVATION_ROW)
    row[1] = other
    expect_violation(
        schema, OBSERVATION_INSERT, row, pg_errors.UniqueViolation, "observations_natural_unique"
    )
    schema.execute("DELETE FROM findings")
    assert schema.execute(
        "SELECT (SELECT count(*) FROM occurrences), (SELECT count(*) FROM observations)"
    ).fetchone() == (0, 0), "ON DELETE CASCADE"
