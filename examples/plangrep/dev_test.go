package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
)

func TestBootstrap(t *testing.T) {
	s := newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), true)
	r := s.do("POST", "/dev/bootstrap", `{"workspaceId":"ws_a","userId":"usr_1"}`)
	r.expect(t, http.StatusOK, "")
	var b struct{ Session string }
	r.decode(t, &b)
	if len(b.Session) != 43 || strings.ContainsAny(b.Session, "+/=") {
		t.Fatalf("session %q is not 32 bytes of base64url", b.Session)
	}
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"plangrep_session=" + b.Session, "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP", sc)
	}
	if s.bootstrap("ws_a", "usr_1") == b.Session {
		t.Fatal("two bootstraps gave the same session")
	}

	for _, body := range []string{
		`{"workspaceId":"","userId":"usr_1"}`,
		`{"workspaceId":"ws_a","userId":""}`,
		`{"userId":"usr_1"}`,
		`{"workspaceId":"ws_a"}`,
		`{"workspaceId":"ws a","userId":"usr_1"}`,
		`{"workspaceId":"*","userId":"usr_1"}`,
		`{"workspaceId":"ws_é","userId":"usr_1"}`,
		`{"workspaceId":"` + strings.Repeat("w", 65) + `","userId":"usr_1"}`,
		`{"workspaceId":1,"userId":"usr_1"}`,
		`{"workspaceId":"ws_a","userId":"usr_1","role":"admin"}`,
		`{"workspaceId":`,
		``,
	} {
		s.do("POST", "/dev/bootstrap", body).expect(t, http.StatusBadRequest, "invalid_request")
	}
	s.do("POST", "/dev/bootstrap", `{"workspaceId":"ws_a","userId":"u"}`, withHeader("Content-Type", "text/plain")).expect(t, 415, "unsupported_media_type")
	s.do("POST", "/dev/bootstrap", `{"workspaceId":"`+strings.Repeat("w", 2<<20)+`"}`).expect(t, 413, "payload_too_large")
	s.do("GET", "/dev/bootstrap", nil).expect(t, http.StatusMethodNotAllowed, "method_not_allowed")
	// Exempt from the cross-site check (dev only).
	s.do("POST", "/dev/bootstrap", `{"workspaceId":"ws_a","userId":"u"}`, withHeader("Origin", "https://evil.example")).expect(t, 200, "")
}

func TestDevClock(t *testing.T) {
	s := newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), true)
	before := time.Now()
	r := s.do("POST", "/dev/clock", `{"advance":"3d"}`)
	r.expect(t, http.StatusOK, "")
	var b struct{ Now string }
	r.decode(t, &b)
	now, err := time.Parse(time.RFC3339, b.Now)
	if err != nil || now.Before(before.Add(72*time.Hour-time.Second)) || !strings.HasSuffix(b.Now, "Z") {
		t.Fatalf("now %q after 3d", b.Now)
	}
	for _, body := range []string{`{"advance":"-1h"}`, `{"advance":"soon"}`, `{"advance":""}`, `{}`, `{"advance":48}`, `{"advance":"1h","x":1}`, `nope`} {
		s.do("POST", "/dev/clock", body).expect(t, http.StatusBadRequest, "invalid_request")
	}
}

func TestDevEndpointsOffByDefault(t *testing.T) {
	s := newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), false)
	s.do("POST", "/dev/bootstrap", `{"workspaceId":"ws_a","userId":"usr_1"}`).expect(t, http.StatusNotFound, "not_found")
	s.do("POST", "/dev/clock", `{"advance":"48h"}`).expect(t, http.StatusNotFound, "not_found")
	s.do("GET", "/dev/clock", nil).expect(t, http.StatusNotFound, "not_found")
	// The rest is served.
	s.do("GET", "/api/open-api/keys", nil).expect(t, http.StatusUnauthorized, "unauthorized")
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	s := newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), true)
	for _, p := range []string{"/", "/nope", "/api/open/v1/", "/api/open/v1/artifacts", "/api/open-api/keys/x/delete", "/api/open/v2/jobs"} {
		s.do("GET", p, nil).expect(t, http.StatusNotFound, "not_found")
	}
	tests := []struct{ method, path, allow string }{
		{"DELETE", "/api/open-api/keys", "GET, HEAD, POST"},
		{"GET", "/api/open-api/keys/revoke-all", "POST"},
		{"PUT", "/api/open/v1/jobs", "GET, HEAD, POST"},
		{"POST", "/api/open/v1/projects", "GET, HEAD"},
		{"GET", "/dev/clock", "POST"},
	}
	for _, tc := range tests {
		r := s.do(tc.method, tc.path, nil)
		r.expect(t, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

// TestUsageFlushedByTracker checks the tracker started at boot writes
// last-used data on its own (interval 20 ms here; 1 s by default).
func TestUsageFlushedByTracker(t *testing.T) {
	b, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	srvT := startApp(t, appConfig{Backend: b, Secrets: kit.EphemeralSecrets(), Clock: &kit.DevClock{}, Dev: true, UsageInterval: 20 * time.Millisecond})
	sess := srvT.bootstrap("ws_a", "usr_1")
	k, tok := srvT.createKey(sess, "ci", "jobs:read")
	srvT.do("GET", "/api/open/v1/projects", nil, withBearer(tok)).expect(t, 200, "")
	deadline := time.Now().Add(10 * time.Second)
	for findKey(t, srvT.listKeys(sess), k.ID).LastUsedAt == nil {
		if time.Now().After(deadline) {
			t.Fatal("last use never written by the running tracker")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
