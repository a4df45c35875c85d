package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of the key controls (SPEC D1). Verify-time refusals wrap them.
var (
	// ErrDisabled: the key is disabled (it can be enabled again, unlike a
	// revoked key). HTTP clients see the generic 401, like any invalid key.
	ErrDisabled = errors.New("apikey: key disabled")
	// ErrIPNotAllowed: the client address is outside the key's IP allowlist
	// (HTTP 403, code "forbidden").
	ErrIPNotAllowed = errors.New("apikey: client address not allowed")
	// ErrRateLimited: a rate limit of the key refused the request (HTTP 429
	// with Retry-After). The error is a *RateLimitedError.
	ErrRateLimited = errors.New("apikey: rate limited")
	// ErrUsageExceeded: the key has no credits left (HTTP 429).
	ErrUsageExceeded = errors.New("apikey: usage exceeded")
	// ErrLimiterUnavailable: the rate limiter could not answer (for
	// example Redis is unreachable) and the limiter fails closed.
	ErrLimiterUnavailable = errors.New("apikey: rate limiter unavailable")
)

// RateLimit is one named limit of a key: Limit units of cost per Window,
// with bursts of up to Limit. The limiters (MemoryLimiter, redislimit) use
// GCRA: a full budget of Limit can be spent at once, and it refills at a
// steady Limit per Window (one unit every Window/Limit), so a sliding window
// of length Window can see up to 2*Limit-1 admitted when a burst is followed
// by the refill. A request spends 1 (or the cost the application passes)
// from every limit of its key.
//
// On a verify, the in-process limiter judges a limit whose window is 1 s
// or more on a clock refreshed every millisecond while requests come fast
// (one clock reading fewer per request), and every refusal on the exact
// clock: such a limit can admit up to lag/Window of Limit more than exact
// GCRA, where lag is how far the refreshed clock trails (about 1 ms:
// 0.1% of a 1 s window's limit). Shorter windows, redislimit, and
// MemoryLimiter.Allow read the exact clock.
type RateLimit struct {
	// Name identifies the limit within the key (such as "per_second").
	Name string `json:"name"`
	// Limit is the budget per window; at least 1.
	Limit int64 `json:"limit"`
	// Window is the period the budget refills over; 1 ms to one year.
	Window time.Duration `json:"window"`
	// Shared makes the budget one for the whole tenant: every key of the
	// tenant holding a shared limit of this name spends from it.
	Shared bool `json:"shared,omitempty"`
}

// RateLimiter spends request cost from a key's rate limits. The in-process
// implementation lives in this package; package redislimit holds one that
// several processes share. Implementations must be safe for concurrent use.
type RateLimiter interface {
	// Allow spends cost from every limit in k.RateLimits, all or none: when
	// one limit refuses, nothing is spent from the others. A per-key limit
	// is identified by (k.ID, name), a shared one by (k.Tenant, name). A
	// key without limits is always allowed. A non-nil error means the
	// limiter could not decide (the caller fails open or closed).
	Allow(ctx context.Context, k *Key, cost int64) (RateDecision, error)
}

// RateDecision is a RateLimiter's answer.
type RateDecision struct {
	// Allowed reports whether the request may go on.
	Allowed bool
	// Limit is the limit that refused the request or, when allowed, the one
	// with the least budget left (zero when the key has no limits).
	Limit RateLimit
	// Remaining is what is left of Limit's budget after this request.
	Remaining int64
	// Reset is how long until Limit's budget is whole again.
	Reset time.Duration
	// RetryAfter, when refused, is how long until a request of the same cost
	// could be allowed.
	RetryAfter time.Duration
}

// RateLimitedError is the error of a request refused by a rate limit. It
// wraps ErrRateLimited and carries the decision for the 429 headers.
type RateLimitedError struct {
	// Decision is the limiter's answer.
	Decision RateDecision
}

// Error names the limit and the wait (never anything about the token).
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("apikey: rate limited by %q; retry after %s", e.Decision.Limit.Name, e.Decision.RetryAfter)
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }
