"""The SQLite done ledger (backends.md DBL-1..DBL-8, SQ-3..SQ-6, FC-1..FC-7).

``SqliteDoneLedger`` is a :class:`~gossip_model.backend.ControlledDoneLedger`
over :class:`SqliteDoneLedgerBackend` (FC-1), the public backend kit: the
core's durable state is the store's :class:`SqliteDatabase`, so controls,
delayed completion, release orders, fault counters, handles and ``clone()``
are the in-memory store's own. Validation and the in-batch fold are the kit's
domain function (``validate_and_fold``), so receipts and errors are identical
by construction; only the merge with stored rows runs in SQL. ``reset()``
deletes every row in one transaction.

``apply`` (DBL-2): (1) commit fault, before any SQL (ST-9, FC-4); (2)+(3)
validation and fold per key in input order, receipt from the folded batch
(DL-7); (4) encoding (ENC-6: ``ValueOutOfRange``); (5) an empty batch gives
``(0, 0, 0)`` without SQL; (6) one ``BEGIN IMMEDIATE`` transaction, ONE
``executemany`` of the one-row merge upsert over the folded rows sorted by key
bytes (DBL-3, SQ-6 first option), COMMIT. In auto-complete mode the rows are
committed before ``batch_upsert`` returns.

The merge statement is DBL-4's SET clause in SQLite terms (SQ-3): scalar
``max`` for ``GREATEST``, ``excluded`` for ``EXCLUDED``, the table name for the
stored row, row values for ``ROW(...) > ROW(...)``, and
``coalesce(error_code, '')`` as the code element (TEXT under BINARY collation
compares like ``bytes``). ``<win>`` is generated once from one template, so
its six copies cannot drift apart; DT-5 holds them to ``DoneLedgerRecord.merge``.
``... IN (10, 11)`` is written ``>= 10`` (the same for the five stored ranks):
SQLite rebuilds a constant IN list for every row of an ``executemany``.

Choices on open points:

* Constructor: ``SqliteDoneLedger(database=":memory:", *, auto_complete=True,
  timeout=5.0, synchronous="FULL", migrate=True)``; ``migrate=False`` only
  validates the schema (MIG-5).
* DBL-8: ``list_done_hashes`` is ``... WHERE tenant_id = ? AND policy_hash = ?
  AND status <> 1 ORDER BY ovid_hash`` (bytes order, like the in-memory
  store) and ``count_done_hashes`` the matching exact ``count(*)``.
* ``ValueOutOfRange.position`` is the record's index in the folded batch
  (distinct keys in order of first appearance), since encoding follows the fold.
* ``batch_get`` with more than 10_000 hashes raises ``BatchTooLarge`` (DBL-7);
  the in-memory store has no limit (a deliberate divergence, like ENC-6).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, cast

from gossip_model.backend.done_ledger import (
    ControlledDoneLedger,
    ControlledDoneLedgerHandle,
    DoneLedgerPayload,
    validate_and_fold,
)
from gossip_model.core.arguments import check_flag
from gossip_model.core.errors import InMemoryStoreKind
from gossip_model.core.store import FaultCounters
from gossip_model.db.encoding import DONE_COLUMNS, decode_done_row, encode_done_row
from gossip_model.db.errors import BatchTooLarge, CorruptRow
from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.persistence.done_ledger import (
    RECOMMENDED_MAX_BATCH_SIZE,
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
)
from gossip_model.sqlite.connection import MEMORY, SqliteDatabase, Transaction
from gossip_model.sqlite.migrate import DONE_LEDGER_SCHEMA, open_database

KIND = InMemoryStoreKind.DONE_LEDGER
TABLE = "done_ledger_entries"
_COLUMNS = ", ".join(DONE_COLUMNS)
_KEY_COLUMNS = ("tenant_id", "policy_hash", "ovid_hash")
_PROVENANCE_COLUMNS = ("run_id", "shard_id", "fence_epoch", "started_at", "finished_at")


def _winner_tuple(row: str) -> str:
    """DL-34 step 7 as a SQLite row value (SQ-3)."""
    return (
        f"({row}.status, {row}.finished_at, {row}.started_at, {row}.fence_epoch, "
        f"{row}.run_id, {row}.shard_id, coalesce({row}.error_code, ''))"
    )


#: ``<win>``: the incoming row strictly wins (DBL-4, DL-34 step 7).
WIN = f"{_winner_tuple('excluded')} > {_winner_tuple(TABLE)}"
_STATUS = f"max({TABLE}.status, excluded.status)"

#: SQ-3: DBL-4's merge as a one-row UPSERT, run through ``executemany``.
UPSERT_SQL = (
    f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * len(DONE_COLUMNS))})\n"
    f"ON CONFLICT ({', '.join(_KEY_COLUMNS)}) DO UPDATE SET\n"
    f"    status = {_STATUS},\n"
    f"    bytes_scanned = max({TABLE}.bytes_scanned, excluded.bytes_scanned),\n"
    f"    findings_count = CASE {_STATUS}\n"
    "        WHEN 10 THEN 0\n"
    f"        WHEN 11 THEN max(\n"
    f"            CASE WHEN {TABLE}.status = 11 THEN {TABLE}.findings_count ELSE 0 END,\n"
    "            CASE WHEN excluded.status = 11 THEN excluded.findings_count ELSE 0 END,\n"
    "            1)\n"
    f"        ELSE max({TABLE}.findings_count, excluded.findings_count) END,\n"
    + "".join(
        f"    {column} = CASE WHEN {WIN} THEN excluded.{column} ELSE {TABLE}.{column} END,\n"
        for column in _PROVENANCE_COLUMNS
    )
    + f"    error_code = CASE WHEN {_STATUS} >= 10 THEN NULL\n"
    f"        WHEN {WIN} THEN coalesce(excluded.error_code, {TABLE}.error_code)\n"
    f"        ELSE coalesce({TABLE}.error_code, excluded.error_code) END"
)

_SELECT = f"SELECT {_COLUMNS} FROM {TABLE}"
_GET_SQL = f"{_SELECT} WHERE tenant_id = ? AND policy_hash = ? AND ovid_hash = ?"
_SNAPSHOT_SQL = f"{_SELECT} ORDER BY tenant_id, policy_hash, ovid_hash"
_DONE_HASHES_SQL = (
    f"SELECT ovid_hash FROM {TABLE} WHERE tenant_id = ? AND policy_hash = ? AND status <> 1 "
    "ORDER BY ovid_hash"
)
_COUNT_DONE_SQL = (
    f"SELECT count(*) FROM {TABLE} WHERE tenant_id = ? AND policy_hash = ? AND status <> 1"
)


# --- backend plug-in (FC-1) ---------------------------------------------------------------


def encode_folded(folded: Iterable[DoneLedgerRecord]) -> list[tuple[Any, ...]]:
    """DBL-2 step 4 and DBL-3: encode the folded rows (ENC-6), sorted by key bytes.

    Keys are distinct after the fold, so tuple order is decided by the three
    key columns alone.
    """
    rows = [encode_done_row(record, position) for position, record in enumerate(folded)]
    rows.sort()
    return rows


class SqliteDoneLedgerBackend:
    """The done-ledger backend over one SQLite connection (FC-1, DBL-2, DBL-7, DBL-8)."""

    kind = KIND

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def new_durable(self) -> SqliteDatabase:
        """FC-1: the durable state is the connection holder (migrated by the constructor)."""
        return self._db

    def apply(
        self, durable: SqliteDatabase, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        """DBL-2 steps 1-6; see the module docstring."""
        counters.check_commit_fault(self.kind)
        folded = validate_and_fold(payload)
        receipt = DoneLedgerCommitReceipt.for_folded(folded.values())
        if folded:
            rows = encode_folded(folded.values())
            durable.write("batch_upsert", lambda tx: _upsert(tx, rows))
        return receipt

    def batch_get(
        self,
        durable: SqliteDatabase,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: tuple[OvidHash, ...],
    ) -> list[DoneLedgerRecord | None]:
        return read_batch(durable, tenant_id.raw, policy_hash.raw, ovid_hashes)

    def get_record(self, durable: SqliteDatabase, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        return read_record(durable, key)

    def snapshot(self, durable: SqliteDatabase) -> list[DoneLedgerRecord]:
        return read_snapshot(durable)

    def list_done_hashes(
        self, durable: SqliteDatabase, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> list[OvidHash]:
        return read_done_hashes(durable, tenant_id.raw, policy_hash.raw)

    def count_done_hashes(
        self, durable: SqliteDatabase, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> int:
        return count_done(durable, tenant_id.raw, policy_hash.raw)

    def reset(self, durable: SqliteDatabase) -> None:
        """Delete every row in one transaction (the schema and its history stay)."""
        durable.write("reset", lambda tx: tx.execute(TABLE, f"DELETE FROM {TABLE}"))

    def describe(self, durable: SqliteDatabase) -> str:
        return f"database={durable.database!r}"


def _upsert(tx: Transaction, rows: list[tuple[Any, ...]]) -> None:
    tx.executemany(TABLE, UPSERT_SQL, rows)


# --- reads (DBL-7, DBL-8) -----------------------------------------------------------------


def read_batch(
    db: SqliteDatabase, tenant: bytes, policy: bytes, ovids: Sequence[OvidHash]
) -> list[DoneLedgerRecord | None]:
    """DBL-7 / SQ-6: distinct hashes in chunks of ``limit - 2``, projected over the input."""
    distinct = list(dict.fromkeys(ovid.raw for ovid in ovids))
    chunk = max(db.variable_limit - 2, 1)
    found: dict[bytes, DoneLedgerRecord] = {}
    for start in range(0, len(distinct), chunk):
        part = distinct[start : start + chunk]
        sql = (
            f"{_SELECT} WHERE tenant_id = ? AND policy_hash = ? "
            f"AND ovid_hash IN ({', '.join('?' * len(part))})"
        )
        for row in db.query("batch_get", TABLE, sql, (tenant, policy, *part)):
            record = decode_done_row(row)
            found[record.key.ovid_hash.raw] = record
    return [found.get(ovid.raw) for ovid in ovids]


def read_record(db: SqliteDatabase, key: DoneLedgerKey) -> DoneLedgerRecord | None:
    """DL-11: one primary-key lookup."""
    params = (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw)
    rows = db.query("get_record", TABLE, _GET_SQL, params)
    return decode_done_row(rows[0]) if rows else None


def read_snapshot(db: SqliteDatabase) -> list[DoneLedgerRecord]:
    """DL-12: every row in primary-key (bytes) order."""
    return [decode_done_row(row) for row in db.query("snapshot", TABLE, _SNAPSHOT_SQL)]


def read_done_hashes(db: SqliteDatabase, tenant: bytes, policy: bytes) -> list[OvidHash]:
    """DBL-8: terminal hashes of one scope, ascending by bytes (BLOB order is ``memcmp``)."""
    rows = db.query("list_done_hashes", TABLE, _DONE_HASHES_SQL, (tenant, policy))
    hashes = []
    for (raw,) in rows:
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise CorruptRow(KIND, TABLE, "ovid_hash")
        hashes.append(OvidHash(raw))
    return hashes


def count_done(db: SqliteDatabase, tenant: bytes, policy: bytes) -> int:
    """DBL-8: the exact count ``read_done_hashes`` would return (never ``None``)."""
    ((count,),) = db.query("count_done_hashes", TABLE, _COUNT_DONE_SQL, (tenant, policy))
    return int(count)


# --- public facade ------------------------------------------------------------------------


class SqliteDoneLedgerHandle(ControlledDoneLedgerHandle):
    """Commit handle of one ``batch_upsert`` (ST-19..ST-23, FC-6)."""

    __slots__ = ()


class SqliteDoneLedger(ControlledDoneLedger[SqliteDatabase]):
    """A ``DoneLedger`` on SQLite with the in-memory store's test controls (§3, §9).

    ``database`` is a file path or ``":memory:"`` (a private database owned by
    this store and its clones, SQ-8). Controls, releases, handles,
    ``clone()`` and ``reset()`` are the kit's (:class:`ControlledDoneLedger`);
    reads run under the core lock and see committed rows only. More than
    10_000 records or hashes raise ``BatchTooLarge`` before the lock (DBL-1,
    DBL-7). Choices: module docstring.
    """

    __slots__ = ()

    handle_class = SqliteDoneLedgerHandle

    def __init__(
        self,
        database: str | os.PathLike[str] = MEMORY,
        *,
        auto_complete: bool = True,
        timeout: float = 5.0,
        synchronous: str = "FULL",
        migrate: bool = True,
    ) -> None:
        where = f"{type(self).__name__}.__init__"
        check_flag(where, "auto_complete", auto_complete)  # before the file is touched
        db = open_database(
            where,
            KIND,
            DONE_LEDGER_SCHEMA,
            database,
            timeout=timeout,
            synchronous=synchronous,
            migrate=migrate,
        )
        super().__init__(SqliteDoneLedgerBackend(db), auto_complete=auto_complete)

    def _check_size(self, method: str, size: int) -> None:
        """DBL-1 / DBL-7: at most 10_000 records or hashes per call."""
        if size > RECOMMENDED_MAX_BATCH_SIZE:
            raise BatchTooLarge(KIND, method, size, RECOMMENDED_MAX_BATCH_SIZE)

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> SqliteDoneLedgerHandle:
        """DBL-1: type checks and the size limit before the lock, then submission (ST-6).

        Record problems are raised by ``wait()`` as ``BatchValidation``,
        database failures as ``DatabaseBackendError`` / ``ValueOutOfRange``.
        """
        return cast(SqliteDoneLedgerHandle, super().batch_upsert(records))

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int:
        """DBL-8 / DL-15: the exact count, never ``None``."""
        return cast(int, super().count_done_hashes(tenant_id, policy_hash))

    def close(self) -> None:
        """Close the connection for this store and every clone (later calls fail, DBE-1).

        Works on a poisoned core too (``InMemoryStoreCore.close_durable``).
        """
        self._core.close_durable(SqliteDatabase.close)


__all__ = [
    "UPSERT_SQL",
    "WIN",
    "SqliteDoneLedger",
    "SqliteDoneLedgerBackend",
    "SqliteDoneLedgerHandle",
    "encode_folded",
    "read_batch",
    "read_done_hashes",
    "read_record",
    "read_snapshot",
]
