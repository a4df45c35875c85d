package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/sqltest"
)

// A key manager cannot create a key that outlives it: a manager expiring
// in an hour may create keys expiring within that hour, not later; a key
// it creates without expires_at gets the manager's; the operator is not
// bound.
func TestManagerCannotOutliveItself(t *testing.T) {
	e := newEnv(t, sqltest.SQLiteMemory, nil)
	now := e.advance(t, "1s")
	at := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	mgr := e.create(t, testAdmin, map[string]any{
		"project_id": "p1", "name": "mgr", "scopes": []string{"jobs:read", "api-keys:manage"}, "expires_at": at(time.Hour),
	})
	if k := e.create(t, mgr.Key, map[string]any{"project_id": "p1", "name": "child", "scopes": []string{"jobs:read"}}); k.ExpiresAt == nil || !k.ExpiresAt.Equal(*mgr.ExpiresAt) {
		t.Fatalf("child without expires_at expires at %v, want its manager's %v", k.ExpiresAt, mgr.ExpiresAt)
	}
	for name, body := range map[string]map[string]any{
		"after the manager": {"project_id": "p1", "name": "child", "scopes": []string{"jobs:read"}, "expires_at": at(2 * time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			e.do(t, "POST", "/v1/api-keys", mgr.Key, body).wantError(t, http.StatusForbidden, "forbidden")
		})
	}
	child := e.create(t, mgr.Key, map[string]any{
		"project_id": "p1", "name": "child", "scopes": []string{"jobs:read"}, "expires_at": at(time.Hour),
	})
	// Rotating hands out a token with the old key's expiry: a manager may
	// not rotate a key that outlives it.
	forever := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "forever", "scopes": []string{"jobs:read"}})
	e.do(t, "POST", "/v1/api-keys/"+forever.ID+"/rotate", mgr.Key, nil).wantError(t, http.StatusForbidden, "forbidden")
	e.do(t, "POST", "/v1/api-keys/"+child.ID+"/rotate", mgr.Key, map[string]any{"grace_period_seconds": 0}).want(t, http.StatusOK)
	e.advance(t, "2h")
	if s := e.whoamiStatus(t, mgr.Key); s != http.StatusUnauthorized {
		t.Fatalf("manager after its expiry: %d, want 401", s)
	}
	for _, k := range e.list(t, "p1") {
		if k.Name == "child" && k.ExpiresAt.After(now.Add(time.Hour)) {
			t.Fatalf("child %s expires at %v, after its manager", k.ID, k.ExpiresAt)
		}
	}
	if s := e.whoamiStatus(t, child.Key); s != http.StatusUnauthorized {
		t.Fatalf("child after its manager's expiry: %d, want 401", s)
	}
}
