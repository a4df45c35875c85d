package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestUsageStatsLine: many requests on two keys within one interval make
// one store write (at shutdown) of two records, and logUsageStats, which
// main runs after shutdown, logs those counters on one line (the load test
// reads it).
func TestUsageStatsLine(t *testing.T) {
	backend, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	var logs proctest.Buffer
	s := startApp(t, appConfig{
		Backend: backend, Secrets: kit.EphemeralSecrets(), Clock: &kit.DevClock{}, Dev: true,
		UsageInterval: time.Hour,
		Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
	})
	sess := s.bootstrap("ws_a", "usr_1")
	_, tokA := s.createKey(sess, "a", "jobs:read")
	_, tokB := s.createKey(sess, "b", "jobs:read")
	for range 10 {
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tokA)).expect(t, 200, "")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tokB)).expect(t, 200, "")
	}
	s.srv.Close()
	if err := s.app.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.app.logUsageStats(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	want := `msg="usage tracker stats" writes=1 records=2 dropped=0 failures=0 pending=0`
	if !strings.Contains(out, want) {
		t.Fatalf("shutdown log lacks %q:\n%s", want, out)
	}
	for _, tok := range []string{tokA, tokB} {
		if strings.Contains(out, tok) {
			t.Fatal("a token was logged")
		}
	}
}
