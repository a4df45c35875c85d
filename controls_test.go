package apikey_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/memstore"
)

func TestDisableEnable(t *testing.T) {
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{}))
	ctx := context.Background()
	is := f.create(t, "t1", apikey.CreateParams{Name: "k"})
	tok := is.Token.Reveal()
	f.mustVerify(t, tok) // cached now
	f.events.take()
	k, err := f.m.Disable(ctx, "t1", is.Key.ID)
	if err != nil || !k.Disabled {
		t.Fatalf("Disable = %+v, %v", k, err)
	}
	// The next verify in this process refuses it, cache or not.
	_, err = f.m.Verify(ctx, tok)
	if !errors.Is(err, apikey.ErrDisabled) || apikey.Reason(err) != "disabled" {
		t.Fatalf("Verify of a disabled key: %v (reason %q), want ErrDisabled", err, apikey.Reason(err))
	}
	ev := f.events.take()
	if len(ev) != 2 || ev[0].Kind != apikey.EventDisabled || ev[1].Kind != apikey.EventVerifyFailed || ev[1].Reason != "disabled" {
		t.Fatalf("events = %+v, want disabled then verify_failed/disabled", ev)
	}
	if _, err := f.m.Disable(ctx, "t1", is.Key.ID); err != nil {
		t.Fatal(err)
	}
	if ev := f.events.take(); len(ev) != 0 {
		t.Fatalf("disabling a disabled key emitted %+v", ev)
	}
	if _, err := f.m.Disable(ctx, "other", is.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("Disable of another tenant's key: %v, want ErrNotFound", err)
	}
	if k, err := f.m.Enable(ctx, "t1", is.Key.ID); err != nil || k.Disabled {
		t.Fatalf("Enable = %+v, %v", k, err)
	}
	f.mustVerify(t, tok)
	if ev := f.events.take(); len(ev) != 1 || ev[0].Kind != apikey.EventEnabled {
		t.Fatalf("events = %+v, want enabled", ev)
	}
}

// TestDisableSeenByFollower: a key disabled by one manager is refused by
// another manager on the same store, with a cache, after one feed read.
func TestDisableSeenByFollower(t *testing.T) {
	store := memstore.New()
	a, err := apikey.New(store, apikey.WithPepper("v1", pepperV1), apikey.WithCache(apikey.CacheOptions{TTL: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := apikey.New(store, apikey.WithPepper("v1", pepperV1), apikey.WithCache(apikey.CacheOptions{TTL: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fb, err := follow.New(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := fb.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	is, err := a.Create(ctx, apikey.CreateParams{Tenant: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, is.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Disable(ctx, "t1", is.Key.ID); err != nil {
		t.Fatal(err)
	}
	if err := fb.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, is.Token.Reveal()); !errors.Is(err, apikey.ErrDisabled) {
		t.Fatalf("other manager after one feed read: %v, want ErrDisabled", err)
	}
}

func TestRateLimitPerKeyAndShared(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	perKey := []apikey.RateLimit{{Name: "burst", Limit: 3, Window: time.Minute}}
	shared := []apikey.RateLimit{{Name: "tenant", Limit: 4, Window: time.Minute, Shared: true}}
	a := f.create(t, "t1", apikey.CreateParams{RateLimits: perKey}).Token.Reveal()
	b := f.create(t, "t1", apikey.CreateParams{RateLimits: perKey}).Token.Reveal()
	for range 3 {
		f.mustVerify(t, a)
	}
	_, err := f.m.Verify(ctx, a)
	re, ok := errors.AsType[*apikey.RateLimitedError](err)
	if !ok || !errors.Is(err, apikey.ErrRateLimited) || re.Decision.Allowed || re.Decision.RetryAfter <= 0 ||
		re.Decision.RetryAfter > 20*time.Second+time.Second || re.Decision.Limit.Name != "burst" {
		t.Fatalf("4th request: %v (%+v), want a rate limit refusal with a retry of about 20 s", err, re)
	}
	f.mustVerify(t, b) // per-key: b has its own budget

	c := f.create(t, "t2", apikey.CreateParams{RateLimits: shared}).Token.Reveal()
	d := f.create(t, "t2", apikey.CreateParams{RateLimits: shared}).Token.Reveal()
	for _, tok := range []string{c, d, c, d} {
		f.mustVerify(t, tok)
	}
	for _, tok := range []string{c, d} {
		if _, err := f.m.Verify(ctx, tok); !errors.Is(err, apikey.ErrRateLimited) {
			t.Fatalf("shared budget spent: %v, want ErrRateLimited", err)
		}
	}
	other := f.create(t, "t3", apikey.CreateParams{RateLimits: shared}).Token.Reveal()
	f.mustVerify(t, other) // another tenant: its own shared budget
}

// TestRateLimitCostAndAllOrNone: a cost spends from every limit, and a
// refusal by one limit spends nothing from the others.
func TestRateLimitCostAndAllOrNone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.create(t, "t1", apikey.CreateParams{RateLimits: []apikey.RateLimit{
		{Name: "big", Limit: 100, Window: time.Hour},
		{Name: "small", Limit: 10, Window: time.Hour},
	}}).Token.Reveal()
	if _, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Cost: 8}); err != nil {
		t.Fatal(err)
	}
	_, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Cost: 5})
	re, ok := errors.AsType[*apikey.RateLimitedError](err)
	if !ok || re.Decision.Limit.Name != "small" {
		t.Fatalf("cost 5 after 8 of 10: %v, want refused by small", err)
	}
	// big must still have 92: 92 more of cost 1 would pass it, but small
	// allows only 2 more.
	for range 2 {
		if _, err := f.m.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.m.Verify(ctx, tok); !errors.Is(err, apikey.ErrRateLimited) {
		t.Fatalf("11th unit: %v", err)
	}
}

// failingLimiter always fails.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, *apikey.Key, int64) (apikey.RateDecision, error) {
	return apikey.RateDecision{}, errors.New("connection refused")
}

func TestLimiterFailClosedAndOpen(t *testing.T) {
	limits := apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "x", Limit: 1, Window: time.Second}}}
	closed := newFixture(t, apikey.WithRateLimiter(failingLimiter{}))
	tok := closed.create(t, "t1", limits).Token.Reveal()
	if _, err := closed.m.Verify(context.Background(), tok); !errors.Is(err, apikey.ErrLimiterUnavailable) {
		t.Fatalf("fail closed (default): %v, want ErrLimiterUnavailable", err)
	}
	plain := closed.create(t, "t1", apikey.CreateParams{}).Token.Reveal()
	closed.mustVerify(t, plain) // keys without limits never ask the limiter
	open := newFixture(t, apikey.WithRateLimiter(failingLimiter{}), apikey.WithLimiterFailOpen())
	tok = open.create(t, "t1", limits).Token.Reveal()
	for range 3 {
		open.mustVerify(t, tok)
	}
}

func TestCreditsExact(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	is := f.create(t, "t1", apikey.CreateParams{Scopes: []string{"a:read"}, Credits: &apikey.Credits{Remaining: 5}})
	tok := is.Token.Reveal()
	// A request refused for its scopes spends no credit.
	for range 3 {
		if _, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Scopes: []string{"b:write"}}); !errors.Is(err, apikey.ErrInsufficientScope) {
			t.Fatalf("scope refusal: %v", err)
		}
	}
	for i := range 5 {
		if _, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Scopes: []string{"a:read"}}); err != nil {
			t.Fatalf("request %d of 5: %v", i+1, err)
		}
	}
	_, err := f.m.Verify(ctx, tok)
	if !errors.Is(err, apikey.ErrUsageExceeded) || apikey.Reason(err) != "usage_exceeded" {
		t.Fatalf("6th request: %v, want ErrUsageExceeded", err)
	}
}

// TestCreditsCostRefusedSpendsNothing: a cost larger than what is left is
// refused and the credits stay for cheaper requests.
func TestCreditsCostRefusedSpendsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.create(t, "t1", apikey.CreateParams{Credits: &apikey.Credits{Remaining: 10}}).Token.Reveal()
	if _, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Cost: 11}); !errors.Is(err, apikey.ErrUsageExceeded) {
		t.Fatalf("cost 11 of 10: %v", err)
	}
	if _, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{Cost: 10}); err != nil {
		t.Fatalf("cost 10 of 10 after a refusal: %v", err)
	}
}

func TestCreditsRefill(t *testing.T) {
	f := newFixture(t)
	tok := f.create(t, "t1", apikey.CreateParams{Credits: &apikey.Credits{Remaining: 2, RefillAmount: 3, RefillInterval: time.Hour}}).Token.Reveal()
	f.mustVerify(t, tok)
	f.mustVerify(t, tok)
	f.verifyErr(t, tok, apikey.ErrUsageExceeded)
	f.clock.Advance(time.Hour)
	for range 3 {
		f.mustVerify(t, tok)
	}
	f.verifyErr(t, tok, apikey.ErrUsageExceeded)
	// Unspent credits of a period do not survive the refill.
	f.clock.Advance(time.Hour)
	f.mustVerify(t, tok)
	f.clock.Advance(time.Hour)
	for range 3 {
		f.mustVerify(t, tok)
	}
	f.verifyErr(t, tok, apikey.ErrUsageExceeded)
}

// TestCreditsLeasesAcrossManagers: several managers (processes) on one
// store spend one key's credits concurrently: exactly as many successes as
// credits, and far fewer store writes than requests. FlushCredits hands
// back what is left.
func TestCreditsLeasesAcrossManagers(t *testing.T) {
	store := newCountingStore()
	ctx := context.Background()
	var ms []*apikey.Manager
	for range 4 {
		m, err := apikey.New(store, apikey.WithPepper("v1", pepperV1))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	const credits = 5000
	is, err := ms[0].Create(ctx, apikey.CreateParams{Tenant: "t1", Credits: &apikey.Credits{Remaining: credits}})
	if err != nil {
		t.Fatal(err)
	}
	tok := is.Token.Reveal()
	if n := spendConcurrently(t, tok, credits+1, ms, ms, ms); n != credits {
		t.Fatalf("%d successes, want exactly %d", n, credits)
	}
	calls := store.snapshot()
	if takes := calls["TakeCredits"]; takes > credits/20 {
		t.Errorf("%d TakeCredits calls for %d credits; leases should make far fewer", takes, credits)
	}
	t.Logf("%d successes, %d TakeCredits, %d ReturnCredits", credits, calls["TakeCredits"], calls["ReturnCredits"])
}

func TestFlushCreditsHandsBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	is := f.create(t, "t1", apikey.CreateParams{Credits: &apikey.Credits{Remaining: 1000}})
	f.mustVerify(t, is.Token.Reveal())
	k, _ := f.m.Get(ctx, "t1", is.Key.ID)
	if k.Credits.Remaining >= 999 {
		t.Fatalf("stored remaining %d after one request: no lease was taken", k.Credits.Remaining)
	}
	if err := f.m.FlushCredits(ctx); err != nil {
		t.Fatal(err)
	}
	k, _ = f.m.Get(ctx, "t1", is.Key.ID)
	if k.Credits.Remaining != 999 {
		t.Fatalf("stored remaining after FlushCredits = %d, want 999", k.Credits.Remaining)
	}
	f.mustVerify(t, is.Token.Reveal()) // still usable after a flush
}

func TestIPAllowlist(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ips, err := apikey.ParseIPAllowlist("10.0.0.0/8", "2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	tok := f.create(t, "t1", apikey.CreateParams{IPAllowlist: ips, Credits: &apikey.Credits{Remaining: 1}}).Token.Reveal()
	for _, tc := range []struct {
		ip string
		ok bool
	}{{"10.1.2.3", true}, {"::ffff:10.9.9.9", true}, {"2001:db8::1", true}, {"11.0.0.1", false}, {"2001:db8::2", false}} {
		_, err := f.m.VerifyRequest(ctx, tok, apikey.RequestParams{ClientIP: netip.MustParseAddr(tc.ip), Cost: 0})
		if tc.ok && errors.Is(err, apikey.ErrIPNotAllowed) || !tc.ok && !errors.Is(err, apikey.ErrIPNotAllowed) {
			t.Errorf("%s: %v, want allowed=%v", tc.ip, err, tc.ok)
		}
	}
	// Plain Verify knows no address: refused, and (IP before credits) the
	// refused requests above spent nothing beyond the one allowed.
	f.verifyErr(t, tok, apikey.ErrIPNotAllowed)
}

func TestControlsValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	many := make([]apikey.RateLimit, 17)
	for i := range many {
		many[i] = apikey.RateLimit{Name: "l" + string(rune('a'+i)), Limit: 1, Window: time.Second}
	}
	cases := []struct {
		name  string
		p     apikey.CreateParams
		field string
	}{
		{"zero limit", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: 0, Window: time.Second}}}, "rateLimits[0].limit"},
		{"negative limit", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: -1, Window: time.Second}}}, "rateLimits[0].limit"},
		{"short window", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: 1, Window: time.Millisecond - 1}}}, "rateLimits[0].window"},
		{"long window", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: 1, Window: 366 * 24 * time.Hour}}}, "rateLimits[0].window"},
		{"17 limits", apikey.CreateParams{RateLimits: many}, "rateLimits"},
		{"duplicate", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: 1, Window: time.Second}, {Name: "a", Limit: 2, Window: time.Second}}}, "rateLimits[1].name"},
		{"empty name", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Limit: 1, Window: time.Second}}}, "rateLimits[0].name"},
		{"negative credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: -1}}, "credits.remaining"},
		{"overflowing credits", apikey.CreateParams{Credits: &apikey.Credits{Remaining: apikey.MaxCredits + 1}}, "credits.remaining"},
		{"negative refill", apikey.CreateParams{Credits: &apikey.Credits{RefillAmount: -5}}, "credits.refillAmount"},
		{"short refill", apikey.CreateParams{Credits: &apikey.Credits{RefillAmount: 5, RefillInterval: time.Millisecond}}, "credits.refillInterval"},
		{"invalid prefix", apikey.CreateParams{IPAllowlist: []netip.Prefix{{}}}, "ipAllowlist[0]"},
		{"65 prefixes", apikey.CreateParams{IPAllowlist: make([]netip.Prefix, 65)}, "ipAllowlist"},
	}
	for _, tc := range cases {
		tc.p.Tenant = "t1"
		_, err := f.m.Create(ctx, tc.p)
		if !errors.Is(err, apikey.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Create: %v, want ErrInvalid naming %s", tc.name, err, tc.field)
		}
	}
	is := f.create(t, "t1", apikey.CreateParams{})
	bad := []apikey.RateLimit{{Name: "a", Limit: 0, Window: time.Second}}
	if _, err := f.m.Update(ctx, "t1", is.Key.ID, apikey.UpdateParams{RateLimits: &bad}); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("Update with a zero limit: %v, want ErrInvalid", err)
	}
	if _, err := apikey.ParseIPAllowlist("10.0.0.0/33"); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("ParseIPAllowlist(/33): %v", err)
	}
}

// TestRotateKeepsControls: a successor is under the same controls.
func TestRotateKeepsControls(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ips, _ := apikey.ParseIPAllowlist("10.0.0.0/8")
	is := f.create(t, "t1", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "a", Limit: 1, Window: time.Second}},
		Credits: &apikey.Credits{Remaining: 9}, IPAllowlist: ips})
	r, err := f.m.Rotate(ctx, "t1", is.Key.ID, f.m.DefaultGrace())
	if err != nil {
		t.Fatal(err)
	}
	s := r.Key
	if len(s.RateLimits) != 1 || s.Credits == nil || s.Credits.Remaining != 9 || len(s.IPAllowlist) != 1 {
		t.Fatalf("successor controls: %+v %+v %+v", s.RateLimits, s.Credits, s.IPAllowlist)
	}
}

// TestCreditsUpdateVoidsLease: credits set by Update apply to the next
// request, even though this process holds a lease of the old ones.
func TestCreditsUpdateVoidsLease(t *testing.T) {
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{}))
	ctx := context.Background()
	is := f.create(t, "t1", apikey.CreateParams{Credits: &apikey.Credits{Remaining: 100}})
	tok := is.Token.Reveal()
	f.mustVerify(t, tok) // takes a lease
	f.clock.Advance(time.Second)
	one := &apikey.Credits{Remaining: 1}
	if _, err := f.m.Update(ctx, "t1", is.Key.ID, apikey.UpdateParams{Credits: &one}); err != nil {
		t.Fatal(err)
	}
	f.mustVerify(t, tok)
	f.verifyErr(t, tok, apikey.ErrUsageExceeded)
}

// TestCreditsRefillConcurrent: goroutines on two managers sharing one
// store spend one key's credits, which refill every hour. In the even
// periods they stop halfway, so the managers' leases still hold credits
// when the period ends; in the odd ones they spend until refused, and must
// get exactly the refill amount: the leftovers of the period before are
// void (the leases are spent without a lock; the refill voids them).
func TestCreditsRefillConcurrent(t *testing.T) {
	f := newFixture(t)
	other, err := apikey.New(f.store, apikey.WithPrefix("pgk"), apikey.WithEnvironments("live", "test"),
		apikey.WithPepper("v1", pepperV1), apikey.WithClock(f.clock), apikey.WithCreditLease(7))
	if err != nil {
		t.Fatal(err)
	}
	const refill = 300
	tok := f.create(t, "t1", apikey.CreateParams{Credits: &apikey.Credits{
		Remaining: refill, RefillAmount: refill, RefillInterval: time.Hour}}).Token.Reveal()
	for period := range 6 {
		stopAt := int64(refill / 2)
		if period%2 == 1 {
			stopAt = refill + 1 // until refused
		}
		ms := []*apikey.Manager{f.m, other}
		n := spendConcurrently(t, tok, stopAt, ms, ms, ms, ms)
		switch {
		case period%2 == 1 && n != refill:
			t.Fatalf("period %d: %d successes until refused, want exactly %d", period, n, refill)
		case period%2 == 0 && (n < stopAt || n > refill):
			t.Fatalf("period %d: %d successes, want %d to %d", period, n, stopAt, refill)
		}
		f.clock.Advance(time.Hour)
	}
}

// spendConcurrently verifies tok from one goroutine per manager in each
// of the groups (a manager may appear in several) until a verify is
// refused for its credits or stopAt successes are counted, and returns the
// successes. Any other error fails the test.
func spendConcurrently(t *testing.T, tok string, stopAt int64, groups ...[]*apikey.Manager) int64 {
	t.Helper()
	ctx := context.Background()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for _, g := range groups {
		for _, m := range g {
			wg.Go(func() {
				for ok.Load() < stopAt {
					_, err := m.Verify(ctx, tok)
					if errors.Is(err, apikey.ErrUsageExceeded) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					ok.Add(1)
				}
			})
		}
	}
	wg.Wait()
	return ok.Load()
}
