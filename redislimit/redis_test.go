package redislimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/redislimit"
)

// redisURL returns APIKEY_TEST_REDIS_URL or skips the test.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("APIKEY_TEST_REDIS_URL")
	if u == "" {
		t.Skip("APIKEY_TEST_REDIS_URL not set (e.g. redis://127.0.0.1:6379/0): skipping the tests against real Redis")
	}
	return u
}

// testClient connects to the test Redis, closing the client at cleanup.
func testClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redislimit.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("APIKEY_TEST_REDIS_URL is set but Redis does not answer: %v", err)
	}
	return rdb
}

// testPrefix returns a key prefix of the test's own and deletes every key
// under it at cleanup (never FLUSHDB: Redis is shared).
func testPrefix(t testing.TB, rdb *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "apikeytest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deleteKeys(t, rdb, prefix) })
	return prefix
}

// deleteKeys deletes the keys under prefix.
func deleteKeys(t testing.TB, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleanup scan: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Logf("cleanup del: %v", err)
		}
	}
}

// countKeys returns the number of Redis keys under prefix.
func countKeys(t testing.TB, rdb *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// newLimiter returns a Limiter on the test Redis under a fresh prefix.
func newLimiter(t testing.TB, opts ...redislimit.Option) (*redislimit.Limiter, *redis.Client, string) {
	t.Helper()
	rdb := testClient(t)
	prefix := testPrefix(t, rdb)
	l, err := redislimit.New(rdb, append([]redislimit.Option{redislimit.WithPrefix(prefix), redislimit.WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l, rdb, prefix
}

// key returns a key of tenant with the given limits.
func key(id, tenant string, limits ...apikey.RateLimit) *apikey.Key {
	return &apikey.Key{ID: id, Tenant: tenant, RateLimits: limits}
}

// commandCounter is a go-redis hook counting the commands sent: n every
// one sent alone, scripts the EVALSHA and EVAL among them (an Allow is
// one), piped those sent in pipelines (an Allow never uses one; go-redis
// greets each connection it opens with HELLO and CLIENT SETINFO).
type commandCounter struct{ n, scripts, piped atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			c.scripts.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.piped.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
