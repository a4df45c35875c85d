package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// A key under a rate limit, usage credits and an IP allowlist, checked by
// VerifyRequest in the order of SPEC D1.
func ExampleManager_VerifyRequest() {
	ctx := context.Background()
	m, _ := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	ips, _ := apikey.ParseIPAllowlist("10.0.0.0/8")
	is, err := m.Create(ctx, apikey.CreateParams{
		Tenant:      "acme",
		Scopes:      []string{"jobs:read"},
		RateLimits:  []apikey.RateLimit{{Name: "per_second", Limit: 10, Window: time.Second}},
		Credits:     &apikey.Credits{Remaining: 3},
		IPAllowlist: ips,
	})
	if err != nil {
		panic(err)
	}
	tok := is.Token.Reveal()
	req := apikey.RequestParams{ClientIP: netip.MustParseAddr("10.1.2.3"), Scopes: []string{"jobs:read"}}
	_, err = m.VerifyRequest(ctx, tok, apikey.RequestParams{ClientIP: netip.MustParseAddr("192.0.2.1")})
	fmt.Println("from outside the allowlist:", apikey.Reason(err))
	_, err = m.VerifyRequest(ctx, tok, apikey.RequestParams{ClientIP: req.ClientIP, Scopes: []string{"jobs:write"}})
	fmt.Println("without the scope:", apikey.Reason(err))
	for range 3 {
		_, err = m.VerifyRequest(ctx, tok, req)
		fmt.Println("allowed:", err == nil)
	}
	_, err = m.VerifyRequest(ctx, tok, req)
	fmt.Println("fourth:", apikey.Reason(err), errors.Is(err, apikey.ErrUsageExceeded))
	_ = m.FlushCredits(ctx) // on shutdown: hand back unspent leased credits
	// Output:
	// from outside the allowlist: ip_not_allowed
	// without the scope: insufficient_scope
	// allowed: true
	// allowed: true
	// allowed: true
	// fourth: usage_exceeded true
}

// Disable a key without revoking it, and enable it again.
func ExampleManager_Disable() {
	ctx := context.Background()
	m, _ := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	is, _ := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	_, _ = m.Disable(ctx, "acme", is.Key.ID)
	_, err := m.Verify(ctx, is.Token.Reveal())
	fmt.Println(apikey.Reason(err))
	_, _ = m.Enable(ctx, "acme", is.Key.ID)
	_, err = m.Verify(ctx, is.Token.Reveal())
	fmt.Println(err == nil)
	// Output:
	// disabled
	// true
}

// Require checks the scopes before spending the rate limit; over the limit
// the answer is 429 with Retry-After and the RateLimit headers.
func ExampleAuthenticator_Require_controls() {
	ctx := context.Background()
	m, _ := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	is, _ := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:read"},
		RateLimits: []apikey.RateLimit{{Name: "per_minute", Limit: 1, Window: time.Minute}}})
	auth, _ := apikey.NewAuthenticator(m)
	h := auth.Require("jobs:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "jobs")
	}))
	for range 2 {
		r := httptest.NewRequest("GET", "/jobs", nil)
		r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == 200 {
			fmt.Println(w.Code, w.Body.String()[:4])
			continue
		}
		fmt.Println(w.Code, w.Header().Get("Retry-After"), w.Header().Get("RateLimit-Policy"))
	}
	// Output:
	// 200 jobs
	// 429 60 "per_minute";q=1;w=60
}
