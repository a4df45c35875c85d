package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// N touches of a key make one RecordUsage call whose counts say N, per UTC
// day; Count adds other outcomes in the same write without moving the last
// use.
func TestUsageCountsOneWrite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.create(t, "ws_1", apikey.CreateParams{})
	b := f.create(t, "ws_1", apikey.CreateParams{})
	tr := newTracker(t, f.store)
	late := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	for i := range 50 {
		tr.Touch(a.Key.ID, late.Add(time.Duration(i)*time.Millisecond), "192.0.2.1", "")
	}
	tr.Touch(a.Key.ID, late.Add(2*time.Minute), "192.0.2.2", "") // the next day
	tr.Touch(b.Key.ID, late, "192.0.2.3", "")
	tr.Count(a.Key.ID, late, "rate_limited", 3)
	tr.Count(a.Key.ID, late, "Bad Outcome", 1)  // ignored
	tr.Count(b.Key.ID, late, "rate_limited", 0) // ignored
	f.store.reset()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := f.store.snapshot(); calls["RecordUsage"] != 1 || len(calls) != 1 {
		t.Fatalf("store calls of one flush: %v, want one RecordUsage", calls)
	}
	got, err := f.m.UsageCounts(ctx, "ws_1", a.Key.ID, late, late.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := dayOf(late), dayOf(late).Add(24*time.Hour)
	want := []apikey.UsageCount{{Day: d1, Outcome: "rate_limited", N: 3}, {Day: d1, Outcome: "valid", N: 50}, {Day: d2, Outcome: "valid", N: 1}}
	if len(got) != len(want) {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].Outcome != want[i].Outcome || got[i].N != want[i].N {
			t.Fatalf("counts = %+v, want %+v", got, want)
		}
	}
	if k, _ := f.m.Get(ctx, "ws_1", a.Key.ID); !k.LastUsedAt.Equal(late.Add(2 * time.Minute)) {
		t.Errorf("LastUsedAt = %v", k.LastUsedAt)
	}
	if got, _ := f.m.UsageCounts(ctx, "ws_1", b.Key.ID, late, late.Add(24*time.Hour)); len(got) != 1 || got[0].N != 1 {
		t.Errorf("b's counts = %+v, want one valid request", got)
	}
	if _, err := f.m.UsageCounts(ctx, "ws_2", a.Key.ID, late, late); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("UsageCounts of another tenant's key: %v, want ErrNotFound", err)
	}
}

// A failed flush keeps the counts for the next one: nothing lost, nothing
// counted twice.
func TestUsageCountsSurviveFailedFlush(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.create(t, "ws_1", apikey.CreateParams{})
	tr := newTracker(t, f.store)
	for range 5 {
		tr.Touch(a.Key.ID, t0, "", "")
	}
	f.store.setFailOnly("RecordUsage", errBroken)
	if err := tr.Flush(ctx); err == nil {
		t.Fatal("flush on a failing store succeeded")
	}
	tr.Touch(a.Key.ID, t0.Add(time.Second), "", "")
	f.store.setFail(nil)
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(ctx); err != nil { // nothing pending: adds nothing
		t.Fatal(err)
	}
	got, err := f.m.UsageCounts(ctx, "ws_1", a.Key.ID, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].N != 6 {
		t.Fatalf("counts after a failed and a good flush = %+v, want 6 valid", got)
	}
}

// The middleware counts successful requests and scope refusals of a key.
func TestUsageCountsMiddleware(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	tr := newTracker(t, f.store)
	auth, err := apikey.NewAuthenticator(f.m, apikey.WithUsageTracker(tr))
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	read := auth.Middleware(auth.RequireAll("jobs:read")(ok))
	write := auth.Middleware(auth.RequireAll("jobs:write")(ok))
	for i, h := range []http.Handler{read, read, write} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if want := []int{200, 200, 403}[i]; w.Code != want {
			t.Fatalf("request %d: %d, want %d", i, w.Code, want)
		}
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.m.UsageCounts(ctx, "ws_1", is.Key.ID, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Outcome != apikey.OutcomeInsufficientScope.String() || got[0].N != 1 || got[1].Outcome != apikey.OutcomeValid.String() || got[1].N != 3 {
		t.Errorf("counts = %+v, want insufficient_scope 1 and valid 3", got)
	}
}

// Days are UTC days, before 1970 too, and a key's counts survive any
// order of Touch calls around midnight.
func TestUsageCountsDays(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.create(t, "ws_1", apikey.CreateParams{})
	tr := newTracker(t, f.store)
	old := time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	mid := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{old, mid.Add(-time.Second), mid, mid.Add(-2 * time.Second), mid.Add(time.Hour), old} {
		tr.Touch(a.Key.ID, at, "", "")
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.m.UsageCounts(ctx, "ws_1", a.Key.ID, old, mid)
	if err != nil {
		t.Fatal(err)
	}
	want := []apikey.UsageCount{{Day: dayOf(old), Outcome: "valid", N: 2}, {Day: dayOf(mid.Add(-time.Second)), Outcome: "valid", N: 2}, {Day: mid, Outcome: "valid", N: 2}}
	if len(got) != len(want) {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].N != want[i].N {
			t.Fatalf("counts %+v, want %+v", got, want)
		}
	}
}
