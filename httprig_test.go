package apikey_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/apikit/apikey"
)

// httpRig is a faultRig behind the middleware, serving a handler that
// counts the requests it let through and answers 200 with the key's ID.
type httpRig struct {
	*faultRig
	h      http.Handler
	passed atomic.Int64
}

func newHTTPRig(t testing.TB, opts ...apikey.MiddlewareOption) *httpRig {
	t.Helper()
	r := &httpRig{faultRig: newFaultRig(t)}
	auth, err := apikey.NewAuthenticator(r.m, opts...)
	if err != nil {
		t.Fatalf("NewAuthenticator: %v", err)
	}
	r.h = auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		k, ok := apikey.FromContext(req.Context())
		if !ok {
			http.Error(w, "no key in context", http.StatusInternalServerError)
			return
		}
		r.passed.Add(1)
		_, _ = w.Write([]byte(k.ID))
	}))
	return r
}

// do sends one request from remote (host:port) with the given
// Authorization header value ("" for none).
func (r *httpRig) do(remote, authz string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/jobs", nil)
	req.RemoteAddr = remote
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	return rec
}
