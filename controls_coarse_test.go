package apikey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// wallManager is a manager on the wall clock with the default in-process
// limiter, and a key under limits.
func wallManager(t *testing.T, limits ...apikey.RateLimit) (*apikey.Manager, string) {
	t.Helper()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1))
	if err != nil {
		t.Fatal(err)
	}
	is, err := m.Create(t.Context(), apikey.CreateParams{Tenant: "t1", RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return m, is.Token.Reveal()
}

// TestCoarseClockRefusalIsExact: with the limiter's coarse clock stalled
// 50 s behind, a request the stale reading would refuse is judged again on
// the exact clock, and a refusal's retry time is the exact one.
func TestCoarseClockRefusalIsExact(t *testing.T) {
	m, tok := wallManager(t, apikey.RateLimit{Name: "s", Limit: 1, Window: 10 * time.Second})
	apikey.FreezeLimiterClock(m, 50*time.Second)
	ctx := context.Background()
	if _, err := m.Verify(ctx, tok); err != nil {
		t.Fatalf("first request: %v", err)
	}
	// The stale reading says the budget was spent 50 s ago, 10 s before
	// that reading, and refuses; the exact clock says it has refilled.
	if _, err := m.Verify(ctx, tok); err != nil {
		t.Fatalf("second request, judged again on the exact clock: %v", err)
	}
	_, err := m.Verify(ctx, tok)
	re, ok := errors.AsType[*apikey.RateLimitedError](err)
	if !ok || re.Decision.RetryAfter <= 0 || re.Decision.RetryAfter > 10*time.Second {
		t.Fatalf("third request: %v (%+v), want a refusal with a retry of at most 10 s (the stale clock would say 60 s)", err, re)
	}
}

// TestCoarseClockShortWindowsExact: a limit with a window under 1 s is
// judged on the exact clock: a stalled coarse clock cannot admit more.
func TestCoarseClockShortWindowsExact(t *testing.T) {
	for _, limits := range [][]apikey.RateLimit{
		{{Name: "ms", Limit: 1, Window: time.Second - time.Millisecond}},
		{{Name: "h", Limit: 100, Window: time.Hour}, {Name: "ms", Limit: 1, Window: time.Second - time.Millisecond}},
	} {
		m, tok := wallManager(t, limits...)
		apikey.FreezeLimiterClock(m, 5*time.Second)
		ctx := context.Background()
		if _, err := m.Verify(ctx, tok); err != nil {
			t.Fatalf("%d limits, first request: %v", len(limits), err)
		}
		if _, err := m.Verify(ctx, tok); !errors.Is(err, apikey.ErrRateLimited) {
			t.Fatalf("%d limits, second request within 999 ms: %v, want ErrRateLimited", len(limits), err)
		}
	}
}
