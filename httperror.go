package apikey

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// ErrNoCredentials: the request carries no credentials the middleware
// reads (no Authorization header, an authentication scheme other than
// Bearer, no configured API key header). It is answered 401 without an
// error code (RFC 6750 section 3.1); custom error handlers can tell it
// apart from a bad credential with errors.Is.
var ErrNoCredentials = errors.New("apikey: no credentials")

// ScopeError is the error the scope middleware hands to the error handler
// when the verified key lacks a scope. It wraps ErrInsufficientScope.
type ScopeError struct {
	// Scopes are the scopes the route needs, as configured.
	Scopes []string
	// Any is true for an any-of requirement, false for all-of.
	Any bool
}

// Error names the requirement (never anything about the token).
func (e *ScopeError) Error() string {
	kind := "all of"
	if e.Any {
		kind = "one of"
	}
	return "apikey: insufficient scope: needs " + kind + " [" + strings.Join(e.Scopes, " ") + "]"
}

// Unwrap returns ErrInsufficientScope.
func (e *ScopeError) Unwrap() error { return ErrInsufficientScope }

// ErrorHandler answers a request the middleware refuses. err is one of:
// ErrNoCredentials; an error wrapping ErrMalformed, ErrNotFound,
// ErrRevoked, ErrExpired, ErrGraceEnded or ErrDisabled; ErrIPNotAllowed;
// a *RateLimitedError (wrapping ErrRateLimited); ErrUsageExceeded;
// ErrLimiterUnavailable; a *ScopeError (wrapping
// ErrInsufficientScope); an error wrapping ErrStoreUnavailable; or a
// *ThrottledError (wrapping ErrThrottled, with WithFailureThrottle). It must
// never show err's text to the client: use Challenge or WriteError for the
// status and headers.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// ErrorCodes are the "code" values of the default JSON error body,
// {"error":{"code":"...","message":"..."}}. Empty fields keep the default.
type ErrorCodes struct {
	// Unauthorized is used for every 401 answer. Default "unauthorized".
	Unauthorized string
	// Forbidden is used for 403 (insufficient scope). Default "forbidden".
	Forbidden string
	// Unavailable is used for 503 (store unavailable). Default "unavailable".
	Unavailable string
	// TooManyRequests is used for 429 (failure throttle). Default
	// "too_many_requests".
	TooManyRequests string
	// RateLimited is used for 429 (a rate limit of the key). Default
	// "rate_limited".
	RateLimited string
	// UsageExceeded is used for 429 (the key's credits are spent). Default
	// "usage_exceeded".
	UsageExceeded string
}

// defaultErrorCodes are the codes used for empty ErrorCodes fields.
var defaultErrorCodes = ErrorCodes{Unauthorized: "unauthorized", Forbidden: "forbidden", Unavailable: "unavailable",
	TooManyRequests: "too_many_requests", RateLimited: "rate_limited", UsageExceeded: "usage_exceeded"}

// withDefaults fills empty codes from defaultErrorCodes.
func (c ErrorCodes) withDefaults() ErrorCodes {
	if c.Unauthorized == "" {
		c.Unauthorized = defaultErrorCodes.Unauthorized
	}
	if c.Forbidden == "" {
		c.Forbidden = defaultErrorCodes.Forbidden
	}
	if c.Unavailable == "" {
		c.Unavailable = defaultErrorCodes.Unavailable
	}
	if c.TooManyRequests == "" {
		c.TooManyRequests = defaultErrorCodes.TooManyRequests
	}
	if c.RateLimited == "" {
		c.RateLimited = defaultErrorCodes.RateLimited
	}
	if c.UsageExceeded == "" {
		c.UsageExceeded = defaultErrorCodes.UsageExceeded
	}
	return c
}

// Client-facing messages. The 401 message for a bad credential is the same
// whatever the reason (malformed, unknown, revoked, expired, grace ended).
const (
	msgNoCredentials = "authentication required"
	msgInvalidToken  = "invalid API key"
	msgForbidden     = "the API key lacks a required scope"
	msgUnavailable   = "authentication is temporarily unavailable"
	msgRateLimited   = "rate limit exceeded for this API key"
	msgUsage         = "this API key has no usage credits left"
	msgIPNotAllowed  = "the API key is not allowed from this address"
)

// Challenge returns the HTTP status and the WWW-Authenticate value (RFC
// 6750 section 3) that answer err for realm:
//
//   - ErrStoreUnavailable, ErrLimiterUnavailable: 503 and no challenge ("");
//   - ErrThrottled, ErrRateLimited, ErrUsageExceeded: 429 and no challenge
//     (WriteError adds Retry-After, and for a rate limit the RateLimit
//     headers, see SetRateLimitHeaders);
//   - ErrIPNotAllowed: 403 and no challenge;
//   - ErrNoCredentials: 401, Bearer realm="..." (no error code);
//   - ErrInsufficientScope: 403, Bearer realm="...", error="insufficient_scope",
//     scope="..." (the scopes of a *ScopeError, space-separated);
//   - anything else, nil included: 401, Bearer realm="...", error="invalid_token".
//
// Custom error handlers that render their own body use it to keep the
// status and header right.
func Challenge(err error, realm string) (status int, challenge string) {
	var b strings.Builder
	b.WriteString(`Bearer realm=`)
	writeQuoted(&b, realm)
	switch {
	case errors.Is(err, ErrStoreUnavailable), errors.Is(err, ErrLimiterUnavailable):
		return http.StatusServiceUnavailable, ""
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrRateLimited), errors.Is(err, ErrUsageExceeded):
		return http.StatusTooManyRequests, ""
	case errors.Is(err, ErrIPNotAllowed):
		return http.StatusForbidden, ""
	case errors.Is(err, ErrNoCredentials):
		return http.StatusUnauthorized, b.String()
	case errors.Is(err, ErrInsufficientScope):
		b.WriteString(`, error="insufficient_scope"`)
		if se, ok := errors.AsType[*ScopeError](err); ok && len(se.Scopes) > 0 {
			b.WriteString(`, scope=`)
			writeQuoted(&b, strings.Join(se.Scopes, " "))
		}
		return http.StatusForbidden, b.String()
	}
	b.WriteString(`, error="invalid_token"`)
	return http.StatusUnauthorized, b.String()
}

// WriteError writes the default answer to err: the status and
// WWW-Authenticate header of Challenge, Content-Type: application/json,
// Cache-Control: no-store, and the body
// {"error":{"code":"...","message":"..."}} with a generic message that
// never says which 401 reason applied. Empty codes take defaultErrorCodes.
func WriteError(w http.ResponseWriter, err error, realm string, codes ErrorCodes) {
	codes = codes.withDefaults()
	status, challenge := Challenge(err, realm)
	var code, msg string
	switch {
	case status == http.StatusServiceUnavailable:
		code, msg = codes.Unavailable, msgUnavailable
	case errors.Is(err, ErrRateLimited):
		code, msg = codes.RateLimited, msgRateLimited
		SetRateLimitHeaders(w.Header(), err)
	case errors.Is(err, ErrUsageExceeded):
		code, msg = codes.UsageExceeded, msgUsage
	case status == http.StatusTooManyRequests:
		code, msg = codes.TooManyRequests, msgThrottled
		SetRetryAfter(w.Header(), err)
	case errors.Is(err, ErrIPNotAllowed):
		code, msg = codes.Forbidden, msgIPNotAllowed
	case status == http.StatusForbidden:
		code, msg = codes.Forbidden, msgForbidden
	case errors.Is(err, ErrNoCredentials):
		code, msg = codes.Unauthorized, msgNoCredentials
	default:
		code, msg = codes.Unauthorized, msgInvalidToken
	}
	body, _ := json.Marshal(errorBody{Error: errorDetail{Code: code, Message: msg}})
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeQuoted writes s as an RFC 9110 quoted-string: '"' and '\' are
// escaped, and bytes that may not appear (controls, non-ASCII) become '?'.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t', c >= 0x7f:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
