package apikey

import (
	"log/slog"
	"net/http"
	"slices"
)

// Require returns middleware that authenticates the request (as
// Middleware) and lets it through only if the verified key grants every
// one of scopes, in one handler: the token is read and scanned once, the
// scopes are checked after the key's state and IP allowlist and before its
// rate limits and credits are spent (a request refused for its scopes
// spends nothing), and the key goes into the request context
// (FromContext) with no second lookup. It is the common path:
//
//	mux.Handle("GET /jobs", auth.Require("jobs:read")(listJobs))
//	mux.Handle("GET /me", auth.Require()(me)) // any verified key
//
// A request without credentials is refused with ErrNoCredentials (401)
// even with WithOptional. Every refusal goes through the configured error
// answer, like Middleware's.
func (a *Authenticator) Require(scopes ...string) func(http.Handler) http.Handler {
	s := a.Scoped(scopes...)
	if s.optional { // no scopes: Scoped returned a itself
		c := *s
		c.optional = false
		s = &c
	}
	return s.Middleware
}

// checkScopes returns nil if k grants need (all of them, or one with
// anyOf), else a *ScopeError, logged at debug level.
func (a *Authenticator) checkScopes(r *http.Request, k *Key, need []string, anyOf bool) error {
	if anyOf && HasAny(k.Scopes, need...) || !anyOf && HasAll(k.Scopes, need...) {
		return nil
	}
	a.debug(r, "apikey: insufficient scope", append(keyAttrs(k),
		slog.Any("needed", need), slog.Bool("any", anyOf))...)
	a.refused(r, ErrInsufficientScope)
	if a.usage != nil {
		a.usage.Count(k.ID, a.m.Now(), OutcomeInsufficientScope.String(), 1)
	}
	return &ScopeError{Scopes: slices.Clone(need), Any: anyOf}
}

// Fail answers r with the authenticator's configured error answer for err
// (WithErrorHandler, or the default RFC 6750 answer with WithRealm and
// WithErrorCodes): the same answer Middleware and Require give. It is for
// frameworks with their own handler types (gin, echo and others), which
// authenticate and check scopes with Scoped(...).Authenticate (keep the
// scoped authenticator: build it once per route), or check more scopes
// inside a handler with Key.Require:
//
//	jobsRead := auth.Scoped("jobs:read")
//	...
//	k, err := jobsRead.Authenticate(c.Request)
//	if err != nil {
//		auth.Fail(c.Writer, c.Request, err)
//		c.Abort()
//		return
//	}
//
// err should be one the middleware gives (see ErrorHandler); any other
// error is answered as a bad credential (401), and a nil err as missing
// credentials (401): Fail never lets a request through and never answers
// 500.
func (a *Authenticator) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		err = ErrNoCredentials
	}
	a.onError(w, r, err)
}

// Require returns nil if k grants every one of scopes (see HasAll; with no
// scopes, nil), and otherwise a *ScopeError naming them, which
// Authenticator.Fail and WriteError answer 403 insufficient_scope. It is
// RequireAll for code that already holds the key, such as a check inside
// a gin or echo handler. To check a route's scopes before a key's rate
// limits and credits are spent, use Authenticator.Scoped instead.
func (k *Key) Require(scopes ...string) error {
	if HasAll(k.Scopes, scopes...) {
		return nil
	}
	return &ScopeError{Scopes: slices.Clone(scopes)}
}
