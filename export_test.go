package apikey

import "time"

// FreezeLimiterClock stops the coarse clock of m's in-process limiter
// (ratelimit_clock.go) at lag before the exact time, as a ticker stalled
// that long would leave it, and keeps a ticker from starting. m must use
// the default limiter on the wall clock. For tests only.
func FreezeLimiterClock(m *Manager, lag time.Duration) {
	c := &m.wallLimiter.clock
	c.running.Store(true)
	if n := int64(time.Since(c.start) - lag); n != 0 {
		c.now.Store(n)
	} else {
		c.now.Store(-1)
	}
}
