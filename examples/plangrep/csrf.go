package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// sameOrigin refuses, with 403, a state-changing request that a browser
// sent from another site, so a page elsewhere cannot make a signed-in
// user's browser create or revoke keys with the session cookie:
//
//   - Sec-Fetch-Site "cross-site" or "same-site" is refused ("same-site" is
//     a sibling subdomain: not this origin either); "same-origin" and "none"
//     (a user-initiated request) are served;
//   - an Origin header that is not this server's origin (scheme and host of
//     the request as received: https when the connection is TLS) is
//     refused, "null" included;
//   - a request with neither header (curl, scripts) is served: only
//     browsers attach cookies on their own, and every browser in use sends
//     at least one of the two on a cross-site POST.
//
// Behind a TLS-terminating proxy the connection is plain HTTP while the
// browser's Origin says https; such a deployment must compare against its
// public origin instead.
func (a *app) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := crossSite(r); reason != "" {
			writeError(w, http.StatusForbidden, codeForbidden, "cross-site request refused: "+reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite returns why r looks cross-site, or "".
func crossSite(r *http.Request) string {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))) {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site is not same-origin"
	}
	if vs, ok := r.Header["Origin"]; ok {
		if len(vs) != 1 || !sameOriginAs(vs[0], r) {
			return "Origin is not this server"
		}
	}
	return ""
}

// sameOriginAs reports whether origin (an Origin header value) is the
// origin of the server that received r.
func sameOriginAs(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !strings.EqualFold(u.Scheme, scheme) {
		return false
	}
	return strings.EqualFold(hostPort(u.Host, scheme), hostPort(r.Host, scheme))
}

// hostPort returns host with the scheme's default port made explicit.
func hostPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}
