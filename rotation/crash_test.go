package rotation_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/rotation"
	"github.com/apikit/apikey/storetest/faultstore"
)

// A process that dies between creating a successor and committing or
// revoking it (here: its delivery never returns, as when the process is
// killed) leaves a successor nobody committed. Whoever takes the key next
// revokes it before rotating, so it does not stay valid until it expires.
func TestSchedulerRevokesSuccessorOfACrashedAttempt(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	is := r.create(t, day, "https://hooks.example.com/rotate")
	r.clock.Advance(day)

	// Process 1 creates the successor, hands it to its delivery and dies.
	var orphan rotation.Event
	crash := newScheduler(t, r.m, rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
		orphan = e
		runtime.Goexit() // the process is gone: no commit, no revoke
		return nil
	}))
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = crash.RunOnce(ctx) })
	wg.Wait()
	if orphan.NewKeyID == "" {
		t.Fatal("the crashing attempt delivered nothing")
	}
	if _, err := r.m.Verify(ctx, orphan.Key.Reveal()); err != nil {
		t.Fatalf("before the next attempt the orphan successor verifies: %v (the crash window)", err)
	}

	// Process 2 takes the key once process 1's claim has lapsed.
	var delivered []rotation.Event
	var mu sync.Mutex
	next := newScheduler(t, r.m, rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
		mu.Lock()
		delivered = append(delivered, e)
		mu.Unlock()
		return nil
	}))
	if rep := runOnce(t, next); len(rep.Results) != 0 {
		t.Fatalf("the key was taken again within process 1's claim: %+v", rep.Results)
	}
	r.clock.Advance(time.Hour)
	rep := runOnce(t, next)
	if rep.Count(rotation.Committed) != 1 {
		t.Fatalf("second attempt: %+v", rep.Results)
	}
	if _, err := r.m.Verify(ctx, orphan.Key.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("orphan successor after the next attempt: %v, want ErrRevoked", err)
	}
	if len(delivered) != 1 || delivered[0].NewKeyID == orphan.NewKeyID {
		t.Fatalf("deliveries %d", len(delivered))
	}
	if _, err := r.m.Verify(ctx, delivered[0].Key.Reveal()); err != nil {
		t.Fatalf("committed successor: %v", err)
	}
	if old := r.get(t, is.Key.ID); old.ReplacedBy != delivered[0].NewKeyID {
		t.Fatalf("old key replaced by %q, want %q", old.ReplacedBy, delivered[0].NewKeyID)
	}
}

// If the pending successor cannot be revoked (the store fails), the key is
// not claimed again: it stays due with the same pending successor, which
// the next check revokes once the store is back.
func TestSchedulerKeepsKeyDueWhilePendingSuccessorCannotBeRevoked(t *testing.T) {
	ctx := context.Background()
	fs := faultstore.New(memstore.New())
	clock := apikey.NewManualClock(t0)
	m, err := apikey.New(fs, apikey.WithPrefix("prk"), apikey.WithPepper("v1", testPepper), apikey.WithClock(clock),
		webhooks(t, testWebhookKey, rotation.WebhookPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "p1", Scopes: []string{"jobs:read"},
		RotationInterval: day, RotationWebhookURL: "https://hooks.example.com/rotate"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(day)
	var orphan rotation.Event
	crash := newScheduler(t, m, rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
		orphan = e
		runtime.Goexit()
		return nil
	}))
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = crash.RunOnce(ctx) })
	wg.Wait()
	claimed, err := m.Get(ctx, "p1", is.Key.ID)
	if err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Hour)
	fs.Fail(errors.New("connection refused"), faultstore.Revoke)
	next := newScheduler(t, m, rotation.WithDelivery(func(context.Context, rotation.Event, apikey.Secret) error { return nil }))
	if rep := runOnce(t, next); rep.Count(rotation.Failed) != 1 {
		t.Fatalf("with Revoke failing: %+v", rep.Results)
	}
	if k, _ := m.Get(ctx, "p1", is.Key.ID); !k.NextRotationAt.Equal(claimed.NextRotationAt) || k.ReplacedBy != "" {
		t.Fatalf("key claimed or rotated although its pending successor could not be revoked: %+v", k)
	}
	fs.Clear()
	if rep := runOnce(t, next); rep.Count(rotation.Committed) != 1 {
		t.Fatalf("after recovery: %+v", rep.Results)
	}
	if _, err := m.Verify(ctx, orphan.Key.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("orphan successor after recovery: %v, want ErrRevoked", err)
	}
}
