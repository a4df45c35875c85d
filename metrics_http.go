package apikey

import (
	"errors"
	"net/http"
)

// refused counts a request the Authenticator refuses, by reason, when the
// Manager has Metrics.
func (a *Authenticator) refused(r *http.Request, err error) {
	if mx := a.m.cfg.metrics; mx != nil {
		mx.Count(r.Context(), refusalCounter(err), 1)
	}
}

// refusalCounter maps a refusal to its counter.
func refusalCounter(err error) Counter {
	switch {
	case errors.Is(err, ErrNoCredentials):
		return CounterRefusedNoCredentials
	case errors.Is(err, ErrThrottled):
		return CounterRefusedThrottled
	case errors.Is(err, ErrInsufficientScope):
		return CounterRefusedScope
	case errors.Is(err, ErrIPNotAllowed):
		return CounterRefusedIP
	case errors.Is(err, ErrRateLimited):
		return CounterRefusedRateLimited
	case errors.Is(err, ErrUsageExceeded):
		return CounterRefusedUsageExceeded
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrLimiterUnavailable):
		return CounterRefusedUnavailable
	case errors.Is(err, ErrMalformed):
		return CounterRefusedMalformed
	}
	return CounterRefusedInvalid
}
