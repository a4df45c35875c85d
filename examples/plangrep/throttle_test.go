package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
)

// With -max-auth-failures, a client that presents bad keys gets 401s, then
// 429 with Retry-After, even for a valid key, until a failure is forgiven.
func TestAuthFailureThrottle(t *testing.T) {
	b, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	s := startApp(t, appConfig{
		Backend: b, Secrets: kit.EphemeralSecrets(), Clock: &kit.DevClock{},
		UsageInterval: time.Hour, MaxAuthFailures: 2,
	})
	bad := withBearer("pgk_live_not-a-key")
	for range 2 {
		if r := s.do(http.MethodGet, "/api/open/v1/jobs", nil, bad); r.status != http.StatusUnauthorized {
			t.Fatalf("bad key: %d, want 401", r.status)
		}
	}
	r := s.do(http.MethodGet, "/api/open/v1/jobs", nil, bad)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "30" {
		t.Fatalf("third bad key: %d, Retry-After %q; want 429, 30", r.status, r.header.Get("Retry-After"))
	}
}
