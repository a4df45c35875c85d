package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadRequests: every malformed or invalid request gets the error
// shape with 400, 404, 405, 413 or 415, never a 500.
func TestBadRequests(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "k"})
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		big := `{"project_id":"p1","name":"` + strings.Repeat("a", 2<<20) + `"}`
		cases := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			code               string
		}{
			{"malformed JSON", "POST", "/v1/api-keys", `{"project_id":`, nil, 400, "bad_request"},
			{"not an object", "POST", "/v1/api-keys", `[]`, nil, 400, "bad_request"},
			{"two values", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a"}{}`, nil, 400, "bad_request"},
			{"unknown field", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","admin":true}`, nil, 400, "bad_request"},
			{"wrong type scopes", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","scopes":"jobs:read"}`, nil, 400, "bad_request"},
			{"wrong type interval", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":"1"}`, nil, 400, "bad_request"},
			{"fractional interval", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":1.5}`, nil, 400, "bad_request"},
			{"empty body", "POST", "/v1/api-keys", ``, nil, 400, "bad_request"},
			{"2 MiB body", "POST", "/v1/api-keys", big, nil, 413, "payload_too_large"},
			{"no content type", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a"}`, []string{"Content-Type", ""}, 415, "unsupported_media_type"},
			{"no content type, rotate", "POST", "/v1/api-keys/01M82VEVEFTYJ29B45XJM0EWZD/rotate", `{}`, []string{"Content-Type", ""}, 415, "unsupported_media_type"},
			{"form content type", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
			{"no project_id", "POST", "/v1/api-keys", `{"name":"a"}`, nil, 400, "bad_request"},
			{"project_id *", "POST", "/v1/api-keys", `{"project_id":"*","name":"a"}`, nil, 400, "bad_request"},
			{"long project_id", "POST", "/v1/api-keys", `{"project_id":"` + strings.Repeat("p", 129) + `","name":"a"}`, nil, 400, "bad_request"},
			{"no name", "POST", "/v1/api-keys", `{"project_id":"p1"}`, nil, 400, "bad_request"},
			{"long name", "POST", "/v1/api-keys", `{"project_id":"p1","name":"` + strings.Repeat("n", 257) + `"}`, nil, 400, "bad_request"},
			{"control in name", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a\u0000b"}`, nil, 400, "bad_request"},
			{"unknown scope", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","scopes":["jobs:delete"]}`, nil, 400, "bad_request"},
			{"malformed scope", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","scopes":["jobs"]}`, nil, 400, "bad_request"},
			{"wildcard scope", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","scopes":["*"]}`, nil, 400, "bad_request"},
			{"expires_at not RFC 3339", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","expires_at":"tomorrow"}`, nil, 400, "bad_request"},
			{"expires_at past", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","expires_at":"` + past + `"}`, nil, 400, "bad_request"},
			{"empty environment_id", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","environment_id":""}`, nil, 400, "bad_request"},
			{"interval 0", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":0}`, nil, 400, "bad_request"},
			{"interval negative", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":-1}`, nil, 400, "bad_request"},
			{"interval too long", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":3651}`, nil, 400, "bad_request"},
			{"webhook without interval", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_webhook_url":"http://127.0.0.1:1/h"}`, nil, 400, "bad_request"},
			{"webhook to metadata address", "POST", "/v1/api-keys", `{"project_id":"p1","name":"a","rotation_interval_days":1,"rotation_webhook_url":"http://169.254.169.254/"}`, nil, 400, "bad_request"},
			{"list without project_id", "GET", "/v1/api-keys", nil, nil, 400, "bad_request"},
			{"list with empty project_id", "GET", "/v1/api-keys?project_id=", nil, nil, 400, "bad_request"},
			{"rotate negative grace", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{"grace_period_seconds":-1}`, nil, 400, "bad_request"},
			{"rotate grace over max", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{"grace_period_seconds":2592001}`, nil, 400, "bad_request"},
			{"rotate huge grace", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{"grace_period_seconds":9223372036854775807}`, nil, 400, "bad_request"},
			{"rotate grace wrong type", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{"grace_period_seconds":"60"}`, nil, 400, "bad_request"},
			{"rotate unknown field", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{"grace":60}`, nil, 400, "bad_request"},
			{"rotate malformed JSON", "POST", "/v1/api-keys/" + k.ID + "/rotate", `{`, nil, 400, "bad_request"},
			{"rotate unknown key", "POST", "/v1/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV/rotate", nil, nil, 404, "not_found"},
			{"rotate malformed id", "POST", "/v1/api-keys/not-an-id/rotate", nil, nil, 404, "not_found"},
			{"revoke unknown key", "DELETE", "/v1/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, nil, 404, "not_found"},
			{"revoke malformed id", "DELETE", "/v1/api-keys/zz", nil, nil, 404, "not_found"},
			{"unknown route", "GET", "/v1/nothing", nil, nil, 404, "not_found"},
			{"root", "GET", "/", nil, nil, 404, "not_found"},
			{"trailing slash", "GET", "/v1/api-keys/", nil, nil, 404, "not_found"},
			{"wrong method on collection", "PUT", "/v1/api-keys", `{}`, nil, 405, "method_not_allowed"},
			{"wrong method on key", "GET", "/v1/api-keys/" + k.ID, nil, nil, 405, "method_not_allowed"},
			{"wrong method on rotate", "GET", "/v1/api-keys/" + k.ID + "/rotate", nil, nil, 405, "method_not_allowed"},
			{"wrong method on whoami", "POST", "/v1/whoami", nil, nil, 405, "method_not_allowed"},
			{"wrong method on dev clock", "GET", "/dev/clock", nil, nil, 405, "method_not_allowed"},
			{"clock bad advance", "POST", "/dev/clock", `{"advance":"soon"}`, nil, 400, "bad_request"},
			{"clock negative advance", "POST", "/dev/clock", `{"advance":"-1h"}`, nil, 400, "bad_request"},
			{"clock unknown field", "POST", "/dev/clock", `{"advance":"1h","x":1}`, nil, 400, "bad_request"},
			{"bootstrap no project", "POST", "/dev/bootstrap", `{}`, nil, 400, "bad_request"},
			{"bootstrap wrong type", "POST", "/dev/bootstrap", `{"project_id":1}`, nil, 400, "bad_request"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e.do(t, c.method, c.path, testAdmin, c.body, c.headers...).wantError(t, c.status, c.code)
			})
		}
		if find(t, e.list(t, "p1"), k.ID).ReplacedByKeyID != nil || len(e.list(t, "p1")) != 1 {
			t.Fatal("a refused request changed the store")
		}
	})
}

// TestDevEndpoints: /dev/clock moves the clock, /dev/bootstrap makes a
// key with every catalogue scope; without -dev both are unknown routes.
func TestDevEndpoints(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		before := e.advance(t, "0s")
		after := e.advance(t, "2d")
		if d := after.Sub(before); d < 48*time.Hour || d > 48*time.Hour+time.Minute {
			t.Fatalf("clock moved %v, want 48h", d)
		}
		r := e.do(t, "POST", "/dev/bootstrap", "", map[string]string{"project_id": "p9"}).want(t, http.StatusCreated)
		key := decode[map[string]string](t, r)["key"]
		who := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", key, nil).want(t, http.StatusOK))
		if who["project_id"] != "p9" || len(who["scopes"].([]any)) != len(catalogue) {
			t.Fatalf("bootstrap key %v", who)
		}
	})
	cfg := testConfig()
	cfg.Dev = false
	e := newEnv(t, "sqlite_file", &cfg)
	e.do(t, "POST", "/dev/clock", "", map[string]string{"advance": "1h"}).wantError(t, http.StatusNotFound, "not_found")
	e.do(t, "POST", "/dev/bootstrap", "", map[string]string{"project_id": "p1"}).wantError(t, http.StatusNotFound, "not_found")
}
