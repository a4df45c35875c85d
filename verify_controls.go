package apikey

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// RequestParams are what VerifyRequest checks beyond the token.
type RequestParams struct {
	// ClientIP is the client's address, checked against the key's IP
	// allowlist (use ClientIP on HTTP requests, so trusted proxies are
	// honoured). The zero value means unknown: a key with an allowlist is
	// then refused.
	ClientIP netip.Addr
	// Scopes the request needs: all of them, or one of them with AnyScope.
	// Empty means none (AnyScope with no scopes still grants nothing).
	Scopes []string
	// AnyScope makes Scopes an any-of requirement.
	AnyScope bool
	// Cost is spent from every rate limit and from the credits; 0 means 1.
	Cost int64
}

// maxCost bounds RequestParams.Cost.
const maxCost = 1_000_000

// VerifyRequest is Verify with the request's controls, in the order of
// SPEC D1: the token; the key's state (revoked, disabled, expired, grace
// ended); the client address against the IP allowlist (ErrIPNotAllowed);
// the scopes (a *ScopeError); the rate limits (a *RateLimitedError, or
// ErrLimiterUnavailable when the limiter fails and fails closed); the
// credits (ErrUsageExceeded). A request refused at any step spends no
// credit, and a request refused before the rate limits spends nothing.
// Keys without controls cost what Verify costs. The middleware calls it.
func (m *Manager) VerifyRequest(ctx context.Context, token string, p RequestParams) (*Key, error) {
	if p.Cost < 0 || p.Cost > maxCost {
		return nil, fmt.Errorf("%w: cost must be 0 to %d", ErrInvalid, maxCost)
	}
	var r verifyRun
	m.startVerify(&r) // metrics.go: nothing without WithMetrics
	k, now, err := m.verifyToken(ctx, token, &r)
	if err == nil && (len(p.Scopes) > 0 || p.AnyScope || hasControls(k)) {
		err = m.checkControls(ctx, k, &p, now, &r)
	}
	m.endVerify(ctx, &r, err)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// hasControls reports whether k has an IP allowlist, rate limits or
// credits.
func hasControls(k *Key) bool {
	return len(k.IPAllowlist) > 0 || len(k.RateLimits) > 0 || k.Credits != nil
}

// checkControls runs the checks after the state, in order.
// A refusal sets r's Outcome.
func (m *Manager) checkControls(ctx context.Context, k *Key, p *RequestParams, now time.Time, r *verifyRun) error {
	if len(k.IPAllowlist) > 0 && !ipAllowed(k.IPAllowlist, p.ClientIP) {
		return m.verifyFailed(ctx, r, ErrIPNotAllowed, OutcomeIPNotAllowed, k)
	}
	if len(p.Scopes) > 0 || p.AnyScope {
		if p.AnyScope && !HasAny(k.Scopes, p.Scopes...) || !p.AnyScope && !HasAll(k.Scopes, p.Scopes...) {
			return m.verifyFailed(ctx, r, &ScopeError{Scopes: append([]string(nil), p.Scopes...), Any: p.AnyScope}, OutcomeInsufficientScope, k)
		}
	}
	cost := p.Cost
	if cost == 0 {
		cost = 1
	}
	if len(k.RateLimits) > 0 {
		var d RateDecision
		err := m.allow(ctx, k, cost, now, &d)
		m.rateDecided(ctx, d.Allowed, err) // metrics.go
		switch {
		case err != nil && m.cfg.limiterFailOpen:
			m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: rate limiter failed; failing open",
				append(keyAttrs(k), slog.String("error", err.Error()))...)
		case err != nil:
			return m.verifyFailed(ctx, r, fmt.Errorf("%w: %w", ErrLimiterUnavailable, err), OutcomeLimiterUnavailable, k)
		case !d.Allowed:
			return m.verifyFailed(ctx, r, &RateLimitedError{Decision: d}, OutcomeRateLimited, k)
		}
	}
	if k.Credits != nil {
		err := m.credits.spend(ctx, m, k, cost, now)
		m.creditDecided(ctx, err) // metrics.go
		if err != nil {
			return m.verifyFailed(ctx, r, err, outcomeOfErr(err), k)
		}
	}
	return nil
}

// allow asks the limiter and fills d. The in-process limiter on the wall
// clock reuses the verify's clock reading when it took one (saving a
// second one), and otherwise reads the limiter's coarse clock when every
// window of k is at least coarseMinWindow (ratelimit_clock.go); a refusal
// on a coarse reading is judged again on the exact clock. Any other
// limiter, or a manager on another clock, gets the RateLimiter call.
func (m *Manager) allow(ctx context.Context, k *Key, cost int64, now time.Time, d *RateDecision) error {
	if l := m.wallLimiter; l != nil {
		switch {
		case !now.IsZero():
			l.allowAt(k, cost, int64(now.Sub(l.start)), d, false)
		case !longWindows(k):
			l.allowAt(k, cost, int64(time.Since(l.start)), d, false)
		default:
			at, coarse := l.clock.read()
			if !l.allowAt(k, cost, at, d, false) && coarse {
				*d = RateDecision{}
				l.allowAt(k, cost, l.clock.exact(), d, false)
			}
		}
		return nil
	}
	var err error
	*d, err = m.limiter.Allow(ctx, k, cost)
	return err
}

// longWindows reports whether every rate limit of k has a window of at
// least coarseMinWindow.
func longWindows(k *Key) bool {
	for i := range k.RateLimits {
		if k.RateLimits[i].Window < coarseMinWindow {
			return false
		}
	}
	return true
}
