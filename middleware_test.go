package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// mwStore wraps memstore to count usage writes and to fail on demand.
type mwStore struct {
	apikey.Store
	lookupDown atomic.Bool // GetByLookup fails
	usageDown  atomic.Bool // RecordUsage fails

	mu      sync.Mutex
	batches [][]apikey.Usage // successful RecordUsage calls
}

func (s *mwStore) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	if s.lookupDown.Load() {
		return nil, errors.New("dial tcp: connection refused")
	}
	return s.Store.GetByLookup(ctx, lookup)
}

func (s *mwStore) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	if s.usageDown.Load() {
		return errors.New("dial tcp: connection refused")
	}
	if err := s.Store.RecordUsage(ctx, batch); err != nil {
		return err
	}
	s.mu.Lock()
	s.batches = append(s.batches, append([]apikey.Usage(nil), batch...))
	s.mu.Unlock()
	return nil
}

// usageWrites returns the number of successful RecordUsage calls and the
// records they carried.
func (s *mwStore) usageWrites() (calls, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		records += len(b)
	}
	return len(s.batches), records
}

var mwT0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// mwFixture is a manager over an mwStore with one key per verify outcome.
type mwFixture struct {
	m      *apikey.Manager
	clock  *apikey.ManualClock
	store  *mwStore
	tok    map[string]string      // name -> token
	key    map[string]*apikey.Key // name -> record at creation
	logBuf *lockedBuffer
}

func newMWFixture(t testing.TB) *mwFixture {
	t.Helper()
	ctx := context.Background()
	f := &mwFixture{
		clock:  apikey.NewManualClock(mwT0),
		store:  &mwStore{Store: memstore.New()},
		tok:    map[string]string{},
		key:    map[string]*apikey.Key{},
		logBuf: &lockedBuffer{},
	}
	logger := slog.New(slog.NewTextHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	f.m, err = apikey.New(f.store, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper),
		apikey.WithClock(f.clock), apikey.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, scopes []string, expires time.Time) {
		is, err := f.m.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Name: name, Scopes: scopes, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		f.tok[name], f.key[name] = is.Token.Reveal(), is.Key
	}
	create("read", []string{"jobs:read"}, time.Time{})
	create("rw", []string{"jobs:read", "jobs:write"}, time.Time{})
	create("all", []string{"*"}, time.Time{})
	create("none", nil, time.Time{})
	create("revoked", []string{"jobs:read"}, time.Time{})
	create("expired", []string{"jobs:read"}, mwT0.Add(time.Hour))
	create("rotated", []string{"jobs:read"}, time.Time{})
	if _, err := f.m.Revoke(ctx, "ws_a", f.key["revoked"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Rotate(ctx, "ws_a", f.key["rotated"].ID, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	// A well-formed token of the same prefix that this store has never seen.
	other, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper))
	if err != nil {
		t.Fatal(err)
	}
	is, err := other.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{"jobs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	f.tok["unknown"] = is.Token.Reveal()
	f.clock.Advance(2 * time.Hour) // "expired" expires, "rotated" leaves its grace
	return f
}

func (f *mwFixture) auth(t testing.TB, opts ...apikey.MiddlewareOption) *apikey.Authenticator {
	t.Helper()
	a, err := apikey.NewAuthenticator(f.m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// whoami answers 200 with the ID of the key in the context, or "anonymous".
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if k, ok := apikey.FromContext(r.Context()); ok {
		fmt.Fprint(w, k.ID)
		return
	}
	fmt.Fprint(w, "anonymous")
})

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func bearer(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/jobs", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

const (
	bodyNoCreds     = `{"error":{"code":"unauthorized","message":"authentication required"}}` + "\n"
	bodyInvalid     = `{"error":{"code":"unauthorized","message":"invalid API key"}}` + "\n"
	bodyForbidden   = `{"error":{"code":"forbidden","message":"the API key lacks a required scope"}}` + "\n"
	bodyUnavailable = `{"error":{"code":"unavailable","message":"authentication is temporarily unavailable"}}` + "\n"
	chNoCreds       = `Bearer realm="api"`
	chInvalid       = `Bearer realm="api", error="invalid_token"`
)

type wantAnswer struct {
	status    int
	challenge string // exact WWW-Authenticate; "" means absent
	body      string // exact body; "" means not checked (success)
}

var (
	ansNoCreds     = wantAnswer{401, chNoCreds, bodyNoCreds}
	ansInvalid     = wantAnswer{401, chInvalid, bodyInvalid}
	ansUnavailable = wantAnswer{503, "", bodyUnavailable}
	ansOK          = wantAnswer{status: 200}
)

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, want wantAnswer) {
	t.Helper()
	if rec.Code != want.status {
		t.Fatalf("status = %d, want %d (body %q)", rec.Code, want.status, rec.Body.String())
	}
	if got := rec.Header().Values("WWW-Authenticate"); want.challenge == "" && len(got) != 0 ||
		want.challenge != "" && (len(got) != 1 || got[0] != want.challenge) {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want.challenge)
	}
	if want.status == 200 {
		return
	}
	if got := rec.Body.String(); got != want.body {
		t.Errorf("body = %q, want %q", got, want.body)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
}

// TestErrorTable covers every row of SPEC A's error table.
func TestErrorTable(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t)
	h := a.Middleware(a.RequireAll("jobs:read")(whoami))
	tests := []struct {
		name string
		req  func() *http.Request
		down bool
		want wantAnswer
	}{
		{"valid", func() *http.Request { return bearer(f.tok["read"]) }, false, ansOK},
		{"no credentials", func() *http.Request { return httptest.NewRequest("GET", "/jobs", nil) }, false, ansNoCreds},
		{"malformed", func() *http.Request { return bearer("pgk_live_nope") }, false, ansInvalid},
		{"bad checksum", func() *http.Request { return bearer(typo(f.tok["read"])) }, false, ansInvalid},
		{"unknown", func() *http.Request { return bearer(f.tok["unknown"]) }, false, ansInvalid},
		{"revoked", func() *http.Request { return bearer(f.tok["revoked"]) }, false, ansInvalid},
		{"expired", func() *http.Request { return bearer(f.tok["expired"]) }, false, ansInvalid},
		{"grace ended", func() *http.Request { return bearer(f.tok["rotated"]) }, false, ansInvalid},
		{"missing scope", func() *http.Request { return bearer(f.tok["none"]) }, false,
			wantAnswer{403, `Bearer realm="api", error="insufficient_scope", scope="jobs:read"`, bodyForbidden}},
		{"store unavailable", func() *http.Request { return bearer(f.tok["read"]) }, true, ansUnavailable},
		{"store unavailable, malformed token", func() *http.Request { return bearer("pgk_live_nope") }, true, ansInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.store.lookupDown.Store(tt.down)
			defer f.store.lookupDown.Store(false)
			rec := serve(h, tt.req())
			checkAnswer(t, rec, tt.want)
			if tt.want.status == 200 && rec.Body.String() != f.key["read"].ID {
				t.Errorf("handler saw key %q, want %q", rec.Body.String(), f.key["read"].ID)
			}
		})
	}
}

// TestHeaderParsing covers how credentials are read.
func TestHeaderParsing(t *testing.T) {
	f := newMWFixture(t)
	tok := f.tok["read"]
	withAuth := func(vals ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("GET", "/jobs", nil)
			for _, v := range vals {
				r.Header.Add("Authorization", v)
			}
			return r
		}
	}
	withHeader := func(name, v string, auth ...string) func() *http.Request {
		return func() *http.Request {
			r := withAuth(auth...)()
			r.Header.Set(name, v)
			return r
		}
	}
	withURL := func(u string) func() *http.Request {
		return func() *http.Request { return httptest.NewRequest("GET", u, nil) }
	}
	big := strings.Repeat("a", 64<<10)
	apiKey := apikey.WithHeader("X-API-Key")
	query := apikey.WithQueryParam("api_key")
	tests := []struct {
		name string
		opts []apikey.MiddlewareOption
		req  func() *http.Request
		want wantAnswer
	}{
		{"Bearer", nil, withAuth("Bearer " + tok), ansOK},
		{"lowercase scheme", nil, withAuth("bearer " + tok), ansOK},
		{"uppercase scheme", nil, withAuth("BEARER " + tok), ansOK},
		{"two spaces", nil, withAuth("Bearer  " + tok), ansInvalid},
		{"tab", nil, withAuth("Bearer\t" + tok), ansInvalid},
		{"trailing space", nil, withAuth("Bearer " + tok + " "), ansInvalid},
		{"two tokens", nil, withAuth("Bearer " + tok + " " + tok), ansInvalid},
		{"comma list", nil, withAuth("Bearer " + tok + ", Basic Zm9vOmJhcg=="), ansInvalid},
		{"empty token", nil, withAuth("Bearer "), ansInvalid},
		{"scheme only", nil, withAuth("Bearer"), ansInvalid},
		{"non-ASCII", nil, withAuth("Bearer " + tok[:20] + "é" + tok[22:]), ansInvalid},
		{"64 KiB bearer", nil, withAuth("Bearer " + big), ansInvalid},
		{"64 KiB basic", nil, withAuth("Basic " + big), ansNoCreds},
		{"64 KiB no scheme", nil, withAuth(big), ansNoCreds},
		{"token of 257 bytes", nil, withAuth("Bearer " + strings.Repeat("a", 257)), ansInvalid},
		{"Basic scheme", nil, withAuth("Basic Zm9vOmJhcg=="), ansNoCreds},
		{"longer scheme name", nil, withAuth("Bearerx " + tok), ansNoCreds},
		{"bare token in Authorization", nil, withAuth(tok), ansNoCreds},
		{"two Authorization headers", nil, withAuth("Bearer "+tok, "Bearer "+tok), ansInvalid},
		{"X-API-Key not configured", nil, withHeader("X-API-Key", tok), ansNoCreds},
		{"X-API-Key", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", tok), ansOK},
		{"x-api-key lowercase", []apikey.MiddlewareOption{apiKey}, withHeader("x-api-key", tok), ansOK},
		{"X-API-Key empty", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", ""), ansInvalid},
		{"X-API-Key with scheme", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", "Bearer "+tok), ansInvalid},
		{"X-API-Key bad", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", "nope"), ansInvalid},
		{"X-API-Key and Basic", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", tok, "Basic Zm9vOmJhcg=="), ansOK},
		{"X-API-Key and Bearer", []apikey.MiddlewareOption{apiKey}, withHeader("X-API-Key", tok, "Bearer "+tok), ansInvalid},
		{"Bearer with header option", []apikey.MiddlewareOption{apiKey}, withAuth("Bearer " + tok), ansOK},
		{"query not configured", nil, withURL("/jobs?api_key=" + tok), ansNoCreds},
		{"query", []apikey.MiddlewareOption{query}, withURL("/jobs?api_key=" + tok), ansOK},
		{"query other param", []apikey.MiddlewareOption{query}, withURL("/jobs?access_token=" + tok), ansNoCreds},
		{"query twice", []apikey.MiddlewareOption{query}, withURL("/jobs?api_key=" + tok + "&api_key=" + tok), ansInvalid},
		{"query and Bearer", []apikey.MiddlewareOption{query}, func() *http.Request {
			r := withURL("/jobs?api_key=" + tok)()
			r.Header.Set("Authorization", "Bearer "+tok)
			return r
		}, ansInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.auth(t, tt.opts...)
			checkAnswer(t, serve(a.Middleware(whoami), tt.req()), tt.want)
		})
	}
}

// TestCredentials checks the identify step on its own.
func TestCredentials(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t)
	if _, err := a.Credentials(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, apikey.ErrNoCredentials) {
		t.Errorf("no header: err = %v, want ErrNoCredentials", err)
	}
	if _, err := a.Credentials(bearer("a b")); !errors.Is(err, apikey.ErrMalformed) {
		t.Errorf("two tokens: err = %v, want ErrMalformed", err)
	}
	got, err := a.Credentials(bearer(f.tok["read"]))
	if err != nil || got != f.tok["read"] {
		t.Errorf("Credentials = %v, want the token", err)
	}
	// b64token allows trailing '=' padding: parsed, then refused by Verify.
	if got, err := a.Credentials(bearer("abc==")); err != nil || got != "abc==" {
		t.Errorf("padded token: %q, %v", got, err)
	}
	if _, err := a.Credentials(bearer("ab=c")); !errors.Is(err, apikey.ErrMalformed) {
		t.Errorf("'=' inside token: err = %v, want ErrMalformed", err)
	}
}

// TestScopes covers all-of and any-of checks.
func TestScopes(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t)
	forbidden := func(scope string) wantAnswer {
		return wantAnswer{403, `Bearer realm="api", error="insufficient_scope", scope="` + scope + `"`, bodyForbidden}
	}
	tests := []struct {
		name string
		mw   func(http.Handler) http.Handler
		key  string
		want wantAnswer
	}{
		{"all: holds both", a.RequireAll("jobs:read", "jobs:write"), "rw", ansOK},
		{"all: holds one", a.RequireAll("jobs:read", "jobs:write"), "read", forbidden("jobs:read jobs:write")},
		{"all: wildcard", a.RequireAll("jobs:read", "jobs:write"), "all", ansOK},
		{"all: none held", a.RequireAll("jobs:read"), "none", forbidden("jobs:read")},
		{"all: nothing needed", a.RequireAll(), "none", ansOK},
		{"any: holds one", a.RequireAny("jobs:write", "jobs:read"), "read", ansOK},
		{"any: holds none", a.RequireAny("jobs:write", "artifacts:read"), "read", forbidden("jobs:write artifacts:read")},
		{"any: nothing listed", a.RequireAny(), "all", wantAnswer{403, `Bearer realm="api", error="insufficient_scope"`, bodyForbidden}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAnswer(t, serve(a.Middleware(tt.mw(whoami)), bearer(f.tok[tt.key])), tt.want)
		})
	}
}

// TestScopeFailsClosed: a scope check with no verified key in the context
// (wrong middleware order, or no authenticator at all) refuses with 401.
func TestScopeFailsClosed(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t)
	for name, h := range map[string]http.Handler{
		"scope before auth": a.RequireAll("jobs:read")(a.Middleware(whoami)),
		"no auth":           a.RequireAny("jobs:read")(whoami),
		"empty all-of":      a.RequireAll()(whoami),
	} {
		t.Run(name, func(t *testing.T) {
			checkAnswer(t, serve(h, bearer(f.tok["all"])), ansNoCreds)
		})
	}
}

// TestOptional: anonymous requests pass with no key, bad ones do not.
func TestOptional(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t, apikey.WithOptional())
	h := a.Middleware(whoami)
	rec := serve(h, httptest.NewRequest("GET", "/", nil))
	checkAnswer(t, rec, ansOK)
	if rec.Body.String() != "anonymous" {
		t.Errorf("anonymous request saw %q", rec.Body.String())
	}
	basic := httptest.NewRequest("GET", "/", nil)
	basic.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
	if rec := serve(h, basic); rec.Code != 200 || rec.Body.String() != "anonymous" {
		t.Errorf("Basic request: %d %q, want anonymous pass-through", rec.Code, rec.Body.String())
	}
	rec = serve(h, bearer(f.tok["read"]))
	if rec.Code != 200 || rec.Body.String() != f.key["read"].ID {
		t.Errorf("valid key: %d %q", rec.Code, rec.Body.String())
	}
	checkAnswer(t, serve(h, bearer(f.tok["revoked"])), ansInvalid)
	checkAnswer(t, serve(h, bearer("garbage")), ansInvalid)
	f.store.lookupDown.Store(true)
	checkAnswer(t, serve(h, bearer(f.tok["read"])), ansUnavailable)
	f.store.lookupDown.Store(false)
	// A scope check after an optional authenticator still fails closed.
	checkAnswer(t, serve(a.Middleware(a.RequireAll("jobs:read")(whoami)), httptest.NewRequest("GET", "/", nil)), ansNoCreds)
}

// TestErrorOptions covers realm, codes and a custom error handler.
func TestErrorOptions(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t, apikey.WithRealm(`plan "grep"`), apikey.WithErrorCodes(apikey.ErrorCodes{Unauthorized: "auth_required"}))
	checkAnswer(t, serve(a.Middleware(whoami), bearer("x")), wantAnswer{401,
		`Bearer realm="plan \"grep\"", error="invalid_token"`,
		`{"error":{"code":"auth_required","message":"invalid API key"}}` + "\n"})
	checkAnswer(t, serve(a.Middleware(a.RequireAll("jobs:write")(whoami)), bearer(f.tok["read"])), wantAnswer{403,
		`Bearer realm="plan \"grep\"", error="insufficient_scope", scope="jobs:write"`, bodyForbidden})

	var got []error
	custom := f.auth(t, apikey.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		status, challenge := apikey.Challenge(err, "custom")
		if challenge != "" {
			w.Header().Set("WWW-Authenticate", challenge)
		}
		w.WriteHeader(status)
	}))
	h := custom.Middleware(custom.RequireAny("jobs:write")(whoami))
	serve(h, httptest.NewRequest("GET", "/", nil))
	serve(h, bearer(f.tok["expired"]))
	rec := serve(h, bearer(f.tok["read"]))
	f.store.lookupDown.Store(true)
	serve(h, bearer(f.tok["read"]))
	f.store.lookupDown.Store(false)
	if len(got) != 4 {
		t.Fatalf("handler called %d times, want 4", len(got))
	}
	if !errors.Is(got[0], apikey.ErrNoCredentials) || !errors.Is(got[1], apikey.ErrExpired) ||
		!errors.Is(got[2], apikey.ErrInsufficientScope) || !errors.Is(got[3], apikey.ErrStoreUnavailable) {
		t.Errorf("errors = %v", got)
	}
	if se, ok := errors.AsType[*apikey.ScopeError](got[2]); !ok || !se.Any || len(se.Scopes) != 1 || se.Scopes[0] != "jobs:write" {
		t.Errorf("scope error = %#v", got[2])
	}
	if msg := got[2].Error(); msg != "apikey: insufficient scope: needs one of [jobs:write]" {
		t.Errorf("scope error text = %q", msg)
	}
	if rec.Code != 403 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="custom", error="insufficient_scope", scope="jobs:write"` {
		t.Errorf("custom answer: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// TestBadOptions: options are validated by NewAuthenticator.
func TestBadOptions(t *testing.T) {
	f := newMWFixture(t)
	for name, o := range map[string]apikey.MiddlewareOption{
		"realm with newline":   apikey.WithRealm("a\nb"),
		"header Authorization": apikey.WithHeader("authorization"),
		"header with space":    apikey.WithHeader("X API Key"),
		"empty query":          apikey.WithQueryParam(""),
		"nil handler":          apikey.WithErrorHandler(nil),
		"bad proxy":            apikey.WithTrustedProxies("10.0.0.0/33"),
		"nil tracker":          apikey.WithUsageTracker(nil),
	} {
		if _, err := apikey.NewAuthenticator(f.m, o); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := apikey.NewAuthenticator(nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("nil manager: err = %v", err)
	}
}

// TestReasonsOnlyInLog: the client sees one generic answer; the log gets
// the reason and never the token.
func TestReasonsOnlyInLog(t *testing.T) {
	f := newMWFixture(t)
	a := f.auth(t)
	h := a.Middleware(whoami)
	for _, name := range []string{"revoked", "expired", "rotated", "unknown"} {
		rec := serve(h, bearer(f.tok[name]))
		if rec.Body.String() != bodyInvalid {
			t.Errorf("%s: body %q", name, rec.Body.String())
		}
	}
	serve(h, bearer("two tokens"))
	log := f.logBuf.String()
	for _, reason := range []string{"reason=revoked", "reason=expired", "reason=grace_ended", "reason=not_found", "b64token"} {
		if !strings.Contains(log, reason) {
			t.Errorf("log lacks %q:\n%s", reason, log)
		}
	}
	for name, tok := range f.tok {
		if strings.Contains(log, tok) {
			t.Errorf("log holds the %s token", name)
		}
	}
}

// TestContext covers NewContext and FromContext.
func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := apikey.FromContext(ctx); ok {
		t.Error("empty context has a key")
	}
	if _, ok := apikey.FromContext(apikey.NewContext(ctx, nil)); ok {
		t.Error("nil key counts as a key")
	}
	k := &apikey.Key{ID: "01J00000000000000000000000"}
	if got, ok := apikey.FromContext(apikey.NewContext(ctx, k)); !ok || got != k {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
	// Another package's value under an equal-looking key is not ours.
	type ctxKey struct{}
	if _, ok := apikey.FromContext(context.WithValue(ctx, ctxKey{}, k)); ok {
		t.Error("foreign context key read as ours")
	}
}

// TestWriteError checks the exported renderer against each sentinel.
func TestWriteError(t *testing.T) {
	tests := []struct {
		err  error
		want wantAnswer
	}{
		{apikey.ErrNoCredentials, ansNoCreds},
		{fmt.Errorf("wrapped: %w", apikey.ErrNoCredentials), ansNoCreds},
		{apikey.ErrMalformed, ansInvalid},
		{apikey.ErrNotFound, ansInvalid},
		{apikey.ErrRevoked, ansInvalid},
		{apikey.ErrExpired, ansInvalid},
		{apikey.ErrGraceEnded, ansInvalid},
		{errors.New("anything else"), ansInvalid},
		{nil, ansInvalid},
		{apikey.ErrInsufficientScope, wantAnswer{403, `Bearer realm="api", error="insufficient_scope"`, bodyForbidden}},
		{&apikey.ScopeError{Scopes: []string{"a:b", "c:d"}}, wantAnswer{403, `Bearer realm="api", error="insufficient_scope", scope="a:b c:d"`, bodyForbidden}},
		{fmt.Errorf("%w: lookup: boom", apikey.ErrStoreUnavailable), ansUnavailable},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			rec := httptest.NewRecorder()
			apikey.WriteError(rec, tt.err, "api", apikey.ErrorCodes{})
			checkAnswer(t, rec, tt.want)
		})
	}
}

// TestMalformedHeaderEvent: credentials refused before Verify still reach
// the audit hook, as a verify_failed event with reason "malformed".
func TestMalformedHeaderEvent(t *testing.T) {
	var mu sync.Mutex
	var events []apikey.Event
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", testPepper),
		apikey.WithEventHook(func(_ context.Context, e apikey.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := apikey.NewAuthenticator(m)
	if err != nil {
		t.Fatal(err)
	}
	serve(a.Middleware(whoami), bearer("one two"))
	serve(a.Middleware(whoami), httptest.NewRequest("GET", "/", nil)) // no credentials: no event
	if len(events) != 1 || events[0].Kind != apikey.EventVerifyFailed || events[0].Reason != "malformed" {
		t.Errorf("events = %+v", events)
	}
}
