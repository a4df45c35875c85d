package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// engine opens a fresh backend for one test.
type engine struct {
	name string
	open func(t *testing.T) *kit.Backend
}

// engines are the stores every end-to-end test runs on: memory and SQLite
// always, PostgreSQL and MariaDB when their DSNs are set (skipped with a
// message otherwise).
func engines() []engine {
	out := []engine{{"memory", func(t *testing.T) *kit.Backend {
		b, err := kit.OpenStore(context.Background(), "memory")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}}}
	for _, e := range []sqltest.Engine{sqltest.SQLiteFile, sqltest.Postgres, sqltest.MySQL} {
		out = append(out, engine{string(e), func(t *testing.T) *kit.Backend {
			db, d := sqltest.Open(t, e)
			b, err := kit.FromDB(context.Background(), db, d)
			if err != nil {
				t.Fatalf("migrating %s: %v", e, err)
			}
			return b
		}})
	}
	return out
}

// forEngines runs f in a subtest per engine, each with its own server.
func forEngines(t *testing.T, f func(t *testing.T, s *testServer)) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, newTestServer(t, e.open(t), kit.EphemeralSecrets(), true))
		})
	}
}

// testServer is the app behind a real listener.
type testServer struct {
	t   *testing.T
	app *app
	srv *httptest.Server
}

// newTestServer starts the app on backend behind httptest.NewServer; the
// server and the app are shut down when t ends. Usage is flushed only by
// the tests (tracker.Flush) or at shutdown.
func newTestServer(t *testing.T, backend *kit.Backend, secrets kit.Secrets, dev bool) *testServer {
	t.Helper()
	return startApp(t, appConfig{
		Backend:       backend,
		Secrets:       secrets,
		Clock:         &kit.DevClock{},
		Dev:           dev,
		UsageInterval: time.Hour,
	})
}

// startApp builds the app from cfg and serves it on a real listener until
// t ends.
func startApp(t *testing.T, cfg appConfig) *testServer {
	t.Helper()
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		srv.Close()
		if err := a.shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{t: t, app: a, srv: srv}
}

// response is a response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// reqOpt changes a request before it is sent.
type reqOpt func(*http.Request)

func withCookie(session string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: sessionCookie, Value: session}) }
}

func withBearer(token string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func withHeader(name, value string) reqOpt {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func withoutHeader(name string) reqOpt {
	return func(r *http.Request) { r.Header.Del(name) }
}

// do sends a request; body is sent as is when a string or []byte, as JSON
// otherwise (nil: no body). JSON bodies get Content-Type application/json.
func (s *testServer) do(method, path string, body any, opts ...reqOpt) response {
	s.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, o := range opts {
		o(req)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// decode unmarshals the body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// expect fails t unless the status is want and, for an error, the body has
// the error shape with code (when code is not empty).
func (r response) expect(t *testing.T, want int, code string) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if want < 400 {
		return
	}
	var e struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	r.decode(t, &e)
	if e.Error == nil || e.Error.Code == nil || e.Error.Message == nil || *e.Error.Message == "" {
		t.Fatalf("body %s is not {\"error\":{\"code\",\"message\"}}", r.body)
	}
	if code != "" && *e.Error.Code != code {
		t.Fatalf("error code %q, want %q; body %s", *e.Error.Code, code, r.body)
	}
}

// wireKey is an OpenApiKey as a client reads it.
type wireKey struct {
	ID              string   `json:"id"`
	Label           string   `json:"label"`
	KeyPrefix       string   `json:"keyPrefix"`
	Scopes          []string `json:"scopes"`
	CreatedByUserID string   `json:"createdByUserId"`
	HashVersion     string   `json:"hashVersion"`
	CreatedAt       string   `json:"createdAt"`
	ExpiresAt       *string  `json:"expiresAt"`
	LastUsedAt      *string  `json:"lastUsedAt"`
	LastUsedIP      *string  `json:"lastUsedIp"`
	RevokedAt       *string  `json:"revokedAt"`
}

// bootstrap opens a session for workspace ws and user u.
func (s *testServer) bootstrap(ws, u string) string {
	s.t.Helper()
	r := s.do("POST", "/dev/bootstrap", map[string]string{"workspaceId": ws, "userId": u})
	r.expect(s.t, http.StatusOK, "")
	var b struct{ Session string }
	r.decode(s.t, &b)
	if b.Session == "" {
		s.t.Fatalf("no session in %s", r.body)
	}
	return b.Session
}

// createKey creates a key with the session and returns it and its token.
func (s *testServer) createKey(session, label string, scopes ...string) (wireKey, string) {
	s.t.Helper()
	r := s.do("POST", "/api/open-api/keys", map[string]any{"label": label, "scopes": scopes}, withCookie(session))
	r.expect(s.t, http.StatusCreated, "")
	var b struct {
		Key          wireKey
		PlaintextKey string
	}
	r.decode(s.t, &b)
	return b.Key, b.PlaintextKey
}

// listKeys lists the session's workspace's keys.
func (s *testServer) listKeys(session string) []wireKey {
	s.t.Helper()
	r := s.do("GET", "/api/open-api/keys", nil, withCookie(session))
	r.expect(s.t, http.StatusOK, "")
	var b struct{ Keys []wireKey }
	r.decode(s.t, &b)
	return b.Keys
}

// findKey returns the key id of keys.
func findKey(t *testing.T, keys []wireKey, id string) wireKey {
	t.Helper()
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("key %s not in %+v", id, keys)
	return wireKey{}
}
