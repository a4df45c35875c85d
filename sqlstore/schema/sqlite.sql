-- apikey schema for SQLite (3.24 or later). Idempotent: safe to run again.
-- Times are INTEGER microseconds since the Unix epoch (UTC): exact, and they
-- sort as numbers. They come from the application's clock, never the
-- database's. Text compares with the default BINARY collation (bytes).

CREATE TABLE IF NOT EXISTS apikey_keys (
    id                   TEXT NOT NULL PRIMARY KEY,          -- ULID
    tenant               TEXT NOT NULL,
    environment          TEXT NOT NULL,
    name                 TEXT NOT NULL,
    prefix               TEXT NOT NULL,                      -- display prefix, safe to show
    lookup               TEXT NOT NULL,                      -- token selector (not secret)
    hash_version         TEXT NOT NULL,
    hash                 BLOB NOT NULL,                      -- keyed hash of the token
    scopes               TEXT NOT NULL,                      -- JSON array of strings
    created_by           TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER,
    last_used_at         INTEGER,
    last_used_ip         TEXT NOT NULL,
    last_used_client     TEXT NOT NULL,
    revoked_at           INTEGER,
    replaced_by          TEXT NOT NULL,                      -- successor ID, '' if none
    grace_expires_at     INTEGER,
    rotation_interval    INTEGER NOT NULL,                   -- nanoseconds, 0 = none
    next_rotation_at     INTEGER,
    rotation_webhook_url TEXT NOT NULL,
    webhook_secret       BLOB,                               -- sealed, never plaintext
    metadata             TEXT NOT NULL                       -- JSON object of strings
);

-- Verify finds a key by its lookup value: one unique-index read.
CREATE UNIQUE INDEX IF NOT EXISTS apikey_keys_lookup ON apikey_keys (lookup);

-- Listing a tenant's keys newest first, by keyset (id < cursor).
CREATE INDEX IF NOT EXISTS apikey_keys_tenant_id ON apikey_keys (tenant, id);

-- The rotation scheduler's scan for due keys.
CREATE INDEX IF NOT EXISTS apikey_keys_next_rotation ON apikey_keys (next_rotation_at)
    WHERE next_rotation_at IS NOT NULL;

-- Change feed: one row per change, written in the transaction of the change,
-- read by other processes to drop cached keys. AUTOINCREMENT: a seq is never
-- reused, even after the newest entries were purged.
CREATE TABLE IF NOT EXISTS apikey_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    lookup TEXT NOT NULL,
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,
    at     INTEGER NOT NULL
);

-- Small counters: the schema version, the highest purged change-feed seq,
-- and a row reserved for locking change-feed writers (SQLite needs no lock:
-- it has one writer at a time).
CREATE TABLE IF NOT EXISTS apikey_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT OR IGNORE INTO apikey_meta (name, value)
VALUES ('schema_version', 1), ('changes_trimmed', 0), ('feed_lock', 0);
