package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// start is the test clock's first reading: a leap day, so that "two
// calendar years" (2026-03-01) differs from 730 or 731 days.
var start = time.Date(2024, 2, 29, 12, 0, 0, 123456000, time.UTC)

// manualClock adapts apikey.ManualClock to devClock.
type manualClock struct{ *apikey.ManualClock }

func (c manualClock) Advance(d time.Duration) (time.Time, error) {
	return c.ManualClock.Advance(d), nil
}

// engine opens a fresh, migrated backend for one test.
type engine struct {
	name string
	open func(t *testing.T) *kit.Backend
}

// engines are the stores every scenario runs on: memory and SQLite
// always, PostgreSQL and MariaDB when their DSNs are set (skipped
// otherwise).
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

// env is a running server under test.
type env struct {
	t     *testing.T
	app   *app
	srv   *httptest.Server
	base  string // the server's URL
	clock manualClock
}

// newEnv starts the app on backend behind a real listener, with a manual
// clock at start and usage written only by Flush or shutdown.
func newEnv(t *testing.T, b *kit.Backend, dev bool) *env {
	t.Helper()
	return newEnvWith(t, b, dev, kit.EphemeralSecrets())
}

func newEnvWith(t *testing.T, b *kit.Backend, dev bool, sec kit.Secrets) *env {
	t.Helper()
	clock := manualClock{apikey.NewManualClock(start)}
	a, err := newApp(context.Background(), appConfig{
		Backend: b, Secrets: sec, Clock: clock, Dev: dev, UsageInterval: time.Hour,
	})
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.handler)
	e := &env{t: t, app: a, srv: srv, base: srv.URL, clock: clock}
	t.Cleanup(e.stop)
	return e
}

// stop closes the listener and shuts the app down (idempotent).
func (e *env) stop() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	e.srv = nil
	if err := e.app.shutdown(context.Background()); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
}

// flush writes pending last-used data now.
func (e *env) flush() {
	e.t.Helper()
	if err := e.app.usage.Flush(context.Background()); err != nil {
		e.t.Fatalf("flush: %v", err)
	}
}

// reply is a decoded envelope.
type reply struct {
	Status     int             `json:"-"`
	Header     http.Header     `json:"-"`
	Raw        string          `json:"-"`
	Data       json.RawMessage `json:"data"`
	Error      *wireError      `json:"error"`
	Success    bool            `json:"success"`
	HasError   bool            `json:"hasError"`
	StatusCode string          `json:"statusCode"`
}

type wireError struct {
	TechnicalError   string            `json:"technicalError"`
	AdditionalErrors []string          `json:"additionalErrors"`
	ValidationErrors map[string]string `json:"validationErrors"`
	Message          string            `json:"message"`
}

// req describes one request.
type req struct {
	method, path, token string
	// body is sent as is when a string or []byte, else JSON-encoded; nil
	// sends no body.
	body        any
	contentType string
	header      map[string]string
}

// do sends r and decodes the envelope, checking the invariants every
// answer must keep: JSON, a statusCode naming the HTTP status, success and
// hasError agreeing with error.
func (e *env) do(r req) reply {
	e.t.Helper()
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	hr, err := http.NewRequest(r.method, e.base+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: %d answer is not the envelope: %v\n%s", r.method, r.path, resp.StatusCode, err, raw)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		e.t.Errorf("%s %s: Content-Type %q", r.method, r.path, got)
	}
	if want := statusName(resp.StatusCode); out.StatusCode != want {
		e.t.Errorf("%s %s: statusCode %q for HTTP %d, want %q", r.method, r.path, out.StatusCode, resp.StatusCode, want)
	}
	ok := resp.StatusCode < 300
	if out.Success != ok || out.HasError == ok || (out.Error == nil) != ok {
		e.t.Errorf("%s %s: HTTP %d with success=%v hasError=%v error=%v", r.method, r.path, resp.StatusCode, out.Success, out.HasError, out.Error)
	}
	if out.Error != nil && (out.Error.AdditionalErrors == nil || out.Error.ValidationErrors == nil || out.Error.Message == "" || out.Error.TechnicalError == "") {
		e.t.Errorf("%s %s: incomplete error %s", r.method, r.path, raw)
	}
	if !ok && string(out.Data) != "null" {
		e.t.Errorf("%s %s: error answer with data %s", r.method, r.path, out.Data)
	}
	return out
}

// want fails the test unless the reply has status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// into decodes the reply's data into v.
func (r reply) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
}

// wire types as a client sees them.
type (
	keyItem struct {
		ID                  string     `json:"id"`
		Name                string     `json:"name"`
		CreatedBy           string     `json:"createdBy"`
		CreatedDate         *time.Time `json:"createdDate"`
		Expires             *time.Time `json:"expires"`
		LastUsed            *time.Time `json:"lastUsed"`
		LastIntegrationName *string    `json:"lastIntegrationName"`
		RevokedDate         *time.Time `json:"revokedDate"`
	}
	createdItem struct {
		ID          string     `json:"id"`
		Name        string     `json:"name"`
		CreatedBy   string     `json:"createdBy"`
		CreatedDate *time.Time `json:"createdDate"`
		Expires     *time.Time `json:"expires"`
		APIKey      string     `json:"apiKey"`
	}
	bootItem struct {
		ID     string `json:"id"`
		APIKey string `json:"apiKey"`
	}
)

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// bootstrap issues a key of workspace ws through /dev/bootstrap.
func (e *env) bootstrap(ws string) bootItem {
	e.t.Helper()
	var b bootItem
	e.do(req{method: "POST", path: "/dev/bootstrap", body: map[string]string{"workspaceId": ws}}).want(e.t, http.StatusCreated).into(e.t, &b)
	if !strings.HasPrefix(b.APIKey, "pmk_live_") || !uuidRE.MatchString(b.ID) {
		e.t.Fatalf("bootstrap answered %+v", b)
	}
	return b
}

// create creates a key named name with token.
func (e *env) create(token, name string) createdItem {
	e.t.Helper()
	var c createdItem
	e.do(req{method: "POST", path: "/api/data/api-keys", token: token, body: map[string]string{"tokenName": name}}).want(e.t, http.StatusCreated).into(e.t, &c)
	return c
}

// list lists the keys visible to token.
func (e *env) list(token string, header map[string]string) []keyItem {
	e.t.Helper()
	var ks []keyItem
	e.do(req{method: "GET", path: "/api/data/api-keys", token: token, header: header}).want(e.t, http.StatusOK).into(e.t, &ks)
	return ks
}

// listStatus returns the status of a list call with token.
func (e *env) listStatus(token string) int {
	e.t.Helper()
	return e.do(req{method: "GET", path: "/api/data/api-keys", token: token}).Status
}

// find returns the item with id.
func find(t *testing.T, ks []keyItem, id string) keyItem {
	t.Helper()
	for _, k := range ks {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("key %s not in %+v", id, ks)
	return keyItem{}
}

func sameTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
