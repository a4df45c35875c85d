package apikey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

// TestMiddlewareControls: the HTTP answers of the controls through the
// default error handler.
func TestMiddlewareControls(t *testing.T) {
	f := newFixture(t)
	ips, _ := apikey.ParseIPAllowlist("192.0.2.0/24")
	limited := f.create(t, "t1", apikey.CreateParams{Scopes: []string{"a:read"}, RateLimits: []apikey.RateLimit{{Name: "per_minute", Limit: 2, Window: time.Minute}}}).Token.Reveal()
	credit := f.create(t, "t1", apikey.CreateParams{Scopes: []string{"a:read"}, Credits: &apikey.Credits{Remaining: 1}}).Token.Reveal()
	fenced := f.create(t, "t1", apikey.CreateParams{IPAllowlist: ips}).Token.Reveal()
	off := f.create(t, "t1", apikey.CreateParams{Disabled: true}).Token.Reveal()
	auth, err := apikey.NewAuthenticator(f.m, apikey.WithTrustedProxies("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Require("a:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	plain := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	do := func(h http.Handler, tok, remote, xff string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	code := func(w *httptest.ResponseRecorder) string {
		var b struct{ Error struct{ Code string } }
		_ = json.Unmarshal(w.Body.Bytes(), &b)
		return b.Error.Code
	}
	for range 2 {
		if w := do(h, limited, "198.51.100.1:1", ""); w.Code != 204 {
			t.Fatalf("within the limit: %d", w.Code)
		}
	}
	w := do(h, limited, "198.51.100.1:1", "")
	ra, _ := strconv.Atoi(w.Header().Get("Retry-After"))
	if w.Code != 429 || code(w) != "rate_limited" || ra < 1 || ra > 31 ||
		w.Header().Get("RateLimit-Policy") != `"per_minute";q=2;w=60` ||
		w.Header().Get("RateLimit") != `"per_minute";r=0;t=`+w.Header().Get("Retry-After") {
		t.Fatalf("over the limit: %d %s %v", w.Code, w.Body, w.Header())
	}
	if w := do(h, credit, "198.51.100.1:1", ""); w.Code != 204 {
		t.Fatalf("one credit: %d", w.Code)
	}
	if w := do(h, credit, "198.51.100.1:1", ""); w.Code != 429 || code(w) != "usage_exceeded" {
		t.Fatalf("credits spent: %d %s", w.Code, w.Body)
	}
	if w := do(plain, fenced, "198.51.100.1:1", ""); w.Code != 403 || code(w) != "forbidden" {
		t.Fatalf("outside the allowlist: %d %s", w.Code, w.Body)
	}
	if w := do(plain, fenced, "127.0.0.1:1", "192.0.2.9"); w.Code != 204 {
		t.Fatalf("inside the allowlist through a trusted proxy: %d %s", w.Code, w.Body)
	}
	if w := do(plain, fenced, "198.51.100.1:1", "192.0.2.9"); w.Code != 403 {
		t.Fatalf("spoofed X-Forwarded-For from an untrusted peer: %d", w.Code)
	}
	if w := do(plain, off, "198.51.100.1:1", ""); w.Code != 401 || code(w) != "unauthorized" {
		t.Fatalf("disabled: %d %s", w.Code, w.Body)
	}
	// Codes are configurable like the others.
	auth2, _ := apikey.NewAuthenticator(f.m, apikey.WithErrorCodes(apikey.ErrorCodes{RateLimited: "slow_down"}))
	if w := do(auth2.Middleware(plain), limited, "198.51.100.1:1", ""); code(w) != "slow_down" {
		t.Fatalf("custom code: %s", w.Body)
	}
}

// TestMemoryLimiterBoundedAndAllocFree: memory stays bounded whatever the
// number of keys, and a tracked limit allocates nothing.
func TestMemoryLimiterBoundedAndAllocFree(t *testing.T) {
	l := apikey.NewMemoryLimiter(640)
	ctx := context.Background()
	k := &apikey.Key{ID: "k", Tenant: "t", RateLimits: []apikey.RateLimit{{Name: "a", Limit: 1e9, Window: time.Hour}, {Name: "b", Limit: 1e9, Window: time.Hour, Shared: true}}}
	for i := range 10000 {
		k.ID = strconv.Itoa(i)
		if _, err := l.Allow(ctx, k, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.Len(); n > 640 {
		t.Fatalf("%d states held, bound 640", n)
	}
	k.ID = "hot"
	if allocs := testing.AllocsPerRun(1000, func() { _, _ = l.Allow(ctx, k, 1) }); allocs != 0 {
		t.Fatalf("Allow allocates %.1f times per call", allocs)
	}
}

// TestControlRefusalsAreNotGuesses: a valid key refused for its rate limit
// does not count against its client in the failure throttle.
func TestControlRefusalsAreNotGuesses(t *testing.T) {
	f := newFixture(t)
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 2, Per: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := apikey.NewAuthenticator(f.m, apikey.WithFailureThrottle(th))
	tok := f.create(t, "t1", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "m", Limit: 1, Window: time.Hour}}}).Token.Reveal()
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	codes := ""
	for range 5 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var b struct{ Error struct{ Code string } }
		_ = json.Unmarshal(w.Body.Bytes(), &b)
		codes += strconv.Itoa(w.Code) + b.Error.Code + " "
	}
	if codes != "204 429rate_limited 429rate_limited 429rate_limited 429rate_limited " {
		t.Fatalf("answers %q: rate-limited requests must not trip the failure throttle", codes)
	}
}
