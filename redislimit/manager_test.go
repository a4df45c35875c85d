package redislimit_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/redislimit"
)

// TestManagerWithRedis: a Manager given the Redis limiter enforces a key's
// limits on every verify, shared by two managers (two processes' worth of
// state: nothing in common but Redis and the store), and its middleware
// answers 429 with Retry-After, then 503 when Redis is gone (fail closed).
func TestManagerWithRedis(t *testing.T) {
	l, p := proxiedLimiter(t, redislimit.WithLogger(slog.New(slog.DiscardHandler)))
	store := memstore.New()
	pepper := []byte("0123456789abcdef0123456789abcdef")
	newManager := func() *apikey.Manager {
		m, err := apikey.New(store, apikey.WithPepper("v1", pepper), apikey.WithRateLimiter(l))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1, m2 := newManager(), newManager()
	ctx := context.Background()
	issued, err := m1.Create(ctx, apikey.CreateParams{Tenant: "t1",
		RateLimits: []apikey.RateLimit{{Name: "per_minute", Limit: 3, Window: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := issued.Token.Reveal()
	for i, m := range []*apikey.Manager{m1, m2, m1} {
		if _, err := m.VerifyRequest(ctx, tok, apikey.RequestParams{}); err != nil {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	_, err = m2.VerifyRequest(ctx, tok, apikey.RequestParams{})
	var rl *apikey.RateLimitedError
	if !errors.As(err, &rl) || rl.Decision.Limit.Name != "per_minute" || rl.Decision.RetryAfter <= 0 {
		t.Fatalf("fourth verify: %v, want a *RateLimitedError", err)
	}

	auth, err := apikey.NewAuthenticator(m2)
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	call := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(w, r)
		return w
	}
	if w := call(); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %v", w.Code, w.Header())
	}
	p.stop()
	if w := call(); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("Redis gone: %d, want 503 (fail closed)", w.Code)
	}
}
