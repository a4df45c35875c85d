package apikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
)

// BenchmarkVerifyMetricsVsOff interleaves a verify without Metrics ("off")
// with one reporting to a trivial Metrics (atomic counters, "on") and
// reports on/off as "ratio": timing every verify, and timing 1 in 32
// (a TimingSampler, as otelapikey by default). Goal: at most 1.1, and no
// allocation (see TestMetricsVerifyDoesNotAllocate).
func BenchmarkVerifyMetricsVsOff(b *testing.B) {
	ctx := context.Background()
	cache := []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}
	for _, c := range []struct {
		name string
		opts []apikey.Option
		mx   apikey.Metrics
	}{
		{"memstore", nil, &atomicMetrics{}},
		{"memstore+cache", cache, &atomicMetrics{}},
		{"memstore/sampled", nil, &sampledAtomic{oneIn: 32}},
		{"memstore+cache/sampled", cache, &sampledAtomic{oneIn: 32}},
	} {
		b.Run(c.name, func(b *testing.B) {
			off, tokens := benchKeys(b, 1, c.opts...)
			on, err := apikey.New(off.Store(), append([]apikey.Option{apikey.WithPrefix("pgk"),
				apikey.WithPepper("v1", cachePepper), apikey.WithMetrics(c.mx)}, c.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			tok := tokens[0]
			b.ReportAllocs()
			b.ResetTimer()
			benchkit.Interleave(b, "off", func() {
				if _, err := off.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}, "on", func() {
				if _, err := on.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// sampledAtomic is atomicMetrics timing 1 verify in oneIn.
type sampledAtomic struct {
	atomicMetrics
	oneIn uint32
}

func (s *sampledAtomic) TimeOneIn() uint32 { return s.oneIn }
