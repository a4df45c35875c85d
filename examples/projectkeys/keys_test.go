package main

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKeyLifecycle walks create, whoami, list, rotate with grace, the end
// of grace, conflicts and revoke, driven by a project key.
func TestKeyLifecycle(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot := e.bootstrap(t, "p1")
		who := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", boot, nil).want(t, http.StatusOK))
		if who["project_id"] != "p1" || who["environment_id"] != nil || len(who["scopes"].([]any)) != 4 || who["key_id"] == "" {
			t.Fatalf("bootstrap whoami %v", who)
		}

		k := e.create(t, boot, map[string]any{
			"project_id": "p1", "name": "ci", "scopes": []string{"jobs:read", "runs:read"},
			"environment_id": "env_prod", "rotation_interval_days": 30,
		})
		if !strings.HasPrefix(k.Key, "pk_live_") || !strings.HasPrefix(k.Key, k.KeyPrefix) || k.KeyPrefix == k.Key {
			t.Fatalf("key %q, prefix %q", k.Key, k.KeyPrefix)
		}
		if k.ProjectID != "p1" || k.Name != "ci" || !slices.Equal(k.Scopes, []string{"jobs:read", "runs:read"}) ||
			*k.EnvironmentID != "env_prod" || *k.RotationIntervalDays != 30 || k.RotationWebhookURL != nil ||
			k.RotationWebhookSecret != "" || k.ExpiresAt != nil || k.LastUsedAt != nil || k.RevokedAt != nil ||
			k.ReplacedByKeyID != nil || k.GraceExpiresAt != nil {
			t.Fatalf("created %+v", k)
		}
		if !k.NextRotationAt.Equal(k.CreatedAt.Add(30 * 24 * time.Hour)) {
			t.Fatalf("next_rotation_at %v, created_at %v", k.NextRotationAt, k.CreatedAt)
		}
		// The list holds seed 003's fields, exactly, and no token.
		raw := decode[[]map[string]any](t, e.do(t, "GET", "/v1/api-keys?project_id=p1", boot, nil).want(t, http.StatusOK))
		seedFields := []string{"id", "project_id", "name", "key_prefix", "scopes", "expires_at", "last_used_at",
			"created_at", "revoked_at", "replaced_by_key_id", "grace_expires_at", "environment_id",
			"rotation_interval_days", "next_rotation_at", "rotation_webhook_url",
			"enabled", "ratelimits", "credits", "ip_allowlist"}
		for _, rec := range raw {
			got := slices.Sorted(maps.Keys(rec))
			if !slices.Equal(got, slices.Sorted(slices.Values(seedFields))) {
				t.Fatalf("record fields %v, want %v", got, seedFields)
			}
		}
		w := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusOK))
		if w["key_id"] != k.ID || w["project_id"] != "p1" || w["environment_id"] != "env_prod" || len(w) != 4 {
			t.Fatalf("whoami %v", w)
		}

		// Rotate with a one-hour grace.
		r := decode[wireRotated](t, e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", boot,
			map[string]any{"grace_period_seconds": 3600}).want(t, http.StatusOK))
		if r.OldKeyID != k.ID || r.NewKeyID == k.ID || r.ProjectID != "p1" || r.Name != "ci" ||
			!strings.HasPrefix(r.Key, r.KeyPrefix) || !slices.Equal(r.Scopes, k.Scopes) || r.ExpiresAt != nil {
			t.Fatalf("rotated %+v", r)
		}
		if got := r.GraceExpiresAt.Sub(*r.CreatedAt); got != time.Hour {
			t.Fatalf("grace %v after rotation, want 1h", got)
		}
		keys := e.list(t, "p1")
		old, succ := find(t, keys, k.ID), find(t, keys, r.NewKeyID)
		if *old.ReplacedByKeyID != r.NewKeyID || !old.GraceExpiresAt.Equal(*r.GraceExpiresAt) || old.RevokedAt != nil {
			t.Fatalf("old after rotate %+v", old)
		}
		if *succ.EnvironmentID != "env_prod" || *succ.RotationIntervalDays != 30 || succ.ReplacedByKeyID != nil {
			t.Fatalf("successor %+v", succ)
		}
		if e.whoamiStatus(t, k.Key) != 200 || e.whoamiStatus(t, r.Key) != 200 {
			t.Fatal("old key in grace or successor refused")
		}
		// Rotating a replaced key conflicts.
		e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", boot, nil).wantError(t, http.StatusConflict, "conflict")

		e.advance(t, "59m")
		if e.whoamiStatus(t, k.Key) != 200 {
			t.Fatal("old key refused inside its grace")
		}
		e.advance(t, "2m")
		res := e.do(t, "GET", "/v1/whoami", k.Key, nil)
		res.wantError(t, http.StatusUnauthorized, "unauthorized")
		if h := res.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
			t.Fatalf("WWW-Authenticate %q", h)
		}
		if e.whoamiStatus(t, r.Key) != 200 {
			t.Fatal("successor refused")
		}

		// Revoke the successor: 204 with no body, then 401, 409 on rotate,
		// and a second revoke changes nothing.
		d := e.do(t, "DELETE", "/v1/api-keys/"+r.NewKeyID, boot, nil).want(t, http.StatusNoContent)
		if len(d.body) != 0 {
			t.Fatalf("204 with body %q", d.body)
		}
		if e.whoamiStatus(t, r.Key) != 401 {
			t.Fatal("revoked key accepted")
		}
		revokedAt := find(t, e.list(t, "p1"), r.NewKeyID).RevokedAt
		if revokedAt == nil {
			t.Fatal("revoked_at not set")
		}
		e.do(t, "POST", "/v1/api-keys/"+r.NewKeyID+"/rotate", boot, nil).wantError(t, http.StatusConflict, "conflict")
		e.advance(t, "1m")
		e.do(t, "DELETE", "/v1/api-keys/"+r.NewKeyID, boot, nil).want(t, http.StatusNoContent)
		if again := find(t, e.list(t, "p1"), r.NewKeyID).RevokedAt; !again.Equal(*revokedAt) {
			t.Fatalf("second revoke moved revoked_at %v -> %v", revokedAt, again)
		}
	})
}

// TestRotateGrace covers grace 0, the default grace, and grace capped by
// the key's expiry, whose successor keeps the same expiry.
func TestRotateGrace(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		now := e.advance(t, "0s")
		k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "a", "scopes": []string{"jobs:read"}})
		r := decode[wireRotated](t, e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", testAdmin,
			map[string]any{"grace_period_seconds": 0}).want(t, http.StatusOK))
		if e.whoamiStatus(t, k.Key) != 401 || e.whoamiStatus(t, r.Key) != 200 {
			t.Fatal("grace 0: old key must stop at once, successor work")
		}
		if old := find(t, e.list(t, "p1"), k.ID); old.RevokedAt == nil || *old.ReplacedByKeyID != r.NewKeyID {
			t.Fatalf("grace 0 old %+v", old)
		}

		// Default grace (no body, then an empty object): one hour.
		for _, body := range []any{nil, map[string]any{}} {
			k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "b"})
			r := decode[wireRotated](t, e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", testAdmin, body).want(t, http.StatusOK))
			if got := r.GraceExpiresAt.Sub(*r.CreatedAt); got != time.Hour {
				t.Fatalf("default grace %v", got)
			}
		}

		// The grace never runs past the key's expiry; the successor keeps it.
		exp := now.Add(30 * time.Minute).Truncate(time.Second)
		k = e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "c", "expires_at": exp.Format(time.RFC3339)})
		if !k.ExpiresAt.Equal(exp) {
			t.Fatalf("expires_at %v, want %v", k.ExpiresAt, exp)
		}
		r = decode[wireRotated](t, e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", testAdmin,
			map[string]any{"grace_period_seconds": 7200}).want(t, http.StatusOK))
		if !r.GraceExpiresAt.Equal(exp) || !r.ExpiresAt.Equal(exp) {
			t.Fatalf("grace %v, successor expiry %v, want both %v", r.GraceExpiresAt, r.ExpiresAt, exp)
		}
		e.advance(t, "31m")
		if e.whoamiStatus(t, k.Key) != 401 || e.whoamiStatus(t, r.Key) != 401 {
			t.Fatal("keys accepted after their expiry")
		}
		e.do(t, "POST", "/v1/api-keys/"+r.NewKeyID+"/rotate", testAdmin, nil).wantError(t, http.StatusConflict, "conflict")
	})
}

// TestProjectIsolationAndEscalation checks what a project key may do:
// only its own project, only with api-keys:manage, never grant or rotate
// scopes it lacks; the operator token reaches every project.
func TestProjectIsolationAndEscalation(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot1, boot2 := e.bootstrap(t, "p1"), e.bootstrap(t, "p2")
		k2 := e.create(t, boot2, map[string]any{"project_id": "p2", "name": "other", "scopes": []string{"jobs:read"}})
		limited := e.create(t, boot1, map[string]any{"project_id": "p1", "name": "mgr",
			"scopes": []string{"api-keys:manage", "jobs:read"}})
		reader := e.create(t, boot1, map[string]any{"project_id": "p1", "name": "reader", "scopes": []string{"jobs:read"}})
		writer := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "writer", "scopes": []string{"jobs:write"}})

		// Another project's keys are not found.
		e.do(t, "DELETE", "/v1/api-keys/"+k2.ID, boot1, nil).wantError(t, http.StatusNotFound, "not_found")
		e.do(t, "POST", "/v1/api-keys/"+k2.ID+"/rotate", boot1, nil).wantError(t, http.StatusNotFound, "not_found")
		e.do(t, "GET", "/v1/api-keys?project_id=p2", boot1, nil).wantError(t, http.StatusNotFound, "not_found")
		e.do(t, "POST", "/v1/api-keys", boot1, map[string]any{"project_id": "p2", "name": "x"}).
			wantError(t, http.StatusNotFound, "not_found")
		if e.whoamiStatus(t, k2.Key) != 200 {
			t.Fatal("p2 key harmed by p1's attempts")
		}
		listed := decode[[]wireKey](t, e.do(t, "GET", "/v1/api-keys?project_id=p1", boot1, nil).want(t, http.StatusOK))
		for _, k := range listed {
			if k.ProjectID != "p1" || k.Key != "" {
				t.Fatalf("p1 list holds %+v", k)
			}
		}
		if len(listed) != 4 {
			t.Fatalf("p1 lists %d keys, want 4", len(listed))
		}

		// Without api-keys:manage: 403 insufficient_scope on management,
		// whoami still works.
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/api-keys?project_id=p1"}, {"POST", "/v1/api-keys"},
			{"DELETE", "/v1/api-keys/" + writer.ID}, {"POST", "/v1/api-keys/" + writer.ID + "/rotate"},
		} {
			var body any
			if c.method == "POST" {
				body = map[string]any{"project_id": "p1", "name": "x"}
			}
			r := e.do(t, c.method, c.path, reader.Key, body)
			r.wantError(t, http.StatusForbidden, "forbidden")
			if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) ||
				!strings.Contains(h, `scope="api-keys:manage"`) {
				t.Fatalf("%s %s: WWW-Authenticate %q", c.method, c.path, h)
			}
		}
		if e.whoamiStatus(t, reader.Key) != 200 {
			t.Fatal("whoami refused a key without api-keys:manage")
		}

		// A manager cannot grant or rotate scopes it lacks.
		e.do(t, "POST", "/v1/api-keys", limited.Key, map[string]any{"project_id": "p1", "name": "x", "scopes": []string{"jobs:write"}}).
			wantError(t, http.StatusForbidden, "forbidden")
		e.do(t, "POST", "/v1/api-keys/"+writer.ID+"/rotate", limited.Key, nil).wantError(t, http.StatusForbidden, "forbidden")
		if find(t, e.list(t, "p1"), writer.ID).ReplacedByKeyID != nil {
			t.Fatal("refused rotation changed the key")
		}
		// It can grant what it holds, and rotate and revoke within its project.
		sub := e.create(t, limited.Key, map[string]any{"project_id": "p1", "name": "sub", "scopes": []string{"jobs:read"}})
		e.do(t, "POST", "/v1/api-keys/"+sub.ID+"/rotate", limited.Key, nil).want(t, http.StatusOK)
		e.do(t, "DELETE", "/v1/api-keys/"+writer.ID, limited.Key, nil).want(t, http.StatusNoContent)

		// The operator reaches every project.
		if len(e.list(t, "p2")) != 2 {
			t.Fatal("operator list of p2")
		}
		e.do(t, "DELETE", "/v1/api-keys/"+k2.ID, testAdmin, nil).want(t, http.StatusNoContent)
		if who := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", testAdmin, nil).want(t, http.StatusOK)); who["admin"] != true {
			t.Fatalf("operator whoami %v", who)
		}
		// An unknown project is an empty list for the operator, never null.
		if r := e.do(t, "GET", "/v1/api-keys?project_id=nobody", testAdmin, nil).want(t, http.StatusOK); strings.TrimSpace(string(r.body)) != "[]" {
			t.Fatalf("empty list %s", r.body)
		}
	})
}

// TestAuthentication covers missing, malformed, unknown and near-miss
// credentials.
func TestAuthentication(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		r := e.do(t, "GET", "/v1/whoami", "", nil)
		r.wantError(t, http.StatusUnauthorized, "unauthorized")
		if h := r.header.Get("WWW-Authenticate"); h != `Bearer realm="projectkeys"` {
			t.Fatalf("WWW-Authenticate %q", h)
		}
		boot := e.bootstrap(t, "p1")
		for name, tok := range map[string]string{
			"garbage":        "not-a-key",
			"checksum typo":  boot[:len(boot)-1] + string(boot[len(boot)-1]^1),
			"admin prefix":   testAdmin[:len(testAdmin)-1],
			"admin extended": testAdmin + "x",
		} {
			r := e.do(t, "GET", "/v1/api-keys?project_id=p1", tok, nil)
			r.wantError(t, http.StatusUnauthorized, "unauthorized")
			if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("%s: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
			}
		}
		e.do(t, "GET", "/v1/whoami", "", nil, "Authorization", "Basic dXNlcjpwYXNz").wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestLastUsed: a use shows in last_used_at once the tracker flushes.
func TestLastUsed(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "u"})
		at := e.advance(t, "1m")
		e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusOK)
		if find(t, e.list(t, "p1"), k.ID).LastUsedAt != nil {
			t.Fatal("last_used_at before a flush (interval is 1h in tests)")
		}
		if err := e.app.tracker.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := find(t, e.list(t, "p1"), k.ID).LastUsedAt
		if got == nil || got.Before(at.Add(-time.Second)) {
			t.Fatalf("last_used_at %v, want about %v", got, at)
		}
	})
}
