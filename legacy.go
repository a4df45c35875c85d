package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
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

// errVerifyOnly is what a legacy hasher's Hash returns.
var errVerifyOnly = errors.New("apikey: legacy hash version is verify-only")

// LegacyScheme describes keys imported from another system: the hash version
// they are stored under, the verify-only Hasher that checks them, and how a
// presented token maps to its record. Register one with WithLegacyImport.
// LegacySHA256, LegacyHMAC and LegacyBcrypt cover the common cases; any
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

// LegacySHA256 is the scheme of systems that stored the plain SHA-256 of the
// whole token, hex or base64 encoded (Unkey and Strait do). Manager.Import
// takes the stored digest in any of those forms (or raw) and no lookup: the
// lookup value is the first 16 bytes of the digest, which a verify recomputes
// from the presented token.
//
// Like the old database, the lookup value is an unkeyed hash of the token:
// harmless for random tokens of 128 bits or more, but whoever holds the
// database can test guesses against it. If the old tokens were guessable,
// rotate the imported keys instead of keeping them.
func LegacySHA256(version string) LegacyScheme {
	return digestScheme{version: version, h: sha256Hasher{}}
}

// LegacyHMAC is the scheme of systems that stored HMAC-SHA-256(secret,
// token), hex or base64 encoded. Like LegacySHA256, Manager.Import takes the
// stored digest and no lookup; the lookup value is the first 16 bytes of the
// digest. The secret is copied and must not be empty.
func LegacyHMAC(version string, secret []byte) (LegacyScheme, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty legacy HMAC secret", ErrInvalid)
	}
	return digestScheme{version: version, h: legacyHMACHasher{key: append([]byte(nil), secret...)}}, nil
}

// digester is a verify-only Hasher that can also compute the digest it
// checks against, to derive lookup values.
type digester interface {
	Hasher
	digest(token string) [sha256.Size]byte
}

// digestScheme is a LegacyScheme over a 32-byte digest of the whole token.
type digestScheme struct {
	version string
	h       digester
}

// lookupBytes is how many digest bytes form the lookup value.
const lookupBytes = 16

func (s digestScheme) Version() string { return s.version }
func (s digestScheme) Hasher() Hasher  { return s.h }

// Lookup returns the base64url of the first 16 bytes of the digest.
func (s digestScheme) Lookup(token string) (string, bool) {
	d := s.h.digest(token)
	return base64.RawURLEncoding.EncodeToString(d[:lookupBytes]), true
}

// Import decodes the stored digest and derives the lookup value from it.
func (s digestScheme) Import(hash []byte, lookup string) ([]byte, string, error) {
	if lookup != "" {
		return nil, "", fmt.Errorf("%w: the lookup value of a %s key is derived from its hash; leave it empty", ErrInvalid, s.version)
	}
	d, err := DecodeDigest(hash)
	if err != nil {
		return nil, "", err
	}
	return d, base64.RawURLEncoding.EncodeToString(d[:lookupBytes]), nil
}

// DecodeDigest decodes a SHA-256 digest as another system stored it: 32 raw
// bytes, 64 hex digits (either case), or base64 in the standard or URL
// alphabet, padded or not. Surrounding spaces are ignored.
func DecodeDigest(b []byte) ([]byte, error) {
	if len(b) == sha256.Size {
		return append([]byte(nil), b...), nil
	}
	s := strings.TrimSpace(string(b))
	if len(s) == hex.EncodedLen(sha256.Size) {
		if d, err := hex.DecodeString(s); err == nil {
			return d, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(s); err == nil && len(d) == sha256.Size {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: not a SHA-256 digest in raw, hex or base64 form", ErrInvalid)
}

// sha256Hasher checks a plain SHA-256 of the token. It is verify-only.
type sha256Hasher struct{}

func (sha256Hasher) digest(token string) [sha256.Size]byte { return sha256.Sum256(viewBytes(token)) }

// Hash returns an error: the hasher is verify-only.
func (sha256Hasher) Hash(string) ([]byte, error) { return nil, errVerifyOnly }

// Verify compares SHA-256(token) with stored in constant time.
func (h sha256Hasher) Verify(token string, stored []byte) bool {
	d := h.digest(token)
	return subtle.ConstantTimeCompare(d[:], stored) == 1
}

// legacyHMACHasher checks HMAC-SHA-256(key, token). It is verify-only.
type legacyHMACHasher struct{ key []byte }

func (h legacyHMACHasher) digest(token string) (out [sha256.Size]byte) {
	mac := hmac.New(sha256.New, h.key)
	mac.Write(viewBytes(token))
	mac.Sum(out[:0])
	return out
}

// Hash returns an error: the hasher is verify-only.
func (legacyHMACHasher) Hash(string) ([]byte, error) { return nil, errVerifyOnly }

// Verify compares HMAC-SHA-256(key, token) with stored in constant time.
func (h legacyHMACHasher) Verify(token string, stored []byte) bool {
	d := h.digest(token)
	return hmac.Equal(d[:], stored)
}

// LegacyLookup derives the non-secret lookup part of a token issued by
// another system, or reports false if the token has none.
type LegacyLookup func(token string) (lookup string, ok bool)

// LookupFirst takes the first n bytes of a token as its lookup value. A
// token of n bytes or fewer has no secret part and is refused.
func LookupFirst(n int) LegacyLookup {
	return func(token string) (string, bool) {
		if n <= 0 || len(token) <= n {
			return "", false
		}
		return token[:n], true
	}
}

// LookupBefore takes the part of a token before the first sep as its lookup
// value ("ab12cd" in "ab12cd.s3cr3t" with sep "."). A token without sep, or
// with nothing before or after it, is refused.
func LookupBefore(sep string) LegacyLookup {
	return func(token string) (string, bool) {
		if sep == "" {
			return "", false
		}
		before, after, ok := strings.Cut(token, sep)
		if !ok || before == "" || after == "" {
			return "", false
		}
		return before, true
	}
}

// maxBcryptCost bounds the cost of imported bcrypt hashes, so a bad import
// cannot make a verify take minutes.
const maxBcryptCost = 16

// LegacyBcrypt is the scheme of systems that stored a bcrypt hash of the
// whole token beside a non-secret lookup part of it (lookup says which part).
// Manager.Import takes the bcrypt hash ("$2a$...", "$2b$..." or "$2y$...",
// cost up to 16) and the lookup part as the old system stored it.
//
// bcrypt is slow on purpose, so each imported key pays it exactly once: on
// its first successful verify it is re-hashed to the current version. Until
// then a wrong token whose lookup part matches an imported key costs one
// bcrypt comparison; lookup parts are not secret, so rate-limit failed
// verifies while imported keys remain unverified. bcrypt reads at most 72
// bytes of a token.
func LegacyBcrypt(version string, lookup LegacyLookup) (LegacyScheme, error) {
	if lookup == nil {
		return nil, fmt.Errorf("%w: nil lookup function for legacy bcrypt", ErrInvalid)
	}
	return bcryptScheme{version: version, lookup: lookup}, nil
}

// bcryptScheme is a LegacyScheme over bcrypt hashes with a lookup part.
type bcryptScheme struct {
	version string
	lookup  LegacyLookup
}

func (s bcryptScheme) Version() string                    { return s.version }
func (s bcryptScheme) Hasher() Hasher                     { return bcryptHasher{} }
func (s bcryptScheme) Lookup(token string) (string, bool) { return s.lookup(token) }
func (s bcryptScheme) Import(hash []byte, lookup string) ([]byte, string, error) {
	cost, err := bcrypt.Cost(hash)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not a bcrypt hash: %w", ErrInvalid, err)
	}
	if cost > maxBcryptCost {
		return nil, "", fmt.Errorf("%w: bcrypt cost %d is above %d", ErrInvalid, cost, maxBcryptCost)
	}
	if lookup == "" || len(lookup) > maxLegacyLookupLen || !isPrintableASCII(lookup) {
		return nil, "", fmt.Errorf("%w: a bcrypt key needs its lookup part: 1-%d printable ASCII bytes", ErrInvalid, maxLegacyLookupLen)
	}
	return append([]byte(nil), hash...), lookup, nil
}

// bcryptHasher checks a bcrypt hash. It is verify-only.
type bcryptHasher struct{}

// Hash returns an error: the hasher is verify-only.
func (bcryptHasher) Hash(string) ([]byte, error) { return nil, errVerifyOnly }

// Verify runs bcrypt's own constant-time comparison.
func (bcryptHasher) Verify(token string, stored []byte) bool {
	return bcrypt.CompareHashAndPassword(stored, viewBytes(token)) == nil
}
