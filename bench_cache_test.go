package apikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// benchKeys returns a manager over a fresh memstore (with opts) and the
// tokens of n keys created through it.
func benchKeys(b *testing.B, n int, opts ...apikey.Option) (*apikey.Manager, []string) {
	b.Helper()
	opts = append([]apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper)}, opts...)
	m, err := apikey.New(memstore.New(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := benchkit.Populate(context.Background(), m, n, n)
	if err != nil {
		b.Fatal(err)
	}
	return m, tokens
}

// unknownTokens returns n well-formed tokens that no benchKeys store holds.
func unknownTokens(b *testing.B, n int) []string {
	b.Helper()
	_, tokens := benchKeys(b, n)
	return tokens
}

// BenchmarkVerifyCached verifies a valid key on memstore with the cache on:
// every verify after the first is a hit (no store read, no allocation).
func BenchmarkVerifyCached(b *testing.B) {
	m, tokens := benchKeys(b, 1, apikey.WithCache(apikey.CacheOptions{}))
	benchkit.Verify(b, m, tokens)
}

// BenchmarkVerifyParallelCached is BenchmarkVerifyParallel with the cache
// on: concurrent hits on one key share no lock.
func BenchmarkVerifyParallelCached(b *testing.B) {
	m, tokens := benchKeys(b, 1, apikey.WithCache(apikey.CacheOptions{}))
	benchkit.VerifyParallel(b, m, tokens)
}

// BenchmarkVerifyUnknownCached is BenchmarkVerifyUnknown with the cache on,
// over 64 unknown well-formed tokens (a flood of random keys): each repeat
// within NegativeTTL is a negative hit, with no store read.
func BenchmarkVerifyUnknownCached(b *testing.B) {
	m, _ := benchKeys(b, 1, apikey.WithCache(apikey.CacheOptions{}))
	benchkit.VerifyUnknown(b, m, unknownTokens(b, 64))
}
