-- Upgrade 002: key controls (enabled, rate limits, credits, IP allowlist).
-- Applied once by Migrate after the base schema (schema_version 1 -> 2).
ALTER TABLE apikey_keys ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apikey_keys ADD COLUMN rate_limits TEXT;                       -- JSON array, NULL = none
ALTER TABLE apikey_keys ADD COLUMN ip_allowlist TEXT;                      -- JSON array of CIDRs, NULL = any
ALTER TABLE apikey_keys ADD COLUMN credits_remaining INTEGER;              -- NULL = unlimited
ALTER TABLE apikey_keys ADD COLUMN credits_refill_amount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apikey_keys ADD COLUMN credits_refill_interval INTEGER NOT NULL DEFAULT 0; -- nanoseconds, 0 = none
ALTER TABLE apikey_keys ADD COLUMN credits_last_refill INTEGER;            -- the credit period
