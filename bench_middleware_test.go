package apikey_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// mwBench returns a manager on memstore, a token holding jobs:read, and a
// request presenting it.
func mwBench(b *testing.B) (*apikey.Manager, *http.Request) {
	b.Helper()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper))
	if err != nil {
		b.Fatal(err)
	}
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "t", Scopes: []string{"jobs:read"}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/jobs", nil)
	r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
	return m, r
}

var benchOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func runHandler(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkBareHandler is the reference for BenchmarkMiddleware: the same
// handler and recorder without authentication.
func BenchmarkBareHandler(b *testing.B) {
	_, r := mwBench(b)
	runHandler(b, benchOK, r)
}

// BenchmarkMiddleware serves a request with a valid key through the
// authenticator and a RequireAll scope check (memstore). Subtract
// BenchmarkBareHandler for the cost the middleware adds.
func BenchmarkMiddleware(b *testing.B) {
	m, r := mwBench(b)
	a, err := apikey.NewAuthenticator(m)
	if err != nil {
		b.Fatal(err)
	}
	runHandler(b, a.Middleware(a.RequireAll("jobs:read")(benchOK)), r)
}

// BenchmarkMiddlewareUsage is BenchmarkMiddleware with usage tracking
// (the key already pending, as for every request but the first of an
// interval) and a client name read from a header.
func BenchmarkMiddlewareUsage(b *testing.B) {
	m, r := mwBench(b)
	tr, err := apikey.NewUsageTracker(m.Store())
	if err != nil {
		b.Fatal(err)
	}
	a, err := apikey.NewAuthenticator(m, apikey.WithUsageTracker(tr), apikey.WithTrustedProxies("10.0.0.0/8"),
		apikey.WithClientName(func(r *http.Request) string { return r.Header.Get("X-Integration-Name") }))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("X-Integration-Name", "zapier")
	runHandler(b, a.Middleware(a.RequireAll("jobs:read")(benchOK)), r)
}

// BenchmarkUsageTouch measures Touch on pending keys from parallel
// goroutines.
func BenchmarkUsageTouch(b *testing.B) {
	tr, err := apikey.NewUsageTracker(memstore.New())
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = "01JKEY" + strconv.Itoa(i)
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tr.Touch(ids[i&1023], at, "192.0.2.1", "zapier")
			i++
		}
	})
}

// BenchmarkMiddlewareAdded interleaves, in chunks, one SHA-256 of the token
// (the reference), the bare handler, the protected one (as in
// BenchmarkMiddleware) and a plain Manager.Verify of the same token, so
// load on the machine affects all four alike. It reports, from the best
// chunks, added-ns/op (protected minus bare), verify-ns/op,
// beyond-verify-ns/op (added minus verify: the middleware's own cost), and
// the ratios to the SHA-256 leg: added-ratio (target at most 3.5) and
// verify-ratio. ns/op is the cost of the four legs together.
func BenchmarkMiddlewareAdded(b *testing.B) {
	m, r := mwBench(b)
	a, err := apikey.NewAuthenticator(m)
	if err != nil {
		b.Fatal(err)
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	buf := []byte(tok)
	ctx := context.Background()
	protected := a.Middleware(a.RequireAll("jobs:read")(benchOK))
	var sink [32]byte
	b.ReportAllocs()
	_, best := benchkit.InterleaveLegs(b,
		benchkit.Leg{Name: "sha256", Fn: func() { sink = sha256.Sum256(buf) }},
		benchkit.Leg{Name: "bare", Fn: func() { benchOK.ServeHTTP(httptest.NewRecorder(), r) }},
		benchkit.Leg{Name: "protected", Fn: func() { protected.ServeHTTP(httptest.NewRecorder(), r) }},
		benchkit.Leg{Name: "verify", Fn: func() {
			if _, err := m.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}},
	)
	_ = sink
	sha, bare, prot, verify := best[0], best[1], best[2], best[3]
	b.ReportMetric(prot-bare, "added-ns/op")
	b.ReportMetric(verify, "verify-ns/op")
	b.ReportMetric(prot-bare-verify, "beyond-verify-ns/op")
	b.ReportMetric(sha, "sha256-ns/op")
	b.ReportMetric((prot-bare)/sha, "added-ratio")
	b.ReportMetric(verify/sha, "verify-ratio")
}
