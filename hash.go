package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
)

// Hasher computes and checks the stored form of tokens under one hash
// version. A Manager holds several, by version name ("v1", "v2"...): new
// keys and re-hashes use the current one, and a verify picks the hasher
// named by the stored record, never by anything in the presented token.
//
// Tokens carry 256 random bits, so a fast keyed hash is the right tool: a
// slow password hash (bcrypt, argon2) on every request would only turn each
// request into a CPU-exhaustion lever.
type Hasher interface {
	// Hash returns the stored form of token. A verify-only hasher (one kept
	// to check keys imported from another system) returns an error.
	Hash(token string) ([]byte, error)
	// Verify reports whether token matches stored. Its running time must not
	// depend on where the two differ.
	Verify(token string, stored []byte) bool
}

// MinPepperLen is the shortest pepper NewHMACHasher accepts, in bytes.
const MinPepperLen = 32

// hmacHasher is HMAC-SHA-256 keyed with a server-side pepper. It pools
// HMAC states: building a fresh HMAC per call would cost more than the
// hash itself.
type hmacHasher struct{ pool sync.Pool }

type hmacState struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewHMACHasher returns the default Hasher: HMAC-SHA-256 keyed with pepper,
// which must be at least MinPepperLen bytes of secret, random data kept out
// of the database (an environment variable, a secret manager). A stolen
// database without the pepper gives an attacker nothing to test guesses
// against. The pepper is copied.
func NewHMACHasher(pepper []byte) (Hasher, error) {
	if len(pepper) < MinPepperLen {
		return nil, fmt.Errorf("%w: pepper must be at least %d bytes, got %d", ErrInvalid, MinPepperLen, len(pepper))
	}
	key := append([]byte(nil), pepper...)
	h := &hmacHasher{}
	h.pool.New = func() any { return &hmacState{mac: hmac.New(sha256.New, key)} }
	return h, nil
}

func (h *hmacHasher) sum(st *hmacState, token string) []byte {
	st.mac.Reset()
	st.mac.Write(viewBytes(token))
	return st.mac.Sum(st.sum[:0])
}

// Hash returns HMAC-SHA-256(pepper, token).
func (h *hmacHasher) Hash(token string) ([]byte, error) {
	st := h.pool.Get().(*hmacState)
	out := append([]byte(nil), h.sum(st, token)...)
	h.pool.Put(st)
	return out, nil
}

// Verify compares HMAC-SHA-256(pepper, token) with stored in constant time.
func (h *hmacHasher) Verify(token string, stored []byte) bool {
	st := h.pool.Get().(*hmacState)
	ok := equalHash(h.sum(st, token), stored)
	h.pool.Put(st)
	return ok
}

// equalHash compares a computed HMAC-SHA-256 with a stored hash in constant
// time: for the common 32-byte case it XORs four 64-bit words and ORs the
// results, with no branch on their contents (hmac.Equal does the same a
// byte at a time, which showed in profiles of Verify); any other length
// goes to hmac.Equal.
func equalHash(sum, stored []byte) bool {
	if len(sum) != sha256.Size || len(stored) != sha256.Size {
		return hmac.Equal(sum, stored)
	}
	le := binary.LittleEndian
	// ^ and | share a precedence level in Go: the parentheses matter.
	v := (le.Uint64(sum[0:]) ^ le.Uint64(stored[0:])) |
		(le.Uint64(sum[8:]) ^ le.Uint64(stored[8:])) |
		(le.Uint64(sum[16:]) ^ le.Uint64(stored[16:])) |
		(le.Uint64(sum[24:]) ^ le.Uint64(stored[24:]))
	return v == 0 // one comparison of the accumulated difference
}
