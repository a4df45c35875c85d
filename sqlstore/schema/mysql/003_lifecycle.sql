-- Upgrade 003: key lifecycle (not-before time, owner, expiring-soon scan).
-- Applied once by Migrate after the earlier upgrades (schema_version -> 3).
ALTER TABLE apikey_keys
    ADD COLUMN not_before DATETIME(6) NULL,                  -- refused before it, NULL = none
    ADD COLUMN owner      VARBINARY(512) NOT NULL DEFAULT '', -- user or external id, '' = none
    ADD KEY apikey_keys_owner (tenant, owner, id),           -- list / revoke by owner
    ADD KEY apikey_keys_expires (expires_at, id);            -- expiring-soon notices
