package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

// oneDay is a day of lead time (scheduler_test.go's day may move away).
const oneDay = 24 * time.Hour

// notices records the notices a notifier delivered, failing those of the
// keys in failOnce the first time.
type notices struct {
	mu       sync.Mutex
	got      map[string]int // "keyID/lead" -> deliveries
	failOnce map[string]bool
}

func (n *notices) notify(_ context.Context, e apikey.ExpiryNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failOnce[e.Key.ID] {
		delete(n.failOnce, e.Key.ID)
		return errors.New("mail server down")
	}
	n.got[fmt.Sprintf("%s/%s", e.Key.ID, e.Lead)]++
	return nil
}

func (n *notices) take() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.got
	n.got = map[string]int{}
	return out
}

func TestExpiryNotifier(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(10 * oneDay)})
	b := f.create(t, "ws_2", apikey.CreateParams{ExpiresAt: t0.Add(5 * oneDay)})
	c := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(12 * time.Hour)})
	f.create(t, "ws_1", apikey.CreateParams{})
	e := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(2 * oneDay)})
	if _, err := f.m.Revoke(ctx, "ws_1", e.Key.ID); err != nil {
		t.Fatal(err)
	}
	got := &notices{got: map[string]int{}, failOnce: map[string]bool{b.Key.ID: true}}
	n, err := apikey.NewExpiryNotifier(f.m, got.notify, oneDay, 7*oneDay)
	if err != nil {
		t.Fatal(err)
	}
	run := func(want map[string]int, sent, failed int) {
		t.Helper()
		rep, err := n.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g := got.take(); fmt.Sprint(g) != fmt.Sprint(want) || rep.Sent != sent || rep.Failed != failed {
			t.Fatalf("at %v: notices %v (sent %d, failed %d), want %v (sent %d, failed %d)",
				f.m.Now().Sub(t0), g, rep.Sent, rep.Failed, want, sent, failed)
		}
	}
	id := func(is *apikey.Issued, lead time.Duration) string { return fmt.Sprintf("%s/%s", is.Key.ID, lead) }

	f.events.take()
	// c is within a oneDay: only its 1-oneDay notice; b's 7-oneDay notice fails once.
	run(map[string]int{id(c, oneDay): 1}, 1, 1)
	evs := f.events.take()
	if len(evs) != 1 || evs[0].Kind != apikey.EventExpiringSoon || evs[0].KeyID != c.Key.ID || evs[0].Reason != oneDay.String() {
		t.Errorf("events = %+v, want one expiring_soon for c with lead %s", evs, oneDay)
	}
	run(map[string]int{id(b, 7*oneDay): 1}, 1, 0) // retried
	run(map[string]int{}, 0, 0)                   // nothing twice
	f.clock.Advance(4 * oneDay)                   // a: 6 days left; b: exactly 1 oneDay (not within)
	run(map[string]int{id(a, 7*oneDay): 1}, 1, 0)
	f.clock.Advance(time.Minute) // b: within a oneDay
	run(map[string]int{id(b, oneDay): 1}, 1, 0)

	// A changed expiry is a new expiry: its notices are due again.
	newExp := f.m.Now().Add(3 * oneDay)
	if _, err := f.m.Update(ctx, "ws_1", a.Key.ID, apikey.UpdateParams{ExpiresAt: &newExp}); err != nil {
		t.Fatal(err)
	}
	run(map[string]int{id(a, 7*oneDay): 1}, 1, 0)
}

// Several processes running the notifier at once send each notice once.
func TestExpiryNotifierConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for i := range 30 {
		f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(time.Duration(i+1) * 6 * time.Hour)})
	}
	got := &notices{got: map[string]int{}}
	var notifiers []*apikey.ExpiryNotifier
	for range 4 {
		m, err := apikey.New(f.store, apikey.WithPrefix("pgk"), apikey.WithEnvironments("live", "test"),
			apikey.WithPepper("v1", pepperV1), apikey.WithClock(f.clock))
		if err != nil {
			t.Fatal(err)
		}
		n, err := apikey.NewExpiryNotifier(m, got.notify, oneDay, 7*oneDay)
		if err != nil {
			t.Fatal(err)
		}
		notifiers = append(notifiers, n)
	}
	var wg sync.WaitGroup
	for range 3 {
		for _, n := range notifiers {
			wg.Go(func() {
				if _, err := n.RunOnce(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		f.clock.Advance(2 * oneDay)
	}
	delivered := got.take()
	for k, c := range delivered {
		if c != 1 {
			t.Errorf("notice %s delivered %d times", k, c)
		}
	}
	// Keys expire every 6 hours over 7.5 days and the notifiers run at 0,
	// 2 and 4 days: every key gets its 1-day notice or its 7-day one by then.
	if len(delivered) < 30 {
		t.Errorf("%d notices for 30 keys", len(delivered))
	}
}

func TestListExpiring(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var want []string
	for i := range 5 {
		is := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(time.Duration(5-i) * oneDay)})
		want = append([]string{is.Key.ID}, want...)
	}
	f.create(t, "ws_2", apikey.CreateParams{ExpiresAt: t0.Add(oneDay)})
	f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(30 * oneDay)})
	var got []string
	cursor := ""
	for range 10 {
		p, err := f.m.ListExpiring(ctx, "ws_1", t0.Add(7*oneDay), cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range p.Keys {
			got = append(got, k.ID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ListExpiring pages = %v, want %v (soonest first)", got, want)
	}
	all, err := f.m.ListExpiring(ctx, "", t0.Add(7*oneDay), "", 100)
	if err != nil || len(all.Keys) != 6 {
		t.Errorf("ListExpiring of all tenants = %d keys, %v; want 6", len(all.Keys), err)
	}
	for _, bad := range []string{"x", "12.notanid", "."} {
		if _, err := f.m.ListExpiring(ctx, "ws_1", t0.Add(oneDay), bad, 10); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("cursor %q: %v, want ErrInvalid", bad, err)
		}
	}
}
