-- apikey schema for MySQL 8 and MariaDB 10.5 or later. Idempotent: safe to
-- run again (indexes are declared inside CREATE TABLE, which MySQL has no
-- CREATE INDEX IF NOT EXISTS for). Times are DATETIME(6) in UTC, written
-- from the application's clock, never the database's. IDs, tenants and
-- lookup values are VARBINARY: compared byte for byte, with case and
-- trailing spaces significant (a _bin collation would pad spaces).

CREATE TABLE IF NOT EXISTS apikey_keys (
    id                   VARBINARY(64) NOT NULL,            -- ULID
    tenant               VARBINARY(512) NOT NULL,
    environment          VARCHAR(64) NOT NULL,
    name                 TEXT NOT NULL,
    prefix               VARCHAR(255) NOT NULL,             -- display prefix, safe to show
    lookup               VARBINARY(255) NOT NULL,           -- token selector (not secret)
    hash_version         VARCHAR(64) NOT NULL,
    hash                 VARBINARY(1024) NOT NULL,          -- keyed hash of the token
    scopes               TEXT NOT NULL,                     -- JSON array of strings
    created_by           VARCHAR(255) NOT NULL,
    created_at           DATETIME(6) NOT NULL,
    expires_at           DATETIME(6) NULL,
    last_used_at         DATETIME(6) NULL,
    last_used_ip         VARCHAR(255) NOT NULL,
    last_used_client     VARCHAR(255) NOT NULL,
    revoked_at           DATETIME(6) NULL,
    replaced_by          VARBINARY(64) NOT NULL,            -- successor ID, '' if none
    grace_expires_at     DATETIME(6) NULL,
    rotation_interval    BIGINT NOT NULL,                   -- nanoseconds, 0 = none
    next_rotation_at     DATETIME(6) NULL,
    rotation_webhook_url TEXT NOT NULL,
    webhook_secret       BLOB NULL,                         -- sealed, never plaintext
    metadata             TEXT NOT NULL,                     -- JSON object of strings
    PRIMARY KEY (id),
    UNIQUE KEY apikey_keys_lookup (lookup),                 -- verify: one unique-index read
    KEY apikey_keys_tenant_id (tenant, id),                 -- keyset listing per tenant
    KEY apikey_keys_next_rotation (next_rotation_at)        -- rotation scheduler
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Change feed: one row per change, written in the transaction of the change,
-- read by other processes to drop cached keys.
CREATE TABLE IF NOT EXISTS apikey_changes (
    seq    BIGINT NOT NULL AUTO_INCREMENT,
    key_id VARBINARY(64) NOT NULL,
    lookup VARBINARY(255) NOT NULL,
    tenant VARBINARY(512) NOT NULL,
    kind   VARCHAR(32) NOT NULL,
    at     DATETIME(6) NOT NULL,
    PRIMARY KEY (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Small counters: the schema version, the highest purged change-feed seq,
-- and a row that change-feed writers lock so that seq order is commit order.
CREATE TABLE IF NOT EXISTS apikey_meta (
    name  VARCHAR(64) NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT IGNORE INTO apikey_meta (name, value)
VALUES ('schema_version', 1), ('changes_trimmed', 0), ('feed_lock', 0);
