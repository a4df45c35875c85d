package rotation_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
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
