package apikey_test

import (
	"context"
	"sync"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// scaleSample is how many distinct keys the scale benchmarks verify,
// round-robin: the same working set at every store size.
const scaleSample = 1024

// scaleFixture is a memstore holding n keys and the tokens of scaleSample of
// them, spread evenly; it is built once per process and size.
type scaleFixture struct {
	once   sync.Once
	store  *memstore.Store
	tokens []string
	err    error
}

var scaleFixtures sync.Map // size -> *scaleFixture

func scaleKeys(b *testing.B, n int) (*memstore.Store, []string) {
	b.Helper()
	v, _ := scaleFixtures.LoadOrStore(n, &scaleFixture{})
	f := v.(*scaleFixture)
	f.once.Do(func() {
		f.store = memstore.New()
		m, err := apikey.New(f.store, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper))
		if err != nil {
			f.err = err
			return
		}
		f.tokens, f.err = benchkit.Populate(context.Background(), m, n, scaleSample)
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.store, f.tokens
}

var scaleSizes = []struct {
	name string
	n    int
}{{"1e3", 1_000}, {"1e5", 100_000}, {"1e6", 1_000_000}}

// BenchmarkVerifyKeys verifies 1024 keys round-robin on memstore holding
// 1e3, 1e5 and 1e6 keys, without the cache: the cost must not grow with
// the number of keys.
func BenchmarkVerifyKeys(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, tokens := scaleKeys(b, sz.n)
			m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper))
			if err != nil {
				b.Fatal(err)
			}
			benchkit.Verify(b, m, tokens)
		})
	}
}

// BenchmarkVerifyKeysCached is BenchmarkVerifyKeys with the cache on.
func BenchmarkVerifyKeysCached(b *testing.B) {
	for _, sz := range scaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			s, tokens := scaleKeys(b, sz.n)
			m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper),
				apikey.WithCache(apikey.CacheOptions{}))
			if err != nil {
				b.Fatal(err)
			}
			benchkit.Verify(b, m, tokens)
		})
	}
}
