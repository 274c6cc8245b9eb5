"""``PostgresFindingsSink``: the findings sink on PostgreSQL (backends.md §4 DBF-1..DBF-9, FC-*).

The store is a :class:`~gossip_model.backend.ControlledFindingsSink` over
:class:`PgFindingsBackend` (FC-1, the public backend kit); its durable state
is the core's :class:`~gossip_model.postgres.connection.PgConnection`.
``reset()`` deletes every row (children first) in one transaction.

Submission (DBF-1), before the lock: the argument check, then more than
10_000 records raises ``BatchTooLarge``, then the in-memory pre-submit checks
(FS-2 observation identity, FS-3 single tenant) as ``BatchValidation``.

Apply (DBF-2), under the core lock: the commit-fault check before any SQL
(FC-4); an empty batch answers ``(0, 0, 0)`` without SQL; otherwise ONE
transaction that, following DBF-8's recommended choice,

1. reads the stored rows for the batch's keys and for the parents it names
   (``tenant_id = %s AND <id> = ANY(%b::bytea[])``, one query per layer; arrays go
   in psycopg's binary format, ``%b``, as in the done ledger);
2. replays the in-memory apply over exactly those rows with the in-memory
   pure function :func:`~gossip_model.inmemory.findings.apply_findings_batch`
   (FS-5..FS-14), so every error, its precedence and the receipt are the
   in-memory sink's (DBE-3);
3. encodes (ENC-2, ENC-4; ``ValueOutOfRange`` names the record's position in
   its layer) and writes parents before children, each layer through
   ``unnest`` arrays ordered by key (DBL-4's shape): findings and occurrences
   with ``ON CONFLICT (tenant_id, <id>) DO NOTHING`` plus, when fewer rows
   were inserted than sent, DBF-3's comparison query (a writer committing
   between steps 1 and 3 is still caught, ``FindingConflict`` /
   ``OccurrenceConflict``); observations with DBF-5's merge upsert in rounds,
   round k holding the k-th record of each key in input order, so SQL replays
   the left fold of FS-7 (DBF-6) and a record the identity ``WHERE`` rejects
   raises ``ObservationConflict``;
4. commits. Any error rolls the whole batch back (DBF-4, FC-5).

Constraint violations the replay cannot foresee are mapped after the rollback
(DBF-4, DBF-7): SQLSTATE 23503 on ``occurrences_finding_fk`` /
``observations_occurrence_fk`` becomes ``MissingFinding`` / ``MissingOccurrence``
for the first record in input order whose parent is absent; 23505 on
``findings_natural_unique`` / ``occurrences_natural_unique`` (open point DBF-7,
recommended choice) becomes ``FindingConflict`` / ``OccurrenceConflict`` for the
first record in input order whose natural key is held under another id (only
records failing ``verify_id()`` can do that). Anything else, or a lookup that
finds no culprit, is ``DatabaseBackendError`` (DBE-2).

Other choices: ``durable_counts`` is global (DBF-9); snapshots are ordered by
primary key; constructor, ``close()`` and ``repr`` as for
:class:`~gossip_model.postgres.done_ledger.PostgresDoneLedger`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self, cast

import psycopg

from gossip_model.backend.findings import (
    ControlledFindingsHandle,
    ControlledFindingsSink,
    FindingKey,
    OccurrenceKey,
)
from gossip_model.core.arguments import check_flag
from gossip_model.core.errors import (
    FindingConflict,
    InMemoryPersistenceError,
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
from gossip_model.inmemory import findings as inmemory_findings
from gossip_model.inmemory.findings import FindingsState
from gossip_model.persistence.counts import DurableFindingsCounts
from gossip_model.persistence.done_ledger import RECOMMENDED_MAX_BATCH_SIZE
from gossip_model.persistence.findings import (
    FindingRecord,
    FindingsCommitReceipt,
    FindingsUpsertBatch,
    ObservationRecord,
    OccurrenceRecord,
)
from gossip_model.postgres.connection import (
    Connection,
    PgConnection,
    backend_error,
    constraint_of,
)
from gossip_model.postgres.migrate import (
    FINDINGS_MIGRATIONS,
    open_migrated,
)

KIND = InMemoryStoreKind.FINDINGS
_F = ", ".join(FINDING_COLUMNS)
_O = ", ".join(OCCURRENCE_COLUMNS)
_B = ", ".join(OBSERVATION_COLUMNS)

# --- SQL ------------------------------------------------------------------------------------

INSERT_FINDINGS_SQL = f"""INSERT INTO findings ({_F})
SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[])
    AS u({_F})
ORDER BY tenant_id, finding_id
ON CONFLICT (tenant_id, finding_id) DO NOTHING"""

#: DBF-3: the first sent finding whose stored row differs.
COMPARE_FINDINGS_SQL = f"""SELECT u.ord
FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[])
    WITH ORDINALITY AS u({_F}, ord)
JOIN findings f USING (tenant_id, finding_id)
WHERE (f.stable_item_id, f.rule_fingerprint, f.secret_hash)
    IS DISTINCT FROM (u.stable_item_id, u.rule_fingerprint, u.secret_hash)
ORDER BY u.ord LIMIT 1"""

INSERT_OCCURRENCES_SQL = f"""INSERT INTO occurrences ({_O})
SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bigint[],
                     %b::bigint[]) AS u({_O})
ORDER BY tenant_id, occurrence_id
ON CONFLICT (tenant_id, occurrence_id) DO NOTHING"""

#: DBF-3 for occurrences: finding, version and span compared.
COMPARE_OCCURRENCES_SQL = f"""SELECT u.ord
FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bigint[], %b::bigint[])
    WITH ORDINALITY AS u({_O}, ord)
JOIN occurrences o USING (tenant_id, occurrence_id)
WHERE (o.finding_id, o.object_version_id, o.byte_offset, o.byte_length)
    IS DISTINCT FROM (u.finding_id, u.object_version_id, u.byte_offset, u.byte_length)
ORDER BY u.ord LIMIT 1"""

#: DBF-5 ``<win>``: later ``seen_at``, or a tie won by the first location (FS-9).
OBSERVATION_WIN = (
    "(EXCLUDED.seen_at > o.seen_at OR (EXCLUDED.seen_at = o.seen_at "
    "AND o.location_display IS NULL AND EXCLUDED.location_display IS NOT NULL))"
)
_OBS_PROVENANCE = ",\n    ".join(
    f"{column} = CASE WHEN {OBSERVATION_WIN} THEN EXCLUDED.{column} ELSE o.{column} END"
    for column in ("run_id", "shard_id", "fence_epoch")
)

#: DBF-5: the observation merge; a row back per accepted record.
UPSERT_OBSERVATIONS_SQL = f"""INSERT INTO observations AS o ({_B})
SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[],
                     %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[],
                     %b::text[], %b::text[]) AS u({_B})
ORDER BY tenant_id, observation_id
ON CONFLICT (tenant_id, observation_id) DO UPDATE SET
    {_OBS_PROVENANCE},
    seen_at = GREATEST(o.seen_at, EXCLUDED.seen_at),
    location_display = CASE WHEN {OBSERVATION_WIN}
        THEN COALESCE(EXCLUDED.location_display, o.location_display)
        ELSE COALESCE(o.location_display, EXCLUDED.location_display) END,
    location_url = CASE WHEN {OBSERVATION_WIN}
        THEN CASE WHEN EXCLUDED.location_display IS NOT NULL
                  THEN EXCLUDED.location_url ELSE o.location_url END
        ELSE CASE WHEN o.location_display IS NOT NULL
                  THEN o.location_url ELSE EXCLUDED.location_url END END
WHERE o.occurrence_id = EXCLUDED.occurrence_id AND o.policy_hash = EXCLUDED.policy_hash
  AND o.ovid_hash = EXCLUDED.ovid_hash
RETURNING observation_id"""

#: DBF-8 step 1: stored rows by tenant and id.
LOAD_FINDINGS_SQL = (
    f"SELECT {_F} FROM findings WHERE tenant_id = %s AND finding_id = ANY(%b::bytea[])"
)
LOAD_OCCURRENCES_SQL = (
    f"SELECT {_O} FROM occurrences WHERE tenant_id = %s AND occurrence_id = ANY(%b::bytea[])"
)
LOAD_OBSERVATIONS_SQL = (
    f"SELECT {_B} FROM observations WHERE tenant_id = %s AND observation_id = ANY(%b::bytea[])"
)

#: DBF-7: sent findings whose natural key is stored under another id.
NATURAL_FINDINGS_SQL = """SELECT u.ord
FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[])
    WITH ORDINALITY AS u(tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash,
                         ord)
JOIN findings f ON f.tenant_id = u.tenant_id AND f.stable_item_id = u.stable_item_id
    AND f.rule_fingerprint = u.rule_fingerprint AND f.secret_hash = u.secret_hash
WHERE f.finding_id <> u.finding_id"""
NATURAL_OCCURRENCES_SQL = """SELECT u.ord
FROM unnest(%b::bytea[], %b::bytea[], %b::bytea[], %b::bytea[], %b::bigint[], %b::bigint[])
    WITH ORDINALITY AS u(tenant_id, occurrence_id, finding_id, object_version_id, byte_offset,
                         byte_length, ord)
JOIN occurrences o ON o.tenant_id = u.tenant_id AND o.finding_id = u.finding_id
    AND o.object_version_id = u.object_version_id AND o.byte_offset = u.byte_offset
    AND o.byte_length = u.byte_length
WHERE o.occurrence_id <> u.occurrence_id"""

_SNAPSHOT_FINDINGS_SQL = f"SELECT {_F} FROM findings ORDER BY tenant_id, finding_id"
_SNAPSHOT_OCCURRENCES_SQL = f"SELECT {_O} FROM occurrences ORDER BY tenant_id, occurrence_id"
_SNAPSHOT_OBSERVATIONS_SQL = f"SELECT {_B} FROM observations ORDER BY tenant_id, observation_id"
_GET_FINDING_SQL = f"SELECT {_F} FROM findings WHERE tenant_id = %s AND finding_id = %s"
_GET_OCCURRENCE_SQL = f"SELECT {_O} FROM occurrences WHERE tenant_id = %s AND occurrence_id = %s"
_GET_OBSERVATION_SQL = (
    f"SELECT {_B} FROM observations WHERE tenant_id = %s AND observation_id = %s"
)
#: DBF-9: three scalar subqueries in one round trip.
#: ``reset()``: one DELETE per table (table names are constants, never input).
RESET_SQL = {
    "observations": "DELETE FROM observations",
    "occurrences": "DELETE FROM occurrences",
    "findings": "DELETE FROM findings",
}
COUNTS_SQL = (
    "SELECT (SELECT count(*) FROM findings), (SELECT count(*) FROM occurrences), "
    "(SELECT count(*) FROM observations)"
)


def _columns(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Column-parallel arrays for ``unnest`` (DBL-4)."""
    return [list(column) for column in zip(*rows, strict=True)]


# --- plan: what the write phase sends ----------------------------------------------------


@dataclass
class WritePlan:
    """DBF-8 step 3 input: new rows per layer, in input order of first appearance.

    ``findings`` / ``occurrences`` hold the distinct records not already
    stored identically, with their encoded rows; ``rounds`` holds, per DBF-6
    round, the observations (k-th record of each key) and their rows.
    """

    findings: list[FindingRecord] = field(default_factory=list)
    finding_rows: list[tuple[Any, ...]] = field(default_factory=list)
    occurrences: list[OccurrenceRecord] = field(default_factory=list)
    occurrence_rows: list[tuple[Any, ...]] = field(default_factory=list)
    rounds: list[list[tuple[ObservationRecord, tuple[Any, ...]]]] = field(default_factory=list)


def build_plan(
    batch: FindingsUpsertBatch,
    stored_findings: dict[FindingKey, FindingRecord],
    stored_occurrences: dict[OccurrenceKey, OccurrenceRecord],
) -> WritePlan:
    """Encode what must be written (ENC-2, ENC-4), after the replay accepted the batch."""
    plan = WritePlan()
    planned_findings: set[FindingKey] = set()
    for finding in batch.findings:
        key = (finding.tenant_id, finding.finding_id)
        if key in planned_findings or stored_findings.get(key) == finding:
            continue
        planned_findings.add(key)
        plan.findings.append(finding)
        plan.finding_rows.append(encode_finding_row(finding))
    planned_occurrences: set[OccurrenceKey] = set()
    for position, occurrence in enumerate(batch.occurrences):
        okey = (occurrence.tenant_id, occurrence.occurrence_id)
        if okey in planned_occurrences or stored_occurrences.get(okey) == occurrence:
            continue
        planned_occurrences.add(okey)
        plan.occurrences.append(occurrence)
        plan.occurrence_rows.append(encode_occurrence_row(occurrence, position))
    seen: dict[tuple[TenantId, ObservationId], int] = {}
    for position, observation in enumerate(batch.observations):
        bkey = (observation.tenant_id, observation.observation_id)
        round_index = seen.get(bkey, 0)
        seen[bkey] = round_index + 1
        if round_index == len(plan.rounds):
            plan.rounds.append([])
        plan.rounds[round_index].append(
            (observation, encode_observation_row(observation, position))
        )
    return plan


# --- apply -----------------------------------------------------------------------------------


def _batch_tenant(batch: FindingsUpsertBatch) -> TenantId:
    """FS-3's expected tenant: first finding, else first occurrence, else first observation."""
    for layer in (batch.findings, batch.occurrences, batch.observations):
        if layer:
            return layer[0].tenant_id
    raise ValueError("empty batch has no tenant")  # pragma: no cover - callers check


def load_state(conn: Connection, batch: FindingsUpsertBatch) -> FindingsState:
    """DBF-8 step 1: the stored rows for the batch's keys and the parents it names."""
    tenant = _batch_tenant(batch)
    state = FindingsState()
    finding_ids = {f.finding_id.raw for f in batch.findings}
    finding_ids.update(o.finding_id.raw for o in batch.occurrences)
    if finding_ids:
        for row in conn.execute(LOAD_FINDINGS_SQL, (tenant.raw, list(finding_ids))):
            finding = decode_finding_row(row)
            state.findings[(finding.tenant_id, finding.finding_id)] = finding
    occurrence_ids = {o.occurrence_id.raw for o in batch.occurrences}
    occurrence_ids.update(b.occurrence_id.raw for b in batch.observations)
    if occurrence_ids:
        for row in conn.execute(LOAD_OCCURRENCES_SQL, (tenant.raw, list(occurrence_ids))):
            occurrence = decode_occurrence_row(row)
            state.occurrences[(occurrence.tenant_id, occurrence.occurrence_id)] = occurrence
    observation_ids = [b.observation_id.raw for b in batch.observations]
    if observation_ids:
        for row in conn.execute(LOAD_OBSERVATIONS_SQL, (tenant.raw, observation_ids)):
            observation = decode_observation_row(row)
            state.observations[(observation.tenant_id, observation.observation_id)] = observation
    return state


def write_plan(conn: Connection, plan: WritePlan) -> None:
    """DBF-8 step 3: parents before children; DBF-3 and DBF-5 checks catch late writers."""
    if plan.findings:
        columns = _columns(plan.finding_rows)
        inserted = conn.execute(INSERT_FINDINGS_SQL, columns).rowcount
        if inserted < len(plan.findings):
            row = conn.execute(COMPARE_FINDINGS_SQL, columns).fetchone()
            if row is not None:
                finding = plan.findings[int(row[0]) - 1]
                raise FindingConflict(finding.tenant_id, finding.finding_id)
    if plan.occurrences:
        columns = _columns(plan.occurrence_rows)
        inserted = conn.execute(INSERT_OCCURRENCES_SQL, columns).rowcount
        if inserted < len(plan.occurrences):
            row = conn.execute(COMPARE_OCCURRENCES_SQL, columns).fetchone()
            if row is not None:
                occurrence = plan.occurrences[int(row[0]) - 1]
                raise OccurrenceConflict(occurrence.tenant_id, occurrence.occurrence_id)
    for records in plan.rounds:
        columns = _columns([row for _, row in records])
        returned = {bytes(r[0]) for r in conn.execute(UPSERT_OBSERVATIONS_SQL, columns)}
        if len(returned) < len(records):
            for observation, _ in records:
                if observation.observation_id.raw not in returned:
                    raise ObservationConflict(observation.tenant_id, observation.observation_id)


def _natural_conflict(
    conn: Connection,
    sql: str,
    rows: Sequence[tuple[Any, ...]],
    natural: Sequence[int],
) -> int | None:
    """DBF-7: index of the first row whose natural key is held under another id."""
    stored = {int(r[0]) - 1 for r in conn.execute(sql, _columns(rows))}
    seen: dict[tuple[Any, ...], Any] = {}
    for index, row in enumerate(rows):
        natural_key = tuple(row[i] for i in natural)
        if index in stored or seen.setdefault(natural_key, row[1]) != row[1]:
            return index
    return None


def _first_orphan_occurrence(
    conn: Connection, batch: FindingsUpsertBatch
) -> OccurrenceRecord | None:
    """DBF-4: the first occurrence in input order whose finding is neither sent nor stored."""
    tenant = _batch_tenant(batch)
    wanted = list({o.finding_id.raw for o in batch.occurrences})
    stored = {
        bytes(r[0])
        for r in conn.execute(
            "SELECT finding_id FROM findings "
            "WHERE tenant_id = %s AND finding_id = ANY(%b::bytea[])",
            (tenant.raw, wanted),
        )
    }
    sent = {(f.tenant_id, f.finding_id) for f in batch.findings}
    for occurrence in batch.occurrences:
        parent = (occurrence.tenant_id, occurrence.finding_id)
        if parent not in sent and (
            occurrence.tenant_id != tenant or occurrence.finding_id.raw not in stored
        ):
            return occurrence
    return None


def _first_orphan_observation(
    conn: Connection, batch: FindingsUpsertBatch
) -> ObservationRecord | None:
    """DBF-4: the first observation in input order whose occurrence is neither sent nor stored."""
    tenant = _batch_tenant(batch)
    wanted = list({b.occurrence_id.raw for b in batch.observations})
    stored = {
        bytes(r[0])
        for r in conn.execute(
            "SELECT occurrence_id FROM occurrences "
            "WHERE tenant_id = %s AND occurrence_id = ANY(%b::bytea[])",
            (tenant.raw, wanted),
        )
    }
    sent = {(o.tenant_id, o.occurrence_id) for o in batch.occurrences}
    for observation in batch.observations:
        parent = (observation.tenant_id, observation.occurrence_id)
        if parent not in sent and (
            observation.tenant_id != tenant or observation.occurrence_id.raw not in stored
        ):
            return observation
    return None


def explain_violation(
    conn: Connection,
    batch: FindingsUpsertBatch,
    plan: WritePlan | None,
    sqlstate: str | None,
    constraint: str | None,
) -> InMemoryPersistenceError | None:
    """DBF-4 / DBF-7: map a constraint violation to the in-memory error (after ROLLBACK)."""
    if sqlstate == "23503" and constraint == "occurrences_finding_fk":
        occurrence = _first_orphan_occurrence(conn, batch)
        if occurrence is not None:
            return MissingFinding(
                occurrence.tenant_id, occurrence.finding_id, occurrence.occurrence_id
            )
    elif sqlstate == "23503" and constraint == "observations_occurrence_fk":
        observation = _first_orphan_observation(conn, batch)
        if observation is not None:
            return MissingOccurrence(
                observation.tenant_id, observation.occurrence_id, observation.observation_id
            )
    elif sqlstate == "23505" and constraint == "findings_natural_unique" and plan is not None:
        index = _natural_conflict(conn, NATURAL_FINDINGS_SQL, plan.finding_rows, (0, 2, 3, 4))
        if index is not None:
            finding = plan.findings[index]
            return FindingConflict(finding.tenant_id, finding.finding_id)
    elif sqlstate == "23505" and constraint == "occurrences_natural_unique" and plan is not None:
        index = _natural_conflict(
            conn, NATURAL_OCCURRENCES_SQL, plan.occurrence_rows, (0, 2, 3, 4, 5)
        )
        if index is not None:
            occurrence = plan.occurrences[index]
            return OccurrenceConflict(occurrence.tenant_id, occurrence.occurrence_id)
    return None


def apply_batch(holder: PgConnection, batch: FindingsUpsertBatch) -> FindingsCommitReceipt:
    """DBF-2 / DBF-8 for a non-empty batch: read, replay, write, commit; map failures."""
    conn = holder.connection("upsert_batch")
    plan: WritePlan | None = None
    try:
        with conn.transaction():
            state = load_state(conn, batch)
            stored_findings = dict(state.findings)
            stored_occurrences = dict(state.occurrences)
            receipt = inmemory_findings.apply_findings_batch(state, batch)
            plan = build_plan(batch, stored_findings, stored_occurrences)
            write_plan(conn, plan)
        return receipt
    except psycopg.Error as exc:
        sqlstate = exc.sqlstate
        constraint = constraint_of(exc)
        failure: InMemoryPersistenceError = backend_error(KIND, "upsert_batch", exc)
    if sqlstate in ("23503", "23505"):
        # If the connection died too, the original error is kept (FC-5).
        with contextlib.suppress(psycopg.Error):
            failure = explain_violation(conn, batch, plan, sqlstate, constraint) or failure
    raise failure from None


class PgFindingsBackend:
    """FC-1: the findings backend whose durable state is the store's connection."""

    kind = KIND

    def __init__(self, holder: PgConnection) -> None:
        self._holder = holder

    def new_durable(self) -> PgConnection:
        return self._holder

    def apply(
        self, durable: PgConnection, counters: FaultCounters, payload: FindingsUpsertBatch
    ) -> FindingsCommitReceipt:
        """DBF-2: commit fault first, before any SQL (FC-4); empty batch without SQL."""
        counters.check_commit_fault(KIND)
        if payload.is_empty():
            return FindingsCommitReceipt(0, 0, 0)
        return apply_batch(durable, payload)

    def findings_snapshot(self, durable: PgConnection) -> list[FindingRecord]:
        return durable.run(
            "findings_snapshot",
            lambda conn: [decode_finding_row(r) for r in conn.execute(_SNAPSHOT_FINDINGS_SQL)],
        )

    def occurrences_snapshot(self, durable: PgConnection) -> list[OccurrenceRecord]:
        return durable.run(
            "occurrences_snapshot",
            lambda conn: [
                decode_occurrence_row(r) for r in conn.execute(_SNAPSHOT_OCCURRENCES_SQL)
            ],
        )

    def observations_snapshot(self, durable: PgConnection) -> list[ObservationRecord]:
        return durable.run(
            "observations_snapshot",
            lambda conn: [
                decode_observation_row(r) for r in conn.execute(_SNAPSHOT_OBSERVATIONS_SQL)
            ],
        )

    def get_finding(
        self, durable: PgConnection, tenant_id: TenantId, finding_id: FindingId
    ) -> FindingRecord | None:
        def get(conn: Connection) -> FindingRecord | None:
            row = conn.execute(_GET_FINDING_SQL, (tenant_id.raw, finding_id.raw)).fetchone()
            return None if row is None else decode_finding_row(row)

        return durable.run("get_finding", get)

    def get_occurrence(
        self, durable: PgConnection, tenant_id: TenantId, occurrence_id: OccurrenceId
    ) -> OccurrenceRecord | None:
        def get(conn: Connection) -> OccurrenceRecord | None:
            row = conn.execute(_GET_OCCURRENCE_SQL, (tenant_id.raw, occurrence_id.raw)).fetchone()
            return None if row is None else decode_occurrence_row(row)

        return durable.run("get_occurrence", get)

    def get_observation(
        self, durable: PgConnection, tenant_id: TenantId, observation_id: ObservationId
    ) -> ObservationRecord | None:
        def get(conn: Connection) -> ObservationRecord | None:
            row = conn.execute(
                _GET_OBSERVATION_SQL, (tenant_id.raw, observation_id.raw)
            ).fetchone()
            return None if row is None else decode_observation_row(row)

        return durable.run("get_observation", get)

    def durable_counts(self, durable: PgConnection) -> DurableFindingsCounts:
        return durable.run("durable_counts", _counts)

    def reset(self, durable: PgConnection) -> None:
        """Delete every row, children first (foreign keys), in one transaction."""

        def delete_all(conn: Connection) -> None:
            with conn.transaction():
                for table in ("observations", "occurrences", "findings"):
                    conn.execute(RESET_SQL[table])

        durable.run("reset", delete_all)


# --- reads -----------------------------------------------------------------------------------


def _counts(conn: Connection) -> DurableFindingsCounts:
    row = conn.execute(COUNTS_SQL).fetchone()
    assert row is not None
    return DurableFindingsCounts(int(row[0]), int(row[1]), int(row[2]))


# --- public facade ---------------------------------------------------------------------------


class PostgresFindingsHandle(ControlledFindingsHandle):
    """Commit handle of one ``upsert_batch`` (ST-19..ST-23); ``wait()`` gives the receipt."""

    __slots__ = ()


class PostgresFindingsSink(ControlledFindingsSink[PgConnection]):
    """``FindingsSink`` on PostgreSQL with the in-memory store's controls (§4, FC-1..FC-7).

    Construction, migrations (MIG-3, MIG-5) and lifecycle as for
    ``PostgresDoneLedger``; apply and error mapping: module docstring.
    """

    __slots__ = ()

    handle_class = PostgresFindingsHandle

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
            FINDINGS_MIGRATIONS,
            migrate=migrate,
            prepare_threshold=prepare_threshold,
        )
        super().__init__(PgFindingsBackend(holder), auto_complete=auto_complete)

    def _check_size(self, method: str, size: int) -> None:
        """DBF-1: at most 10_000 records per batch."""
        if size > RECOMMENDED_MAX_BATCH_SIZE:
            raise BatchTooLarge(KIND, method, size, RECOMMENDED_MAX_BATCH_SIZE)

    def upsert_batch(self, batch: FindingsUpsertBatch) -> PostgresFindingsHandle:
        """DBF-1: type check, size limit, FS-2, FS-3 (all before the lock), then submit.

        Integrity and database errors are raised by ``wait()``.
        """
        return cast(PostgresFindingsHandle, super().upsert_batch(batch))

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection shared by every clone; a later call reconnects (PG-2)."""
        self._core.close_durable(PgConnection.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = [
    "COMPARE_FINDINGS_SQL",
    "COMPARE_OCCURRENCES_SQL",
    "UPSERT_OBSERVATIONS_SQL",
    "PgFindingsBackend",
    "PostgresFindingsHandle",
    "PostgresFindingsSink",
    "WritePlan",
    "apply_batch",
    "build_plan",
    "explain_violation",
    "load_state",
    "write_plan",
]
