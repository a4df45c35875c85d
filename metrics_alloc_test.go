//go:build !race

package apikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

func TestMetricsVerifyDoesNotAllocate(t *testing.T) {
	for _, cached := range []bool{false, true} {
		mx := &atomicMetrics{}
		opts := []apikey.Option{apikey.WithMetrics(mx)}
		if cached {
			opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
		}
		m, err := apikey.New(memstore.New(), append(opts, apikey.WithPepper("v1", pepperV1), apikey.WithPrefix("pgk"))...)
		if err != nil {
			t.Fatal(err)
		}
		tok := createKey(t, m, "acme").Token.Reveal()
		unknown := forgedToken("pgk", "live", "00000000000000000")
		ctx := context.Background()
		m.Verify(ctx, unknown)
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := m.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if cached {
				m.Verify(ctx, unknown) // a negative hit
			}
		})
		if allocs != 0 {
			t.Errorf("cache=%v: Verify with metrics allocates %.1f times", cached, allocs)
		}
		if n := mx.outcomes[apikey.OutcomeValid].Load(); n < 200 {
			t.Errorf("cache=%v: %d valid outcomes counted", cached, n)
		}
	}
}
