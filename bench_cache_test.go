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

// BenchmarkVerifyParallel verifies one valid key from GOMAXPROCS
// goroutines, without and with the cache.
func BenchmarkVerifyParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []apikey.Option
	}{
		{"nocache", nil},
		{"cache", []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, tokens := benchKeys(b, 1, bc.opts...)
			benchkit.VerifyParallel(b, m, tokens)
		})
	}
}

// BenchmarkVerifyUnknown verifies well-formed tokens of keys that do not
// exist (a flood of random keys): without the cache each one is a store
// read; with it, each repeat within NegativeTTL is a negative hit.
func BenchmarkVerifyUnknown(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []apikey.Option
	}{
		{"nocache", nil},
		{"cache", []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, _ := benchKeys(b, 1, bc.opts...)
			benchkit.VerifyUnknown(b, m, unknownTokens(b, 64))
		})
	}
}
