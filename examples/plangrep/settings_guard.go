package main

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/apikit/apikey"
)

// pagePolicy is the settings page's Content-Security-Policy: only this
// origin's script and stylesheet (no inline script or style, no eval),
// forms post only here, and no page may frame it.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxFormBytes bounds a form body of the settings page.
const maxFormBytes = 16 << 10

// pageHeaders sets the security headers of every settings page and asset,
// and no-store (the static files replace it).
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", pagePolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// formHandler is a settings action: a POST from a signed-in user whose
// form has been parsed and checked.
type formHandler func(w http.ResponseWriter, r *http.Request, s session)

// form guards a state-changing POST of the settings page, in this order:
// the cross-site check of the JSON API (crossSite: Origin and
// Sec-Fetch-Site), a bounded urlencoded body, a session (else back to the
// sign-in page), and the session's CSRF token in the form's "csrf" field,
// compared in constant time.
func (a *app) form(next formHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.parsePageForm(w, r) {
			return
		}
		s, _, ok := a.sessionOf(r)
		if !ok {
			http.Redirect(w, r, settingsPath, http.StatusSeeOther)
			return
		}
		if !validCSRF(s.csrf, r.PostForm.Get("csrf")) {
			a.message(w, r, http.StatusForbidden, "This form has expired",
				"The form did not carry this session's security token (it may come from an older session or another site). Nothing was changed. Go back to API settings and try again.")
			return
		}
		next(w, r, s)
	})
}

// parsePageForm refuses cross-site requests (403) and reads a form body of
// at most maxFormBytes (413); it reports whether to go on.
func (a *app) parsePageForm(w http.ResponseWriter, r *http.Request) bool {
	if reason := crossSite(r); reason != "" {
		a.message(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another site ("+reason+"), so nothing was changed.")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.message(w, r, http.StatusRequestEntityTooLarge, "Form too large", "The form was larger than this page accepts; nothing was changed.")
			return false
		}
		a.message(w, r, http.StatusBadRequest, "Invalid form", "The form could not be read; nothing was changed.")
		return false
	}
	return true
}

// validCSRF compares a form's token with the session's in constant time.
func validCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// message renders a page that only says something (errors, refusals).
func (a *app) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	p := &page{Title: title, Message: msg, Status: status}
	if s, _, ok := a.sessionOf(r); ok {
		a.signedIn(p, s)
	}
	a.render(w, r, status, "message", p)
}

// pageLibError answers an error of a Manager call as a page: a missing
// key is 404, invalid arguments 400, a store failure 503, anything else is
// logged and answered 500 (as writeLibError does for the JSON API).
func (a *app) pageLibError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, apikey.ErrNotFound):
		a.message(w, r, http.StatusNotFound, "No such key", "This workspace has no such key.")
	case errors.Is(err, apikey.ErrInvalid):
		a.message(w, r, http.StatusBadRequest, "Invalid request", err.Error())
	case errors.Is(err, apikey.ErrStoreUnavailable):
		a.log.LogAttrs(r.Context(), slogWarn, "store unavailable", errAttr(err))
		a.message(w, r, http.StatusServiceUnavailable, "Try again shortly", "The key store is temporarily unavailable; nothing was changed.")
	default:
		a.log.LogAttrs(r.Context(), slogError, "request failed", errAttr(err))
		a.message(w, r, http.StatusInternalServerError, "Something went wrong", "The request failed; nothing was changed.")
	}
}

// formNonces remembers the one-time nonces of create forms already
// submitted, so that a browser resubmitting the form (reload, back) does
// not create a second key. It holds at most maxNonces: when full, nonces
// older than nonceLife are forgotten first, then arbitrary ones.
type formNonces struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// maxNonces bounds the memory of formNonces.
const maxNonces = 10000

// nonceLife is how long a submitted nonce is remembered at least (unless
// maxNonces newer ones push it out).
const nonceLife = 24 * time.Hour

// consume records n and reports whether it was new.
func (f *formNonces) consume(n string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = make(map[string]time.Time)
	}
	if _, dup := f.seen[n]; dup {
		return false
	}
	if len(f.seen) >= maxNonces {
		for k, t := range f.seen {
			if now.Sub(t) > nonceLife {
				delete(f.seen, k)
			}
		}
		for k := range f.seen { // still full: forget arbitrary ones
			if len(f.seen) < maxNonces {
				break
			}
			delete(f.seen, k)
		}
	}
	f.seen[n] = now
	return true
}

// release forgets n, so that the form can be submitted again (creation
// failed).
func (f *formNonces) release(n string) {
	f.mu.Lock()
	delete(f.seen, n)
	f.mu.Unlock()
}
