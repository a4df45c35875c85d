package apikey

import (
	"log/slog"
	"net/http"
	"slices"
)

// RequireAll returns middleware that lets a request through only if the
// verified key in its context grants every one of scopes (see Grants; with
// no scopes, any verified key). Place it after Middleware: with no verified
// key in the context it fails closed with ErrNoCredentials (401). A key
// lacking a scope gets a *ScopeError (403 insufficient_scope naming all of
// scopes).
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
				a.refused(r, ErrNoCredentials)
				a.onError(w, r, ErrNoCredentials)
				return
			}
			if anyOf && !HasAny(k.Scopes, need...) || !anyOf && !HasAll(k.Scopes, need...) {
				a.debug(r, "apikey: insufficient scope", append(keyAttrs(k),
					slog.Any("needed", need), slog.Bool("any", anyOf))...)
				a.refused(r, ErrInsufficientScope)
				if a.usage != nil {
					a.usage.Count(k.ID, a.m.Now(), OutcomeInsufficientScope.String(), 1)
				}
				a.onError(w, r, &ScopeError{Scopes: slices.Clone(need), Any: anyOf})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
