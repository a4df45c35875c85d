package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey/redislimit"
)

// RedisLimiter is the rate limiter of -redis and the Redis client under it.
type RedisLimiter struct {
	// Limiter spends the keys' rate limits in Redis; pass it to
	// apikey.WithRateLimiter.
	Limiter *redislimit.Limiter
	// Prefix starts the limiter's Redis keys.
	Prefix string
	rdb    *redis.Client
}

// Close closes the Redis client.
func (r *RedisLimiter) Close(context.Context) error { return r.rdb.Close() }

// OpenRedisLimiter opens the rate limiter named by a server's -redis flag
// (redis://HOST:PORT/DB): a redislimit.Limiter, failing closed, whose keys
// start with a prefix made of the server's name and a digest of its -db
// spec, so that every process given the same Redis and the same -db shares
// the limits, and other stores on the same Redis do not. It pings Redis so
// that a wrong URL stops the server at start; its errors name -redis and
// never repeat the URL (it may hold a password).
func OpenRedisLimiter(ctx context.Context, redisURL, server, dbSpec string, log *slog.Logger) (*RedisLimiter, error) {
	opts, err := redislimit.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("-redis: Redis at %s (db %d) does not answer: %w", opts.Addr, opts.DB, err)
	}
	prefix := RedisPrefix(server, dbSpec)
	l, err := redislimit.New(rdb, redislimit.WithPrefix(prefix), redislimit.WithLogger(log))
	if err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("-redis: %w", err)
	}
	log.Info("rate limits shared through Redis", "addr", opts.Addr, "db", opts.DB, "prefix", prefix)
	return &RedisLimiter{Limiter: l, Prefix: prefix, rdb: rdb}, nil
}

// RedisPrefix is the start of the Redis keys of server's rate limits for
// the store named by dbSpec: "apikey:<server>:<12 hex digits of
// SHA-256(dbSpec)>:rl:". The digest keeps the spec (which may hold a
// password) out of Redis.
func RedisPrefix(server, dbSpec string) string {
	sum := sha256.Sum256([]byte(dbSpec))
	return "apikey:" + server + ":" + hex.EncodeToString(sum[:6]) + ":rl:"
}
