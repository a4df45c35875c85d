package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// With -max-auth-failures, a client that presents bad keys gets 401s, then
// 429 with Retry-After in the ProjectManager envelope.
func TestAuthFailureThrottle(t *testing.T) {
	b, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), appConfig{
		Backend: b, Secrets: kit.EphemeralSecrets(), Clock: manualClock{apikey.NewManualClock(start)},
		UsageInterval: time.Hour, MaxAuthFailures: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	e := &env{t: t, app: a, srv: srv, base: srv.URL}
	t.Cleanup(e.stop)
	for range 2 {
		e.do(req{method: http.MethodGet, path: "/api/data/api-keys", token: "not-a-key"}).want(t, http.StatusUnauthorized)
	}
	r := e.do(req{method: http.MethodGet, path: "/api/data/api-keys", token: "not-a-key"}).want(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "30" || r.Error.TechnicalError != codeTooManyRequests {
		t.Fatalf("429: Retry-After %q, error %+v", r.Header.Get("Retry-After"), r.Error)
	}
}
