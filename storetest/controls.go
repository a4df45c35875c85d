package storetest

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikit/apikey"
)

// controlsKey sets every key control.
func controlsKey(k *apikey.Key) {
	k.Disabled = true
	k.RateLimits = []apikey.RateLimit{
		{Name: "per_second", Limit: 10, Window: time.Second},
		{Name: "tenant.day", Limit: 100000, Window: 24 * time.Hour, Shared: true},
		{Name: "odd-ms", Limit: 1, Window: time.Millisecond + 1},
	}
	k.Credits = &apikey.Credits{Remaining: apikey.MaxCredits, RefillAmount: 1000, RefillInterval: 30 * 24 * time.Hour, LastRefill: at(-time.Hour + 5*time.Microsecond)}
	k.IPAllowlist = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/48"), netip.MustParsePrefix("192.0.2.7/32")}
}

// diffControls lists the differences in the key controls.
func diffControls(want, got *apikey.Key) []string {
	var d []string
	if want.Disabled != got.Disabled {
		d = append(d, fmt.Sprintf("Disabled = %v, want %v", got.Disabled, want.Disabled))
	}
	if !slices.Equal(want.RateLimits, got.RateLimits) {
		d = append(d, fmt.Sprintf("RateLimits = %+v, want %+v", got.RateLimits, want.RateLimits))
	}
	if !slices.Equal(want.IPAllowlist, got.IPAllowlist) {
		d = append(d, fmt.Sprintf("IPAllowlist = %v, want %v", got.IPAllowlist, want.IPAllowlist))
	}
	switch w, g := want.Credits, got.Credits; {
	case w == nil && g == nil:
	case w == nil || g == nil:
		d = append(d, fmt.Sprintf("Credits = %+v, want %+v", g, w))
	case w.Remaining != g.Remaining || w.RefillAmount != g.RefillAmount || w.RefillInterval != g.RefillInterval:
		d = append(d, fmt.Sprintf("Credits = %+v, want %+v", *g, *w))
	default:
		if msg := diffTime(w.LastRefill, g.LastRefill); msg != "" {
			d = append(d, "Credits.LastRefill "+msg)
		}
	}
	return d
}

// testClearControls: an Update with empty controls and nil credits clears
// them.
func testClearControls(f *fixture) {
	k := f.create("t1", controlsKey)
	no, limits, ips := false, []apikey.RateLimit{}, []netip.Prefix{}
	var credits *apikey.Credits
	got, err := f.s.Update(f.ctx, k.ID, apikey.Update{At: at(time.Minute), Disabled: &no, RateLimits: &limits, IPAllowlist: &ips, Credits: &credits})
	noErr(f, "Update", err)
	want := with(k, func(k *apikey.Key) { k.Disabled, k.RateLimits, k.IPAllowlist, k.Credits = false, nil, nil, nil })
	checkKey(f, "Update result", got, want)
	f.wantKey("after Update", want)
}

var creditsCases = []testCase{
	{"Take", testTakeCredits},
	{"Unlimited", testTakeUnlimited},
	{"NotFound", testTakeNotFound},
	{"Refill", testTakeRefill},
	{"Return", testReturnCredits},
	{"ReturnAfterRefill", testReturnAfterRefill},
	{"ReturnAfterUpdate", testReturnAfterUpdate},
	{"NoFeed", testCreditsNoFeed},
	{"Concurrent", testTakeConcurrent},
}

func creditsOf(remaining int64) func(*apikey.Key) {
	return func(k *apikey.Key) {
		k.Credits = &apikey.Credits{Remaining: remaining, LastRefill: at(0)}
	}
}

func (f *fixture) take(id string, want int64, now time.Time) apikey.CreditLease {
	f.Helper()
	l, err := f.s.TakeCredits(f.ctx, id, want, now)
	noErr(f, "TakeCredits", err)
	return l
}

func (f *fixture) wantRemaining(id string, want int64) {
	f.Helper()
	k := f.get(id)
	if k.Credits == nil || k.Credits.Remaining != want {
		f.Errorf("stored credits = %+v, want remaining %d", k.Credits, want)
	}
}

// testTakeCredits: a take grants min(want, remaining), and at zero grants
// nothing.
func testTakeCredits(f *fixture) {
	k := f.create("t1", creditsOf(10))
	if l := f.take(k.ID, 4, at(time.Second)); l.Granted != 4 || l.Left != 6 || !l.Period.Equal(at(0)) || !l.Expires.IsZero() || l.Unlimited {
		f.Errorf("first take = %+v, want 4 granted, 6 left, period %v, no expiry", l, at(0))
	}
	if l := f.take(k.ID, 100, at(time.Second)); l.Granted != 6 || l.Left != 0 {
		f.Errorf("second take = %+v, want the last 6", l)
	}
	if l := f.take(k.ID, 1, at(time.Second)); l.Granted != 0 || l.Left != 0 {
		f.Errorf("take at zero = %+v, want nothing", l)
	}
	f.wantRemaining(k.ID, 0)
}

// testTakeUnlimited: a key without credits is Unlimited and unchanged.
func testTakeUnlimited(f *fixture) {
	k := f.create("t1")
	if l := f.take(k.ID, 5, at(0)); !l.Unlimited || l.Granted != 0 {
		f.Errorf("take without credits = %+v, want Unlimited", l)
	}
	f.wantKey("after take", k)
}

func testTakeNotFound(f *fixture) {
	_, err := f.s.TakeCredits(f.ctx, unusedID(), 1, at(0))
	wantErr(f, "TakeCredits of a missing key", err, apikey.ErrNotFound)
	noErr(f, "ReturnCredits of a missing key", f.s.ReturnCredits(f.ctx, unusedID(), 1, at(0)))
}

// testTakeRefill: at or after LastRefill+interval the credits are reset to
// the refill amount, and the period moves by whole intervals.
func testTakeRefill(f *fixture) {
	k := f.create("t1", func(k *apikey.Key) {
		k.Credits = &apikey.Credits{Remaining: 1, RefillAmount: 50, RefillInterval: time.Hour, LastRefill: at(0)}
	})
	if l := f.take(k.ID, 5, at(time.Hour-time.Microsecond)); l.Granted != 1 || !l.Expires.Equal(at(time.Hour)) {
		f.Errorf("take before the refill = %+v, want 1 granted, expiring at %v", l, at(time.Hour))
	}
	l := f.take(k.ID, 5, at(2*time.Hour+30*time.Minute))
	if l.Granted != 5 || l.Left != 45 || !l.Period.Equal(at(2*time.Hour)) || !l.Expires.Equal(at(3*time.Hour)) {
		f.Errorf("take after two intervals = %+v, want 5 granted of a refill of 50, period %v", l, at(2*time.Hour))
	}
	got := f.get(k.ID)
	if got.Credits == nil || got.Credits.Remaining != 45 || !got.Credits.LastRefill.Equal(at(2*time.Hour)) {
		f.Errorf("stored credits = %+v, want 45 from %v", got.Credits, at(2*time.Hour))
	}
}

// testReturnCredits: credits handed back in the same period are added.
func testReturnCredits(f *fixture) {
	k := f.create("t1", creditsOf(10))
	l := f.take(k.ID, 8, at(0))
	noErr(f, "ReturnCredits", f.s.ReturnCredits(f.ctx, k.ID, 3, l.Period))
	f.wantRemaining(k.ID, 5)
}

// testReturnAfterRefill: credits of an ended period are dropped.
func testReturnAfterRefill(f *fixture) {
	k := f.create("t1", func(k *apikey.Key) {
		k.Credits = &apikey.Credits{Remaining: 10, RefillAmount: 10, RefillInterval: time.Hour, LastRefill: at(0)}
	})
	old := f.take(k.ID, 10, at(0))
	f.take(k.ID, 4, at(time.Hour)) // refill: 10, then 6 left
	noErr(f, "ReturnCredits", f.s.ReturnCredits(f.ctx, k.ID, 10, old.Period))
	f.wantRemaining(k.ID, 6)
}

// testReturnAfterUpdate: new credits set by Update start a new period.
func testReturnAfterUpdate(f *fixture) {
	k := f.create("t1", creditsOf(10))
	l := f.take(k.ID, 10, at(0))
	c := &apikey.Credits{Remaining: 3, LastRefill: at(time.Minute)}
	_, err := f.s.Update(f.ctx, k.ID, apikey.Update{At: at(time.Minute), Credits: &c})
	noErr(f, "Update", err)
	noErr(f, "ReturnCredits", f.s.ReturnCredits(f.ctx, k.ID, 10, l.Period))
	f.wantRemaining(k.ID, 3)
}

// testCreditsNoFeed: takes and returns write no change-feed entry.
func testCreditsNoFeed(f *fixture) {
	k := f.create("t1", creditsOf(10))
	after := f.lastChange()
	l := f.take(k.ID, 5, at(0))
	noErr(f, "ReturnCredits", f.s.ReturnCredits(f.ctx, k.ID, 2, l.Period))
	f.wantNoChanges("TakeCredits and ReturnCredits", after)
}

// testTakeConcurrent: 12 goroutines taking one or three credits at a time
// are granted exactly the credits there were, and none twice.
func testTakeConcurrent(f *fixture) {
	const total = 300
	k := f.create("t1", creditsOf(total))
	var granted atomic.Int64
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			want := int64(1 + 2*(g%2))
			for {
				l, err := f.s.TakeCredits(f.ctx, k.ID, want, at(0))
				if err != nil {
					f.Errorf("TakeCredits: %v", err)
					return
				}
				if l.Granted == 0 || granted.Add(l.Granted) > total {
					return // done, or over-granted (reported below)
				}
			}
		})
	}
	wg.Wait()
	if g := granted.Load(); g != total {
		f.Errorf("granted %d credits in all, want exactly %d", g, total)
	}
	f.wantRemaining(k.ID, 0)
}
