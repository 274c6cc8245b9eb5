-- 0001_done_ledger_entries (backends.md SCH-1)
--
-- One row per (tenant, policy, object version): the lattice-merged outcome of
-- every scan of that key. run_id and shard_id hold the u64 bit pattern as a
-- signed BIGINT (ENC-2); the other BIGINT columns are checked to 2**63 - 1 by
-- the backend and stored unchanged. The shape check is DL-32 in SQL.

CREATE TABLE done_ledger_entries (
    tenant_id      BYTEA    NOT NULL CHECK (octet_length(tenant_id) = 32),
    policy_hash    BYTEA    NOT NULL CHECK (octet_length(policy_hash) = 32),
    ovid_hash      BYTEA    NOT NULL CHECK (octet_length(ovid_hash) = 32),
    status         SMALLINT NOT NULL CHECK (status IN (1, 2, 3, 10, 11)),
    bytes_scanned  BIGINT   NOT NULL CHECK (bytes_scanned >= 0),
    findings_count INTEGER  NOT NULL CHECK (findings_count >= 0),
    fence_epoch    BIGINT   NOT NULL CHECK (fence_epoch >= 0),
    started_at     BIGINT   NOT NULL CHECK (started_at >= 0),
    finished_at    BIGINT   NOT NULL CHECK (finished_at >= started_at),
    run_id         BIGINT   NOT NULL,   -- u64 bit pattern (ENC-2)
    shard_id       BIGINT   NOT NULL,   -- u64 bit pattern (ENC-2)
    error_code     TEXT,
    CONSTRAINT done_ledger_entries_pk PRIMARY KEY (tenant_id, policy_hash, ovid_hash),
    CONSTRAINT done_ledger_entries_error_code_size_ck
        CHECK (error_code IS NULL OR octet_length(error_code) BETWEEN 1 AND 128),
    CONSTRAINT done_ledger_entries_status_shape_ck CHECK (
           (status = 10 AND findings_count = 0 AND error_code IS NULL)
        OR (status = 11 AND findings_count > 0 AND error_code IS NULL)
        OR (status IN (1, 2, 3) AND error_code IS NOT NULL)));

-- Retention and scan history, newest first; the trailing ovid_hash makes it covering.
CREATE INDEX done_ledger_entries_tenant_policy_finished_at_idx
    ON done_ledger_entries (tenant_id, policy_hash, finished_at DESC, ovid_hash);

-- "Which rows did run X / shard Y write".
CREATE INDEX done_ledger_entries_run_shard_idx
    ON done_ledger_entries (run_id, shard_id, tenant_id, policy_hash, ovid_hash);
