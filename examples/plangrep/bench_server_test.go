package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/internal/benchkit"
)

// BenchmarkServerPath serves GET /api/open/v1/jobs through plangrep's whole
// handler (routing, bearer middleware with usage tracking, scope check,
// JSON encoding) on an SQLite store with the verification cache and, in
// chunks interleaved with it, a bare handler writing the same bytes and
// headers, as examples/loadtest compares them over sockets. It reports
// added-ns/op (plangrep minus bare, best chunks) and bare-share: the bare
// handler's cost over plangrep's, the in-process ceiling of the load
// test's throughput ratio (sockets and HTTP parsing add the same to both).
func BenchmarkServerPath(b *testing.B) {
	ctx := context.Background()
	backend, err := kit.OpenStore(ctx, "sqlite:"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	a, err := newApp(ctx, appConfig{Backend: backend, Secrets: kit.EphemeralSecrets(),
		Clock: &kit.DevClock{}, UsageInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer a.shutdown(ctx)
	is, err := a.manager.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{scopeJobsRead}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/open/v1/jobs", nil)
	r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body, hdr := rec.Body.Bytes(), rec.Header().Clone()
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	var w sinkWriter
	b.ReportAllocs()
	_, best := benchkit.InterleaveLegs(b,
		benchkit.Leg{Name: "bare", Fn: func() { w.reset(); bare.ServeHTTP(&w, r) }},
		benchkit.Leg{Name: "plangrep", Fn: func() {
			w.reset()
			a.handler.ServeHTTP(&w, r)
			if w.status != http.StatusOK || !bytes.Equal(w.body, body) {
				b.Fatalf("status %d", w.status)
			}
		}},
	)
	b.ReportMetric(best[1]-best[0], "added-ns/op")
	b.ReportMetric(best[0]/best[1], "bare-share")
}

// sinkWriter is a ResponseWriter that keeps the last answer, reused
// between requests so that it adds no allocation to either leg.
type sinkWriter struct {
	h      http.Header
	status int
	body   []byte
}

func (w *sinkWriter) reset() {
	if w.h == nil {
		w.h = http.Header{}
	}
	clear(w.h)
	w.status, w.body = 0, w.body[:0]
}

func (w *sinkWriter) Header() http.Header { return w.h }
func (w *sinkWriter) WriteHeader(s int)   { w.status = s }
func (w *sinkWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, p...)
	return len(p), nil
}
