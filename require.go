package apikey

import (
	"log/slog"
	"net/http"
	"slices"
)

// Require returns middleware that authenticates the request (as
// Middleware) and lets it through only if the verified key grants every
// one of scopes (as RequireAll), in one handler: the token is read and
// scanned once and the key goes straight from the verification to the
// scope check and into the request context (FromContext), with no second
// lookup. It is the common path:
//
//	mux.Handle("GET /jobs", auth.Require("jobs:read")(listJobs))
//	mux.Handle("GET /me", auth.Require()(me)) // any verified key
//
// A request without credentials is refused with ErrNoCredentials (401)
// even with WithOptional: a scope check needs a key. Every refusal goes
// through the configured error answer, like Middleware's.
func (a *Authenticator) Require(scopes ...string) func(http.Handler) http.Handler {
	need := slices.Clone(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, err := a.Authenticate(r)
			if err == nil {
				err = a.checkScopes(r, k, need, false)
			}
			if err != nil {
				a.onError(w, r, err)
				return
			}
			next.ServeHTTP(w, withKey(r, k))
		})
	}
}

// RequireAll returns middleware that lets a request through only if the
// verified key in its context grants every one of scopes (see Grants; with
// no scopes, any verified key). Place it after Middleware: with no verified
// key in the context it fails closed with ErrNoCredentials (401). A key
// lacking a scope gets a *ScopeError (403 insufficient_scope naming all of
// scopes). Require does both steps in one.
func (a *Authenticator) RequireAll(scopes ...string) func(http.Handler) http.Handler {
	return a.require(slices.Clone(scopes), false)
}

// RequireAny is RequireAll for any-of: the key must grant at least one of
// scopes. With no scopes nothing is ever granted (every key gets 403).
func (a *Authenticator) RequireAny(scopes ...string) func(http.Handler) http.Handler {
	return a.require(slices.Clone(scopes), true)
}

func (a *Authenticator) require(need []string, anyOf bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, ok := FromContext(r.Context())
			if !ok {
				a.debug(r, "apikey: no verified key in context (anonymous request, or scope check placed before the authenticator)")
				a.onError(w, r, ErrNoCredentials)
				return
			}
			if err := a.checkScopes(r, k, need, anyOf); err != nil {
				a.onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// checkScopes returns nil if k grants need (all of them, or one with
// anyOf), else a *ScopeError, logged at debug level.
func (a *Authenticator) checkScopes(r *http.Request, k *Key, need []string, anyOf bool) error {
	if anyOf && HasAny(k.Scopes, need...) || !anyOf && HasAll(k.Scopes, need...) {
		return nil
	}
	a.debug(r, "apikey: insufficient scope", append(keyAttrs(k),
		slog.Any("needed", need), slog.Bool("any", anyOf))...)
	return &ScopeError{Scopes: slices.Clone(need), Any: anyOf}
}

// Fail answers r with the authenticator's configured error answer for err
// (WithErrorHandler, or the default RFC 6750 answer with WithRealm and
// WithErrorCodes): the same answer Middleware and Require give. It is for
// frameworks with their own handler types (gin, echo and others), which
// authenticate with Authenticate and check scopes with Key.Require:
//
//	k, err := auth.Authenticate(c.Request)
//	if err == nil {
//		err = k.Require("jobs:read")
//	}
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
// RequireAll for code that already holds the key, such as a gin or echo
// handler.
func (k *Key) Require(scopes ...string) error {
	if HasAll(k.Scopes, scopes...) {
		return nil
	}
	return &ScopeError{Scopes: slices.Clone(scopes)}
}
