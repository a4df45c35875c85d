package apikey

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WithCost sets the cost of a request, spent from the key's rate limits
// and credits (default 1). f must return 1 to 1,000,000; other values are
// refused as ErrInvalid (answered 503: a bug of the application, not of
// the client).
func WithCost(f func(*http.Request) int64) MiddlewareOption {
	return func(a *Authenticator) error {
		if f == nil {
			return fmt.Errorf("%w: nil cost function", ErrInvalid)
		}
		a.cost = f
		return nil
	}
}

// Scoped returns a copy of a whose Authenticate and Middleware also require
// every one of scopes, checked after the IP allowlist and before the rate
// limits and credits (a *ScopeError, 403). A request without credentials
// is refused even under WithOptional. With no scopes it returns a.
func (a *Authenticator) Scoped(scopes ...string) *Authenticator {
	if len(scopes) == 0 {
		return a
	}
	s := *a // an Authenticator is immutable: the copy differs only in scopes
	s.scopes = slices.Clone(scopes)
	s.optional = false // a route that needs scopes never lets anonymous requests through
	return &s
}

// controls runs the key's controls for an HTTP request (after the token
// and state checks). The client address is parsed only here, so keys
// without controls pay nothing for it.
func (a *Authenticator) controls(r *http.Request, k *Key, now time.Time, run *verifyRun) error {
	p := RequestParams{Scopes: a.scopes}
	if len(k.IPAllowlist) > 0 {
		p.ClientIP, _ = netip.ParseAddr(ClientIP(r, a.trusted))
	}
	if a.cost != nil {
		p.Cost = a.cost(r)
		if p.Cost < 1 || p.Cost > maxCost {
			return fmt.Errorf("%w: %w: request cost %d outside 1 to %d", ErrStoreUnavailable, ErrInvalid, p.Cost, maxCost)
		}
	}
	return a.m.checkControls(r.Context(), k, &p, now, run)
}

// SetRateLimitHeaders sets, for an error wrapping a *RateLimitedError,
// Retry-After (whole seconds, rounded up, at least 1) and the RateLimit-Policy
// and RateLimit fields of draft-ietf-httpapi-ratelimit-headers, for the
// limit that refused the request:
//
//	RateLimit-Policy: "per_minute";q=60;w=60
//	RateLimit: "per_minute";r=0;t=12
//
// Custom error handlers call it to keep the headers of the default answer.
func SetRateLimitHeaders(h http.Header, err error) {
	re, ok := errors.AsType[*RateLimitedError](err)
	if !ok {
		return
	}
	d := re.Decision
	h.Set("Retry-After", strconv.FormatInt(ceilSeconds(d.RetryAfter), 10))
	var b strings.Builder
	b.WriteString(sfString(d.Limit.Name))
	b.WriteString(";q=")
	b.WriteString(strconv.FormatInt(d.Limit.Limit, 10))
	b.WriteString(";w=")
	b.WriteString(strconv.FormatInt(ceilSeconds(d.Limit.Window), 10))
	h.Set("RateLimit-Policy", b.String())
	b.Reset()
	b.WriteString(sfString(d.Limit.Name))
	b.WriteString(";r=")
	b.WriteString(strconv.FormatInt(max(d.Remaining, 0), 10))
	b.WriteString(";t=")
	b.WriteString(strconv.FormatInt(ceilSeconds(d.RetryAfter), 10))
	h.Set("RateLimit", b.String())
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// sfString renders s as a Structured Field string (RFC 8941): printable
// ASCII in quotes, '"' and '\' escaped, anything else replaced by '_'.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// controlRefusal reports whether err refuses a valid key for its controls
// (rate limit, credits, limiter outage, scopes): not a guess, so the
// failure throttle does not count it.
func controlRefusal(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUsageExceeded) ||
		errors.Is(err, ErrLimiterUnavailable) || errors.Is(err, ErrInsufficientScope)
}
