package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// scrape GETs url (a /metrics endpoint) and returns its samples by series
// ("name{labels}" as written), failing the test unless it answers 200 in
// the Prometheus text format.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s\n%s", url, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsEndpoint serves /metrics on its own listener, makes real API
// requests (a valid key, a bad token, a key lacking the scope) and checks
// the counters moved by exactly those requests.
func TestMetricsEndpoint(t *testing.T) {
	db, d := sqltest.Open(t, sqltest.SQLiteFile)
	backend, err := kit.FromDB(context.Background(), db, d)
	if err != nil {
		t.Fatal(err)
	}
	if backend.Metrics, err = kit.StartMetrics("127.0.0.1:0", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	url := "http://" + backend.Metrics.Addr() + "/metrics"
	s := newTestServer(t, backend, kit.EphemeralSecrets(), true)
	session := s.bootstrap("w1", "u1")
	_, token := s.createKey(session, "reader", scopeJobsRead)

	before := scrape(t, url)
	s.do("GET", "/api/open/v1/jobs", nil, withBearer(token)).expect(t, http.StatusOK, "")
	s.do("GET", "/api/open/v1/jobs", nil, withBearer(token)).expect(t, http.StatusOK, "")
	s.do("GET", "/api/open/v1/jobs", nil, withBearer(token[:len(token)-1]+"x")).expect(t, http.StatusUnauthorized, codeUnauthorized)
	s.do("POST", "/api/open/v1/jobs", map[string]any{"name": "build"}, withBearer(token)).expect(t, http.StatusForbidden, codeForbidden)
	after := scrape(t, url)

	for series, want := range map[string]float64{
		`apikey_verify_outcomes_total{apikey_outcome="valid"}`:           3,
		`apikey_verify_outcomes_total{apikey_outcome="malformed"}`:       1,
		`apikey_verify_duration_seconds_count{apikey_outcome="valid"}`:   3,
		`apikey_auth_refusals_total{apikey_reason="invalid"}`:            0,
		`apikey_auth_refusals_total{apikey_reason="malformed"}`:          1,
		`apikey_auth_refusals_total{apikey_reason="insufficient_scope"}`: 1,
		`apikey_cache_lookups_total{apikey_cache_result="miss"}`:         1,
		`apikey_cache_lookups_total{apikey_cache_result="hit"}`:          2,
	} {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	if n := after[`apikey_cache_entries{apikey_cache_entry="known"}`]; n != 1 {
		t.Errorf("cache entries %v, want 1", n)
	}
	if _, ok := after["apikey_usage_pending"]; !ok {
		t.Error("no apikey_usage_pending gauge")
	}
	if lag, ok := after["apikey_feed_lag_seconds"]; !ok || lag < 0 || lag > 60 {
		t.Errorf("feed lag %v (present %v), want a few seconds at most", lag, ok)
	}
	for series := range after {
		if strings.Contains(series, token[len(token)-20:]) {
			t.Fatalf("a series holds token material: %s", series)
		}
	}
}

// TestMetricsFlagBinary starts the real command with -metrics-addr and
// reads /metrics on that address after a refused request.
func TestMetricsFlagBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t, ".")
	addr, maddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{Args: []string{"-addr", addr, "-db", "memory", "-metrics-addr", maddr}, Dir: t.TempDir()})
	p.WaitHTTP(t, "http://"+maddr+"/metrics")
	p.WaitHTTP(t, "http://"+addr+"/api/open/v1/jobs")
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/open/v1/jobs", nil)
	req.Header.Set("Authorization", "Bearer pgp_live_not-a-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", res.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, "http://"+maddr+"/metrics")[`apikey_auth_refusals_total{apikey_reason="malformed"}`] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("refusal not counted on /metrics\n%s", p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Logs())
	}
}
