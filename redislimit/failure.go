package redislimit

import (
	"fmt"
	"time"

	"github.com/apikit/apikey"
)

// Stats counts the limiter's failures since New.
type Stats struct {
	// Errors counts the Allow calls that Redis could not answer (failed
	// open or closed).
	Errors uint64
	// FailedOpen counts the requests admitted unchecked because Redis could
	// not answer (FailOpen only).
	FailedOpen uint64
}

// Stats returns the failure counters.
func (l *Limiter) Stats() Stats {
	return Stats{Errors: l.errs.Load(), FailedOpen: l.failedOpen.Load()}
}

// unavailable turns a Redis failure into the configured answer: an error
// wrapping apikey.ErrLimiterUnavailable (fail closed), or an allowed
// decision (fail open). Either way it counts and warns at most once per
// warn interval.
func (l *Limiter) unavailable(err error) (apikey.RateDecision, error) {
	l.errs.Add(1)
	if l.failOpen {
		l.failedOpen.Add(1)
	}
	l.warn(err)
	if l.failOpen {
		return apikey.RateDecision{Allowed: true}, nil
	}
	return apikey.RateDecision{}, fmt.Errorf("redislimit: %w: %w", apikey.ErrLimiterUnavailable, err)
}

// warn logs err unless a warning went out less than warnInterval ago.
func (l *Limiter) warn(err error) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if last != 0 && now-last < int64(l.warnInterval) {
		return
	}
	if !l.lastWarn.CompareAndSwap(last, now) {
		return // another goroutine is warning
	}
	mode := "closed: requests of rate-limited keys are refused"
	if l.failOpen {
		mode = "open: requests are admitted without rate limits"
	}
	l.logger.Warn("redislimit: Redis unavailable; failing "+mode,
		"err", err.Error(), "errors", l.errs.Load(), "failed_open", l.failedOpen.Load(),
		"next_warning_after", l.warnInterval)
}
