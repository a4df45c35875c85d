package apikey

import "fmt"

// WithRateLimiter sets the limiter that spends the rate limits of keys
// (Key.RateLimits) on every verify. The default is an in-process
// MemoryLimiter, right for one process; processes that must share limits
// use a shared one (package redislimit). When the limiter fails (returns an
// error), the verify fails closed with ErrLimiterUnavailable (HTTP 503)
// unless WithLimiterFailOpen.
func WithRateLimiter(l RateLimiter) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil rate limiter", ErrInvalid)
		}
		c.limiter = l
		return nil
	}
}

// WithLimiterFailOpen lets requests through, unlimited, while the rate
// limiter cannot answer (the failure is logged at warning level). The
// default is to fail closed (ErrLimiterUnavailable, HTTP 503): a limiter
// outage must not lift every limit, which is what an attacker who can
// overload the limiter would want. Fail open only where availability
// matters more than the limits, such as limits that exist for fairness
// rather than protection. Credits never fail open: they are exact.
func WithLimiterFailOpen() Option {
	return func(c *config) error {
		c.limiterFailOpen = true
		return nil
	}
}
