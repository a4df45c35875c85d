package main

import (
	"net/http"
	"testing"
	"time"
)

// GET /v1/api-keys/expiring lists a project's working keys expiring within
// the window, soonest first, page by page, and checks its parameters.
func TestListExpiring(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot := e.bootstrap(t, "p1")
		now := e.app.m.Now()
		in := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
		k3 := e.create(t, boot, map[string]any{"project_id": "p1", "name": "3d", "scopes": []string{"jobs:read"}, "expires_at": in(72 * time.Hour)})
		k1 := e.create(t, boot, map[string]any{"project_id": "p1", "name": "1d", "scopes": []string{"jobs:read"}, "expires_at": in(24 * time.Hour)})
		e.create(t, boot, map[string]any{"project_id": "p1", "name": "30d", "scopes": []string{"jobs:read"}, "expires_at": in(30 * 24 * time.Hour)})
		revoked := e.create(t, boot, map[string]any{"project_id": "p1", "name": "gone", "scopes": []string{"jobs:read"}, "expires_at": in(48 * time.Hour)})
		e.do(t, "DELETE", "/v1/api-keys/"+revoked.ID, boot, nil).want(t, http.StatusNoContent)
		other := e.bootstrap(t, "p2")
		e.create(t, other, map[string]any{"project_id": "p2", "name": "p2", "scopes": []string{"jobs:read"}, "expires_at": in(time.Hour)})

		type page struct {
			Keys       []wireKey `json:"keys"`
			NextCursor *string   `json:"next_cursor"`
		}
		p := decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&limit=1", boot, nil).want(t, http.StatusOK))
		if len(p.Keys) != 1 || p.Keys[0].ID != k1.ID || p.NextCursor == nil {
			t.Fatalf("first page %+v", p)
		}
		p = decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&limit=1&cursor="+*p.NextCursor, boot, nil).want(t, http.StatusOK))
		if len(p.Keys) != 1 || p.Keys[0].ID != k3.ID || p.NextCursor != nil {
			t.Fatalf("second page %+v", p)
		}
		p = decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&within_days=60", testAdmin, nil).want(t, http.StatusOK))
		if len(p.Keys) != 3 {
			t.Fatalf("within 60 days: %d keys, want 3", len(p.Keys))
		}
		for _, bad := range []string{"", "project_id=p1&within_days=0", "project_id=p1&limit=5000", "project_id=p1&cursor=nope"} {
			e.do(t, "GET", "/v1/api-keys/expiring?"+bad, boot, nil).wantError(t, http.StatusBadRequest, "bad_request")
		}
		e.do(t, "GET", "/v1/api-keys/expiring?project_id=p2", boot, nil).want(t, http.StatusNotFound)
	})
}
