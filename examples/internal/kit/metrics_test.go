package kit

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

func TestMetricsOffByDefault(t *testing.T) {
	m, err := StartMetrics("", slog.New(slog.DiscardHandler))
	if err != nil || m != nil {
		t.Fatalf("StartMetrics(\"\") = %v, %v; want nil, nil", m, err)
	}
	// A nil *Metrics is usable everywhere.
	if m.Addr() != "" || m.Options() != nil || m.UsageOptions() != nil || m.Close(context.Background()) != nil {
		t.Fatal("nil Metrics is not inert")
	}
	m.Observe(nil, nil)
}

func TestMetricsServesPrometheusText(t *testing.T) {
	ctx := context.Background()
	mx, err := StartMetrics("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer mx.Close(ctx)
	m, err := apikey.New(memstore.New(), append(mx.Options(), apikey.WithPepper("v1", EphemeralSecrets().Pepper))...)
	if err != nil {
		t.Fatal(err)
	}
	mx.Observe(m, nil)
	_, _ = m.Verify(ctx, "key_live_nope")
	res, err := http.Get("http://" + mx.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`apikey_verify_outcomes_total{apikey_outcome="malformed"} 1`,
		`apikey_cache_entries{apikey_cache_entry="known"} 0`,
		`# TYPE apikey_verify_duration_seconds histogram`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, b)
		}
	}
	if err := mx.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + mx.Addr() + "/metrics"); err == nil {
		t.Error("/metrics still served after Close")
	}
}
