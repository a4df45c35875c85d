-- Upgrade 003: key lifecycle (not-before time, owner, expiring-soon scan).
-- Applied once by Migrate after the earlier upgrades (schema_version -> 3).
ALTER TABLE apikey_keys
    ADD COLUMN not_before TIMESTAMPTZ,                       -- refused before it, NULL = none
    ADD COLUMN owner      TEXT COLLATE "C" NOT NULL DEFAULT ''; -- user or external id, '' = none

-- Listing and revoking a tenant's keys by owner, by keyset (id < cursor).
CREATE INDEX IF NOT EXISTS apikey_keys_owner ON apikey_keys (tenant, owner, id);

-- Keys expiring before an instant (expiring-soon notices).
CREATE INDEX IF NOT EXISTS apikey_keys_expires ON apikey_keys (expires_at, id) WHERE expires_at IS NOT NULL;

-- Per-key request counts per UTC day and outcome, added by the usage
-- tracker's batched flush (RecordUsage). day is the midnight.
CREATE TABLE IF NOT EXISTS apikey_usage (
    key_id  TEXT COLLATE "C" NOT NULL,
    day     TIMESTAMPTZ NOT NULL,
    outcome TEXT COLLATE "C" NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (key_id, day, outcome)
);

-- Notices sent about a key (expiring-soon), claimed once across processes.
CREATE TABLE IF NOT EXISTS apikey_notices (
    key_id TEXT COLLATE "C" NOT NULL,
    notice TEXT COLLATE "C" NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key_id, notice)
);
