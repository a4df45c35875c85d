package main

import "net/http"

// envelopeMux serves the routes of mux and answers everything the mux
// answers by itself (unknown route 404, wrong method 405 with Allow,
// path-cleaning redirects with Location) in the envelope too. The routes
// are registered through ours, which marks a request as served by a route;
// any other answer is the mux's, whose text body is replaced.
type envelopeMux struct{ mux *http.ServeMux }

// ours marks h as a route of an envelopeMux.
func ours(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mw, ok := w.(*muxWriter); ok {
			mw.routed = true
			w = mw.ResponseWriter
		}
		h.ServeHTTP(w, r)
	})
}

func (e envelopeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mw := &muxWriter{ResponseWriter: w}
	e.mux.ServeHTTP(mw, r)
	if mw.routed {
		return
	}
	status := mw.status
	if status == 0 {
		status = http.StatusNotFound
	}
	switch {
	case status == http.StatusMethodNotAllowed:
		writeError(w, status, codeMethodNotAllowed, "method "+r.Method+" is not allowed here; see the Allow header", nil)
	case status >= 300 && status < 400:
		writeError(w, status, codeRedirect, "see the Location header", nil)
	default:
		writeError(w, status, codeNotFound, "no such route", nil)
	}
}

// muxWriter stands for the ResponseWriter while the mux picks a handler:
// a route takes the real writer back (see ours); for the mux's own answers
// it keeps the status, lets headers such as Allow and Location through,
// and drops the text body.
type muxWriter struct {
	http.ResponseWriter
	routed bool
	status int
}

func (m *muxWriter) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
}

func (m *muxWriter) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = http.StatusOK
	}
	return len(b), nil
}
