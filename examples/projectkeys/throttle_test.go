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

// The operator token is throttled like any credential: wrong operator
// tokens count as failures of the same throttle, and once an address is
// throttled even the right operator token is refused 429 (else the
// throttle would not slow down guessing the most privileged credential).
func TestAdminTokenThrottled(t *testing.T) {
	c := testConfig()
	c.MaxAuthFailures = 2
	e := newEnv(t, sqltest.SQLiteMemory, &c)
	if r := e.do(t, http.MethodGet, "/v1/api-keys?project_id=p1", testAdmin, nil); r.status != http.StatusOK {
		t.Fatalf("right admin token before any failure: %d, want 200", r.status)
	}
	wrong := testAdmin[:len(testAdmin)-1] + "X"
	for range 2 {
		if r := e.do(t, http.MethodGet, "/v1/api-keys?project_id=p1", wrong, nil); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong admin token: %d, want 401", r.status)
		}
	}
	for _, tok := range []string{wrong, testAdmin} {
		r := e.do(t, http.MethodGet, "/v1/api-keys?project_id=p1", tok, nil)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("token %q from a throttled address: %d, Retry-After %q; want 429 with Retry-After",
				tok[:8], r.status, r.header.Get("Retry-After"))
		}
	}
}
