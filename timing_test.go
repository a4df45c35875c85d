package apikey_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
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
// other shape would let a client time its way to valid selectors.
func TestVerifyPathShape(t *testing.T) {
	inner, err := apikey.NewHMACHasher(pepperV1)
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHasher{Hasher: inner}
	fs := faultstore.New(memstore.New())
	m, err := apikey.New(fs, apikey.WithPrefix("pgk"), apikey.WithHasher("v1", h), apikey.WithClock(apikey.NewManualClock(t0)))
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
		name  string
		tok   string
		want  error
		reads int64
	}{
		{"unknown selector", stranger, apikey.ErrNotFound, 1},
		{"wrong secret", wrongSecret(valid.Token.Reveal()), apikey.ErrNotFound, 1},
		{"wrong secret of a revoked key", wrongSecret(revoked.Token.Reveal()), apikey.ErrNotFound, 1},
		{"revoked", revoked.Token.Reveal(), apikey.ErrRevoked, 1},
		{"valid", valid.Token.Reveal(), nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs.ResetCalls()
			h.hashes.Store(0)
			h.verifies.Store(0)
			if _, err := m.Verify(ctx, tc.tok); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if got := fs.Calls(faultstore.GetByLookup); got != tc.reads || fs.TotalCalls() != tc.reads {
				t.Fatalf("store calls: %d lookups of %d in all; want exactly %d lookup", got, fs.TotalCalls(), tc.reads)
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

// timingBench returns a manager on memstore with 1000 keys, and a valid
// token of one of them.
func timingBench(b *testing.B) (*apikey.Manager, string) {
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper))
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

// BenchmarkVerifyTimingPair alternates the two tokens of the timing pair in
// one loop and times each verify, so that both see the same machine load;
// it reports each one's ns/op and their ratio (wrong-secret/unknown), which
// separate benchmarks on a busy machine cannot measure to 10%.
func BenchmarkVerifyTimingPair(b *testing.B) {
	m, tok := timingBench(b)
	_, foreign := timingBench(b)
	toks := [2]string{foreign, wrongSecret(tok)}
	var spent [2]time.Duration
	var count [2]int
	ctx := context.Background()
	i := 0
	for b.Loop() {
		j := i & 1
		i++
		start := time.Now()
		_, err := m.Verify(ctx, toks[j])
		spent[j] += time.Since(start)
		count[j]++
		if !errors.Is(err, apikey.ErrNotFound) {
			b.Fatal(err)
		}
	}
	if count[0] == 0 || count[1] == 0 {
		return
	}
	unknown := float64(spent[0]) / float64(count[0])
	wrong := float64(spent[1]) / float64(count[1])
	b.ReportMetric(unknown, "unknown-ns/op")
	b.ReportMetric(wrong, "wrong-ns/op")
	b.ReportMetric(wrong/unknown, "ratio")
}
