"""Adopting a database migrated by the upstream Rust crates (issue 13; MIG-1..MIG-5).

A history row whose checksum is a known upstream digest of that version
(:mod:`gossip_model.db.upstream`) is accepted only when the catalog shows
exactly the structure this package's migrations create. The comparison is
made against the server itself, not against a stored snapshot (whose
rendering would vary across PostgreSQL versions): inside the caller's
transaction, under a savepoint that is always rolled back, our migrations
run into the session's temporary schema (``SET LOCAL search_path =
pg_temp``), both structures are read from ``pg_catalog`` with the same
functions, and the savepoint is rolled back. Nothing persistent is written;
the role needs only the default ``TEMP`` privilege.

What is compared, per table of the set plus its history table (MIG-2):
the tables' presence; every column with its position, type
(``format_type``), nullability, default and generation expression; every
constraint by name with ``pg_get_constraintdef`` (checks, keys, foreign
keys with their actions); every index by name with ``pg_get_indexdef``
(columns, order, uniqueness, predicate); every user trigger. Schema
qualifiers are removed so ``public.x`` and ``pg_temp_3.x`` compare equal.
Not compared: ownership, grants, row-level security policies, storage
parameters, comments, statistics targets.

The adopted history row is left as it is, so the Rust scanner still accepts
the database after this package has used it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from psycopg import sql

from gossip_model.db.errors import SchemaStructureMismatch
from gossip_model.db.migrations import Migration
from gossip_model.postgres.connection import Connection

#: ``ON public.t`` / ``ON pg_temp_3.t`` -> ``ON t`` in index and trigger definitions.
_QUALIFIED = re.compile(r'\b(ON|REFERENCES) (ONLY )?(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)\.')

Structure = dict[tuple[str, ...], str]

_COLUMNS = """
SELECT c.relname, a.attname,
       format('#%%s %%s%%s%%s%%s', row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
              format_type(a.atttypid, a.atttypmod),
              CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END,
              CASE WHEN d.adbin IS NOT NULL AND a.attgenerated = ''
                   THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END,
              CASE WHEN a.attgenerated <> ''
                   THEN ' GENERATED ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END)
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.oid = ANY(%s::oid[])
"""
_CONSTRAINTS = """
SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.oid = ANY(%s::oid[])
"""
_INDEXES = """
SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
WHERE c.oid = ANY(%s::oid[])
"""
_TRIGGERS = """
SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.oid = ANY(%s::oid[]) AND NOT t.tgisinternal
"""


def _unqualify(definition: str) -> str:
    return _QUALIFIED.sub(lambda m: f"{m.group(1)} {m.group(2) or ''}", definition)


def read_structure(
    conn: Connection, tables: Sequence[str], *, temporary: bool = False
) -> Structure:
    """The catalog description of ``tables`` (see the module docstring), keyed for diffing.

    ``temporary`` resolves the names in the session's temporary schema.
    """
    names = [f"pg_temp.{name}" if temporary else name for name in tables]
    rows = conn.execute(
        "SELECT name, to_regclass(qualified)::oid FROM unnest(%s::text[], %s::text[]) "
        "AS t(name, qualified)",
        (list(tables), names),
    ).fetchall()
    structure: Structure = {}
    oids = []
    for name, oid in rows:
        if oid is not None:
            structure[("table", str(name))] = "present"
            oids.append(int(oid))
    for kind, query in (
        ("column", _COLUMNS),
        ("constraint", _CONSTRAINTS),
        ("index", _INDEXES),
        ("trigger", _TRIGGERS),
    ):
        for table, name, definition in conn.execute(query, (oids,)):
            structure[(kind, str(table), str(name))] = _unqualify(str(definition))
    return structure


def describe_differences(found: Mapping[tuple[str, ...], str], expected: Structure) -> list[str]:
    """One line per difference, sorted: missing, unexpected, or different definitions."""
    lines = []
    for key in sorted(set(found) | set(expected)):
        label = f"{key[0]} {'.'.join(key[1:])}"
        if key not in found:
            lines.append(f"missing {label}: expected {expected[key]}")
        elif key not in expected:
            lines.append(f"unexpected {label}: {found[key]}")
        elif found[key] != expected[key]:
            lines.append(f"{label}: {found[key]}, expected {expected[key]}")
    return lines


def expected_structure(
    conn: Connection,
    tables: Sequence[str],
    migrations: Sequence[Migration],
    history_ddl: sql.Composed,
) -> Structure:
    """Run ``migrations`` and the history DDL into ``pg_temp``, read them, roll back.

    Must be called inside a transaction (the savepoint is always rolled back).
    """
    box: list[Structure] = []
    # Rolling the savepoint back also restores search_path (SET LOCAL is transactional).
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL search_path = pg_temp")
        conn.execute(history_ddl)
        for migration in migrations:
            conn.execute(migration.sql.encode("utf-8"))
        box.append(read_structure(conn, tables, temporary=True))
    return box[0]


def verify_adoptable(
    conn: Connection,
    *,
    backend: str,
    version: str,
    tables: Sequence[str],
    migrations: Sequence[Migration],
    history_ddl: sql.Composed,
) -> None:
    """Raise ``SchemaStructureMismatch`` listing every difference, or return (issue 13)."""
    found = read_structure(conn, tables)
    expected = expected_structure(conn, tables, migrations, history_ddl)
    differences = describe_differences(found, expected)
    if differences:
        raise SchemaStructureMismatch(backend, version, "adopt-structure", tuple(differences))


__all__ = [
    "Structure",
    "describe_differences",
    "expected_structure",
    "read_structure",
    "verify_adoptable",
]
