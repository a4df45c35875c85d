package main

import (
	"net/http"
	"strings"
	"testing"
)

// ctlKey is a record's control fields as a client reads them.
type ctlKey struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Enabled    bool   `json:"enabled"`
	RateLimits []struct {
		Name       string `json:"name"`
		Limit      int64  `json:"limit"`
		DurationMS int64  `json:"duration_ms"`
		Shared     bool   `json:"shared"`
	} `json:"ratelimits"`
	Credits *struct {
		Remaining             int64  `json:"remaining"`
		RefillAmount          *int64 `json:"refill_amount"`
		RefillIntervalSeconds *int64 `json:"refill_interval_seconds"`
	} `json:"credits"`
	IPAllowlist []string `json:"ip_allowlist"`
}

// TestControlsEndToEnd: create with controls, the answers on a protected
// endpoint (429 rate_limited with headers, 429 usage_exceeded, 403
// forbidden, 401 disabled), and PATCH, on every engine.
func TestControlsEndToEnd(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot := e.bootstrap(t, "p1")
		k := decode[ctlKey](t, e.do(t, "POST", "/v1/api-keys", testAdmin, map[string]any{
			"project_id": "p1", "name": "limited", "scopes": []string{"jobs:read"},
			"ratelimits": []map[string]any{{"name": "per_min", "limit": 2, "duration_ms": 60000}},
		}).want(t, http.StatusCreated))
		if !k.Enabled || len(k.RateLimits) != 1 || k.RateLimits[0].DurationMS != 60000 || k.Credits != nil || len(k.IPAllowlist) != 0 {
			t.Fatalf("created %+v", k)
		}
		e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, 200)
		e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, 200)
		r := e.do(t, "GET", "/v1/whoami", k.Key, nil)
		r.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if r.header.Get("Retry-After") == "" || r.header.Get("RateLimit-Policy") != `"per_min";q=2;w=60` ||
			!strings.HasPrefix(r.header.Get("RateLimit"), `"per_min";r=0;t=`) {
			t.Fatalf("429 headers %v", r.header)
		}

		c := decode[ctlKey](t, e.do(t, "POST", "/v1/api-keys", testAdmin, map[string]any{
			"project_id": "p1", "name": "credits", "scopes": []string{"jobs:read"},
			"credits": map[string]any{"remaining": 2, "refill_amount": 5, "refill_interval_seconds": 3600},
		}).want(t, http.StatusCreated))
		if c.Credits == nil || c.Credits.Remaining != 2 || *c.Credits.RefillAmount != 5 || *c.Credits.RefillIntervalSeconds != 3600 {
			t.Fatalf("created credits %+v", c.Credits)
		}
		e.do(t, "GET", "/v1/whoami", c.Key, nil).want(t, 200)
		e.do(t, "GET", "/v1/whoami", c.Key, nil).want(t, 200)
		e.do(t, "GET", "/v1/whoami", c.Key, nil).wantError(t, http.StatusTooManyRequests, "usage_exceeded")
		e.advance(t, "1h")
		e.do(t, "GET", "/v1/whoami", c.Key, nil).want(t, 200) // refilled

		ip := decode[ctlKey](t, e.do(t, "POST", "/v1/api-keys", testAdmin, map[string]any{
			"project_id": "p1", "name": "fenced", "scopes": []string{}, "ip_allowlist": []string{"192.0.2.0/24"},
		}).want(t, http.StatusCreated))
		e.do(t, "GET", "/v1/whoami", ip.Key, nil).wantError(t, http.StatusForbidden, "forbidden")
		// PATCH the allowlist to include loopback: accepted from now on.
		p := decode[ctlKey](t, e.do(t, "PATCH", "/v1/api-keys/"+ip.ID, testAdmin, map[string]any{
			"ip_allowlist": []string{"127.0.0.0/8", "::1"}, "name": "open",
		}).want(t, 200))
		if len(p.IPAllowlist) != 2 || p.IPAllowlist[1] != "::1/128" {
			t.Fatalf("patched allowlist %v", p.IPAllowlist)
		}
		e.do(t, "GET", "/v1/whoami", ip.Key, nil).want(t, 200)

		// Disable: 401 like any invalid key; enable again.
		e.do(t, "PATCH", "/v1/api-keys/"+ip.ID, boot, map[string]any{"enabled": false}).want(t, 200)
		e.do(t, "GET", "/v1/whoami", ip.Key, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do(t, "PATCH", "/v1/api-keys/"+ip.ID, boot, map[string]any{"enabled": true}).want(t, 200)
		e.do(t, "GET", "/v1/whoami", ip.Key, nil).want(t, 200)

		// Credits set to null: unlimited.
		u := decode[ctlKey](t, e.do(t, "PATCH", "/v1/api-keys/"+c.ID, boot, map[string]any{"credits": nil}).want(t, 200))
		if u.Credits != nil {
			t.Fatalf("credits after null: %+v", u.Credits)
		}
		// Unknown and another project's keys.
		e.do(t, "PATCH", "/v1/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", boot, map[string]any{"enabled": false}).wantError(t, 404, "not_found")
		other := e.bootstrap(t, "p2")
		e.do(t, "PATCH", "/v1/api-keys/"+c.ID, other, map[string]any{"enabled": false}).wantError(t, 404, "not_found")
	})
}

// TestControlsBadInput: invalid control values get a 400 that names the
// field, on create and on PATCH.
func TestControlsBadInput(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot := e.bootstrap(t, "p1")
		k := e.create(t, boot, map[string]any{"project_id": "p1", "name": "x", "scopes": []string{"jobs:read"}})
		many := make([]map[string]any, 17)
		for i := range many {
			many[i] = map[string]any{"name": "l" + string(rune('a'+i)), "limit": 1, "duration_ms": 1000}
		}
		cidrs := make([]string, 65)
		for i := range cidrs {
			cidrs[i] = "10.0.0.0/8"
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"zero limit", map[string]any{"ratelimits": []map[string]any{{"name": "a", "limit": 0, "duration_ms": 1000}}}, "ratelimits[0].limit"},
			{"negative limit", map[string]any{"ratelimits": []map[string]any{{"name": "a", "limit": -3, "duration_ms": 1000}}}, "ratelimits[0].limit"},
			{"window under 1 ms", map[string]any{"ratelimits": []map[string]any{{"name": "a", "limit": 1, "duration_ms": 0}}}, "ratelimits[0].duration_ms"},
			{"window over a year", map[string]any{"ratelimits": []map[string]any{{"name": "a", "limit": 1, "duration_ms": 366 * 86400000}}}, "ratelimits[0].duration_ms"},
			{"17 limits", map[string]any{"ratelimits": many}, "ratelimits"},
			{"duplicate names", map[string]any{"ratelimits": []map[string]any{{"name": "a", "limit": 1, "duration_ms": 1000}, {"name": "a", "limit": 2, "duration_ms": 1000}}}, "ratelimits[1].name"},
			{"bad CIDR", map[string]any{"ip_allowlist": []string{"10.0.0.0/33"}}, "ip_allowlist[0]"},
			{"65 CIDRs", map[string]any{"ip_allowlist": cidrs}, "ip_allowlist"},
			{"negative credits", map[string]any{"credits": map[string]any{"remaining": -1}}, "credits.remaining"},
			{"overflowing credits", map[string]any{"credits": map[string]any{"remaining": 1e18}}, "credits.remaining"},
			{"huge credits", map[string]any{"credits": map[string]any{"remaining": 1e30}}, "credits"},
			{"negative refill", map[string]any{"credits": map[string]any{"remaining": 1, "refill_amount": -1, "refill_interval_seconds": 60}}, "credits.refill_amount"},
			{"zero refill interval", map[string]any{"credits": map[string]any{"remaining": 1, "refill_interval_seconds": 0}}, "credits.refill_interval_seconds"},
		} {
			body := map[string]any{"project_id": "p1", "name": "bad", "scopes": []string{"jobs:read"}}
			for k, v := range tc.body {
				body[k] = v
			}
			for _, r := range []resp{e.do(t, "POST", "/v1/api-keys", boot, body), e.do(t, "PATCH", "/v1/api-keys/"+k.ID, boot, tc.body)} {
				r.wantError(t, http.StatusBadRequest, "bad_request")
				if !strings.Contains(string(r.body), tc.field) {
					t.Errorf("%s: %s does not name %s", tc.name, r.body, tc.field)
				}
			}
		}
	})
}

// TestKeyManagerCannotEscalate: a key manager cannot create or change a
// key to outlive itself nor lift limits it is itself under.
func TestKeyManagerCannotEscalate(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		mgr := decode[ctlKey](t, e.do(t, "POST", "/v1/api-keys", testAdmin, map[string]any{
			"project_id": "p1", "name": "mgr", "scopes": []string{"api-keys:manage", "jobs:read"},
			"expires_at":   "2099-01-01T00:00:00Z",
			"ratelimits":   []map[string]any{{"name": "rps", "limit": 100, "duration_ms": 1000}},
			"credits":      map[string]any{"remaining": 1000},
			"ip_allowlist": []string{"127.0.0.0/8", "::1/128"},
		}).want(t, http.StatusCreated))
		ok := map[string]any{"project_id": "p1", "name": "child", "scopes": []string{"jobs:read"},
			"ratelimits":   []map[string]any{{"name": "rps", "limit": 10, "duration_ms": 1000}},
			"credits":      map[string]any{"remaining": 10},
			"ip_allowlist": []string{"127.0.0.1"}}
		child := decode[ctlKey](t, e.do(t, "POST", "/v1/api-keys", mgr.Key, ok).want(t, http.StatusCreated))
		rec := find(t, e.list(t, "p1"), child.ID)
		if rec.ExpiresAt == nil || rec.ExpiresAt.Year() != 2099 {
			t.Fatalf("child without expires_at should get its manager's: %v", rec.ExpiresAt)
		}
		for name, change := range map[string]map[string]any{
			"outlive":       {"expires_at": "2100-01-01T00:00:00Z"},
			"drop limit":    {"ratelimits": []map[string]any{}},
			"raise limit":   {"ratelimits": []map[string]any{{"name": "rps", "limit": 1000, "duration_ms": 1000}}},
			"no credits":    {"credits": nil},
			"more credits":  {"credits": map[string]any{"remaining": 5000}},
			"any address":   {"ip_allowlist": []string{}},
			"wider address": {"ip_allowlist": []string{"0.0.0.0/0"}},
		} {
			body := map[string]any{}
			for k, v := range ok {
				body[k] = v
			}
			for k, v := range change {
				body[k] = v
			}
			e.do(t, "POST", "/v1/api-keys", mgr.Key, body).wantError(t, http.StatusForbidden, "forbidden")
			if name != "outlive" {
				e.do(t, "PATCH", "/v1/api-keys/"+child.ID, mgr.Key, change).wantError(t, http.StatusForbidden, "forbidden")
			}
		}
		// The operator may.
		e.do(t, "PATCH", "/v1/api-keys/"+child.ID, testAdmin, map[string]any{"credits": nil}).want(t, 200)
	})
}
