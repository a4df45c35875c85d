package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKeys runs every scenario of SPEC C2 on every engine, each on a fresh
// database.
func TestKeys(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"create_and_list", testCreateAndList},
		{"last_used", testLastUsed},
		{"create_validation", testCreateValidation},
		{"authentication", testAuthentication},
		{"revoke", testRevoke},
		{"revoke_all", testRevokeAll},
		{"expiry", testExpiry},
		{"routes", testRoutes},
		{"dev_validation", testDevValidation},
	}
	for _, eng := range engines() {
		t.Run(eng.name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					sc.run(t, newEnv(t, eng.open(t), true))
				})
			}
		})
	}
}

func testCreateAndList(t *testing.T, e *env) {
	boot := e.bootstrap("ws_a")
	ks := e.list(boot.APIKey, nil)
	if len(ks) != 1 || ks[0].ID != boot.ID || ks[0].Name != "bootstrap" || ks[0].CreatedBy != "bootstrap" {
		t.Fatalf("list after bootstrap: %+v", ks)
	}
	if ks[0].LastUsed != nil || ks[0].LastIntegrationName != nil {
		t.Errorf("lastUsed before any flush: %+v", ks[0])
	}

	e.clock.Advance(time.Minute)
	now := e.app.mgr.Now()
	c := e.create(boot.APIKey, "  CI pipeline  ")
	if !uuidRE.MatchString(c.ID) || c.Name != "CI pipeline" || c.CreatedBy != boot.ID || !strings.HasPrefix(c.APIKey, "pmk_live_") {
		t.Fatalf("create answered %+v", c)
	}
	sameTime(t, "createdDate", c.CreatedDate, now)
	sameTime(t, "expires", c.Expires, now.AddDate(2, 0, 0))
	// Created 2024-02-29T12:01: two calendar years later is 1 March 2026.
	sameTime(t, "expires", c.Expires, time.Date(2026, 3, 1, 12, 1, 0, 123456000, time.UTC))

	// The new key works, and the list is newest first.
	ks = e.list(c.APIKey, nil)
	if len(ks) != 2 || ks[0].ID != c.ID || ks[1].ID != boot.ID {
		t.Fatalf("list: %+v", ks)
	}
	sameTime(t, "listed createdDate", ks[0].CreatedDate, now)
	sameTime(t, "listed expires", ks[0].Expires, now.AddDate(2, 0, 0))
	if ks[0].Name != "CI pipeline" || ks[0].CreatedBy != boot.ID {
		t.Errorf("listed %+v", ks[0])
	}
	// The plaintext is shown at creation only.
	if l := e.do(req{method: "GET", path: "/api/data/api-keys", token: boot.APIKey}); strings.Contains(l.Raw, c.APIKey) || strings.Contains(l.Raw, "apiKey") {
		t.Errorf("list shows a token: %s", l.Raw)
	}
	// A key's name of exactly 100 characters is fine.
	long := strings.Repeat("é", 100)
	if got := e.create(c.APIKey, long); got.Name != long || got.CreatedBy != c.ID {
		t.Errorf("100-character name: %+v", got)
	}
}

func testLastUsed(t *testing.T, e *env) {
	a := e.bootstrap("ws_a")
	b := e.create(a.APIKey, "zapier")
	e.clock.Advance(time.Hour)
	used := e.app.mgr.Now()
	e.list(b.APIKey, map[string]string{"x-integration-name": "Zapier"})
	// Not flushed yet: the list shows nothing.
	if k := find(t, e.list(a.APIKey, nil), b.ID); k.LastUsed != nil {
		t.Errorf("lastUsed before the flush: %v", k.LastUsed)
	}
	e.flush()
	ks := e.list(a.APIKey, nil)
	k := find(t, ks, b.ID)
	sameTime(t, "lastUsed", k.LastUsed, used)
	if k.LastIntegrationName == nil || *k.LastIntegrationName != "Zapier" {
		t.Errorf("lastIntegrationName = %v", k.LastIntegrationName)
	}
	if k := find(t, ks, a.ID); k.LastUsed == nil || k.LastIntegrationName != nil {
		t.Errorf("key used without the header: %+v", k)
	}

	// A later use without the header clears the name; an overlong name is cut.
	e.clock.Advance(time.Minute)
	e.list(b.APIKey, map[string]string{"X-Integration-Name": strings.Repeat("n", 300)})
	e.flush()
	k = find(t, e.list(a.APIKey, nil), b.ID)
	if k.LastIntegrationName == nil || *k.LastIntegrationName != strings.Repeat("n", maxIntegrationName) {
		t.Errorf("overlong lastIntegrationName = %v", k.LastIntegrationName)
	}
	// A cut never splits a character: 99 bytes of "n" then "é" (2 bytes).
	e.clock.Advance(time.Minute)
	e.list(b.APIKey, map[string]string{"X-Integration-Name": strings.Repeat("n", 99) + "éé"})
	e.flush()
	k = find(t, e.list(a.APIKey, nil), b.ID)
	if k.LastIntegrationName == nil || *k.LastIntegrationName != strings.Repeat("n", 99) {
		t.Errorf("cut lastIntegrationName = %v", k.LastIntegrationName)
	}
	e.clock.Advance(time.Minute)
	e.list(b.APIKey, nil)
	e.flush()
	if k := find(t, e.list(a.APIKey, nil), b.ID); k.LastIntegrationName != nil {
		t.Errorf("lastIntegrationName after a use without the header = %q", *k.LastIntegrationName)
	}
}

func testCreateValidation(t *testing.T, e *env) {
	tok := e.bootstrap("ws_a").APIKey
	cases := []struct {
		name        string
		body        any
		contentType string
		status      int
		field       string // expected validationErrors key, if any
	}{
		{"missing tokenName", `{}`, "", http.StatusBadRequest, "tokenName"},
		{"null tokenName", `{"tokenName":null}`, "", http.StatusBadRequest, "tokenName"},
		{"empty tokenName", `{"tokenName":""}`, "", http.StatusBadRequest, "tokenName"},
		{"blank tokenName", `{"tokenName":"   "}`, "", http.StatusBadRequest, "tokenName"},
		{"101 characters", `{"tokenName":"` + strings.Repeat("x", 101) + `"}`, "", http.StatusBadRequest, "tokenName"},
		{"control character", `{"tokenName":"a\u0007b"}`, "", http.StatusBadRequest, "tokenName"},
		{"wrong type", `{"tokenName":5}`, "", http.StatusBadRequest, ""},
		{"unknown field", `{"tokenName":"x","scopes":["a"]}`, "", http.StatusBadRequest, ""},
		{"malformed JSON", `{"tokenName":`, "", http.StatusBadRequest, ""},
		{"two values", `{"tokenName":"x"}{}`, "", http.StatusBadRequest, ""},
		{"array", `[]`, "", http.StatusBadRequest, ""},
		{"empty body", ``, "", http.StatusBadRequest, ""},
		{"2 MiB body", `{"tokenName":"` + strings.Repeat("x", 2<<20) + `"}`, "", http.StatusRequestEntityTooLarge, ""},
		{"text/plain", `{"tokenName":"x"}`, "text/plain", http.StatusUnsupportedMediaType, ""},
		{"no content type", `{"tokenName":"x"}`, "none", http.StatusUnsupportedMediaType, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := c.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "none":
				ct = "" // a string body is sent without Content-Type
			}
			r := e.do(req{method: "POST", path: "/api/data/api-keys", token: tok, body: c.body, contentType: ct}).want(t, c.status)
			if c.field != "" && r.Error.ValidationErrors[c.field] == "" {
				t.Errorf("validationErrors %v lacks %q", r.Error.ValidationErrors, c.field)
			}
		})
	}
	if ks := e.list(tok, nil); len(ks) != 1 {
		t.Errorf("refused creations left keys: %+v", ks)
	}
}

func testAuthentication(t *testing.T, e *env) {
	good := e.bootstrap("ws_a").APIKey
	// A token of the right shape from another server (another pepper and
	// store): well-formed, unknown here.
	other := newEnv(t, engines()[0].open(t), true).bootstrap("ws_a").APIKey
	typo := good[:len(good)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(good, "A")]
	cases := []struct {
		name, auth, challenge string
	}{
		{"no credentials", "", `Bearer realm="projectmanager"`},
		{"basic scheme", "Basic dXNlcjpwYXNz", `Bearer realm="projectmanager"`},
		{"garbage", "Bearer nope", `Bearer realm="projectmanager", error="invalid_token"`},
		{"checksum typo", "Bearer " + typo, `Bearer realm="projectmanager", error="invalid_token"`},
		{"unknown key", "Bearer " + other, `Bearer realm="projectmanager", error="invalid_token"`},
		{"two spaces", "Bearer  " + good, `Bearer realm="projectmanager", error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []req{
				{method: "GET", path: "/api/data/api-keys"},
				{method: "POST", path: "/api/data/api-keys", body: map[string]string{"tokenName": "x"}},
				{method: "DELETE", path: "/api/data/api-keys/revoke-all"},
				{method: "DELETE", path: "/api/data/api-keys/00000000-0000-0000-0000-000000000000/revoke"},
			} {
				if c.auth != "" {
					r.header = map[string]string{"Authorization": c.auth}
				}
				got := e.do(r).want(t, http.StatusUnauthorized)
				if h := got.Header.Get("WWW-Authenticate"); h != c.challenge {
					t.Errorf("%s %s: WWW-Authenticate %q, want %q", r.method, r.path, h, c.challenge)
				}
				if got.StatusCode != "Unauthorized" || strings.Contains(got.Raw, "pmk_live_") {
					t.Errorf("%s %s: %s", r.method, r.path, got.Raw)
				}
			}
		})
	}
	// The refused calls changed nothing, and the good key still works.
	if ks := e.list(good, nil); len(ks) != 1 || ks[0].RevokedDate != nil {
		t.Errorf("after refused calls: %+v", ks)
	}
}

func testRevoke(t *testing.T, e *env) {
	a := e.bootstrap("ws_a")
	b := e.create(a.APIKey, "to revoke")
	other := e.bootstrap("ws_b")

	for _, bad := range []string{"abc", "01JD4W3ZQ8Y9N5V2K7T6R1X0AB", strings.ReplaceAll(b.ID, "-", ""), b.ID[:35] + "g", "{" + b.ID[1:35] + "}"} {
		r := e.do(req{method: "DELETE", path: "/api/data/api-keys/" + bad + "/revoke", token: a.APIKey}).want(t, http.StatusBadRequest)
		if r.Error.ValidationErrors["id"] == "" {
			t.Errorf("id %q: validationErrors %v lacks id", bad, r.Error.ValidationErrors)
		}
	}
	for _, missing := range []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", other.ID} {
		if r := e.do(req{method: "DELETE", path: "/api/data/api-keys/" + missing + "/revoke", token: a.APIKey}).want(t, http.StatusNotFound); r.StatusCode != "NotFound" {
			t.Errorf("statusCode %q", r.StatusCode)
		}
	}
	if e.listStatus(other.APIKey) != http.StatusOK {
		t.Fatal("another workspace's revoke touched its key")
	}

	e.clock.Advance(time.Minute)
	at := e.app.mgr.Now()
	var got keyItem
	e.do(req{method: "DELETE", path: "/api/data/api-keys/" + strings.ToUpper(b.ID) + "/revoke", token: a.APIKey}).want(t, http.StatusOK).into(t, &got)
	if got.ID != b.ID || got.Name != "to revoke" {
		t.Errorf("revoke answered %+v", got)
	}
	sameTime(t, "revokedDate", got.RevokedDate, at)
	if s := e.listStatus(b.APIKey); s != http.StatusUnauthorized {
		t.Errorf("revoked key: status %d, want 401", s)
	}
	// The list shows the keys that still work.
	if ks := e.list(a.APIKey, nil); len(ks) != 1 || ks[0].ID != a.ID {
		t.Errorf("list after revoke: %+v", ks)
	}
	// Revoking again changes nothing.
	e.clock.Advance(time.Minute)
	e.do(req{method: "DELETE", path: "/api/data/api-keys/" + b.ID + "/revoke", token: a.APIKey}).want(t, http.StatusOK).into(t, &got)
	sameTime(t, "revokedDate after a second revoke", got.RevokedDate, at)
}

func testRevokeAll(t *testing.T, e *env) {
	a := e.bootstrap("ws_a")
	b := e.create(a.APIKey, "b")
	c := e.create(a.APIKey, "c")
	other := e.bootstrap("ws_b")
	otherKey := e.create(other.APIKey, "ws_b key")

	e.clock.Advance(time.Minute)
	earlier := e.app.mgr.Now()
	e.do(req{method: "DELETE", path: "/api/data/api-keys/" + c.ID + "/revoke", token: a.APIKey}).want(t, http.StatusOK)

	e.clock.Advance(time.Hour)
	at := e.app.mgr.Now()
	var ks []keyItem
	e.do(req{method: "DELETE", path: "/api/data/api-keys/revoke-all", token: b.APIKey}).want(t, http.StatusOK).into(t, &ks)
	if len(ks) != 3 || ks[0].ID != c.ID || ks[1].ID != b.ID || ks[2].ID != a.ID {
		t.Fatalf("revoke-all answered %+v", ks)
	}
	sameTime(t, "earlier revocation", ks[0].RevokedDate, earlier)
	sameTime(t, "calling key", ks[1].RevokedDate, at)
	sameTime(t, "bootstrap key", ks[2].RevokedDate, at)

	for _, tok := range []string{a.APIKey, b.APIKey, c.APIKey} {
		if s := e.listStatus(tok); s != http.StatusUnauthorized {
			t.Errorf("key of the revoked workspace: status %d, want 401", s)
		}
	}
	// The other workspace is untouched.
	if got := e.list(otherKey.APIKey, nil); len(got) != 2 {
		t.Errorf("ws_b after ws_a's revoke-all: %+v", got)
	}
	// Again, with a key of ws_b that has none revoked: a second call in
	// ws_b revokes the rest of ws_b only.
	e.do(req{method: "DELETE", path: "/api/data/api-keys/revoke-all", token: other.APIKey}).want(t, http.StatusOK).into(t, &ks)
	if len(ks) != 2 || ks[0].RevokedDate == nil || ks[1].RevokedDate == nil {
		t.Errorf("ws_b revoke-all answered %+v", ks)
	}
}

func testExpiry(t *testing.T, e *env) {
	a := e.bootstrap("ws_a")
	created := e.app.mgr.Now()
	expires := created.AddDate(2, 0, 0)
	if ks := e.list(a.APIKey, nil); len(ks) != 1 {
		t.Fatalf("list: %+v", ks)
	} else {
		sameTime(t, "expires", ks[0].Expires, expires)
	}
	advance := func(d time.Duration) time.Time {
		t.Helper()
		var got struct {
			Now time.Time `json:"now"`
		}
		e.do(req{method: "POST", path: "/dev/clock", body: map[string]string{"advance": d.String()}}).want(t, http.StatusOK).into(t, &got)
		return got.Now
	}
	if now := advance(expires.Sub(created) - time.Microsecond); !now.Equal(expires.Add(-time.Microsecond)) {
		t.Fatalf("/dev/clock answered %v, want %v", now, expires.Add(-time.Microsecond))
	}
	if s := e.listStatus(a.APIKey); s != http.StatusOK {
		t.Fatalf("a microsecond before expiry: %d, want 200", s)
	}
	advance(time.Microsecond)
	if s := e.listStatus(a.APIKey); s != http.StatusUnauthorized {
		t.Fatalf("at expiry: %d, want 401", s)
	}
	advance(48 * time.Hour)
	if s := e.listStatus(a.APIKey); s != http.StatusUnauthorized {
		t.Fatalf("after expiry: %d, want 401", s)
	}
	// An expired key no longer shows in its workspace's list.
	fresh := e.bootstrap("ws_a")
	if ks := e.list(fresh.APIKey, nil); len(ks) != 1 || ks[0].ID != fresh.ID {
		t.Errorf("list after expiry: %+v", ks)
	}
}

func testRoutes(t *testing.T, e *env) {
	tok := e.bootstrap("ws_a").APIKey
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", http.StatusNotFound, ""},
		{"GET", "/api/data/api-keys/", http.StatusNotFound, ""},
		{"GET", "/api/data/projects", http.StatusNotFound, ""},
		{"DELETE", "/api/data/api-keys/x/y/revoke", http.StatusNotFound, ""},
		{"PUT", "/api/data/api-keys", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"GET", "/api/data/api-keys/revoke-all", http.StatusMethodNotAllowed, "DELETE"},
		{"POST", "/api/data/api-keys/00000000-0000-0000-0000-000000000000/revoke", http.StatusMethodNotAllowed, "DELETE"},
		{"GET", "/dev/clock", http.StatusMethodNotAllowed, "POST"},
	}
	for _, c := range cases {
		r := e.do(req{method: c.method, path: c.path, token: tok}).want(t, c.status)
		if got := r.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
	if r := e.do(req{method: "GET", path: "/nope"}); r.StatusCode != "NotFound" || r.Error.TechnicalError != codeNotFound {
		t.Errorf("unknown route: %s", r.Raw)
	}
	if r := e.do(req{method: "PATCH", path: "/api/data/api-keys"}); r.StatusCode != "MethodNotAllowed" {
		t.Errorf("wrong method: %s", r.Raw)
	}
	// A path the mux would redirect is answered in the envelope too.
	r := e.do(req{method: "GET", path: "/api/data/../data/api-keys", token: tok}).want(t, http.StatusTemporaryRedirect)
	if r.Header.Get("Location") != "/api/data/api-keys" || r.StatusCode != "TemporaryRedirect" {
		t.Errorf("unclean path: Location %q, %s", r.Header.Get("Location"), r.Raw)
	}
}

func testDevValidation(t *testing.T, e *env) {
	cases := []struct {
		path, body string
		status     int
		field      string
	}{
		{"/dev/bootstrap", `{}`, http.StatusBadRequest, "workspaceId"},
		{"/dev/bootstrap", `{"workspaceId":""}`, http.StatusBadRequest, "workspaceId"},
		{"/dev/bootstrap", `{"workspaceId":"*"}`, http.StatusBadRequest, "workspaceId"},
		{"/dev/bootstrap", `{"workspaceId":"` + strings.Repeat("w", 129) + `"}`, http.StatusBadRequest, "workspaceId"},
		{"/dev/bootstrap", `{"workspaceId":1}`, http.StatusBadRequest, ""},
		{"/dev/bootstrap", `{"workspaceId":"ws","userId":"u"}`, http.StatusBadRequest, ""},
		{"/dev/bootstrap", `{"workspaceId":"` + strings.Repeat("w", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"/dev/clock", `{}`, http.StatusBadRequest, "advance"},
		{"/dev/clock", `{"advance":"soon"}`, http.StatusBadRequest, "advance"},
		{"/dev/clock", `{"advance":"-1h"}`, http.StatusBadRequest, "advance"},
		{"/dev/clock", `{"advance":48}`, http.StatusBadRequest, ""},
		{"/dev/clock", `not json`, http.StatusBadRequest, ""},
	}
	for _, c := range cases {
		r := e.do(req{method: "POST", path: c.path, body: c.body, contentType: "application/json"}).want(t, c.status)
		if c.field != "" && r.Error.ValidationErrors[c.field] == "" {
			t.Errorf("%s %s: validationErrors %v lacks %q", c.path, c.body, r.Error.ValidationErrors, c.field)
		}
	}
	var now struct {
		Now time.Time `json:"now"`
	}
	e.do(req{method: "POST", path: "/dev/clock", body: map[string]string{"advance": "2d"}}).want(t, http.StatusOK).into(t, &now)
	if !now.Now.Equal(start.Add(48 * time.Hour)) {
		t.Errorf("now = %v", now.Now)
	}
}
