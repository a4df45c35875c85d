package redislimit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/redislimit"
)

// step is one Allow of a table test and what it must answer.
type step struct {
	key       *apikey.Key
	cost      int64
	allowed   bool
	limit     string // name of the deciding limit
	remaining int64
	// sleepRetry waits the refused decision's RetryAfter after the step.
	sleepRetry bool
}

func TestAllowTable(t *testing.T) {
	perKey := func(name string, limit int64, window time.Duration) apikey.RateLimit {
		return apikey.RateLimit{Name: name, Limit: limit, Window: window}
	}
	shared := func(name string, limit int64, window time.Duration) apikey.RateLimit {
		return apikey.RateLimit{Name: name, Limit: limit, Window: window, Shared: true}
	}
	five := key("k1", "t1", perKey("burst", 5, 10*time.Second))
	tenCost := key("k1", "t1", perKey("units", 10, 10*time.Second))
	// a: 10 per 10s, b: 4 per 10s on one key; aOnly peeks at a alone.
	two := key("k1", "t1", perKey("a", 10, 10*time.Second), perKey("b", 4, 10*time.Second))
	aOnly := key("k1", "t1", perKey("a", 10, 10*time.Second))
	// Shared limit of tenant t1 held by two of its keys; t2 has its own.
	s1 := key("k1", "t1", shared("tenant", 3, time.Hour))
	s2 := key("k2", "t1", shared("tenant", 3, time.Hour))
	s3 := key("k3", "t2", shared("tenant", 3, time.Hour))
	// A per-key limit of the same name is per key.
	p1 := key("k1", "t1", perKey("tenant", 1, time.Hour))
	p2 := key("k2", "t1", perKey("tenant", 1, time.Hour))
	refill := key("k1", "t1", perKey("fast", 2, 300*time.Millisecond))

	tests := []struct {
		name  string
		steps []step
	}{
		{"exact at the boundary", []step{
			{five, 1, true, "burst", 4, false},
			{five, 1, true, "burst", 3, false},
			{five, 1, true, "burst", 2, false},
			{five, 1, true, "burst", 1, false},
			{five, 1, true, "burst", 0, false},
			{five, 1, false, "burst", 0, false},
			{five, 1, false, "burst", 0, false},
		}},
		{"window refill", []step{
			{refill, 1, true, "fast", 1, false},
			{refill, 1, true, "fast", 0, false},
			{refill, 1, false, "fast", 0, true},
			{refill, 1, true, "fast", 0, false},
			{refill, 1, false, "fast", 0, false},
		}},
		{"cost above 1", []step{
			{tenCost, 4, true, "units", 6, false},
			{tenCost, 4, true, "units", 2, false},
			{tenCost, 4, false, "units", 2, false},
			{tenCost, 2, true, "units", 0, false},
			{tenCost, 1, false, "units", 0, false},
		}},
		{"cost 0 spends nothing", []step{
			{tenCost, 0, true, "units", 10, false},
			{tenCost, 3, true, "units", 7, false},
			{tenCost, 0, true, "units", 7, false},
		}},
		{"cost above the limit is refused and spends nothing", []step{
			{tenCost, 11, false, "units", 10, false},
			{tenCost, 10, true, "units", 0, false},
		}},
		{"two limits all or none", []step{
			{two, 3, true, "b", 1, false},   // a 7 left, b 1 left: b decides
			{two, 3, false, "b", 1, false},  // b refuses ...
			{aOnly, 0, true, "a", 7, false}, // ... and nothing was spent from a
			{two, 1, true, "b", 0, false},
			{aOnly, 0, true, "a", 6, false},
		}},
		{"shared across a tenant's keys, not across tenants", []step{
			{s1, 1, true, "tenant", 2, false},
			{s2, 1, true, "tenant", 1, false},
			{s1, 1, true, "tenant", 0, false},
			{s2, 1, false, "tenant", 0, false},
			{s1, 1, false, "tenant", 0, false},
			{s3, 1, true, "tenant", 2, false},
			{p1, 1, true, "tenant", 0, false}, // per-key limit of that name: its own budget
			{p2, 1, true, "tenant", 0, false},
			{p1, 1, false, "tenant", 0, false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, _, _ := newLimiter(t)
			ctx := context.Background()
			for i, s := range tc.steps {
				d, err := l.Allow(ctx, s.key, s.cost)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if d.Allowed != s.allowed || d.Limit.Name != s.limit || d.Remaining != s.remaining {
					t.Fatalf("step %d (key %s cost %d): got allowed=%v limit=%q remaining=%d, want %v %q %d",
						i, s.key.ID, s.cost, d.Allowed, d.Limit.Name, d.Remaining, s.allowed, s.limit, s.remaining)
				}
				checkDecision(t, i, d)
				if s.sleepRetry {
					time.Sleep(d.RetryAfter)
				}
			}
		})
	}
}

// checkDecision checks what RateDecision's doc promises about the times.
func checkDecision(t *testing.T, i int, d apikey.RateDecision) {
	t.Helper()
	if d.Reset < 0 || d.Reset > d.Limit.Window {
		t.Fatalf("step %d: Reset %s outside [0, window %s]", i, d.Reset, d.Limit.Window)
	}
	if d.Allowed && d.RetryAfter != 0 {
		t.Fatalf("step %d: allowed with RetryAfter %s", i, d.RetryAfter)
	}
	if !d.Allowed && (d.RetryAfter <= 0 || d.RetryAfter > d.Limit.Window) {
		t.Fatalf("step %d: refused with RetryAfter %s outside (0, window %s]", i, d.RetryAfter, d.Limit.Window)
	}
}

func TestRetryAfterAndReset(t *testing.T) {
	l, _, _ := newLimiter(t)
	ctx := context.Background()
	// 4 per 8s: one unit comes back every 2s.
	k := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: 4, Window: 8 * time.Second})
	for range 4 {
		if d, err := l.Allow(ctx, k, 1); err != nil || !d.Allowed {
			t.Fatalf("%+v %v", d, err)
		}
	}
	d, err := l.Allow(ctx, k, 1)
	if err != nil || d.Allowed {
		t.Fatalf("fifth: %+v %v", d, err)
	}
	// Redis time moved on a little since the first request: RetryAfter is
	// at most one unit (2s) and close to it; Reset close to the window.
	if d.RetryAfter > 2*time.Second || d.RetryAfter < time.Second {
		t.Errorf("RetryAfter %s, want just under 2s", d.RetryAfter)
	}
	if d.Reset > 8*time.Second || d.Reset < 7*time.Second {
		t.Errorf("Reset %s, want just under 8s", d.Reset)
	}
	// Cost 2 must wait for two units.
	d2, err := l.Allow(ctx, k, 2)
	if err != nil || d2.Allowed || d2.RetryAfter <= 2*time.Second || d2.RetryAfter > 4*time.Second {
		t.Errorf("cost 2: %+v %v, want a wait in (2s, 4s]", d2, err)
	}
}

func TestKeysExpire(t *testing.T) {
	l, rdb, prefix := newLimiter(t)
	ctx := context.Background()
	k := key("k1", "t1",
		apikey.RateLimit{Name: "sec", Limit: 10, Window: time.Second},
		apikey.RateLimit{Name: "hour", Limit: 10, Window: time.Hour},
		apikey.RateLimit{Name: "team", Limit: 100, Window: time.Minute, Shared: true})
	if _, err := l.Allow(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	keys := countKeys(t, rdb, prefix)
	if len(keys) != 3 {
		t.Fatalf("keys %v, want 3 (one per limit)", keys)
	}
	for _, rk := range keys { // the tenant is the hash tag: one cluster slot
		if !strings.HasPrefix(rk, prefix+"{2:t1}:") {
			t.Errorf("key %q does not start with the tenant's hash tag", rk)
		}
	}
	// After spending 2 of 10, each state lives as long as two units take to
	// come back: 2/10 of the window, and never more than the window.
	want := map[string]time.Duration{"sec": 200 * time.Millisecond, "hour": 12 * time.Minute, "team": 1200 * time.Millisecond}
	for _, rk := range keys {
		ttl, err := rdb.PTTL(ctx, rk).Result()
		if err != nil {
			t.Fatal(err)
		}
		var w time.Duration
		for name, d := range want {
			if len(rk) > len(name) && rk[len(rk)-len(name)-1:] == ":"+name {
				w = d
			}
		}
		if w == 0 {
			t.Fatalf("unexpected key %q", rk)
		}
		if ttl <= 0 || ttl > w || ttl < w-w/4 {
			t.Errorf("%s: PTTL %s, want about %s (never unset, never past the window)", rk, ttl, w)
		}
	}
	// An idle limit leaves nothing behind.
	time.Sleep(300 * time.Millisecond)
	for _, rk := range countKeys(t, rdb, prefix) {
		if rk[len(rk)-4:] == ":sec" {
			t.Errorf("%s still there after its TTL", rk)
		}
	}
}

func TestOneRoundTripPerAllow(t *testing.T) {
	l, rdb, _ := newLimiter(t)
	var counter commandCounter
	rdb.AddHook(&counter)
	ctx := context.Background()
	// Five limits, per key and shared: still one script call.
	k := key("k1", "t1",
		apikey.RateLimit{Name: "a", Limit: 1000, Window: time.Second},
		apikey.RateLimit{Name: "b", Limit: 1000, Window: time.Minute},
		apikey.RateLimit{Name: "c", Limit: 1000, Window: time.Hour},
		apikey.RateLimit{Name: "d", Limit: 1000, Window: time.Hour, Shared: true},
		apikey.RateLimit{Name: "e", Limit: 2, Window: time.Hour})
	// The first call may load the script (EVALSHA, NOSCRIPT, EVAL).
	if _, err := l.Allow(ctx, k, 1); err != nil {
		t.Fatal(err)
	}
	counter.n.Store(0)
	const n = 50
	for range n {
		if _, err := l.Allow(ctx, k, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := counter.n.Load(); got != n {
		t.Fatalf("%d Redis commands for %d Allow calls, want exactly one each", got, n)
	}
	// A key without limits costs no round trip.
	counter.n.Store(0)
	if d, err := l.Allow(ctx, key("k2", "t1"), 1); err != nil || !d.Allowed {
		t.Fatalf("%+v %v", d, err)
	}
	if got := counter.n.Load(); got != 0 {
		t.Fatalf("%d commands for a key without limits", got)
	}
}

func TestConcurrentNeverOverAdmits(t *testing.T) {
	l, _, _ := newLimiter(t)
	const limit, workers, each = 50, 16, 20
	k := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: limit, Window: time.Hour})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				d, err := l.Allow(context.Background(), k, 1)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := admitted.Load(); got != limit {
		t.Fatalf("admitted %d of %d requests, want exactly %d", got, workers*each, limit)
	}
}

func TestInvalidInput(t *testing.T) {
	// Never failed open, never ErrLimiterUnavailable: the limiter did not
	// fail, the caller asked something meaningless.
	l, _, _ := newLimiter(t, redislimit.FailOpen())
	ctx := context.Background()
	ok := apikey.RateLimit{Name: "a", Limit: 1, Window: time.Second}
	tests := []struct {
		name string
		k    *apikey.Key
		cost int64
	}{
		{"negative cost", key("k", "t", ok), -1},
		{"negative cost without limits", key("k", "t"), -1},
		{"zero limit", key("k", "t", apikey.RateLimit{Name: "a", Limit: 0, Window: time.Second}), 1},
		{"window under 1ms", key("k", "t", apikey.RateLimit{Name: "a", Limit: 1, Window: time.Microsecond}), 1},
		{"duplicate name", key("k", "t", ok, ok), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := l.Allow(ctx, tc.k, tc.cost)
			if err == nil || d.Allowed || errors.Is(err, apikey.ErrLimiterUnavailable) {
				t.Fatalf("got %+v, %v; want a refusal with a plain error", d, err)
			}
		})
	}
	// A per-key and a shared limit may share a name.
	both := key("k", "t", ok, apikey.RateLimit{Name: "a", Limit: 1, Window: time.Second, Shared: true})
	if d, err := l.Allow(ctx, both, 1); err != nil || !d.Allowed {
		t.Fatalf("per-key and shared limit of one name: %+v %v", d, err)
	}
}
