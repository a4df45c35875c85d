package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// testAdmin is the operator token of test servers.
const testAdmin = "test-admin-token-0123456789abcdef"

// engines are the stores the e2e tests run on: SQLite always, PostgreSQL
// and MariaDB when their DSNs are set (sqltest skips them otherwise).
var engines = []sqltest.Engine{sqltest.SQLiteFile, sqltest.Postgres, sqltest.MySQL}

// env is a running test server.
type env struct {
	app *app
	srv *httptest.Server
}

// testConfig is the configuration of test servers: -dev, the test admin
// token, and a rotation check interval long enough that the background
// loop only runs its first check, so tests drive checks themselves.
func testConfig() config {
	return config{
		Config:        kit.Config{Dev: true, UsageInterval: time.Hour},
		AdminToken:    testAdmin,
		RotationCheck: time.Hour,
	}
}

// newEnv starts a server on engine e with cfg (testConfig when nil).
func newEnv(t *testing.T, e sqltest.Engine, cfg *config) *env {
	t.Helper()
	c := testConfig()
	if cfg != nil {
		c = *cfg
	}
	db, d := sqltest.Open(t, e)
	b, err := kit.FromDB(t.Context(), db, d)
	if err != nil {
		t.Fatalf("FromDB: %v", err)
	}
	s := kit.EphemeralSecrets()
	c.backend, c.secrets = b, &s
	return startApp(t, c)
}

// startApp builds the app for c and serves it on a real listener until
// the test ends. Logs go to log, if given.
func startApp(t *testing.T, c config, log ...*slog.Logger) *env {
	t.Helper()
	l := slog.New(slog.DiscardHandler)
	if len(log) > 0 {
		l = log[0]
	}
	a, err := newApp(context.Background(), c, l)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		srv.Close()
		if err := a.shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &env{app: a, srv: srv}
}

// forEngines runs f on a fresh server per engine.
func forEngines(t *testing.T, f func(t *testing.T, e *env)) {
	for _, eng := range engines {
		t.Run(string(eng), func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, eng, nil))
		})
	}
}

// resp is an HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. body is nil (none), a string or []byte (sent as
// is) or a value (sent as JSON). JSON bodies get Content-Type
// application/json unless headers (name, value pairs) set another.
func (e *env) do(t *testing.T, method, path, token string, body any, headers ...string) resp {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, r)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i]) // "": send no such header
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// want fails the test unless r has status.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// wantError fails the test unless r is an error answer with status and
// code in the {"error":{"code","message"}} shape.
func (r resp) wantError(t *testing.T, status int, code string) {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if eb.Error.Code != code || eb.Error.Message == "" {
		t.Fatalf("error %+v, want code %q and a message", eb.Error, code)
	}
}

// decode unmarshals r's body into a T.
func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// wireKey is a key record as a client reads it.
type wireKey struct {
	ID                    string     `json:"id"`
	ProjectID             string     `json:"project_id"`
	Name                  string     `json:"name"`
	KeyPrefix             string     `json:"key_prefix"`
	Scopes                []string   `json:"scopes"`
	ExpiresAt             *time.Time `json:"expires_at"`
	LastUsedAt            *time.Time `json:"last_used_at"`
	CreatedAt             *time.Time `json:"created_at"`
	RevokedAt             *time.Time `json:"revoked_at"`
	ReplacedByKeyID       *string    `json:"replaced_by_key_id"`
	GraceExpiresAt        *time.Time `json:"grace_expires_at"`
	EnvironmentID         *string    `json:"environment_id"`
	RotationIntervalDays  *int       `json:"rotation_interval_days"`
	NextRotationAt        *time.Time `json:"next_rotation_at"`
	RotationWebhookURL    *string    `json:"rotation_webhook_url"`
	Key                   string     `json:"key"`
	RotationWebhookSecret string     `json:"rotation_webhook_secret"`
}

// wireRotated is a rotate answer.
type wireRotated struct {
	OldKeyID       string     `json:"old_key_id"`
	NewKeyID       string     `json:"new_key_id"`
	ProjectID      string     `json:"project_id"`
	Name           string     `json:"name"`
	Key            string     `json:"key"`
	KeyPrefix      string     `json:"key_prefix"`
	Scopes         []string   `json:"scopes"`
	ExpiresAt      *time.Time `json:"expires_at"`
	CreatedAt      *time.Time `json:"created_at"`
	GraceExpiresAt *time.Time `json:"grace_expires_at"`
}

// bootstrap returns a key of project holding every catalogue scope.
func (e *env) bootstrap(t *testing.T, project string) string {
	t.Helper()
	r := e.do(t, "POST", "/dev/bootstrap", "", map[string]string{"project_id": project}).want(t, http.StatusCreated)
	return decode[struct{ Key string }](t, r).Key
}

// create creates a key with the given body as token and returns it.
func (e *env) create(t *testing.T, token string, body map[string]any) wireKey {
	t.Helper()
	return decode[wireKey](t, e.do(t, "POST", "/v1/api-keys", token, body).want(t, http.StatusCreated))
}

// list returns the keys of project as the operator sees them.
func (e *env) list(t *testing.T, project string) []wireKey {
	t.Helper()
	return decode[[]wireKey](t, e.do(t, "GET", "/v1/api-keys?project_id="+project, testAdmin, nil).want(t, http.StatusOK))
}

// find returns the key id from keys.
func find(t *testing.T, keys []wireKey, id string) wireKey {
	t.Helper()
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("key %s not listed", id)
	return wireKey{}
}

// whoamiStatus returns the status of GET /v1/whoami with token.
func (e *env) whoamiStatus(t *testing.T, token string) int {
	t.Helper()
	return e.do(t, "GET", "/v1/whoami", token, nil).status
}

// advance moves the server clock by d (running a rotation check) and
// returns the new time.
func (e *env) advance(t *testing.T, d string) time.Time {
	t.Helper()
	r := e.do(t, "POST", "/dev/clock", "", map[string]string{"advance": d}).want(t, http.StatusOK)
	return *decode[struct{ Now *time.Time }](t, r).Now
}
