package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// New refuses options that contradict each other, whatever their order,
// with an error naming both; and a negative interval anywhere.
func TestNewRefusesContradictions(t *testing.T) {
	v1 := apikey.WithPepper("v1", pepperV1)
	twoYears := apikey.WithDefaultExpiry(func(t time.Time) time.Time { return t.AddDate(2, 0, 0) })
	bad := []struct {
		name  string
		opts  []apikey.Option
		names []string // every one must appear in the error
	}{
		{"lifetime above max", []apikey.Option{v1, apikey.WithDefaultLifetime(48 * time.Hour), apikey.WithMaxLifetime(24 * time.Hour)},
			[]string{"WithDefaultLifetime(48h0m0s)", "WithMaxLifetime(24h0m0s)"}},
		{"lifetime above max, max first", []apikey.Option{v1, apikey.WithMaxLifetime(time.Hour), apikey.WithDefaultLifetime(2 * time.Hour)},
			[]string{"WithDefaultLifetime", "WithMaxLifetime"}},
		{"lifetime and expiry", []apikey.Option{v1, apikey.WithDefaultLifetime(time.Hour), twoYears},
			[]string{"WithDefaultLifetime", "WithDefaultExpiry"}},
		{"expiry and lifetime", []apikey.Option{v1, twoYears, apikey.WithDefaultLifetime(time.Hour)},
			[]string{"WithDefaultLifetime", "WithDefaultExpiry"}},
		{"negative lifetime", []apikey.Option{v1, apikey.WithDefaultLifetime(-time.Second)}, []string{"WithDefaultLifetime", "negative"}},
		{"negative max", []apikey.Option{v1, apikey.WithMaxLifetime(-time.Second)}, []string{"WithMaxLifetime", "negative"}},
		{"negative grace", []apikey.Option{v1, apikey.WithGrace(-time.Second, time.Hour)}, []string{"WithGrace"}},
		{"grace above max", []apikey.Option{v1, apikey.WithGrace(2*time.Hour, time.Hour)}, []string{"WithGrace"}},
		{"negative cache TTL", []apikey.Option{v1, apikey.WithCache(apikey.CacheOptions{TTL: -time.Second})}, []string{"WithCache", "TTL"}},
		{"nil test entropy", []apikey.Option{v1, apikey.WithTestEntropy(nil)}, []string{"WithTestEntropy"}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := apikey.New(memstore.New(), c.opts...)
			if !errors.Is(err, apikey.ErrInvalid) {
				t.Fatalf("New: got %v, want ErrInvalid", err)
			}
			for _, n := range c.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %s", err, n)
				}
			}
		})
	}
	good := map[string][]apikey.Option{
		"lifetime equal to max": {v1, apikey.WithDefaultLifetime(time.Hour), apikey.WithMaxLifetime(time.Hour)},
		"expiry with max":       {v1, twoYears, apikey.WithMaxLifetime(time.Hour)},
		"lifetime zero, expiry": {v1, apikey.WithDefaultLifetime(0), twoYears},
	}
	for name, opts := range good {
		if _, err := apikey.New(memstore.New(), opts...); err != nil {
			t.Errorf("%s: New: %v", name, err)
		}
	}
	// The default lifetime still applies once validated.
	f := newFixture(t, apikey.WithDefaultLifetime(time.Hour), apikey.WithMaxLifetime(2*time.Hour))
	is := f.create(t, "ws", apikey.CreateParams{})
	if want := f.clock.Now().Add(time.Hour); !is.Key.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", is.Key.ExpiresAt, want)
	}
}

// captureDefault sends slog.Default() to a buffer (at every level) for the
// test. Tests using it must not run in parallel.
func captureDefault(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// Without WithLogger, warnings reach slog.Default() and lower levels do not;
// WithLogger(nil) silences everything.
func TestDefaultLoggerWarns(t *testing.T) {
	buf := captureDefault(t)
	f := newFixture(t) // no WithLogger
	ctx := context.Background()
	is := f.create(t, "ws", apikey.CreateParams{})

	f.verifyErr(t, strings.Repeat("x", 5), apikey.ErrMalformed) // debug: not logged
	if buf.Len() != 0 {
		t.Fatalf("a debug-level failure reached the default logger: %s", buf)
	}
	f.store.setFail(errors.New("connection refused"))
	if _, err := f.m.Verify(ctx, is.Token.Reveal()); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("Verify: %v", err)
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "store_unavailable") {
		t.Fatalf("store failure not logged at WARN on slog.Default(): %q", out)
	}
	if strings.Contains(buf.String(), is.Token.Reveal()) {
		t.Fatal("token in the log")
	}

	buf.Reset()
	silent := newFixture(t, apikey.WithLogger(nil))
	silent.store.setFail(errors.New("connection refused"))
	if _, err := silent.m.Verify(ctx, is.Token.Reveal()); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("Verify: %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("WithLogger(nil) logged: %s", buf)
	}

	// The default follows a later slog.SetDefault, and keeps attributes.
	var later bytes.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&later, nil)))
	f.m.Logger().With("svc", "jobs").Warn("hello")
	f.m.Logger().Info("dropped")
	if out := later.String(); !strings.Contains(out, "svc=jobs") || !strings.Contains(out, "hello") || strings.Contains(out, "dropped") {
		t.Fatalf("default logger output %q", out)
	}
}

// A well-formed token of another prefix or environment is reported as
// that in logs, audit events and Reason; the HTTP client sees the same
// generic 401 as for a typo.
func TestOtherPrefixAndEnvironment(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, apikey.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	mint := func(opts ...apikey.Option) string {
		m, err := apikey.New(memstore.New(), append([]apikey.Option{apikey.WithPepper("v1", pepperV1)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws"})
		if err != nil {
			t.Fatal(err)
		}
		return is.Token.Reveal()
	}
	own := f.create(t, "ws", apikey.CreateParams{}).Token.Reveal()
	typo := own[:len(own)-1] + string(own[len(own)-1]^1)
	cases := []struct {
		name, token, reason, logged string
	}{
		{"other prefix", mint(apikey.WithPrefix("abc")), "other_prefix", "other_prefix"},
		{"other environment", mint(apikey.WithPrefix("pgk"), apikey.WithEnvironments("dev")), "other_environment", "other_environment"},
		{"typo", typo, "malformed", "reason=malformed"},
	}
	auth, err := apikey.NewAuthenticator(f.m)
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Require()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("let through") }))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs.Reset()
			f.events.take()
			_, err := f.m.Verify(ctx, c.token)
			if !errors.Is(err, apikey.ErrMalformed) || apikey.Reason(err) != c.reason {
				t.Fatalf("Verify: %v (reason %q), want ErrMalformed with reason %q", err, apikey.Reason(err), c.reason)
			}
			if !strings.Contains(logs.String(), "reason="+c.reason) || !strings.Contains(logs.String(), c.logged) {
				t.Errorf("log %q lacks reason=%s and %s", logs.String(), c.reason, c.logged)
			}
			if ev := f.events.take(); len(ev) != 1 || ev[0].Reason != c.reason {
				t.Errorf("events %+v, want one with reason %q", ev, c.reason)
			}
			rec := serve(h, bearer(c.token))
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != bodyInvalid || rec.Header().Get("WWW-Authenticate") != chInvalid {
				t.Errorf("HTTP answer %d %q %q, want the generic invalid-token 401", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// WithTestEntropy: the same seed gives the same tokens and IDs; another
// seed does not.
func TestWithTestEntropy(t *testing.T) {
	issue := func(seed string) (string, string) {
		m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", pepperV1), apikey.WithLogger(nil),
			apikey.WithClock(apikey.NewManualClock(t0)), apikey.WithTestEntropy(strings.NewReader(strings.Repeat(seed, 10000))))
		if err != nil {
			t.Fatal(err)
		}
		is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "ws"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Verify(context.Background(), is.Token.Reveal()); err != nil {
			t.Fatalf("deterministic token does not verify: %v", err)
		}
		return is.Token.Reveal(), is.Key.ID
	}
	tok1, id1 := issue("a")
	tok2, id2 := issue("a")
	tok3, id3 := issue("b")
	if tok1 != tok2 || id1 != id2 {
		t.Errorf("same seed, different results: %s %s / %s %s", tok1, id1, tok2, id2)
	}
	if tok1 == tok3 || id1 == id3 {
		t.Errorf("different seeds, same token or ID")
	}
}

// A usage tracker's failed flush is a warning on slog.Default() unless
// WithUsageLogger says otherwise; WithUsageLogger(nil) silences it.
func TestUsageTrackerWarnsByDefault(t *testing.T) {
	buf := captureDefault(t)
	for _, silent := range []bool{false, true} {
		buf.Reset()
		s := newCountingStore()
		s.setFail(errors.New("connection refused"))
		var opts []apikey.UsageOption
		if silent {
			opts = append(opts, apikey.WithUsageLogger(nil))
		}
		tr, err := apikey.NewUsageTracker(s, opts...)
		if err != nil {
			t.Fatal(err)
		}
		tr.Touch("01J00000000000000000000000", t0, "10.0.0.1", "")
		if err := tr.Flush(context.Background()); err == nil {
			t.Fatal("Flush on a failing store succeeded")
		}
		if logged := strings.Contains(buf.String(), "level=WARN"); logged == silent {
			t.Errorf("silent=%v: log %q", silent, buf)
		}
	}
}
