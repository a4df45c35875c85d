-- Upgrade 002: key controls (enabled, rate limits, credits, IP allowlist).
-- Applied once by Migrate after the base schema (schema_version 1 -> 2).
ALTER TABLE apikey_keys
    ADD COLUMN disabled                BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN rate_limits             TEXT,                    -- JSON array, NULL = none
    ADD COLUMN ip_allowlist            TEXT,                    -- JSON array of CIDRs, NULL = any
    ADD COLUMN credits_remaining       BIGINT,                  -- NULL = unlimited
    ADD COLUMN credits_refill_amount   BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN credits_refill_interval BIGINT NOT NULL DEFAULT 0, -- nanoseconds, 0 = none
    ADD COLUMN credits_last_refill     TIMESTAMPTZ;             -- the credit period
