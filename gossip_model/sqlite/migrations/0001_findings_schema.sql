-- 0001_findings_schema: the SQLite translation of backends.md SCH-2 (SQ-2).
-- Policy-independent findings, then occurrences (version and byte span), then
-- observations (policy-scoped, run provenance); every key starts with tenant_id.
-- Forward-only: never edit this file once applied; add a new version (MIG-1).
CREATE TABLE findings (
    tenant_id        BLOB NOT NULL,
    finding_id       BLOB NOT NULL,
    stable_item_id   BLOB NOT NULL,
    rule_fingerprint BLOB NOT NULL,
    secret_hash      BLOB NOT NULL,
    CONSTRAINT findings_pk PRIMARY KEY (tenant_id, finding_id),
    CONSTRAINT findings_tenant_id_len_ck
        CHECK (typeof(tenant_id) = 'blob' AND length(tenant_id) = 32),
    CONSTRAINT findings_finding_id_len_ck
        CHECK (typeof(finding_id) = 'blob' AND length(finding_id) = 32),
    CONSTRAINT findings_stable_item_id_len_ck
        CHECK (typeof(stable_item_id) = 'blob' AND length(stable_item_id) = 32),
    CONSTRAINT findings_rule_fingerprint_len_ck
        CHECK (typeof(rule_fingerprint) = 'blob' AND length(rule_fingerprint) = 32),
    CONSTRAINT findings_secret_hash_len_ck
        CHECK (typeof(secret_hash) = 'blob' AND length(secret_hash) = 32),
    CONSTRAINT findings_natural_unique
        UNIQUE (tenant_id, stable_item_id, rule_fingerprint, secret_hash)
) WITHOUT ROWID;
CREATE TABLE occurrences (
    tenant_id         BLOB    NOT NULL,
    occurrence_id     BLOB    NOT NULL,
    finding_id        BLOB    NOT NULL,
    object_version_id BLOB    NOT NULL,
    byte_offset       INTEGER NOT NULL,
    byte_length       INTEGER NOT NULL,
    CONSTRAINT occurrences_pk PRIMARY KEY (tenant_id, occurrence_id),
    CONSTRAINT occurrences_tenant_id_len_ck
        CHECK (typeof(tenant_id) = 'blob' AND length(tenant_id) = 32),
    CONSTRAINT occurrences_occurrence_id_len_ck
        CHECK (typeof(occurrence_id) = 'blob' AND length(occurrence_id) = 32),
    CONSTRAINT occurrences_finding_id_len_ck
        CHECK (typeof(finding_id) = 'blob' AND length(finding_id) = 32),
    CONSTRAINT occurrences_object_version_id_len_ck
        CHECK (typeof(object_version_id) = 'blob' AND length(object_version_id) = 32),
    CONSTRAINT occurrences_byte_offset_nonnegative_ck CHECK (byte_offset >= 0),
    CONSTRAINT occurrences_byte_length_positive_ck CHECK (byte_length > 0),
    CONSTRAINT occurrences_span_no_overflow_ck
        CHECK (byte_offset <= 9223372036854775806 - byte_length),
    CONSTRAINT occurrences_finding_fk FOREIGN KEY (tenant_id, finding_id)
        REFERENCES findings (tenant_id, finding_id) ON DELETE CASCADE,
    CONSTRAINT occurrences_natural_unique
        UNIQUE (tenant_id, finding_id, object_version_id, byte_offset, byte_length)
) WITHOUT ROWID;
CREATE TABLE observations (
    tenant_id        BLOB    NOT NULL,
    observation_id   BLOB    NOT NULL,
    occurrence_id    BLOB    NOT NULL,
    policy_hash      BLOB    NOT NULL,
    ovid_hash        BLOB    NOT NULL,
    run_id           INTEGER NOT NULL,   -- u64 bit pattern (ENC-2)
    shard_id         INTEGER NOT NULL,   -- u64 bit pattern (ENC-2)
    fence_epoch      INTEGER NOT NULL,
    seen_at          INTEGER NOT NULL,
    location_display TEXT,
    location_url     TEXT,
    CONSTRAINT observations_pk PRIMARY KEY (tenant_id, observation_id),
    CONSTRAINT observations_tenant_id_len_ck
        CHECK (typeof(tenant_id) = 'blob' AND length(tenant_id) = 32),
    CONSTRAINT observations_observation_id_len_ck
        CHECK (typeof(observation_id) = 'blob' AND length(observation_id) = 32),
    CONSTRAINT observations_occurrence_id_len_ck
        CHECK (typeof(occurrence_id) = 'blob' AND length(occurrence_id) = 32),
    CONSTRAINT observations_policy_hash_len_ck
        CHECK (typeof(policy_hash) = 'blob' AND length(policy_hash) = 32),
    CONSTRAINT observations_ovid_hash_len_ck
        CHECK (typeof(ovid_hash) = 'blob' AND length(ovid_hash) = 32),
    CONSTRAINT observations_fence_epoch_nonnegative_ck CHECK (fence_epoch >= 0),
    CONSTRAINT observations_seen_at_nonnegative_ck CHECK (seen_at >= 0),
    CONSTRAINT observations_occurrence_fk FOREIGN KEY (tenant_id, occurrence_id)
        REFERENCES occurrences (tenant_id, occurrence_id) ON DELETE CASCADE,
    CONSTRAINT observations_natural_unique UNIQUE (tenant_id, policy_hash, occurrence_id),
    CONSTRAINT observations_location_display_ck CHECK (location_display IS NULL
        OR length(CAST(location_display AS BLOB)) BETWEEN 1 AND 4096),
    CONSTRAINT observations_location_url_ck CHECK (location_url IS NULL
        OR length(CAST(location_url AS BLOB)) BETWEEN 1 AND 4096)
) WITHOUT ROWID;
CREATE INDEX findings_tenant_secret_hash_idx ON findings (tenant_id, secret_hash, finding_id);
CREATE INDEX findings_tenant_stable_item_id_idx
    ON findings (tenant_id, stable_item_id, finding_id);
CREATE INDEX occurrences_tenant_finding_id_idx
    ON occurrences (tenant_id, finding_id, occurrence_id);
CREATE INDEX occurrences_tenant_object_version_id_idx
    ON occurrences (tenant_id, object_version_id, occurrence_id);
CREATE INDEX observations_tenant_seen_at_idx
    ON observations (tenant_id, seen_at DESC, observation_id);
CREATE INDEX observations_tenant_policy_seen_at_idx
    ON observations (tenant_id, policy_hash, seen_at DESC, observation_id);
CREATE INDEX observations_tenant_occurrence_id_idx
    ON observations (tenant_id, occurrence_id, observation_id);
CREATE INDEX observations_tenant_ovid_hash_idx      -- cross-reference to the done ledger
    ON observations (tenant_id, ovid_hash, observation_id);
CREATE INDEX observations_tenant_run_shard_idx
    ON observations (tenant_id, run_id, shard_id, observation_id);
