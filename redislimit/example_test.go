package redislimit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/redislimit"
)

// A limiter on one Redis, spending from a key's per-key and tenant-shared
// limits in one round trip. (It needs a Redis, so go test compiles it but
// does not run it; TestAllowTable runs the same calls.)
func Example() {
	opts, err := redislimit.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	limiter, err := redislimit.New(rdb, redislimit.WithPrefix("myapp:rl:"))
	if err != nil {
		log.Fatal(err)
	}
	// A Manager enforces the key's limits on every verify once given the
	// limiter: apikey.New(store, apikey.WithRateLimiter(limiter)). Called
	// directly:
	k := &apikey.Key{ID: "01JEXAMPLE", Tenant: "acme", RateLimits: []apikey.RateLimit{
		{Name: "per_second", Limit: 10, Window: time.Second},
		{Name: "team_per_day", Limit: 100_000, Window: 24 * time.Hour, Shared: true},
	}}
	d, err := limiter.Allow(context.Background(), k, 1)
	switch {
	case errors.Is(err, apikey.ErrLimiterUnavailable):
		fmt.Println("Redis unreachable: refused (fail closed)")
	case err != nil:
		log.Fatal(err)
	case !d.Allowed:
		fmt.Printf("rate limited by %s; retry after %s\n", d.Limit.Name, d.RetryAfter)
	default:
		fmt.Printf("allowed; %d left of %s\n", d.Remaining, d.Limit.Name)
	}
}
