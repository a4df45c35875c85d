package apikey_test

import (
	"net/http/httptest"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
)

// BenchmarkRequireVsMiddleware serves a request with a valid key through
// Require("jobs:read") and through Middleware(RequireAll("jobs:read")),
// interleaved, and reports require-ratio (Require over the pair: at most 1
// is the goal, it saves the second handler and the context lookup) with
// both legs' best ns/op.
func BenchmarkRequireVsMiddleware(b *testing.B) {
	m, r := mwBench(b)
	a, err := apikey.NewAuthenticator(m)
	if err != nil {
		b.Fatal(err)
	}
	pair := a.Middleware(a.RequireAll("jobs:read")(benchOK))
	one := a.Require("jobs:read")(benchOK)
	b.ReportAllocs()
	_, best := benchkit.InterleaveLegs(b,
		benchkit.Leg{Name: "pair", Fn: func() { pair.ServeHTTP(httptest.NewRecorder(), r) }},
		benchkit.Leg{Name: "require", Fn: func() { one.ServeHTTP(httptest.NewRecorder(), r) }},
	)
	b.ReportMetric(best[0], "pair-ns/op")
	b.ReportMetric(best[1], "require-ns/op")
	b.ReportMetric(best[1]/best[0], "require-ratio")
}
