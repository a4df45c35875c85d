//go:build !race

// The race detector makes sync.Pool drop objects at random, so allocation
// counts are only meaningful without it.

package apikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

func TestCacheHitAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	m := cachedManager(t, memstore.New(), apikey.CacheOptions{})
	tok := createKey(t, m, "acme").Token.Reveal()
	unknown := forgedToken("pgk", "live", "00000000000000000")
	for _, c := range []struct{ name, tok string }{{"known key", tok}, {"negative entry", unknown}} {
		m.Verify(ctx, c.tok) // fill
		if n := testing.AllocsPerRun(1000, func() { m.Verify(ctx, c.tok) }); n != 0 {
			t.Errorf("%s: %v allocations per verify, want 0", c.name, n)
		}
	}
}
