-- Upgrade 003: key lifecycle (not-before time, owner, expiring-soon scan).
-- Applied once by Migrate after the earlier upgrades (schema_version -> 3).
ALTER TABLE apikey_keys
    ADD COLUMN not_before DATETIME(6) NULL,                  -- refused before it, NULL = none
    ADD COLUMN owner      VARBINARY(512) NOT NULL DEFAULT '', -- user or external id, '' = none
    ADD KEY apikey_keys_owner (tenant, owner, id),           -- list / revoke by owner
    ADD KEY apikey_keys_expires (expires_at, id);            -- expiring-soon notices

-- Per-key request counts per UTC day and outcome, added by the usage
-- tracker's batched flush (RecordUsage). day is the midnight.
CREATE TABLE IF NOT EXISTS apikey_usage (
    key_id  VARBINARY(64) NOT NULL,
    day     DATETIME(6) NOT NULL,
    outcome VARBINARY(32) NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (key_id, day, outcome)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Notices sent about a key (expiring-soon), claimed once across processes.
CREATE TABLE IF NOT EXISTS apikey_notices (
    key_id VARBINARY(64) NOT NULL,
    notice VARBINARY(255) NOT NULL,
    at     DATETIME(6) NOT NULL,
    PRIMARY KEY (key_id, notice)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
