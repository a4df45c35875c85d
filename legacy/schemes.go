package legacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/crypto/bcrypt"

	"github.com/apikit/apikey"
)

// maxLookupLen is the longest raw lookup value the Manager accepts from a
// scheme (apikey's limit for imported keys).
const maxLookupLen = 64

// errVerifyOnly is what a legacy hasher's Hash returns.
var errVerifyOnly = errors.New("apikey: legacy hash version is verify-only")

// viewBytes returns a read-only byte view of s without copying.
func viewBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// isPrintableASCII reports whether s is only printable, non-space ASCII.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// SHA256 is the scheme of systems that stored the plain SHA-256 of the
// whole token, hex or base64 encoded (Unkey and Strait do). apikey.Manager.Import
// takes the stored digest in any of those forms (or raw) and no lookup: the
// lookup value is the first 16 bytes of the digest, which a verify recomputes
// from the presented token.
//
// Like the old database, the lookup value is an unkeyed hash of the token:
// harmless for random tokens of 128 bits or more, but whoever holds the
// database can test guesses against it. If the old tokens were guessable,
// rotate the imported keys instead of keeping them.
func SHA256(version string) apikey.LegacyScheme {
	return digestScheme{version: version, h: sha256Hasher{}}
}

// HMAC is the scheme of systems that stored HMAC-SHA-256(secret,
// token), hex or base64 encoded. Like SHA256, apikey.Manager.Import takes the
// stored digest and no lookup; the lookup value is the first 16 bytes of the
// digest. The secret is copied and must not be empty.
func HMAC(version string, secret []byte) (apikey.LegacyScheme, error) {
	if len(secret) == 0 {
		return nil, fmt.Errorf("%w: empty legacy HMAC secret", apikey.ErrInvalid)
	}
	return digestScheme{version: version, h: legacyHMACHasher{key: append([]byte(nil), secret...)}}, nil
}

// digester is a verify-only apikey.Hasher that can also compute the digest it
// checks against, to derive lookup values.
type digester interface {
	apikey.Hasher
	digest(token string) [sha256.Size]byte
}

// digestScheme is an apikey.LegacyScheme over a 32-byte digest of the whole token.
type digestScheme struct {
	version string
	h       digester
}

// lookupBytes is how many digest bytes form the lookup value.
const lookupBytes = 16

func (s digestScheme) Version() string       { return s.version }
func (s digestScheme) Hasher() apikey.Hasher { return s.h }

// Lookup returns the base64url of the first 16 bytes of the digest.
func (s digestScheme) Lookup(token string) (string, bool) {
	d := s.h.digest(token)
	return base64.RawURLEncoding.EncodeToString(d[:lookupBytes]), true
}

// Import decodes the stored digest and derives the lookup value from it.
func (s digestScheme) Import(hash []byte, lookup string) ([]byte, string, error) {
	if lookup != "" {
		return nil, "", fmt.Errorf("%w: the lookup value of a %s key is derived from its hash; leave it empty", apikey.ErrInvalid, s.version)
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
	return nil, fmt.Errorf("%w: not a SHA-256 digest in raw, hex or base64 form", apikey.ErrInvalid)
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

// Lookup derives the non-secret lookup part of a token issued by
// another system, or reports false if the token has none.
type Lookup func(token string) (lookup string, ok bool)

// LookupFirst takes the first n bytes of a token as its lookup value. A
// token of n bytes or fewer has no secret part and is refused.
func LookupFirst(n int) Lookup {
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
func LookupBefore(sep string) Lookup {
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

// Bcrypt is the scheme of systems that stored a bcrypt hash of the
// whole token beside a non-secret lookup part of it (lookup says which part).
// apikey.Manager.Import takes the bcrypt hash ("$2a$...", "$2b$..." or "$2y$...",
// cost up to 16) and the lookup part as the old system stored it.
//
// bcrypt is slow on purpose, so each imported key pays it exactly once: on
// its first successful verify it is re-hashed to the current version. Until
// then a wrong token whose lookup part matches an imported key costs one
// bcrypt comparison; lookup parts are not secret, so rate-limit failed
// verifies while imported keys remain unverified. bcrypt reads at most 72
// bytes of a token.
func Bcrypt(version string, lookup Lookup) (apikey.LegacyScheme, error) {
	if lookup == nil {
		return nil, fmt.Errorf("%w: nil lookup function for legacy bcrypt", apikey.ErrInvalid)
	}
	return bcryptScheme{version: version, lookup: lookup}, nil
}

// bcryptScheme is an apikey.LegacyScheme over bcrypt hashes with a lookup part.
type bcryptScheme struct {
	version string
	lookup  Lookup
}

func (s bcryptScheme) Version() string                    { return s.version }
func (s bcryptScheme) Hasher() apikey.Hasher              { return bcryptHasher{} }
func (s bcryptScheme) Lookup(token string) (string, bool) { return s.lookup(token) }
func (s bcryptScheme) Import(hash []byte, lookup string) ([]byte, string, error) {
	cost, err := bcrypt.Cost(hash)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not a bcrypt hash: %w", apikey.ErrInvalid, err)
	}
	if cost > maxBcryptCost {
		return nil, "", fmt.Errorf("%w: bcrypt cost %d is above %d", apikey.ErrInvalid, cost, maxBcryptCost)
	}
	if lookup == "" || len(lookup) > maxLookupLen || !isPrintableASCII(lookup) {
		return nil, "", fmt.Errorf("%w: a bcrypt key needs its lookup part: 1-%d printable ASCII bytes", apikey.ErrInvalid, maxLookupLen)
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
