package redislimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
)

// The benchmarks run against APIKEY_TEST_REDIS_URL. BenchmarkRedisPing is
// the reference: one bare round trip on the same client; read Allow as a
// ratio to it (the machine is noisy).
//
//	APIKEY_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench . -count 5 ./redislimit/

func BenchmarkRedisPing(b *testing.B) {
	rdb := testClient(b)
	ctx := context.Background()
	for b.Loop() {
		if err := rdb.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAllow(b *testing.B, k *apikey.Key, parallel bool) {
	l, _, _ := newLimiter(b)
	ctx := context.Background()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, k, 1); err != nil {
					b.Error(err)
					return
				}
			}
		})
		return
	}
	for b.Loop() {
		if _, err := l.Allow(ctx, k, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	one := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: 1_000_000_000, Window: time.Hour})
	five := key("k1", "t1",
		apikey.RateLimit{Name: "a", Limit: 1_000_000_000, Window: time.Second},
		apikey.RateLimit{Name: "b", Limit: 1_000_000_000, Window: time.Minute},
		apikey.RateLimit{Name: "c", Limit: 1_000_000_000, Window: time.Hour},
		apikey.RateLimit{Name: "d", Limit: 1_000_000_000, Window: time.Hour, Shared: true},
		apikey.RateLimit{Name: "e", Limit: 1_000_000_000, Window: 24 * time.Hour})
	b.Run("1limit", func(b *testing.B) { benchAllow(b, one, false) })
	b.Run("5limits", func(b *testing.B) { benchAllow(b, five, false) })
	b.Run("1limit-parallel", func(b *testing.B) { benchAllow(b, one, true) })
}

// BenchmarkAllowVsPing interleaves a bare PING (the reference: one round
// trip on the same client) with an Allow, in chunks, and reports the
// Allow's cost as a multiple of the PING's ("ratio"; "best-ratio" compares
// the least disturbed chunks).
func BenchmarkAllowVsPing(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(map[int]string{1: "1limit", 5: "5limits"}[n], func(b *testing.B) {
			l, rdb, _ := newLimiter(b)
			k := key("k1", "t1")
			for i := range n {
				k.RateLimits = append(k.RateLimits, apikey.RateLimit{Name: string(rune('a' + i)), Limit: 1_000_000_000, Window: time.Hour, Shared: i == 3})
			}
			ctx := context.Background()
			b.ReportAllocs()
			benchkit.Interleave(b, "ping", func() {
				if err := rdb.Ping(ctx).Err(); err != nil {
					b.Fatal(err)
				}
			}, "allow", func() {
				if _, err := l.Allow(ctx, k, 1); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
