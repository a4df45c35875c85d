package apikey_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

// logLine is one JSON log line of the failure log tests.
type logLine struct {
	Level      string `json:"level"`
	Msg        string `json:"msg"`
	Reason     string `json:"reason"`
	Suppressed *int64 `json:"suppressed"`
	Prefix     string `json:"prefix"`
}

func parseLines(t *testing.T, s string) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var x logLine
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if x.Msg == "apikey: verify failed" {
			out = append(out, x)
		}
	}
	return out
}

// failLogFixture is a fixture logging JSON at level to buf.
func failLogFixture(t *testing.T, level slog.Level, opts ...apikey.Option) (*fixture, *lockedBuffer) {
	buf := &lockedBuffer{}
	l := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level}))
	return newFixture(t, append([]apikey.Option{apikey.WithLogger(l)}, opts...)...), buf
}

func TestFailureLogSampledPerReason(t *testing.T) {
	ctx := context.Background()
	f, buf := failLogFixture(t, slog.LevelInfo)
	good := f.create(t, "acme", apikey.CreateParams{})
	revoked := f.create(t, "acme", apikey.CreateParams{})
	if _, err := f.m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	unknown := forgedToken("pgk", "live", "00000000000000000")
	flood := func(tok string, n int) {
		for range n {
			_, _ = f.m.Verify(ctx, tok)
		}
	}
	flood(unknown, 100)
	flood(revoked.Token.Reveal(), 5)
	flood(wrongSecret(good.Token.Reveal()), 3)
	f.clock.Advance(apikey.DefaultFailureLogInterval - time.Millisecond)
	flood(unknown, 10) // still inside the interval
	lines := parseLines(t, buf.String())
	want := []struct {
		reason     string
		suppressed int64
	}{{"not_found", 0}, {"revoked", 0}, {"mismatch", 0}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		l := lines[i]
		if l.Level != "INFO" || l.Reason != w.reason || l.Suppressed == nil || *l.Suppressed != w.suppressed {
			t.Errorf("line %d = %+v, want INFO %s suppressed %d", i, l, w.reason, w.suppressed)
		}
	}
	if lines[1].Prefix != revoked.Key.Prefix {
		t.Errorf("revoked line names prefix %q, want %q", lines[1].Prefix, revoked.Key.Prefix)
	}

	// The next interval: one line per reason, with the count held back.
	f.clock.Advance(time.Millisecond)
	flood(unknown, 1)
	flood(revoked.Token.Reveal(), 1)
	lines = parseLines(t, buf.String())[3:]
	if len(lines) != 2 || lines[0].Reason != "not_found" || *lines[0].Suppressed != 109 ||
		lines[1].Reason != "revoked" || *lines[1].Suppressed != 4 {
		t.Errorf("second interval lines %+v, want not_found/109 and revoked/4", lines)
	}
	for _, tok := range []string{good.Token.Reveal(), revoked.Token.Reveal(), unknown} {
		secret := tok[len("pgk_live_")+8:]
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("log holds token material %q:\n%s", secret, buf.String())
		}
	}
}

func TestFailureLogDebugGetsTheRest(t *testing.T) {
	f, buf := failLogFixture(t, slog.LevelDebug)
	unknown := forgedToken("pgk", "live", "00000000000000000")
	for range 4 {
		f.verifyErr(t, unknown, apikey.ErrNotFound)
	}
	lines := parseLines(t, buf.String())
	if len(lines) != 4 || lines[0].Level != "INFO" {
		t.Fatalf("lines %+v, want one INFO then three DEBUG", lines)
	}
	for _, l := range lines[1:] {
		if l.Level != "DEBUG" || l.Suppressed != nil {
			t.Errorf("line %+v, want DEBUG without a suppressed count", l)
		}
	}
}

func TestFailureLogIntervalZeroLogsEvery(t *testing.T) {
	f, buf := failLogFixture(t, slog.LevelInfo, apikey.WithFailureLogInterval(0))
	for range 5 {
		f.verifyErr(t, "pgk_live_short", apikey.ErrMalformed)
	}
	if n := len(parseLines(t, buf.String())); n != 5 {
		t.Errorf("%d lines, want 5", n)
	}
	if _, err := apikey.New(newCountingStore(), apikey.WithPepper("v1", pepperV1), apikey.WithFailureLogInterval(-time.Second)); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("negative interval: %v, want ErrInvalid", err)
	}
}

func TestFailureLogStoreUnavailableIsWarnAndSampled(t *testing.T) {
	f, buf := failLogFixture(t, slog.LevelInfo)
	good := f.create(t, "acme", apikey.CreateParams{})
	f.store.setFail(errBroken)
	for range 50 {
		f.verifyErr(t, good.Token.Reveal(), apikey.ErrStoreUnavailable)
	}
	lines := parseLines(t, buf.String())
	if len(lines) != 1 || lines[0].Level != "WARN" || lines[0].Reason != "store_unavailable" {
		t.Errorf("lines %+v, want one WARN store_unavailable", lines)
	}
}
