-- 0001_done_ledger_entries: the SQLite translation of backends.md SCH-1 (SQ-2).
-- BYTEA -> BLOB with typeof/length checks, SMALLINT/INTEGER/BIGINT -> INTEGER,
-- findings_count bounded like a PostgreSQL INTEGER, octet_length(t) ->
-- length(CAST(t AS BLOB)); column checks carry PostgreSQL's implicit names.
-- `status IN (...)` is spelled as ORs of equalities (same truth table): SQLite
-- builds an ephemeral table for a constant IN list on every statement run,
-- which tripled the per-row cost of the batched upsert.
-- Forward-only: never edit this file once applied; add a new version (MIG-1).
CREATE TABLE done_ledger_entries (
    tenant_id      BLOB    NOT NULL CONSTRAINT done_ledger_entries_tenant_id_check
        CHECK (typeof(tenant_id) = 'blob' AND length(tenant_id) = 32),
    policy_hash    BLOB    NOT NULL CONSTRAINT done_ledger_entries_policy_hash_check
        CHECK (typeof(policy_hash) = 'blob' AND length(policy_hash) = 32),
    ovid_hash      BLOB    NOT NULL CONSTRAINT done_ledger_entries_ovid_hash_check
        CHECK (typeof(ovid_hash) = 'blob' AND length(ovid_hash) = 32),
    status         INTEGER NOT NULL CONSTRAINT done_ledger_entries_status_check
        CHECK (status = 1 OR status = 2 OR status = 3 OR status = 10 OR status = 11),
    bytes_scanned  INTEGER NOT NULL CONSTRAINT done_ledger_entries_bytes_scanned_check
        CHECK (bytes_scanned >= 0),
    findings_count INTEGER NOT NULL CONSTRAINT done_ledger_entries_findings_count_check
        CHECK (findings_count BETWEEN 0 AND 2147483647),
    fence_epoch    INTEGER NOT NULL CONSTRAINT done_ledger_entries_fence_epoch_check
        CHECK (fence_epoch >= 0),
    started_at     INTEGER NOT NULL CONSTRAINT done_ledger_entries_started_at_check
        CHECK (started_at >= 0),
    finished_at    INTEGER NOT NULL CONSTRAINT done_ledger_entries_check
        CHECK (finished_at >= started_at),
    run_id         INTEGER NOT NULL,   -- u64 bit pattern (ENC-2)
    shard_id       INTEGER NOT NULL,   -- u64 bit pattern (ENC-2)
    error_code     TEXT,
    CONSTRAINT done_ledger_entries_pk PRIMARY KEY (tenant_id, policy_hash, ovid_hash),
    CONSTRAINT done_ledger_entries_error_code_size_ck
        CHECK (error_code IS NULL OR length(CAST(error_code AS BLOB)) BETWEEN 1 AND 128),
    CONSTRAINT done_ledger_entries_status_shape_ck CHECK (
           (status = 10 AND findings_count = 0 AND error_code IS NULL)
        OR (status = 11 AND findings_count > 0 AND error_code IS NULL)
        OR ((status = 1 OR status = 2 OR status = 3) AND error_code IS NOT NULL))
) WITHOUT ROWID;
CREATE INDEX done_ledger_entries_tenant_policy_finished_at_idx
    ON done_ledger_entries (tenant_id, policy_hash, finished_at DESC, ovid_hash);
CREATE INDEX done_ledger_entries_run_shard_idx
    ON done_ledger_entries (run_id, shard_id, tenant_id, policy_hash, ovid_hash);
