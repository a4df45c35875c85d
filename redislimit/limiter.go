package redislimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
)

// Defaults of the options.
const (
	// DefaultPrefix starts the name of every Redis key the limiter writes.
	DefaultPrefix = "apikey:rl:"
	// DefaultTimeout bounds one Allow, Redis round trip included.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultWarnInterval is the least time between two warnings about an
	// unreachable Redis.
	DefaultWarnInterval = time.Minute
)

// maxLimits bounds the limits of one key a Limiter accepts (SPEC D1 allows
// 16 per key); it keeps one script call small.
const maxLimits = 64

// Limiter is an apikey.RateLimiter whose state lives in Redis, so that every
// process given the same Redis (and prefix) shares each key's budgets. It is
// safe for concurrent use.
type Limiter struct {
	rdb          redis.Scripter
	prefix       string
	timeout      time.Duration
	failOpen     bool
	logger       *slog.Logger
	warnInterval time.Duration

	lastWarn   atomic.Int64 // unix nanoseconds of the last warning
	errs       atomic.Uint64
	failedOpen atomic.Uint64
}

var _ apikey.RateLimiter = (*Limiter)(nil)

// Option configures a Limiter; New validates them.
type Option func(*Limiter) error

// WithPrefix sets the start of every Redis key the limiter writes (default
// DefaultPrefix). Processes that must share budgets use the same prefix;
// applications sharing one Redis use different ones.
func WithPrefix(prefix string) Option {
	return func(l *Limiter) error {
		if prefix == "" {
			return errors.New("redislimit: empty key prefix")
		}
		l.prefix = prefix
		return nil
	}
}

// WithTimeout bounds each Allow, Redis round trip included (default
// DefaultTimeout), so that a hung Redis cannot hold requests: past it Allow
// fails open or closed like on any other Redis error.
func WithTimeout(d time.Duration) Option {
	return func(l *Limiter) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: timeout %s must be positive", d)
		}
		l.timeout = d
		return nil
	}
}

// FailOpen makes Allow admit the request, with a nil error, when Redis
// cannot answer (network error, timeout, Redis error): availability over
// enforcement. Each such request is counted (Stats.FailedOpen) and a warning
// is logged at most once per warn interval. Without this option the limiter
// fails closed: Allow returns an error wrapping apikey.ErrLimiterUnavailable
// and the request is refused. Read SECURITY.md before choosing fail open:
// while Redis is down, nothing limits any key. (The Manager's
// apikey.WithLimiterFailOpen fails open on any limiter's error; with this
// limiter prefer FailOpen, which counts and warns once per interval instead
// of logging every refused call.)
func FailOpen() Option {
	return func(l *Limiter) error {
		l.failOpen = true
		return nil
	}
}

// WithLogger sets where warnings about an unreachable Redis go (default
// slog.Default()). Warnings never name a key's token, only Redis's error.
func WithLogger(logger *slog.Logger) Option {
	return func(l *Limiter) error {
		if logger == nil {
			return errors.New("redislimit: nil logger")
		}
		l.logger = logger
		return nil
	}
}

// WithWarnInterval sets the least time between two warnings about an
// unreachable Redis (default DefaultWarnInterval).
func WithWarnInterval(d time.Duration) Option {
	return func(l *Limiter) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: warn interval %s must be positive", d)
		}
		l.warnInterval = d
		return nil
	}
}

// New returns a Limiter on rdb, a *redis.Client, *redis.ClusterClient or
// *redis.Ring (any go-redis client that runs scripts). It does no I/O.
//
// The client must respect context deadlines (go-redis's
// ContextTimeoutEnabled, which ParseURL sets): otherwise go-redis ignores
// the deadline of WithTimeout and a hung Redis holds each request for the
// client's read timeout. New refuses a client that does not.
func New(rdb redis.Scripter, opts ...Option) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("redislimit: nil Redis client")
	}
	if !contextTimeouts(rdb) {
		return nil, errors.New("redislimit: the Redis client must set ContextTimeoutEnabled (redislimit.ParseURL does), or a hung Redis would hold requests past the limiter's timeout")
	}
	l := &Limiter{
		rdb:          rdb,
		prefix:       DefaultPrefix,
		timeout:      DefaultTimeout,
		logger:       slog.Default(),
		warnInterval: DefaultWarnInterval,
	}
	for _, o := range opts {
		if err := o(l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// contextTimeouts reports whether go-redis will honour the context deadline
// on rdb's socket reads and writes. Unknown implementations (wrappers) are
// trusted: the caller knows what it passes.
func contextTimeouts(rdb redis.Scripter) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Allow spends cost from every limit of k, all or none, in one Redis round
// trip (one script; the first call on a Redis that has not seen the script
// yet takes two, EVALSHA then EVAL). Time is Redis's, so the clocks of the
// application machines do not matter. A key without limits is allowed
// without a call. A cost of 0 reports the budgets without spending.
//
// When Redis cannot answer within the timeout, Allow returns an error
// wrapping apikey.ErrLimiterUnavailable, or with FailOpen an allowed
// decision (Limit zero) and a nil error. When ctx itself ends first (the
// client went away), Allow returns an error wrapping both
// ErrLimiterUnavailable and ctx's error, and neither counts nor warns. Invalid input (a negative cost, a
// limit below 1 or a window under 1 ms, duplicate names) is an error that
// does not wrap ErrLimiterUnavailable and is never failed open.
func (l *Limiter) Allow(ctx context.Context, k *apikey.Key, cost int64) (apikey.RateDecision, error) {
	if k == nil || len(k.RateLimits) == 0 {
		if cost < 0 {
			return apikey.RateDecision{}, fmt.Errorf("redislimit: negative cost %d", cost)
		}
		return apikey.RateDecision{Allowed: true}, nil
	}
	keys, args, err := l.request(k, cost)
	if err != nil {
		return apikey.RateDecision{}, err
	}
	tctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	res, err := gcra.Run(tctx, l.rdb, keys, args...).Int64Slice()
	if err == nil && (len(res) != 5 || res[1] < 1 || int(res[1]) > len(k.RateLimits)) {
		err = fmt.Errorf("unexpected script answer %v", res)
	}
	if err != nil {
		if cerr := callerDone(ctx); cerr != nil {
			// The caller gave up (client gone, its own deadline): not a
			// Redis failure to count, warn about or fail open on.
			return apikey.RateDecision{}, fmt.Errorf("redislimit: %w: %w", apikey.ErrLimiterUnavailable, cerr)
		}
		return l.unavailable(err)
	}
	return apikey.RateDecision{
		Allowed:    res[0] == 1,
		Limit:      k.RateLimits[res[1]-1],
		Remaining:  res[2],
		Reset:      time.Duration(res[3]) * time.Microsecond,
		RetryAfter: time.Duration(res[4]) * time.Microsecond,
	}, nil
}

// callerDone returns ctx's error, or context.DeadlineExceeded when its
// deadline has passed but its timer has not fired yet (go-redis's socket
// deadline, which is ctx's, can expire first).
func callerDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// request builds the script's keys and arguments, checking the limits.
func (l *Limiter) request(k *apikey.Key, cost int64) ([]string, []any, error) {
	if cost < 0 {
		return nil, nil, fmt.Errorf("redislimit: negative cost %d", cost)
	}
	if len(k.RateLimits) > maxLimits {
		return nil, nil, fmt.Errorf("redislimit: %d rate limits on one key (at most %d)", len(k.RateLimits), maxLimits)
	}
	keys := make([]string, len(k.RateLimits))
	args := make([]any, 1, 1+2*len(k.RateLimits))
	args[0] = cost
	for i, rl := range k.RateLimits {
		if rl.Limit < 1 || rl.Window < time.Millisecond {
			return nil, nil, fmt.Errorf("redislimit: rate limit %q: limit %d per %s (need a limit of at least 1 and a window of at least 1ms)", rl.Name, rl.Limit, rl.Window)
		}
		for _, prev := range k.RateLimits[:i] {
			if prev.Name == rl.Name && prev.Shared == rl.Shared {
				return nil, nil, fmt.Errorf("redislimit: rate limit %q appears twice", rl.Name)
			}
		}
		keys[i] = redisKey(l.prefix, k, rl)
		args = append(args, rl.Limit, rl.Window.Microseconds())
	}
	return keys, args, nil
}
