"""The SQLite findings sink (backends.md DBF-1..DBF-9, SQ-3, SQ-7, FC-1..FC-7).

``SqliteFindingsSink`` is a :class:`~gossip_model.backend.ControlledFindingsSink`
over :class:`SqliteFindingsBackend` (FC-1, the public backend kit); its
durable state is the store's :class:`SqliteDatabase`. Submission checks are
the kit's (``check_pre_submit``: FS-2 then FS-3), preceded by the size limit
(DBF-1). ``reset()`` deletes every row (observations, occurrences, findings)
in one transaction.

``apply`` (DBF-2, SQ-7): the commit fault first (ST-9, no SQL); an empty batch
gives ``(0, 0, 0)`` without SQL; encoding of every row (ENC-6,
``ValueOutOfRange``) before the transaction; then ONE ``BEGIN IMMEDIATE``
transaction walking the layers exactly as ``inmemory.md`` FS-5..FS-7, row by
row, with per-batch dicts in Python and each accepted record written at once:

* findings (FS-5): a key already in the batch is compared with the batch's
  record; otherwise ``INSERT ... ON CONFLICT (tenant_id, finding_id) DO
  NOTHING`` and, when it inserted nothing, a comparison with the stored row;
* occurrences (FS-6): the parent check comes first, as in memory: a new row's
  insert is checked by ``occurrences_finding_fk`` (``MissingFinding``); for a
  key already in the batch or stored, the parent is looked up (batch dict,
  else a one-row SELECT) before the comparison;
* observations (FS-7..FS-10): the identity re-check, then ONE merge upsert
  (DBF-5 in SQLite terms, SQ-3); ``observations_occurrence_fk`` gives
  ``MissingOccurrence``; ``rowcount`` 0 (the identity WHERE refused) gives
  ``ObservationConflict`` after the parent check. Sequential upserts replay
  the in-memory left fold of in-batch duplicates (DBF-6).

The write lock is held from ``BEGIN IMMEDIATE`` to COMMIT, so the reads are
exact and the first error is the one the in-memory sink raises (DBF-8); any
error rolls the whole batch back (DBF-4, FS-11). Receipt: distinct keys per
layer (FS-14).

Choices on open points:

* Constructor: ``SqliteFindingsSink(database=":memory:", *, auto_complete=True,
  timeout=5.0, synchronous="FULL", migrate=True)``.
* DBF-7: a ``*_natural_unique`` violation (reachable only with a record whose
  ``verify_id()`` is false, or a row written around this class) raises
  ``FindingConflict`` / ``OccurrenceConflict`` / ``ObservationConflict`` for the
  record being written, which is the first such record in input order. The
  in-memory sink has no natural-key uniqueness and accepts those batches.
* DBF-8: row by row in one transaction (SQ-7) instead of set-based writes.
* ``ValueOutOfRange.position`` is the record's index within its layer.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any, cast

from gossip_model.backend.findings import (
    ControlledFindingsHandle,
    ControlledFindingsSink,
    FindingKey,
    ObservationKey,
    OccurrenceKey,
)
from gossip_model.core.arguments import check_flag
from gossip_model.core.errors import (
    FindingConflict,
    InMemoryStoreKind,
    MissingFinding,
    MissingOccurrence,
    ObservationConflict,
    OccurrenceConflict,
)
from gossip_model.core.store import FaultCounters
from gossip_model.db.encoding import (
    FINDING_COLUMNS,
    OBSERVATION_COLUMNS,
    OCCURRENCE_COLUMNS,
    decode_finding_row,
    decode_observation_row,
    decode_occurrence_row,
    encode_finding_row,
    encode_observation_row,
    encode_occurrence_row,
)
from gossip_model.db.errors import BatchTooLarge
from gossip_model.identity import FindingId, ObservationId, OccurrenceId, TenantId
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.done_ledger import RECOMMENDED_MAX_BATCH_SIZE
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.sqlite.connection import (
    CONSTRAINTS,
    MEMORY,
    SqliteDatabase,
    Transaction,
    error_code,
)
from gossip_model.sqlite.migrate import FINDINGS_SCHEMA, open_database

KIND = InMemoryStoreKind.FINDINGS
_FOREIGN_KEY = "SQLITE_CONSTRAINT_FOREIGNKEY"
Row = tuple[Any, ...]


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _select(table: str, columns: tuple[str, ...]) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}"


INSERT_FINDING_SQL = (
    f"{_insert('findings', FINDING_COLUMNS)} ON CONFLICT (tenant_id, finding_id) DO NOTHING"
)
INSERT_OCCURRENCE_SQL = (
    f"{_insert('occurrences', OCCURRENCE_COLUMNS)} "
    "ON CONFLICT (tenant_id, occurrence_id) DO NOTHING"
)

#: DBF-5 ``<win>``: incoming strictly later, or a tie where only incoming has a location.
WIN = (
    "(excluded.seen_at > observations.seen_at OR (excluded.seen_at = observations.seen_at "
    "AND observations.location_display IS NULL AND excluded.location_display IS NOT NULL))"
)

#: DBF-5 as a one-row UPSERT (SQ-3); the WHERE refuses identity changes (rowcount 0).
UPSERT_OBSERVATION_SQL = (
    f"{_insert('observations', OBSERVATION_COLUMNS)}\n"
    "ON CONFLICT (tenant_id, observation_id) DO UPDATE SET\n"
    + "".join(
        f"    {column} = CASE WHEN {WIN} THEN excluded.{column} ELSE observations.{column} END,\n"
        for column in ("run_id", "shard_id", "fence_epoch")
    )
    + "    seen_at = max(observations.seen_at, excluded.seen_at),\n"
    f"    location_display = CASE WHEN {WIN}\n"
    "        THEN coalesce(excluded.location_display, observations.location_display)\n"
    "        ELSE coalesce(observations.location_display, excluded.location_display) END,\n"
    f"    location_url = CASE WHEN {WIN}\n"
    "        THEN CASE WHEN excluded.location_display IS NOT NULL\n"
    "             THEN excluded.location_url ELSE observations.location_url END\n"
    "        ELSE CASE WHEN observations.location_display IS NOT NULL\n"
    "             THEN observations.location_url ELSE excluded.location_url END END\n"
    "WHERE observations.occurrence_id = excluded.occurrence_id\n"
    "  AND observations.policy_hash = excluded.policy_hash\n"
    "  AND observations.ovid_hash = excluded.ovid_hash"
)

_FINDING_SQL = f"{_select('findings', FINDING_COLUMNS)} WHERE tenant_id = ? AND finding_id = ?"
_OCCURRENCE_SQL = (
    f"{_select('occurrences', OCCURRENCE_COLUMNS)} WHERE tenant_id = ? AND occurrence_id = ?"
)
_OBSERVATION_SQL = (
    f"{_select('observations', OBSERVATION_COLUMNS)} WHERE tenant_id = ? AND observation_id = ?"
)
_HAS_FINDING_SQL = "SELECT 1 FROM findings WHERE tenant_id = ? AND finding_id = ?"
_HAS_OCCURRENCE_SQL = "SELECT 1 FROM occurrences WHERE tenant_id = ? AND occurrence_id = ?"
_COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM occurrences), "
    "(SELECT count(*) FROM observations)"
)


# --- apply (DBF-2, SQ-7) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """ENC-6: every row of a batch, encoded before the transaction begins."""

    findings: tuple[Row, ...]
    occurrences: tuple[Row, ...]
    observations: tuple[Row, ...]

    @classmethod
    def of(cls, batch: FindingsUpsertBatch) -> EncodedBatch:
        return cls(
            tuple(encode_finding_row(record) for record in batch.findings),
            tuple(encode_occurrence_row(r, i) for i, r in enumerate(batch.occurrences)),
            tuple(encode_observation_row(r, i) for i, r in enumerate(batch.observations)),
        )


def _natural_conflict(error: sqlite3.IntegrityError, table: str) -> bool:
    """DBF-7: the failure is the table's ``*_natural_unique`` constraint."""
    return CONSTRAINTS.for_error(error, table) == f"{table}_natural_unique"


def _exists(tx: Transaction, table: str, sql: str, tenant: TenantId, raw_id: bytes) -> bool:
    return tx.execute(table, sql, (tenant.raw, raw_id)).fetchone() is not None


class _LayerWalk:
    """One batch's walk through FS-5..FS-10 inside the open transaction (SQ-7)."""

    __slots__ = ("findings", "observations", "occurrences", "tx")

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.findings: dict[FindingKey, FindingRecord] = {}
        self.occurrences: dict[OccurrenceKey, OccurrenceRecord] = {}
        self.observations: set[ObservationKey] = set()

    def finding(self, finding: FindingRecord, row: Row) -> None:
        """FS-5: in-batch duplicate or conflict; else insert, or compare with the stored row."""
        key = (finding.tenant_id, finding.finding_id)
        seen = self.findings.get(key)
        if seen is None:
            try:
                inserted = self.tx.execute("findings", INSERT_FINDING_SQL, row).rowcount == 1
            except sqlite3.IntegrityError as error:
                if _natural_conflict(error, "findings"):
                    raise FindingConflict(finding.tenant_id, finding.finding_id) from None
                raise
            if inserted:
                self.findings[key] = finding
                return
            (stored,) = self.tx.execute("findings", _FINDING_SQL, (row[0], row[1])).fetchall()
            seen = decode_finding_row(stored)
            if seen == finding:
                self.findings[key] = finding
                return
        if seen != finding:
            raise FindingConflict(finding.tenant_id, finding.finding_id)

    def _require_finding(self, occurrence: OccurrenceRecord) -> None:
        """FS-6: the tenant-scoped parent finding is in the batch or stored."""
        tenant = occurrence.tenant_id
        parent = (tenant, occurrence.finding_id)
        if parent not in self.findings and not _exists(
            self.tx, "findings", _HAS_FINDING_SQL, tenant, occurrence.finding_id.raw
        ):
            raise MissingFinding(tenant, occurrence.finding_id, occurrence.occurrence_id)

    def occurrence(self, occurrence: OccurrenceRecord, row: Row) -> None:
        """FS-6: parent first, then the duplicate and conflict rules of FS-5."""
        key = (occurrence.tenant_id, occurrence.occurrence_id)
        seen = self.occurrences.get(key)
        if seen is None:
            try:
                inserted = self.tx.execute("occurrences", INSERT_OCCURRENCE_SQL, row).rowcount == 1
            except sqlite3.IntegrityError as error:
                if error_code(error) == _FOREIGN_KEY:
                    self._require_finding(occurrence)
                if _natural_conflict(error, "occurrences"):
                    self._require_finding(occurrence)
                    raise OccurrenceConflict(*key) from None
                raise
            if inserted:
                self.occurrences[key] = occurrence
                return
            self._require_finding(occurrence)
            (stored,) = self.tx.execute(
                "occurrences", _OCCURRENCE_SQL, (row[0], row[1])
            ).fetchall()
            seen = decode_occurrence_row(stored)
            if seen == occurrence:
                self.occurrences[key] = occurrence
                return
        else:
            self._require_finding(occurrence)
        if seen != occurrence:
            raise OccurrenceConflict(*key)

    def _require_occurrence(self, observation: ObservationRecord) -> None:
        """FS-7: the tenant-scoped parent occurrence is in the batch or stored."""
        tenant = observation.tenant_id
        if (tenant, observation.occurrence_id) not in self.occurrences and not _exists(
            self.tx, "occurrences", _HAS_OCCURRENCE_SQL, tenant, observation.occurrence_id.raw
        ):
            raise MissingOccurrence(tenant, observation.occurrence_id, observation.observation_id)

    def observation(self, observation: ObservationRecord, row: Row) -> None:
        """FS-7..FS-10: identity re-check, then one merge upsert (DBF-5, DBF-6)."""
        observation.validate_identity()
        key = (observation.tenant_id, observation.observation_id)
        try:
            changed = self.tx.execute("observations", UPSERT_OBSERVATION_SQL, row).rowcount
        except sqlite3.IntegrityError as error:
            if error_code(error) == _FOREIGN_KEY:
                self._require_occurrence(observation)
            if _natural_conflict(error, "observations"):
                self._require_occurrence(observation)
                raise ObservationConflict(*key) from None
            raise
        if changed == 0:
            self._require_occurrence(observation)
            raise ObservationConflict(*key)
        self.observations.add(key)

    def receipt(self) -> FindingsCommitReceipt:
        """FS-14: distinct keys per layer, stored ones included."""
        return FindingsCommitReceipt(
            len(self.findings), len(self.occurrences), len(self.observations)
        )


def walk_layers(
    tx: Transaction, batch: FindingsUpsertBatch, encoded: EncodedBatch
) -> FindingsCommitReceipt:
    """SQ-7: layer 1, then 2, then 3, each in input order; the first error aborts."""
    walk = _LayerWalk(tx)
    for finding, row in zip(batch.findings, encoded.findings, strict=True):
        walk.finding(finding, row)
    for occurrence, row in zip(batch.occurrences, encoded.occurrences, strict=True):
        walk.occurrence(occurrence, row)
    for observation, row in zip(batch.observations, encoded.observations, strict=True):
        walk.observation(observation, row)
    return walk.receipt()


class SqliteFindingsBackend:
    """The findings backend over one SQLite connection (FC-1, DBF-2, DBF-9)."""

    kind = KIND

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def new_durable(self) -> SqliteDatabase:
        """FC-1: the durable state is the connection holder (migrated by the constructor)."""
        return self._db

    def apply(
        self, durable: SqliteDatabase, counters: FaultCounters, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        """DBF-2: commit fault, empty batch, encoding, then the layers in one transaction."""
        counters.check_commit_fault(self.kind)
        if payload.is_empty():
            return FindingsCommitReceipt(0, 0, 0)
        encoded = EncodedBatch.of(payload)
        return durable.write("upsert_batch", lambda tx: walk_layers(tx, payload, encoded))

    def findings_snapshot(self, durable: SqliteDatabase) -> list[FindingRecord]:
        return read_findings(durable)

    def occurrences_snapshot(self, durable: SqliteDatabase) -> list[OccurrenceRecord]:
        return read_occurrences(durable)

    def observations_snapshot(self, durable: SqliteDatabase) -> list[ObservationRecord]:
        return read_observations(durable)

    def get_finding(
        self, durable: SqliteDatabase, tenant_id: TenantId, finding_id: FindingId
    ) -> FindingRecord | None:
        rows = durable.query(
            "get_finding", "findings", _FINDING_SQL, (tenant_id.raw, finding_id.raw)
        )
        return decode_finding_row(rows[0]) if rows else None

    def get_occurrence(
        self, durable: SqliteDatabase, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        params = (tenant_id.raw, occurrence_id.raw)
        rows = durable.query("get_occurrence", "occurrences", _OCCURRENCE_SQL, params)
        return decode_occurrence_row(rows[0]) if rows else None

    def get_observation(
        self, durable: SqliteDatabase, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        params = (tenant_id.raw, observation_id.raw)
        rows = durable.query("get_observation", "observations", _OBSERVATION_SQL, params)
        return decode_observation_row(rows[0]) if rows else None

    def durable_counts(self, durable: SqliteDatabase) -> DurableFindingsCounts:
        return read_counts(durable)

    def reset(self, durable: SqliteDatabase) -> None:
        """Delete every row, children first (foreign keys), in one transaction."""

        def delete_all(tx: Transaction) -> None:
            for table in ("observations", "occurrences", "findings"):
                tx.execute(table, f"DELETE FROM {table}")

        durable.write("reset", delete_all)

    def describe(self, durable: SqliteDatabase) -> str:
        return f"database={durable.database!r}"


# --- reads (FS-15..FS-17, DBF-9) ------------------------------------------------------------


def read_findings(db: SqliteDatabase) -> list[FindingRecord]:
    sql = f"{_select('findings', FINDING_COLUMNS)} ORDER BY tenant_id, finding_id"
    return [decode_finding_row(row) for row in db.query("findings_snapshot", "findings", sql)]


def read_occurrences(db: SqliteDatabase) -> list[OccurrenceRecord]:
    sql = f"{_select('occurrences', OCCURRENCE_COLUMNS)} ORDER BY tenant_id, occurrence_id"
    rows = db.query("occurrences_snapshot", "occurrences", sql)
    return [decode_occurrence_row(row) for row in rows]


def read_observations(db: SqliteDatabase) -> list[ObservationRecord]:
    sql = f"{_select('observations', OBSERVATION_COLUMNS)} ORDER BY tenant_id, observation_id"
    rows = db.query("observations_snapshot", "observations", sql)
    return [decode_observation_row(row) for row in rows]


def read_counts(db: SqliteDatabase) -> DurableFindingsCounts:
    """DBF-9: three scalar ``count(*)`` subqueries in one statement."""
    ((findings, occurrences, observations),) = db.query("durable_counts", "findings", _COUNTS_SQL)
    return DurableFindingsCounts(findings, occurrences, observations)


# --- public facade ------------------------------------------------------------------------


class SqliteFindingsHandle(ControlledFindingsHandle):
    """Commit handle of one ``upsert_batch`` (ST-19..ST-23, FC-6)."""

    __slots__ = ()


class SqliteFindingsSink(ControlledFindingsSink[SqliteDatabase]):
    """A ``FindingsSink`` on SQLite with the in-memory sink's test controls (§4, §9).

    ``database`` is a file path or ``":memory:"`` (SQ-8). Controls, releases,
    handles, ``clone()`` and ``reset()`` are the kit's; reads are
    tenant-scoped, run under the core lock and see committed rows only. More
    than 10_000 records raise ``BatchTooLarge`` before the lock (DBF-1).
    Choices: module docstring.
    """

    __slots__ = ()

    handle_class = SqliteFindingsHandle

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
            FINDINGS_SCHEMA,
            database,
            timeout=timeout,
            synchronous=synchronous,
            migrate=migrate,
        )
        super().__init__(SqliteFindingsBackend(db), auto_complete=auto_complete)

    def _check_size(self, method: str, size: int) -> None:
        """DBF-1: at most 10_000 records per batch."""
        if size > RECOMMENDED_MAX_BATCH_SIZE:
            raise BatchTooLarge(KIND, method, size, RECOMMENDED_MAX_BATCH_SIZE)

    def upsert_batch(self, batch: FindingsUpsertBatch) -> SqliteFindingsHandle:
        """DBF-1: type check, size limit, FS-2, FS-3 (all before the lock), then submit.

        Integrity errors, commit faults and database errors are raised by ``wait()``.
        """
        return cast(SqliteFindingsHandle, super().upsert_batch(batch))

    def close(self) -> None:
        """Close the connection for this store and every clone (later calls fail, DBE-1).

        Works on a poisoned core too (``InMemoryStoreCore.close_durable``).
        """
        self._core.close_durable(SqliteDatabase.close)


__all__ = [
    "INSERT_FINDING_SQL",
    "INSERT_OCCURRENCE_SQL",
    "UPSERT_OBSERVATION_SQL",
    "WIN",
    "EncodedBatch",
    "SqliteFindingsBackend",
    "SqliteFindingsHandle",
    "SqliteFindingsSink",
    "read_counts",
    "read_findings",
    "read_observations",
    "read_occurrences",
    "walk_layers",
]
