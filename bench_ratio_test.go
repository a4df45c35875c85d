package apikey_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
)

// BenchmarkVerifyVsSHA256 interleaves one SHA-256 of the token (the
// reference) with a verify, and reports the verify's cost as a multiple of
// the reference ("ratio"). Targets: under 3.
func BenchmarkVerifyVsSHA256(b *testing.B) {
	ctx := context.Background()
	cases := []struct {
		name    string
		opts    []apikey.Option
		unknown bool
	}{
		{"memstore", nil, false},
		{"memstore+cache", []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}, false},
		{"unknown+cache", []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m, tokens := benchKeys(b, 1, c.opts...)
			tok := tokens[0]
			if c.unknown {
				tok = unknownTokens(b, 1)[0]
			}
			buf := []byte(tok)
			var sink [32]byte
			b.ReportAllocs()
			b.ResetTimer()
			benchkit.Interleave(b, "sha256", func() { sink = sha256.Sum256(buf) }, "verify", func() {
				if _, err := m.Verify(ctx, tok); (err != nil) != c.unknown {
					b.Fatal(err)
				}
			})
			_ = sink
		})
	}
}

// BenchmarkVerifyKeysVs1e3 interleaves verifies on a store of 1e3 keys with
// verifies on a store of 1e5 or 1e6 keys (1024 keys round-robin on each)
// and reports the large store's cost as a multiple of the small one's.
// Target: under 1.5.
func BenchmarkVerifyKeysVs1e3(b *testing.B) {
	ctx := context.Background()
	for _, cache := range []bool{false, true} {
		for _, sz := range scaleSizes[1:] {
			name := sz.name
			if cache {
				name += "+cache"
			}
			b.Run(name, func(b *testing.B) {
				small, smallTokens := scaleManager(b, 1_000, cache)
				large, largeTokens := scaleManager(b, sz.n, cache)
				i, j := 0, 0
				b.ReportAllocs()
				b.ResetTimer()
				benchkit.Interleave(b, "1e3", func() {
					if _, err := small.Verify(ctx, smallTokens[i]); err != nil {
						b.Fatal(err)
					}
					i = (i + 1) % len(smallTokens)
				}, sz.name, func() {
					if _, err := large.Verify(ctx, largeTokens[j]); err != nil {
						b.Fatal(err)
					}
					j = (j + 1) % len(largeTokens)
				})
			})
		}
	}
}

// scaleManager returns a manager (with or without the cache) over the
// shared store of n keys, and the tokens to verify.
func scaleManager(b *testing.B, n int, cache bool) (*apikey.Manager, []string) {
	b.Helper()
	s, tokens := scaleKeys(b, n)
	opts := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper)}
	if cache {
		opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
	}
	m, err := apikey.New(s, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return m, tokens
}
