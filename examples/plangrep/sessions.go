package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
)

// sessionCookie is the name of Plangrep's session cookie.
const sessionCookie = "plangrep_session"

// session is who a session cookie stands for.
type session struct {
	WorkspaceID string
	UserID      string
	// csrf is the session's anti-forgery token (32 random bytes,
	// base64url), set by open: every form of the settings page carries it.
	csrf string
}

// sessionTable holds the sessions in memory. It is indexed by the SHA-256
// of the cookie value, so a lookup's timing says nothing useful about the
// values it holds, and a dump of the table cannot be replayed as cookies.
// Sessions do not outlive the process: this example has no login, and
// /dev/bootstrap opens a new one in a second.
type sessionTable struct {
	mu sync.RWMutex
	m  map[[sha256.Size]byte]session
}

func newSessionTable() *sessionTable {
	return &sessionTable{m: make(map[[sha256.Size]byte]session)}
}

// open creates a session and returns its cookie value: 32 random bytes,
// base64url without padding. It gives the session its own CSRF token.
func (t *sessionTable) open(s session) (string, error) {
	v, err := randomToken()
	if err != nil {
		return "", err
	}
	if s.csrf, err = randomToken(); err != nil {
		return "", err
	}
	t.mu.Lock()
	t.m[sha256.Sum256([]byte(v))] = s
	t.mu.Unlock()
	return v, nil
}

// close ends the session of cookie value v (nothing happens if there is
// none).
func (t *sessionTable) close(v string) {
	h := sha256.Sum256([]byte(v))
	t.mu.Lock()
	delete(t.m, h)
	t.mu.Unlock()
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// lookup returns the session of cookie value v.
func (t *sessionTable) lookup(v string) (session, bool) {
	if len(v) != base64.RawURLEncoding.EncodedLen(32) {
		return session{}, false
	}
	h := sha256.Sum256([]byte(v))
	t.mu.RLock()
	s, ok := t.m[h]
	t.mu.RUnlock()
	return s, ok
}

type sessionCtxKey struct{}

// sessionFrom returns the session the session middleware put in ctx.
func sessionFrom(ctx context.Context) (session, bool) {
	s, ok := ctx.Value(sessionCtxKey{}).(session)
	return s, ok
}

// session admits only requests with a valid plangrep_session cookie. A
// bearer API key is not a credential here (key management belongs to the
// app's users, not to keys): without a valid cookie the answer is 401
// whatever the Authorization header holds.
func (a *app) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _, ok := a.sessionOf(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Cookie realm="`+realm+`", cookie-name="`+sessionCookie+`"`)
			writeError(w, http.StatusUnauthorized, codeUnauthorized, "a valid "+sessionCookie+" cookie is required")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionCtxKey{}, s)))
	})
}

// sessionOf returns the session of r's plangrep_session cookie and the
// cookie's value; the JSON API and the settings page admit the same
// sessions by this one rule.
func (a *app) sessionOf(r *http.Request) (session, string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, "", false
	}
	s, ok := a.sessions.lookup(c.Value)
	if !ok {
		return session{}, "", false
	}
	return s, c.Value, true
}

// setSessionCookie sets the session cookie to v: HttpOnly, SameSite=Lax,
// Secure when r came over TLS, for the whole site.
func setSessionCookie(w http.ResponseWriter, r *http.Request, v string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    v,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}
