package main

import (
	"net/http"
	"testing"

	"github.com/apikit/apikey/examples/internal/sqltest"
)

// With -max-auth-failures, a client that presents bad keys gets 401s, then
// 429 with Retry-After until a failure is forgiven.
func TestAuthFailureThrottle(t *testing.T) {
	c := testConfig()
	c.MaxAuthFailures = 2
	e := newEnv(t, sqltest.SQLiteMemory, &c)
	for range 2 {
		if r := e.do(t, http.MethodGet, "/v1/whoami", "pk_live_not-a-key", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("bad key: %d, want 401", r.status)
		}
	}
	r := e.do(t, http.MethodGet, "/v1/whoami", "pk_live_not-a-key", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "30" {
		t.Fatalf("third bad key: %d, Retry-After %q; want 429, 30", r.status, r.header.Get("Retry-After"))
	}
}
