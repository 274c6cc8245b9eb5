"""``PostgresDoneLedger``: the done ledger on PostgreSQL (backends.md §3 DBL-1..DBL-8, FC-1..FC-7).

The store is a :class:`~gossip_model.backend.ControlledDoneLedger` over
:class:`PgDoneLedgerBackend` (FC-1, the public backend kit): its "durable
state" is the core's :class:`~gossip_model.postgres.connection.PgConnection`. Op table,
FIFO queue, fault counters, handles, ``clone()`` and poisoning are the core's,
unchanged, so delayed completion, release orders and injected faults behave as
in memory (FC-2, FC-3, FC-6).

Apply (DBL-2), all under the core lock: (1) the commit-fault check, before any
SQL (FC-4); (2) validation and provenance ordering and (3) the per-key fold,
both by the kit's pure function :func:`~gossip_model.backend.validate_and_fold`,
receipt from the folded batch (DL-7); (4) encoding (ENC-2, ENC-3); (5) an
empty batch answers ``(0, 0, 0)`` without SQL; (6) one transaction holding ONE
merge statement (:data:`MERGE_SQL`, DBL-4: column arrays through ``unnest``,
12 bind parameters for any size, rows sorted by key bytes, DBL-3), COMMIT. The
arrays are sent in psycopg's binary format (``%b`` placeholders): the text
format roughly doubled the client-side cost of a 10_000-row batch. In
auto-complete mode the rows are committed when ``batch_upsert`` returns.

Choices on open points:

* Constructor (§0): ``PostgresDoneLedger(conninfo, *, auto_complete=True,
  migrate=True, prepare_threshold=5)``; ``migrate=False`` only validates
  (MIG-5). The extra ``prepare_threshold`` keyword is PG-3's escape hatch.
* SCH-1 (``findings_count`` type), recommended choice: ``INTEGER`` with ENC-3's
  ``2**31 - 1`` limit checked before the transaction (``ValueOutOfRange``).
* DBL-8 (terminal keys): ``status <> 1`` on the primary-key prefix, ordered by
  ``ovid_hash`` (bytea order is ``bytes`` order); ``count_done_hashes`` is the
  matching exact ``count(*)``, never ``None``.
* ENC-6 positions: a folded record out of range is reported with the input
  position of the FIRST record of its key (the fold has no single source).
* ``repr`` never touches the database: ``PostgresDoneLedger(pending_ops=P,
  auto_complete=B)`` (TH-5's counts of durable rows would need a query).
* ``close()`` closes the shared connection (every clone's); a later call
  reconnects (PG-2). The store is also a context manager closing on exit.
* ``reset()`` deletes every row in one transaction (``DELETE``, not
  ``TRUNCATE``: no ACCESS EXCLUSIVE lock against concurrent readers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Self, cast

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
from gossip_model.db.errors import BatchTooLarge, CorruptRow, ValueOutOfRange
from gossip_model.identity import OvidHash, PolicyHash, TenantId
from gossip_model.persistence.done_ledger import (
    RECOMMENDED_MAX_BATCH_SIZE,
    DoneLedgerCommitReceipt,
    DoneLedgerKey,
    DoneLedgerRecord,
)
from gossip_model.postgres.connection import Connection, PgConnection
from gossip_model.postgres.migrate import (
    DONE_LEDGER_MIGRATIONS,
    open_migrated,
)

KIND = InMemoryStoreKind.DONE_LEDGER
_COLS = ", ".join(DONE_COLUMNS)

#: DBL-4 ``<win>``: the incoming row strictly wins the DL-34 step 7 tuple
#: (codes compared as bytea, never as collated text, DBL-5).
WIN = (
    "ROW(EXCLUDED.status, EXCLUDED.finished_at, EXCLUDED.started_at, EXCLUDED.fence_epoch, "
    "EXCLUDED.run_id, EXCLUDED.shard_id, "
    "COALESCE(convert_to(EXCLUDED.error_code, 'UTF8'), ''::bytea)) "
    "> ROW(d.status, d.finished_at, d.started_at, d.fence_epoch, d.run_id, d.shard_id, "
    "COALESCE(convert_to(d.error_code, 'UTF8'), ''::bytea))"
)

_PROVENANCE_ARMS = ",\n    ".join(
    f"{column} = CASE WHEN {WIN} THEN EXCLUDED.{column} ELSE d.{column} END"
    for column in ("run_id", "shard_id", "fence_epoch", "started_at", "finished_at")
)

#: DBL-4: the merge statement; 12 array parameters whatever the batch size.
MERGE_SQL = f"""INSERT INTO done_ledger_entries AS d ({_COLS})
SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::smallint[], %b::bigint[],
                     %b::int[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[],
                     %b::bigint[], %b::text[]) AS u({_COLS})
ORDER BY tenant_id, policy_hash, ovid_hash
ON CONFLICT (tenant_id, policy_hash, ovid_hash) DO UPDATE SET
    status = GREATEST(d.status, EXCLUDED.status),
    bytes_scanned = GREATEST(d.bytes_scanned, EXCLUDED.bytes_scanned),
    findings_count = CASE GREATEST(d.status, EXCLUDED.status)
        WHEN 10 THEN 0
        WHEN 11 THEN GREATEST(CASE WHEN d.status = 11 THEN d.findings_count ELSE 0 END,
                              CASE WHEN EXCLUDED.status = 11 THEN EXCLUDED.findings_count
                                   ELSE 0 END,
                              1)
        ELSE GREATEST(d.findings_count, EXCLUDED.findings_count) END,
    {_PROVENANCE_ARMS},
    error_code = CASE WHEN GREATEST(d.status, EXCLUDED.status) IN (10, 11) THEN NULL
                      WHEN {WIN} THEN COALESCE(EXCLUDED.error_code, d.error_code)
                      ELSE COALESCE(d.error_code, EXCLUDED.error_code) END"""

_SELECT = f"SELECT {_COLS} FROM done_ledger_entries"
#: DBL-7: one primary-key query per ``batch_get``.
BATCH_GET_SQL = (
    f"{_SELECT} WHERE tenant_id = %s AND policy_hash = %s AND ovid_hash = ANY(%b::bytea[])"
)
GET_SQL = f"{_SELECT} WHERE tenant_id = %s AND policy_hash = %s AND ovid_hash = %s"
SNAPSHOT_SQL = f"{_SELECT} ORDER BY tenant_id, policy_hash, ovid_hash"
#: DBL-8 (recommended choice): terminal keys on the primary-key prefix.
DONE_HASHES_SQL = (
    "SELECT ovid_hash FROM done_ledger_entries "
    "WHERE tenant_id = %s AND policy_hash = %s AND status <> 1 ORDER BY ovid_hash"
)
#: ``reset()``: every row goes, the schema stays.
RESET_SQL = "DELETE FROM done_ledger_entries"
COUNT_DONE_SQL = (
    "SELECT count(*) FROM done_ledger_entries "
    "WHERE tenant_id = %s AND policy_hash = %s AND status <> 1"
)


# --- apply ------------------------------------------------------------------------------


def encode_folded(
    payload: Sequence[DoneLedgerRecord], folded: Iterable[DoneLedgerRecord]
) -> list[tuple[Any, ...]]:
    """DBL-2 step 4 (ENC-2, ENC-3): encode the folded records, sorted by key bytes (DBL-3).

    A value out of range raises ``ValueOutOfRange`` naming the input position
    of the first record of its key (module docstring).
    """
    rows: list[tuple[Any, ...]] = []
    for record in folded:
        try:
            rows.append(encode_done_row(record, 0))
        except ValueOutOfRange as error:
            position = next(i for i, r in enumerate(payload) if r.key == record.key)
            raise ValueOutOfRange(
                error.store, error.field, position, error.value, error.max
            ) from None
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return rows


def merge_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """DBL-2 step 6: one transaction, ONE merge statement (DBL-4), COMMIT."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    with conn.transaction():
        conn.execute(MERGE_SQL, columns)


class PgDoneLedgerBackend:
    """FC-1: the done-ledger backend whose durable state is the store's connection."""

    kind = KIND

    def __init__(self, holder: PgConnection) -> None:
        self._holder = holder

    def new_durable(self) -> PgConnection:
        return self._holder

    def apply(
        self, durable: PgConnection, counters: FaultCounters, payload: DoneLedgerPayload
    ) -> DoneLedgerCommitReceipt:
        """DBL-2 steps 1-6; errors roll back and become the op's result (FC-5)."""
        counters.check_commit_fault(KIND)  # FC-4: before any SQL
        folded = validate_and_fold(payload)
        receipt = DoneLedgerCommitReceipt.for_folded(folded.values())
        if not folded:
            return receipt
        rows = encode_folded(payload, folded.values())
        durable.run("batch_upsert", lambda conn: merge_rows(conn, rows))
        return receipt

    def batch_get(
        self,
        durable: PgConnection,
        tenant_id: TenantId,
        policy_hash: PolicyHash,
        ovid_hashes: tuple[OvidHash, ...],
    ) -> list[DoneLedgerRecord | None]:
        return durable.run(
            "batch_get", lambda conn: _batch_get(conn, tenant_id, policy_hash, ovid_hashes)
        )

    def get_record(self, durable: PgConnection, key: DoneLedgerKey) -> DoneLedgerRecord | None:
        return durable.run("get_record", lambda conn: _get(conn, key))

    def snapshot(self, durable: PgConnection) -> list[DoneLedgerRecord]:
        return durable.run("snapshot", _snapshot)

    def list_done_hashes(
        self, durable: PgConnection, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> list[OvidHash]:
        return durable.run(
            "list_done_hashes", lambda conn: _done_hashes(conn, tenant_id, policy_hash)
        )

    def count_done_hashes(
        self, durable: PgConnection, tenant_id: TenantId, policy_hash: PolicyHash
    ) -> int:
        return durable.run(
            "count_done_hashes", lambda conn: _count_done(conn, tenant_id, policy_hash)
        )

    def reset(self, durable: PgConnection) -> None:
        """Delete every row in one transaction (schema and migration history stay)."""

        def delete_all(conn: Connection) -> None:
            with conn.transaction():
                conn.execute(RESET_SQL)

        durable.run("reset", delete_all)


# --- reads ------------------------------------------------------------------------------


def _batch_get(
    conn: Connection, tenant: TenantId, policy: PolicyHash, ovids: Sequence[OvidHash]
) -> list[DoneLedgerRecord | None]:
    """DBL-7: one query, rows unordered; projected positionally over the input."""
    raw = [ovid.raw for ovid in ovids]
    rows = conn.execute(BATCH_GET_SQL, (tenant.raw, policy.raw, raw)).fetchall()
    found = {bytes(row[2]): decode_done_row(row) for row in rows}
    return [found.get(key) for key in raw]


def _get(conn: Connection, key: DoneLedgerKey) -> DoneLedgerRecord | None:
    row = conn.execute(GET_SQL, (key.tenant_id.raw, key.policy_hash.raw, key.ovid_hash.raw))
    found = row.fetchone()
    return None if found is None else decode_done_row(found)


def _snapshot(conn: Connection) -> list[DoneLedgerRecord]:
    return [decode_done_row(row) for row in conn.execute(SNAPSHOT_SQL)]


def _done_hashes(conn: Connection, tenant: TenantId, policy: PolicyHash) -> list[OvidHash]:
    rows = conn.execute(DONE_HASHES_SQL, (tenant.raw, policy.raw))
    hashes = []
    for (raw,) in rows:
        if len(raw) != 32:
            raise CorruptRow(KIND, "done_ledger_entries", "ovid_hash")
        hashes.append(OvidHash(bytes(raw)))
    return hashes


def _count_done(conn: Connection, tenant: TenantId, policy: PolicyHash) -> int:
    row = conn.execute(COUNT_DONE_SQL, (tenant.raw, policy.raw)).fetchone()
    assert row is not None
    return int(row[0])


# --- public facade ----------------------------------------------------------------------


class PostgresDoneLedgerHandle(ControlledDoneLedgerHandle):
    """Commit handle of one ``batch_upsert`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class PostgresDoneLedger(ControlledDoneLedger[PgConnection]):
    """``DoneLedger`` on PostgreSQL with the in-memory store's controls (§3, FC-1..FC-7).

    ``PostgresDoneLedger(conninfo)`` connects (PG-1), applies the migrations
    under the advisory lock (MIG-3; ``migrate=False`` only validates, MIG-5)
    and auto-completes writes: a receipt means committed. ``auto_complete=False``
    queues writes until released (nothing reaches the database before, FC-2).
    Reads run under the core lock on the shared connection and see committed
    rows only. More than 10_000 records or hashes raise ``BatchTooLarge``
    before the lock (DBL-1, DBL-7). See the module docstring for the
    open-point choices.
    """

    __slots__ = ()

    handle_class = PostgresDoneLedgerHandle

    def __init__(
        self,
        conninfo: str,
        *,
        auto_complete: bool = True,
        migrate: bool = True,
        prepare_threshold: int | None = 5,
    ) -> None:
        where = f"{type(self).__name__}.__init__"
        check_flag(where, "auto_complete", auto_complete)  # before connecting
        holder = open_migrated(
            where,
            conninfo,
            KIND,
            DONE_LEDGER_MIGRATIONS,
            migrate=migrate,
            prepare_threshold=prepare_threshold,
        )
        super().__init__(PgDoneLedgerBackend(holder), auto_complete=auto_complete)

    def _check_size(self, method: str, size: int) -> None:
        """DBL-1 / DBL-7: at most 10_000 records or hashes per call."""
        if size > RECOMMENDED_MAX_BATCH_SIZE:
            raise BatchTooLarge(KIND, method, size, RECOMMENDED_MAX_BATCH_SIZE)

    def batch_upsert(self, records: Iterable[DoneLedgerRecord]) -> PostgresDoneLedgerHandle:
        """DBL-1: type checks and the size limit before the lock, then submit (ST-6).

        Record problems are raised by ``wait()`` as ``BatchValidation``,
        database failures as ``DatabaseBackendError``.
        """
        return cast(PostgresDoneLedgerHandle, super().batch_upsert(records))

    def count_done_hashes(self, tenant_id: TenantId, policy_hash: PolicyHash) -> int:
        """DL-42 / DBL-8: the exact count of terminal keys of this scope (never ``None``)."""
        return cast(int, super().count_done_hashes(tenant_id, policy_hash))

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection shared by every clone; a later call reconnects (PG-2).

        Works on a poisoned core too (nothing else can use the connection then).
        """
        self._core.close_durable(PgConnection.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = [
    "BATCH_GET_SQL",
    "MERGE_SQL",
    "WIN",
    "PgDoneLedgerBackend",
    "PostgresDoneLedger",
    "PostgresDoneLedgerHandle",
    "encode_folded",
    "merge_rows",
]
