package grpcauth

import (
	"context"
	"errors"

	"github.com/apikit/apikey"
)

// refused counts a refused call by reason on the manager's Metrics
// (apikey.WithMetrics), as the HTTP middleware counts its refusals.
func (a *Authenticator) refused(ctx context.Context, err error) {
	if mx := a.m.Metrics(); mx != nil {
		mx.Count(ctx, refusalCounter(err), 1)
	}
}

// refusalCounter maps a refusal to its counter.
func refusalCounter(err error) apikey.Counter {
	switch {
	case errors.Is(err, apikey.ErrNoCredentials):
		return apikey.CounterRefusedNoCredentials
	case errors.Is(err, apikey.ErrThrottled):
		return apikey.CounterRefusedThrottled
	case errors.Is(err, apikey.ErrInsufficientScope):
		return apikey.CounterRefusedScope
	case errors.Is(err, apikey.ErrIPNotAllowed):
		return apikey.CounterRefusedIP
	case errors.Is(err, apikey.ErrRateLimited):
		return apikey.CounterRefusedRateLimited
	case errors.Is(err, apikey.ErrUsageExceeded):
		return apikey.CounterRefusedUsageExceeded
	case errors.Is(err, apikey.ErrStoreUnavailable), errors.Is(err, apikey.ErrLimiterUnavailable):
		return apikey.CounterRefusedUnavailable
	case errors.Is(err, apikey.ErrMalformed):
		return apikey.CounterRefusedMalformed
	}
	return apikey.CounterRefusedInvalid
}
