package apikey_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/storetest/faultstore"
)

// countingHasher counts the calls of a Hasher.
type countingHasher struct {
	apikey.Hasher
	hashes, verifies atomic.Int64
}

func (h *countingHasher) Hash(token string) ([]byte, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(token)
}

func (h *countingHasher) Verify(token string, stored []byte) bool {
	h.verifies.Add(1)
	return h.Hasher.Verify(token, stored)
}

// An unknown well-formed token and a known selector with a wrong secret take
// the same path: one store read, one hash comparison, the same error. Any
// other shape would let a client time its way to valid selectors. Behind
// the verification cache, once both are cached (a negative and a positive
// entry), both take no store read and still one comparison.
func TestVerifyPathShape(t *testing.T) {
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		t.Run(name, func(t *testing.T) { checkPathShape(t, cached) })
	}
}

func checkPathShape(t *testing.T, cached bool) {
	inner, err := apikey.NewHMACHasher(pepperV1)
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHasher{Hasher: inner}
	fs := faultstore.New(memstore.New())
	opts := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithHasher("v1", h), apikey.WithClock(apikey.NewManualClock(t0))}
	reads := int64(1)
	if cached {
		opts, reads = append(opts, apikey.WithCache(apikey.CacheOptions{})), 0
	}
	m, err := apikey.New(fs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	mk := func() *apikey.Issued {
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	valid, revoked := mk(), mk()
	if _, err := m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	stranger := newFaultRig(t).unknown // same prefix, never stored here

	for _, tc := range []struct {
		name string
		tok  string
		want error
	}{
		{"unknown selector", stranger, apikey.ErrNotFound},
		{"wrong secret", wrongSecret(valid.Token.Reveal()), apikey.ErrNotFound},
		{"wrong secret of a revoked key", wrongSecret(revoked.Token.Reveal()), apikey.ErrNotFound},
		{"revoked", revoked.Token.Reveal(), apikey.ErrRevoked},
		{"valid", valid.Token.Reveal(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if cached { // warm the cache
				_, _ = m.Verify(ctx, tc.tok)
			}
			fs.ResetCalls()
			h.hashes.Store(0)
			h.verifies.Store(0)
			if _, err := m.Verify(ctx, tc.tok); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if got := fs.Calls(faultstore.GetByLookup); got != reads || fs.TotalCalls() != reads {
				t.Fatalf("store calls: %d lookups of %d in all; want exactly %d lookup", got, fs.TotalCalls(), reads)
			}
			if v, hs := h.verifies.Load(), h.hashes.Load(); v != 1 || hs != 0 {
				t.Fatalf("hasher: %d Verify and %d Hash calls; want exactly one Verify", v, hs)
			}
		})
	}

	// A malformed token costs neither a read nor a comparison.
	fs.ResetCalls()
	h.verifies.Store(0)
	if _, err := m.Verify(ctx, sealed(unsealed(valid.Token.Reveal())[:20])); !errors.Is(err, apikey.ErrMalformed) {
		t.Fatalf("malformed: %v", err)
	}
	if fs.TotalCalls() != 0 || h.verifies.Load() != 0 {
		t.Fatal("a malformed token reached the store or the hasher")
	}
}

// timingBench returns a manager on memstore (with opts) holding 1000 keys,
// and a valid token of one of them.
func timingBench(b *testing.B, opts ...apikey.Option) (*apikey.Manager, string) {
	m, err := apikey.New(memstore.New(), append([]apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	var tok string
	for range 1000 {
		is, err := m.Create(b.Context(), apikey.CreateParams{Tenant: "t", Scopes: []string{"jobs:read"}})
		if err != nil {
			b.Fatal(err)
		}
		tok = is.Token.Reveal()
	}
	return m, tok
}

// BenchmarkVerifyUnknownSelector and BenchmarkVerifyWrongSecret are the
// timing pair: a well-formed token whose selector no key has, and a known
// selector with a wrong secret. Both do one store read and one constant-time
// comparison; their ns/op should agree within 10%.
func BenchmarkVerifyUnknownSelector(b *testing.B) {
	m, _ := timingBench(b)
	_, foreign := timingBench(b)
	benchVerifyFails(b, m, foreign)
}

// BenchmarkVerifyWrongSecret: see BenchmarkVerifyUnknownSelector.
func BenchmarkVerifyWrongSecret(b *testing.B) {
	m, tok := timingBench(b)
	benchVerifyFails(b, m, wrongSecret(tok))
}

func benchVerifyFails(b *testing.B, m *apikey.Manager, tok string) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); !errors.Is(err, apikey.ErrNotFound) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyTimingPair runs the two tokens of the timing pair
// interleaved in short chunks (benchkit.Interleave), so both see the same
// machine load, and reports each one's ns/op and the ratio wrong/unknown
// ("ratio", and "best-ratio" of the undisturbed chunks). "memstore" reads
// the store on every verify; "cached" runs behind the verification cache
// (WithCache), where the unknown token hits a negative entry and the wrong
// secret a positive one: no store read on either side.
func BenchmarkVerifyTimingPair(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []apikey.Option
	}{
		{"memstore", nil},
		{"cached", []apikey.Option{apikey.WithCache(apikey.CacheOptions{}), apikey.WithClock(apikey.NewManualClock(t0))}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, tok := timingBench(b, tc.opts...)
			_, foreign := timingBench(b)
			wrong := wrongSecret(tok)
			ctx := context.Background()
			verify := func(tok string) func() {
				return func() {
					if _, err := m.Verify(ctx, tok); !errors.Is(err, apikey.ErrNotFound) {
						b.Fatal(err)
					}
				}
			}
			benchkit.Interleave(b, "unknown", verify(foreign), "wrong", verify(wrong))
		})
	}
}
