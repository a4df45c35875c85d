//go:build !race

package apikey_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// atomicMetrics is the smallest useful Metrics: counts by outcome.
type atomicMetrics struct {
	outcomes [16]atomic.Int64
	counts   atomic.Int64
}

func (a *atomicMetrics) Verified(_ context.Context, r apikey.VerifyReport) {
	a.outcomes[r.Outcome%16].Add(1)
}
func (a *atomicMetrics) Count(_ context.Context, _ apikey.Counter, n int64) { a.counts.Add(n) }

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
