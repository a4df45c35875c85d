// Package legacy imports API keys issued by another system, so they keep
// working without being reissued.
//
// An apikey.LegacyScheme says how to find the record of a foreign token
// (its lookup value) and how to check the token against the hash the old
// system stored. This package has the common ones: SHA256 (Unkey, Strait),
// HMAC (HMAC-SHA-256 under the old system's secret) and Bcrypt (with a
// lookup part cut from the token by LookupBefore or LookupFirst). Register
// a scheme on the Manager with apikey.WithLegacyImport and bring the old
// records in with Manager.Import:
//
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper),
//		apikey.WithLegacyImport(legacy.SHA256("unkey")))
//	_, err = m.Import(ctx, apikey.ImportParams{Tenant: "ws_1", HashVersion: "unkey",
//		Hash: []byte(storedHexDigest), Prefix: "sk_live_4eC3"})
//
// A successful verify re-hashes an imported key to the manager's current
// hash version, so the old hash is checked once per key.
package legacy
