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
//
// Without the cache, a plain verify of a key with no expiry reads no
// clock, and the rate limit needs one reading (GCRA on wall time): the
// "expiring/" variants give both keys an expiry, so that both verifies
// read the clock once and the ratio is the controls' own cost.
func BenchmarkVerifyControlsVsPlain(b *testing.B) {
	ctx := context.Background()
	limits := []apikey.RateLimit{{Name: "per_hour", Limit: apikey.MaxRateLimit, Window: time.Hour}}
	cache := []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}
	expiry := time.Now().Add(24 * time.Hour)
	for _, c := range []struct {
		name     string
		p        apikey.CreateParams
		opts     []apikey.Option
		expiring bool
	}{
		{"ratelimit+credits", apikey.CreateParams{RateLimits: limits, Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, nil, false},
		{"ratelimit", apikey.CreateParams{RateLimits: limits}, nil, false},
		{"credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, nil, false},
		{"cache/ratelimit+credits", apikey.CreateParams{RateLimits: limits, Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, cache, false},
		{"cache/ratelimit", apikey.CreateParams{RateLimits: limits}, cache, false},
		{"cache/credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, cache, false},
		{"expiring/ratelimit+credits", apikey.CreateParams{RateLimits: limits, Credits: &apikey.Credits{Remaining: apikey.MaxCredits}}, nil, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, tokens := benchKeys(b, 1, c.opts...)
			plain := tokens[0]
			if c.expiring {
				is, err := m.Create(ctx, apikey.CreateParams{Tenant: "bench", ExpiresAt: expiry})
				if err != nil {
					b.Fatal(err)
				}
				plain = is.Token.Reveal()
				c.p.ExpiresAt = expiry
			}
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
