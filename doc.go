// Package apikey manages the whole life of API keys: issue a key and show
// its token once, verify it on every request in microseconds, check its
// scopes, track its use, expire it, rotate it with a grace period, and
// revoke one key or every key of a tenant.
//
// # Tokens
//
// A token looks like pgk_live_<66 base62 characters>: a prefix and an
// environment of your choosing, a non-secret selector, 256 random bits of
// secret, and a CRC-32 checksum. The checksum lets Verify refuse typos and
// random strings without touching the store, and lets secret scanners
// validate a match offline (see TokenPattern and ValidChecksum). The first
// four body characters, with the prefix and environment, form the display
// prefix ("pgk_live_abc1") that is safe to show in UIs and logs.
//
// # Storage
//
// The plaintext token exists only in the value Create (or Rotate) returns,
// wrapped in a Secret that prints as "[redacted]". Stores keep the selector
// (to find the record with one indexed read) and an HMAC-SHA-256 of the
// token keyed with a server-side pepper. Hash versions let you rotate the
// pepper: every record names its version, and a successful verify re-hashes
// a key to the current version.
//
// # Quick start
//
//	m, err := apikey.New(memstore.New(),
//		apikey.WithPrefix("pgk"),
//		apikey.WithPepper("v1", pepper), // 32+ secret bytes, not in the database
//	)
//	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Scopes: []string{"jobs:read"}})
//	fmt.Println(issued.Token.Reveal()) // show once
//	key, err := m.Verify(ctx, presentedToken)
//
// # Verification cache
//
// On a store that is not in memory, turn on the verification cache:
//
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper),
//		apikey.WithCache(apikey.CacheOptions{})) // 100k keys, 10 s TTL, 5 s negative TTL
//
// A hit reads no store and allocates nothing, but still compares the hash
// and checks expiry, grace and revocation against the clock. Revoke,
// RevokeAll, Rotate and Update through the Manager take effect in this
// process before they return; other processes see a change within the TTL
// unless they are told (Invalidate, WithInvalidationPublisher). Keys that
// Verify returns are shared with the cache: do not modify them.
//
// Stores: memstore (in memory; the test double) and sqlstore (SQLite,
// PostgreSQL, MySQL/MariaDB). Every store passes the storetest suite.
package apikey
