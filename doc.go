// Package apikey manages the whole life of API keys: issue a key and show
// its token once, verify it on every request in well under a microsecond,
// check its scopes, track its use, expire it, rotate it with a grace
// period, and revoke one key or every key of a tenant.
//
// # Quick start
//
//	store := memstore.New() // or sqlstore.New(db, sqlstore.Postgres) + Migrate
//	m, err := apikey.New(store,
//		apikey.WithPrefix("pgk"),                     // tokens read pgk_live_...
//		apikey.WithPepper("v1", pepper),              // 32+ secret bytes, never in the database
//		apikey.WithScopeCatalog("jobs:read", "jobs:write"),
//	)
//	if err != nil { ... }
//
//	// Issue: the plaintext exists only in the returned Secret; show it once.
//	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Name: "CI", Scopes: []string{"jobs:read"}})
//	fmt.Println(issued.Token.Reveal())
//
//	// Protect HTTP routes: RFC 6750 answers, scopes, last-used tracking.
//	auth, err := apikey.NewAuthenticator(m)
//	mux.Handle("GET /jobs", auth.Middleware(auth.RequireAll("jobs:read")(listJobs)))
//
//	// In a handler: the verified key.
//	key, _ := apikey.FromContext(r.Context())
//
//	// Rotate with a one-hour grace, revoke one, revoke all.
//	rot, err := m.Rotate(ctx, "ws_1", issued.Key.ID, time.Hour)
//	_, err = m.Revoke(ctx, "ws_1", rot.Key.ID)
//	_, err = m.RevokeAll(ctx, "ws_1")
//
// The package examples (Example, ExampleManager_Rotate,
// ExampleAuthenticator_RequireAll, ...) are complete programs.
//
// # Tokens
//
// A token looks like pgk_live_<66 base62 characters>: a prefix and an
// environment of your choosing, a 17-character selector (96 random bits,
// not secret: the lookup value), a 43-character secret (256 random bits)
// and a 6-character CRC-32 checksum. The checksum lets Verify refuse typos
// and random strings without touching the store, and lets secret scanners
// validate a match offline (TokenPattern, Manager.TokenRegexp,
// ValidChecksum). The prefix, environment and first four body characters
// form the display prefix ("pgk_live_abc1"), safe in UIs and logs; Redact
// masks tokens in any string down to it.
//
// # Storage and verification
//
// Stores keep the selector and HMAC-SHA-256(pepper, token), never the
// token. Verify finds the record with one indexed read by selector, then
// compares the keyed hash in constant time under the hash version the
// record names — whatever the number of registered versions, and never
// chosen by the presented token. An unknown selector costs what a wrong
// secret costs. Register a new pepper as a new version and make it current
// (WithCurrentHashVersion): every key moves to it on its next successful
// verify. Verify's outcomes are distinct errors (ErrMalformed, ErrNotFound,
// ErrRevoked, ErrExpired, ErrGraceEnded, ErrStoreUnavailable) for the
// application and its logs; HTTP clients only ever see the generic
// RFC 6750 answer.
//
// # Lifecycle
//
// Keys get a default and a maximum lifetime (WithDefaultLifetime,
// WithDefaultExpiry, WithMaxLifetime); expired keys behave like revoked
// ones. Revoke is idempotent; RevokeAll stamps every key it revokes with one
// timestamp and leaves earlier revocations alone. Rotate creates the
// successor and marks the old key replaced in one atomic step; the old key
// works until its grace ends (never past its own expiry; grace 0 revokes
// it at once; m.DefaultGrace() is the configured default); of two
// concurrent rotations exactly one wins. Package rotation rotates keys with
// a rotation interval on a schedule and delivers the successor to the key's
// webhook in a signed POST; only a 2xx delivery commits the rotation
// (rotation.VerifyWebhook is the receiving side). Every management call
// takes the caller's tenant: a key of another tenant is ErrNotFound
// (GetByID is the operator path that finds a key of any tenant).
//
// # Scopes
//
// Scopes are "resource:action" strings; "resource:*" and "*" grant more
// only when granted explicitly, and an empty set grants nothing. HasAll,
// HasAny and the RequireAll / RequireAny middleware check them; CanGrant
// stops a key that manages keys from granting scopes it does not hold.
//
// # Caching and several processes
//
// WithCache keeps verified records (and unknown selectors, briefly) in
// memory:
//
//	apikey.WithCache(apikey.CacheOptions{}) // 100k keys, 10 s TTL, 5 s negative TTL
//
// A hit reads no store and allocates nothing, but still compares the hash
// and checks expiry, grace and revocation against the clock. Revoke,
// RevokeAll, Rotate and Update through the Manager take effect in this
// process before they return. Other processes on the same store see a
// change within one poll of their follow.Follower (package follow reads
// the store's change feed, default every 250 ms, plus one query), or
// within the TTL while the feed cannot be read or when they run no
// follower:
//
//	f, err := follow.New(m) // follow.WithInterval(...)
//	if err := f.Start(ctx); err != nil { ... }
//	defer f.Stop() // before closing the database
//
// Keys that Verify returns are shared with the cache: do not modify them.
//
// # Stores
//
// memstore (in memory; the test double for your own tests) and sqlstore
// (SQLite, PostgreSQL, MySQL/MariaDB; database/sql only, you bring the
// driver). Every store, yours included, can run the storetest conformance
// suite. Import keys hashed by another system (SHA-256, HMAC, bcrypt: the
// schemes of package legacy) with WithLegacyImport and Manager.Import; they
// move to the current hash on first use.
//
// # Key controls
//
// A key may be disabled (Manager.Disable, Enable), carry named rate limits
// (per key or shared by its tenant; an in-process MemoryLimiter by default,
// WithRateLimiter for a shared one), usage credits with refill (exact across
// processes: leases from the store, FlushCredits on shutdown) and an IP
// allowlist. Verify enforces them; Manager.VerifyRequest takes the client
// address, the scopes and a cost and checks token, state, IP, scopes, rate
// limits and credits in that order; the middleware answers 429 with
// Retry-After and the RateLimit headers, or 403. Keys without controls pay
// nothing for them.
//
// # Security notes
//
// Never log request headers wholesale; use Redact. Keep the pepper and the
// webhook key out of the database. Give keys rate limits (or put one in
// front of your API).
// SECURITY.md in the repository holds the threat model.
package apikey
