package apikey

import (
	"fmt"
	"strings"
)

// Keys imported from another system keep working without being reissued.
// Their tokens need not follow this library's format: a LegacyScheme says
// how to find the record of such a token (its lookup value) and how to check
// it against the hash the old system stored. A successful verify re-hashes
// the key to the manager's current version, so the old hash is checked once
// per key; the scheme stays needed afterwards to find the record.

// legacyLookupPrefix namespaces the lookup values of imported keys. Native
// selectors are 17 base62 characters, so a lookup starting with "l:" can
// never collide with one.
const legacyLookupPrefix = "l:"

// maxLegacyLookupLen bounds the raw lookup value a scheme derives, so the
// stored lookup (prefix, version, ':' and value) stays under 100 bytes.
const maxLegacyLookupLen = 64

// LegacyScheme describes keys imported from another system: the hash version
// they are stored under, the verify-only Hasher that checks them, and how a
// presented token maps to its record. Register one with WithLegacyImport.
// Package legacy has the common cases (legacy.SHA256, legacy.HMAC,
// legacy.Bcrypt); any
// implementation must be safe for concurrent use.
type LegacyScheme interface {
	// Version names the verify-only hash version imported keys are stored
	// under until their first successful verify, such as "unkey-sha256".
	Version() string
	// Hasher checks a presented token against a stored legacy hash in
	// constant time. Its Hash method returns an error: imported keys are
	// re-hashed to the manager's current version, never to a legacy one.
	Hasher() Hasher
	// Lookup derives the lookup value of a presented token, or reports false
	// if the token cannot be one of this scheme's. It runs on every verify
	// of a token that is not of the manager's own format, before any store
	// access, so it must be cheap and must not depend on secret material
	// other than the token itself.
	Lookup(token string) (lookup string, ok bool)
	// Import checks the hash and lookup value given to Manager.Import and
	// returns the hash to store and the lookup value to index the record by
	// (the value Lookup derives from the key's token). For schemes whose
	// lookup is derived from the hash, lookup must be empty.
	Import(hash []byte, lookup string) (stored []byte, lookupValue string, err error)
}

// WithLegacyImport lets the manager import and verify keys issued by another
// system under scheme. A presented token that does not parse as one of this
// manager's tokens is then looked up by the scheme's lookup value (one store
// read) and checked under the hash version its record names. Several schemes
// may be registered; a token goes to the first, in registration order, whose
// Lookup accepts it, so register the most specific first.
//
// Keep the scheme registered for as long as imported keys exist: even after
// a key has been re-hashed to the current version, its record is found by
// the scheme's lookup value. Rotating an imported key replaces it with a
// native one.
//
// Tokens of the manager's own format never reach a legacy scheme, so a slow
// legacy hash (bcrypt) only ever runs for imported keys that have not been
// verified yet.
func WithLegacyImport(scheme LegacyScheme) Option {
	return func(c *config) error {
		if scheme == nil || scheme.Hasher() == nil {
			return fmt.Errorf("%w: nil legacy scheme or hasher", ErrInvalid)
		}
		v := scheme.Version()
		if v == "" || len(v) > 32 || strings.ContainsRune(v, ':') {
			return fmt.Errorf("%w: legacy hash version must be 1-32 bytes without ':'", ErrInvalid)
		}
		if _, dup := c.hashers[v]; dup || c.legacyScheme(v) != nil {
			return fmt.Errorf("%w: hash version %q registered twice", ErrInvalid, v)
		}
		c.legacy = append(c.legacy, scheme)
		return nil
	}
}

// legacyScheme returns the registered legacy scheme of version, or nil.
func (c *config) legacyScheme(version string) LegacyScheme {
	for _, s := range c.legacy {
		if s.Version() == version {
			return s
		}
	}
	return nil
}

// hasher returns the Hasher of a stored hash version: a registered one, or
// the verify-only hasher of a legacy scheme, or nil.
func (m *Manager) hasher(version string) Hasher {
	if h := m.cfg.hashers[version]; h != nil {
		return h
	}
	if s := m.cfg.legacyScheme(version); s != nil {
		return s.Hasher()
	}
	return nil
}

// legacyLookup returns the namespaced lookup value of a token that did not
// parse as one of the manager's own, or false if no legacy scheme claims it.
// A token that starts like one of ours ("<prefix>_<env>_" of this manager)
// never goes to a legacy scheme: it is malformed.
func (m *Manager) legacyLookup(token string) (string, bool) {
	if len(m.cfg.legacy) == 0 || len(token) == 0 || len(token) > maxTokenLen || !isPrintableASCII(token) {
		return "", false
	}
	if m.hasOwnPrefix(token) {
		return "", false
	}
	for _, s := range m.cfg.legacy {
		if v, ok := s.Lookup(token); ok && v != "" && len(v) <= maxLegacyLookupLen {
			return legacyLookupValue(s.Version(), v), true
		}
	}
	return "", false
}

// hasOwnPrefix reports whether token starts with "<prefix>_<env>_" for this
// manager's prefix and one of its environments.
func (m *Manager) hasOwnPrefix(token string) bool {
	rest, ok := strings.CutPrefix(token, m.cfg.prefix+"_")
	if !ok {
		return false
	}
	env, _, ok := strings.Cut(rest, "_")
	return ok && m.knownEnv(env)
}

// legacyLookupValue is the stored lookup value of an imported key.
func legacyLookupValue(version, v string) string {
	return legacyLookupPrefix + version + ":" + v
}

// isPrintableASCII reports whether s is only printable, non-space ASCII.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
