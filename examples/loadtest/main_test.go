package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the smoke test start this test binary as the bare handler,
// as the command does with itself.
func TestMain(m *testing.M) {
	if body := os.Getenv(bareEnv); body != "" {
		if err := serveBare(body); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(float64(i + 1))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{ms(3)}, 99, ms(3)},
		{"p50 of 1..100", hundred, 50, ms(50)},
		{"p99 of 1..100", hundred, 99, ms(99)},
		{"p100 of 1..100", hundred, 100, ms(100)},
		{"p1 of 1..100", hundred, 1, ms(1)},
		{"p50 of four is the second", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p99 of four is the last", []time.Duration{1, 2, 3, 4}, 99, 4},
		{"tiny p is the first", []time.Duration{1, 2, 3, 4}, 0.1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestParseLogfmt(t *testing.T) {
	tests := []struct {
		line string
		want map[string]string
	}{
		{`time=2026-11-23T00:00:00Z level=INFO msg=listening addr=127.0.0.1:4242`,
			map[string]string{"time": "2026-11-23T00:00:00Z", "level": "INFO", "msg": "listening", "addr": "127.0.0.1:4242"}},
		{`level=INFO msg="usage tracker stats" writes=12 records=601 dropped=0`,
			map[string]string{"level": "INFO", "msg": "usage tracker stats", "writes": "12", "records": "601", "dropped": "0"}},
		{`msg="say \"hi\" there" n=1`, map[string]string{"msg": `say "hi" there`, "n": "1"}},
		{`msg="unterminated`, map[string]string{}},
		{`not logfmt at all`, map[string]string{}},
		{``, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got := parseLogfmt(tt.line)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want time.Duration
		ok   bool
	}{
		{"plain", "4242 (plangrep) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 3 0 100 0 0",
			175 * clockTick, true},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0",
			7 * clockTick, true},
		{"truncated", "7 (x) R 1 2 3", 0, false},
		{"no name", "garbage", 0, false},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 u s 0 0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseProcStat(tt.stat)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseUsage(t *testing.T) {
	u, err := parseUsage(map[string]string{"writes": "12", "records": "601", "dropped": "0", "failures": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if u.writes != 12 || u.records != 601 || u.dropped != 0 || u.failures != 1 {
		t.Fatalf("got %+v", u)
	}
	if _, err := parseUsage(map[string]string{"writes": "12"}); err == nil {
		t.Fatal("a line without records parsed")
	}
}

func TestUsageBound(t *testing.T) {
	tests := []struct {
		name     string
		u        usage
		flushes  uint64
		bound    uint64
		problems int
	}{
		{"within", usage{keys: 50, interval: time.Second, lived: 17300 * time.Millisecond, records: 601}, 18, 900, 0},
		{"at the bound", usage{keys: 50, interval: time.Second, lived: 17 * time.Second, records: 900}, 18, 900, 0},
		{"beyond", usage{keys: 50, interval: time.Second, lived: 3 * time.Second, records: 201}, 4, 200, 1},
		{"failed flush", usage{keys: 1, interval: time.Second, lived: time.Second, records: 1, failures: 2}, 2, 2, 1},
		{"no interval", usage{keys: 5}, 1, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.u.flushes(); got != tt.flushes {
				t.Fatalf("flushes = %d, want %d", got, tt.flushes)
			}
			if got := tt.u.maxRecords(); got != tt.bound {
				t.Fatalf("maxRecords = %d, want %d", got, tt.bound)
			}
			if got := (report{usage: tt.u}).problems(); len(got) != tt.problems {
				t.Fatalf("problems = %q, want %d", got, tt.problems)
			}
		})
	}
}

func TestSummarizeAndReport(t *testing.T) {
	bare := summarize("bare", []round{
		{requests: 1000, elapsed: time.Second, latencies: []time.Duration{ms(1), ms(2)}, serverCPU: 500 * time.Millisecond, cpuKnown: true},
		{requests: 3000, elapsed: time.Second, latencies: []time.Duration{ms(3)}, serverCPU: 500 * time.Millisecond, cpuKnown: true},
	})
	if bare.requests != 4000 || bare.rps != 2000 || bare.bestRPS != 3000 || bare.p50 != ms(2) || bare.maxLatency != ms(3) {
		t.Fatalf("bare: %+v", bare)
	}
	if got := bare.cpuPerRequest(); got != 250*time.Microsecond {
		t.Fatalf("cpu per request = %v", got)
	}
	pg := summarize("plangrep", []round{
		{requests: 1500, failures: 2, elapsed: time.Second, latencies: []time.Duration{ms(4)}, serverCPU: time.Second, cpuKnown: true},
		{requests: 1500, elapsed: time.Second, latencies: []time.Duration{ms(5)}, serverCPU: 999 * time.Second}, // CPU unknown: ignored
	})
	rep := report{cfg: defaultConfig(), cpus: 2, body: 626, bare: bare, plangrep: pg,
		usage: usage{keys: 50, interval: time.Second, lived: 10 * time.Second, requests: 3001, writes: 3, records: 150}}
	if rep.ratio() != 0.75 || rep.bestRatio() != 0.5 {
		t.Fatalf("ratio %v, best %v", rep.ratio(), rep.bestRatio())
	}
	if got := rep.cpuRatio(); got < 0.374 || got > 0.376 { // 250 us / 666 us
		t.Fatalf("cpu ratio %v", got)
	}
	if p := rep.problems(); len(p) != 1 || !strings.Contains(p[0], "plangrep: 2 requests failed") {
		t.Fatalf("problems %q", p)
	}
	var out strings.Builder
	rep.write(&out)
	for _, want := range []string{
		"16 workers, 50 keys, 4 rounds of 2s per server",
		"plangrep / bare throughput: all rounds 75.0%, fastest rounds 50.0%",
		"3 RecordUsage batches, 150 records (50 keys, 1s interval",
		"bound 550 records",
		"20 requests per record",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCompare: the median is of the rounds' own ratios, round i against
// round i, not of the totals.
func TestCompare(t *testing.T) {
	rounds := func(rps ...int) []round {
		var out []round
		for _, n := range rps {
			out = append(out, round{requests: n, elapsed: time.Second})
		}
		return out
	}
	c := compare("plangrep", "bare", rounds(90, 50, 100, 95), rounds(100, 100, 100, 100))
	if c.median != 0.925 || c.ratio != 335.0/400 || c.best != 1 {
		t.Fatalf("%+v", c)
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Fatalf("median %v", m)
	}
	if m := median(nil); m != 0 {
		t.Fatalf("median of none %v", m)
	}
	rep := report{cfg: defaultConfig(), comparisons: []comparison{c, {name: "pk+redis", base: "bare/whoami", median: 0.8, ratio: 0.8, best: 0.8}}}
	var out strings.Builder
	rep.write(&out)
	for _, want := range []string{
		"plangrep / bare throughput: median of rounds 92.5%, all rounds 83.8%, fastest rounds 100.0%",
		"projectkeys, keys with a rate limit (Redis, -redis) / bare/whoami throughput: median of rounds 80.0%",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBareHandler(t *testing.T) {
	body := []byte(`{"jobs":[]}` + "\n")
	srv := httptest.NewServer(bareHandler(map[string][]byte{jobsPath: body, whoamiPath: []byte("{}")}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + jobsPath)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != string(body) ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.ContentLength != int64(len(body)) {
		t.Fatalf("GET: %d %v %q", resp.StatusCode, resp.Header, got)
	}
	resp, err = http.Post(srv.URL+jobsPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	for path, want := range map[string]int{whoamiPath: http.StatusOK, "/elsewhere": http.StatusNotFound} {
		resp, err = http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// TestLoadSmoke runs the whole load test for a few seconds, with -controls
// (and -redis when APIKEY_TEST_REDIS_URL is set): it builds plangrep and
// projectkeys and runs real processes, so it runs only when
// APIKEY_LOADTEST=1 (.ci/run sets it).
func TestLoadSmoke(t *testing.T) {
	if os.Getenv("APIKEY_LOADTEST") != "1" {
		t.Skip("set APIKEY_LOADTEST=1 to run the load test (builds and starts plangrep)")
	}
	cfg := defaultConfig()
	cfg.Duration, cfg.Rounds, cfg.Warmup = time.Second, 2, 100*time.Millisecond
	cfg.Keys, cfg.Concurrency = 5, 4
	cfg.Controls, cfg.Redis = true, os.Getenv("APIKEY_TEST_REDIS_URL")
	var out strings.Builder
	rep, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if p := rep.problems(); len(p) > 0 {
		t.Fatal(p)
	}
	if rep.bare.requests == 0 || rep.plangrep.requests == 0 {
		t.Fatalf("no requests: %+v", rep)
	}
	want := []string{"plangrep", "pk", "pk+limit"}
	if cfg.Redis != "" {
		want = append(want, "pk+redis")
	}
	var got []string
	for _, c := range rep.comparisons {
		got = append(got, c.name)
		if c.ratio <= 0 || c.median <= 0 {
			t.Errorf("%s: ratio %v, median %v", c.name, c.ratio, c.median)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("compared %v, want %v", got, want)
	}
	// Every key was used, so each made at least one record; coalescing
	// keeps them at one per key per flush (checked by problems).
	if rep.usage.records < uint64(cfg.Keys) || rep.usage.writes == 0 {
		t.Fatalf("usage: %+v", rep.usage)
	}
}
