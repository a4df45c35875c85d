package rotation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// TestSchedulerUnusedCleanup: a dry run lists the unused key and leaves it
// working; then the clean-up revokes it, and keeps a recently used key.
func TestSchedulerUnusedCleanup(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	stale, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "t1", Scopes: []string{"jobs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	used, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "t1", Scopes: []string{"jobs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(400 * 24 * time.Hour)
	if err := r.store.RecordUsage(ctx, []apikey.Usage{{KeyID: used.Key.ID, At: r.m.Now(), IP: "192.0.2.1"}}); err != nil {
		t.Fatal(err)
	}

	dry := newScheduler(t, r.m, rotation.WithUnusedCleanup(365*24*time.Hour, true))
	rep, err := dry.RunOnce(ctx)
	if err != nil || rep.UnusedErr != nil {
		t.Fatal(err, rep.UnusedErr)
	}
	if len(rep.Unused) != 1 || rep.Unused[0].ID != stale.Key.ID {
		t.Fatalf("dry run found %v, want only the stale key", rep.Unused)
	}
	if _, err := r.m.Verify(ctx, stale.Token.Reveal()); err != nil {
		t.Fatalf("dry run revoked the key: %v", err)
	}

	s := newScheduler(t, r.m, rotation.WithUnusedCleanup(365*24*time.Hour, false))
	rep, err = s.RunOnce(ctx)
	if err != nil || rep.UnusedErr != nil || len(rep.Unused) != 1 {
		t.Fatalf("clean-up: %v %v %v", err, rep.UnusedErr, rep.Unused)
	}
	if _, err := r.m.Verify(ctx, stale.Token.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("stale key after clean-up: %v, want ErrRevoked", err)
	}
	if _, err := r.m.Verify(ctx, used.Token.Reveal()); err != nil {
		t.Fatalf("recently used key: %v", err)
	}
	if _, err := rotation.NewScheduler(r.m, rotation.WithUnusedCleanup(0, false)); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("WithUnusedCleanup(0): %v, want ErrInvalid", err)
	}
}
