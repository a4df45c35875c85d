package apikey

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Verify checks a presented token and returns its key. It refuses a
// malformed token (wrong prefix, environment, length, alphabet or checksum)
// without touching the store; otherwise it does at most one store read
// (none on a hit of the verification cache, see WithCache),
// compares the keyed hash in constant time under the hash version the
// record names, and then checks revocation, grace and expiry against the
// clock. An unknown token and a known selector with a wrong secret take the
// same path (one read, one hash comparison) and both give ErrNotFound.
//
// Errors: ErrMalformed, ErrNotFound, ErrRevoked, ErrGraceEnded, ErrExpired,
// ErrNotYetValid (before the key's NotBefore), ErrStoreUnavailable (answer 503: the key could not be checked). A key
// whose hash version is not current is re-hashed to the current version
// after a successful verify.
//
// With WithLegacyImport, a token that is not of this manager's format (and
// does not start with its "<prefix>_<env>_") is looked up by its legacy
// scheme's lookup value instead of a selector; the rest is the same: at
// most one store read (through the cache), one comparison under the version the record names, the state
// checks, and a re-hash to the current version on success.
//
// The returned Key is read-only: it may be shared with the verification
// cache and with concurrent callers. Do not modify it; Clone it to change it.
//
// Controls (SPEC D1): a disabled key gives ErrDisabled; a key with an IP
// allowlist is refused with ErrIPNotAllowed (Verify knows no client
// address: use VerifyRequest); a key with rate limits or credits spends 1
// from them (ErrRateLimited, ErrUsageExceeded). A key without controls
// pays nothing for them.
func (m *Manager) Verify(ctx context.Context, token string) (*Key, error) {
	var r verifyRun
	m.startVerify(&r) // metrics.go: nothing without WithMetrics
	k, now, err := m.verifyToken(ctx, token, &r)
	if err == nil && hasControls(k) {
		err = m.checkControls(ctx, k, &RequestParams{}, now, &r)
	}
	m.endVerify(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// verifyToken is Verify up to the state checks: the token's syntax, the
// record, the hash, revocation, disabling, grace and expiry. It returns the
// clock reading the state was judged at (zero when none was needed).
// It fills r's Outcome (on failure) and Cache.
func (m *Manager) verifyToken(ctx context.Context, token string, r *verifyRun) (*Key, time.Time, error) {
	prefix, env, selector, split := splitToken(token)
	ok := split && prefix == m.cfg.prefix && m.knownEnv(env)
	if !split {
		// Not our format: maybe a key imported from another system, found by
		// its legacy scheme's lookup value (legacy.go). False without one.
		selector, ok = m.legacyLookup(token)
	}
	if !ok {
		return nil, time.Time{}, m.verifyFailed(ctx, r, ErrMalformed, OutcomeMalformed, nil)
	}
	return m.verifySelector(ctx, token, selector, r)
}

// ownSelector returns the selector of a token of this manager's format:
// shape, checksum, prefix and one of its environments. It does not
// allocate and reads no store.
func (m *Manager) ownSelector(token string) (string, bool) {
	prefix, env, selector, ok := splitToken(token)
	if !ok || prefix != m.cfg.prefix || !m.knownEnv(env) {
		return "", false
	}
	return selector, true
}

// verifySelector is Verify after the token's syntax was checked and its
// lookup value found (the Authenticator calls it directly, so that a token
// is scanned once per request). It returns the clock reading the state was
// judged at, or the zero time when no check needed one.
// A clock reading already taken (r.now, by startVerify) is used as is.
func (m *Manager) verifySelector(ctx context.Context, token, selector string, r *verifyRun) (*Key, time.Time, error) {
	// The clock is read only when something needs it: the cache's TTL, or a
	// key with a time bound (see Key.timeless). The raw clock is enough for
	// StateAt (stored instants are whole microseconds, so truncating now
	// would not change any comparison).
	now := r.now
	if now.IsZero() && m.cache != nil {
		now = m.cfg.clock.Now()
	}
	k, err := m.fetch(ctx, selector, now, r)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			m.current.Verify(token, m.dummy) // same work as a wrong secret
			return nil, now, m.verifyFailed(ctx, r, ErrNotFound, OutcomeNotFound, nil)
		}
		return nil, now, m.verifyFailed(ctx, r, storeErr("lookup", err), OutcomeStoreUnavailable, nil)
	}
	h := m.current
	if k.HashVersion != m.cfg.current {
		h = m.hasher(k.HashVersion) // registered or legacy (legacy.go)
	}
	if h == nil {
		// A record under a retired version: it can never verify again.
		m.current.Verify(token, m.dummy)
		m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: key has an unregistered hash version",
			append(keyAttrs(k), slog.String("hash_version", k.HashVersion))...)
		return nil, now, m.verifyFailed(ctx, r, ErrNotFound, OutcomeMismatch, k)
	}
	if !h.Verify(token, k.Hash) {
		return nil, now, m.verifyFailed(ctx, r, ErrNotFound, OutcomeMismatch, k)
	}
	if now.IsZero() && !k.timeless() {
		now = m.cfg.clock.Now()
	}
	if st := k.StateAt(now); st != StateActive {
		return nil, now, m.verifyFailed(ctx, r, stateErr(st), outcomeOfState(st), k)
	}
	if k.Disabled {
		return nil, now, m.verifyFailed(ctx, r, ErrDisabled, OutcomeDisabled, k)
	}
	if k.NotYetValidAt(now) {
		return nil, now, m.verifyFailed(ctx, r, ErrNotYetValid, OutcomeNotYetValid, k)
	}
	if k.HashVersion != m.cfg.current {
		k = m.rehash(ctx, k, token)
	}
	return k, now, nil
}

func (m *Manager) knownEnv(env string) bool {
	for _, e := range m.cfg.envs {
		if e == env {
			return true
		}
	}
	return false
}

// verifyFailed logs (faillog.go) and reports a failed verification and
// returns err. Nothing about the token itself is logged beyond the key's
// display prefix.
func (m *Manager) verifyFailed(ctx context.Context, r *verifyRun, err error, o Outcome, k *Key) error {
	r.Outcome = o
	m.logFailure(ctx, o, k, err)
	if m.cfg.hook != nil {
		e := Event{Kind: EventVerifyFailed, At: m.Now(), Reason: o.String()}
		if k != nil {
			e.KeyID, e.Prefix, e.Tenant = k.ID, k.Prefix, k.Tenant
		}
		m.emit(ctx, e)
	}
	return err
}

// rehash moves k to the current hash version after a successful verify and
// returns the record as now stored (a new value: k may be shared with the
// cache and is never modified). Failure is logged and retried on the next
// verify, and k is returned; it never fails the request.
func (m *Manager) rehash(ctx context.Context, k *Key, token string) *Key {
	hash, err := m.current.Hash(token)
	if err == nil {
		err = m.store.UpgradeHash(ctx, k.ID, k.HashVersion, m.cfg.current, hash, m.Now())
	}
	if err != nil {
		m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: re-hash failed",
			append(keyAttrs(k), slog.String("error", err.Error()))...)
		m.count(ctx, CounterRehashFailed, 1)
		return k
	}
	m.changed(ctx, k.Lookup)
	up := *k
	up.HashVersion, up.Hash = m.cfg.current, hash
	m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key re-hashed",
		append(keyAttrs(&up), slog.String("from", k.HashVersion), slog.String("to", m.cfg.current))...)
	m.count(ctx, CounterRehashed, 1)
	m.emit(ctx, Event{Kind: EventRehashed, At: m.Now(), KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	return &up
}
