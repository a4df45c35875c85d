package sqlstore_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// cachedBench returns a manager with the verification cache over s, and
// the token of one of 1,000 keys created through it.
func cachedBench(b *testing.B, s apikey.Store) (*apikey.Manager, string) {
	b.Helper()
	m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", benchPepper),
		apikey.WithCache(apikey.CacheOptions{}))
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := benchkit.Populate(context.Background(), m, 1000, 1)
	if err != nil {
		b.Fatal(err)
	}
	return m, tokens[0]
}

// BenchmarkVerifyCachedVsMemstore interleaves a cache-hit verify on each
// SQL engine with a cache-hit verify on memstore, and reports the SQL one
// as a multiple of the memstore one ("best-ratio", from the undisturbed
// chunks). Target: under 1.5.
func BenchmarkVerifyCachedVsMemstore(b *testing.B) {
	benchEngines(b, func(b *testing.B, e sqltest.Engine) {
		ctx := context.Background()
		mem, memTok := cachedBench(b, memstore.New())
		sql, sqlTok := cachedBench(b, sqltest.NewStore(b, e))
		b.ReportAllocs()
		b.ResetTimer()
		benchkit.Interleave(b, "memstore", func() {
			if _, err := mem.Verify(ctx, memTok); err != nil {
				b.Fatal(err)
			}
		}, string(e), func() {
			if _, err := sql.Verify(ctx, sqlTok); err != nil {
				b.Fatal(err)
			}
		})
	})
}
