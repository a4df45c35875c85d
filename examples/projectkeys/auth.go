package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/apikit/apikey"
)

// scopeManage lets a project key manage its own project's keys.
const scopeManage = "api-keys:manage"

// Admin token bounds. The token travels as an RFC 6750 bearer token, so it
// is checked for the b64token characters the middleware accepts.
const (
	minAdminTokenLen = 16
	maxAdminTokenLen = 256
)

// principal is who a request authenticated as: the operator (admin token)
// or a project key.
type principal struct {
	admin bool
	key   *apikey.Key // nil for the operator
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) (principal, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p, ok
}

// tenantOf returns the tenant argument for Manager calls on key id: the
// key's own project for the operator (found with GetByID), the caller's
// project otherwise (so another project's key is not found).
func (p principal) tenantOf(ctx context.Context, m *apikey.Manager, id string) (string, error) {
	if !p.admin {
		return p.key.Tenant, nil
	}
	k, err := m.GetByID(ctx, id)
	if err != nil {
		return "", err
	}
	return k.Tenant, nil
}

// canSeeProject reports whether p may act on project id.
func (p principal) canSeeProject(id string) bool { return p.admin || p.key.Tenant == id }

// authenticator accepts the operator token or a project key as a bearer
// token.
type authenticator struct {
	keys *apikey.Authenticator
	// manage is keys requiring api-keys:manage, checked before the key's
	// rate limits and credits are spent.
	manage *apikey.Authenticator
	// adminDigest is SHA-256 of the operator token; nil disables it.
	adminDigest []byte
}

// checkAdminToken validates an operator token given on the command line or
// in ADMIN_TOKEN.
func checkAdminToken(tok string) error {
	if len(tok) < minAdminTokenLen || len(tok) > maxAdminTokenLen {
		return fmt.Errorf("admin token must be %d-%d characters", minAdminTokenLen, maxAdminTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return errors.New("admin token may hold only letters, digits and -._~+/")
		}
	}
	return nil
}

// newAdminToken draws a random operator token for a -dev run without one.
func newAdminToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return fmt.Sprintf("adm_%x", b)
}

// isAdmin compares tok with the operator token in constant time (over
// SHA-256 digests, so lengths leak nothing either).
func (a *authenticator) isAdmin(tok string) bool {
	if a.adminDigest == nil {
		return false
	}
	d := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(d[:], a.adminDigest) == 1
}

// require authenticates the request (failure throttle first, then the
// operator token, then a project key through the library middleware's
// Authenticate, which counts failures and records usage)
// and calls next with the principal in the context. Refusals are the
// library's RFC 6750 answers.
func (a *authenticator) require(next http.HandlerFunc) http.Handler {
	return a.requireWith(a.keys, next)
}

// requireWith is require with the given key authenticator.
func (a *authenticator) requireWith(keys *apikey.Authenticator, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The throttle comes first, so that the operator token, the most
		// privileged credential, is refused to a throttled address like any
		// other; a wrong operator token goes on to Authenticate, where it
		// fails and counts.
		if err := a.keys.CheckThrottle(r); err != nil {
			writeAuthError(w, err)
			return
		}
		tok, err := a.keys.Credentials(r)
		if err != nil {
			writeAuthError(w, err)
			return
		}
		if a.isAdmin(tok) {
			next(w, r.WithContext(withPrincipal(r.Context(), principal{admin: true})))
			return
		}
		k, err := keys.Authenticate(r)
		if err != nil {
			writeAuthError(w, err)
			return
		}
		ctx := apikey.NewContext(withPrincipal(r.Context(), principal{key: k}), k)
		next(w, r.WithContext(ctx))
	})
}

// requireManager is require plus: a project key must hold api-keys:manage
// (403 insufficient_scope otherwise), checked before its rate limits and
// credits are spent.
func (a *authenticator) requireManager(next http.HandlerFunc) http.Handler {
	return a.requireWith(a.manage, next)
}
