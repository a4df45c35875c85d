package apikey_test

import (
	"context"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
)

// BenchmarkVerifyControlsVsPlain interleaves a plain Verify (a key without
// controls) with a Verify of a key under one in-process rate limit and
// credits, on one memstore manager (with the verification cache, as a
// service runs, and without), and reports the second's cost as a multiple
// of the first ("ratio"). Target: at most 1.25, no allocation (the credits
// take a lease from the store once per 100 requests; its allocations,
// amortised, round to 0 per op).
func BenchmarkVerifyControlsVsPlain(b *testing.B) {
	ctx := context.Background()
	limits := []apikey.RateLimit{{Name: "per_hour", Limit: apikey.MaxRateLimit, Window: time.Hour}}
	cache := []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}
	for _, c := range []struct {
		name string
		p    apikey.CreateParams
		opts []apikey.Option
	}{
		{"ratelimit+credits", apikey.CreateParams{RateLimits: limits, Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, nil},
		{"ratelimit", apikey.CreateParams{RateLimits: limits}, nil},
		{"credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, nil},
		{"cache/ratelimit+credits", apikey.CreateParams{RateLimits: limits, Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, cache},
		{"cache/ratelimit", apikey.CreateParams{RateLimits: limits}, cache},
		{"cache/credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, cache},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, tokens := benchKeys(b, 1, c.opts...)
			plain := tokens[0]
			c.p.Tenant = "bench"
			is, err := m.Create(ctx, c.p)
			if err != nil {
				b.Fatal(err)
			}
			controlled := is.Token.Reveal()
			b.ReportAllocs()
			b.ResetTimer()
			benchkit.Interleave(b, "plain", func() {
				if _, err := m.Verify(ctx, plain); err != nil {
					b.Fatal(err)
				}
			}, "controls", func() {
				if _, err := m.Verify(ctx, controlled); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkMemoryLimiterAllow is the in-process limiter alone: one key
// with two limits, 0 allocations.
func BenchmarkMemoryLimiterAllow(b *testing.B) {
	l := apikey.NewMemoryLimiter(0)
	k := &apikey.Key{ID: "01J00000000000000000000000", Tenant: "t", RateLimits: []apikey.RateLimit{
		{Name: "a", Limit: apikey.MaxRateLimit, Window: time.Hour},
		{Name: "b", Limit: apikey.MaxRateLimit, Window: time.Hour, Shared: true},
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := l.Allow(ctx, k, 1); !d.Allowed {
			b.Fatal("refused")
		}
	}
}
