package redislimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// BenchmarkVerifyLimited interleaves a verify of a key without limits (the
// reference) with a verify of a key with one rate limit, spent in-process
// (the Manager's default limiter) or in Redis, on memstore: the cost a
// limit adds to a verify.
func BenchmarkVerifyLimited(b *testing.B) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "in-process", true: "redis"}[shared]
		b.Run(name, func(b *testing.B) {
			opts := []apikey.Option{apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef"))}
			if shared {
				l, _, _ := newLimiter(b)
				opts = append(opts, apikey.WithRateLimiter(l))
			}
			m, err := apikey.New(memstore.New(), opts...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			plain, err := m.Create(ctx, apikey.CreateParams{Tenant: "t1"})
			if err != nil {
				b.Fatal(err)
			}
			limited, err := m.Create(ctx, apikey.CreateParams{Tenant: "t1",
				RateLimits: []apikey.RateLimit{{Name: "l", Limit: 1_000_000_000, Window: time.Hour}}})
			if err != nil {
				b.Fatal(err)
			}
			pt, lt := plain.Token.Reveal(), limited.Token.Reveal()
			b.ReportAllocs()
			benchkit.Interleave(b, "plain", func() {
				if _, err := m.VerifyRequest(ctx, pt, apikey.RequestParams{}); err != nil {
					b.Fatal(err)
				}
			}, "limited", func() {
				if _, err := m.VerifyRequest(ctx, lt, apikey.RequestParams{}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
