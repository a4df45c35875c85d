// Package redislimit is an apikey.RateLimiter whose budgets live in Redis,
// so that every process of a service, on every machine, spends from the
// same ones. It is its own module: the Redis client
// (github.com/redis/go-redis/v9) never enters the go.sum of an application
// that does not import it.
//
//	opts, err := redislimit.ParseURL("redis://10.0.0.5:6379/0")
//	limiter, err := redislimit.New(redis.NewClient(opts))
//	m, err := apikey.New(store, apikey.WithRateLimiter(limiter), ...)
//
// # What one Allow does
//
// One Redis round trip: one Lua script (EVALSHA, loaded with EVAL the first
// time a Redis sees it) spends the cost from every limit of the key, all or
// none: when one limit refuses, nothing is spent from the others. Per-key
// limits are keyed by the key's ID and the limit's name, shared ones by the
// tenant and the name, all under the prefix (WithPrefix).
//
// The algorithm is GCRA (the generic cell rate algorithm, a leaky bucket
// held as one number per limit, the "theoretical arrival time"), as in the
// in-process apikey.MemoryLimiter: a limit of L per window W admits L at
// once, then one every W/L; Remaining and Reset describe that budget, and a
// refused request learns in RetryAfter when one of the same cost would be
// admitted (the longest wait when several limits refuse). A cost above a
// limit is refused (RetryAfter is then the window: no wait helps). Each
// Redis key expires when its budget is whole again, so idle keys and
// limits cost nothing.
//
// # One clock
//
// The script reads Redis's clock (TIME), never the caller's: skew between
// application machines does not matter. A script that reads TIME and then
// writes needs effects replication ("replicate commands"), the default
// since Redis 5 and the only mode since Redis 7; the script turns it on
// itself on Redis 3.2 and 4. Tested on Redis 7.
//
// # When Redis cannot answer
//
// Each Allow is bounded by a timeout (WithTimeout, default 250 ms). New
// refuses a go-redis client that ignores context deadlines
// (ContextTimeoutEnabled; ParseURL sets it), because go-redis would then
// wait for its own read timeout and a hung Redis would hold every request.
// By default the limiter fails closed: Allow returns an error wrapping
// apikey.ErrLimiterUnavailable and the middleware answers 503. FailOpen
// admits the requests instead, counts them (Stats) and logs a warning at
// most once per interval (WithWarnInterval). SECURITY.md explains the
// default.
//
// # Redis Cluster
//
// The tenant is the key's hash tag, so all limits of one key (per-key and
// shared) hash to one slot and one script may touch them. Give the limiter
// a *redis.ClusterClient (a layout the tests check; they run on a single
// Redis, not on a cluster).
//
// # Why a script of its own
//
// github.com/go-redis/redis_rate (v10, GCRA on go-redis v9) spends one
// limit per call (AllowN takes one key and one Limit): a key with several
// limits would need one call per limit, which is several round trips and
// not all-or-none (a refusal by the second limit leaves the first one
// spent). Its own issue tracker asks for several limits per key without an
// answer in the library. The script here is the same GCRA, extended to N
// limits with a check-then-commit pass, with microsecond state.
package redislimit
