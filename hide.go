package apikey

import (
	"net/http"
	"net/url"
)

// WithHideCredentials makes Middleware remove the credentials it accepted
// from the request it passes on: the Authorization header when it carries
// our Bearer token, the WithHeader header and the WithQueryParam parameter
// (from URL.RawQuery and RequestURI). Handlers behind the middleware, and
// anything they log or proxy, then never see the token; they get the
// verified key from the context (FromContext) instead. An Authorization
// header with another scheme (Basic...) is not ours and is left alone.
// The original request is not modified: the handler gets a copy.
func WithHideCredentials() MiddlewareOption {
	return func(a *Authenticator) error {
		a.hide = true
		return nil
	}
}

// withoutCredentials returns a shallow copy of r without the credentials
// this authenticator reads (see WithHideCredentials). Only what it changes
// is copied: the header map, and the URL when the query changes.
func (a *Authenticator) withoutCredentials(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	h := r.Header.Clone()
	if vs := h["Authorization"]; len(vs) == 1 {
		if _, bearer, _ := parseBearer(vs[0]); bearer {
			delete(h, "Authorization")
		}
	}
	if a.header != "" {
		delete(h, a.header)
	}
	r2.Header = h
	if a.query != "" && r.URL != nil && r.URL.RawQuery != "" {
		q := r.URL.Query()
		if _, ok := q[a.query]; ok {
			q.Del(a.query)
			u := *r.URL
			u.RawQuery = q.Encode()
			r2.URL = &u
			r2.RequestURI = requestURI(&u)
			r2.Form, r2.PostForm = nil, nil // parsed from the old query, if at all
		}
	}
	return r2
}

// requestURI is what RequestURI holds for u on a server request.
func requestURI(u *url.URL) string {
	if u.RawQuery == "" {
		return u.EscapedPath()
	}
	return u.EscapedPath() + "?" + u.RawQuery
}
