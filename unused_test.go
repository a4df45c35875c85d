package apikey_test

import (
	"context"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestRevokeUnused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	idle := f.create(t, "ws_1", apikey.CreateParams{})
	used := f.create(t, "ws_2", apikey.CreateParams{})
	expired := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(24 * time.Hour)})
	rotatedOut := f.create(t, "ws_1", apikey.CreateParams{})
	f.clock.Advance(200 * 24 * time.Hour)
	tr := newTracker(t, f.store)
	tr.Touch(used.Key.ID, f.m.Now(), "192.0.2.1", "")
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := f.m.Rotate(ctx, "ws_1", rotatedOut.Key.ID, time.Hour) // old key in grace, successor fresh
	if err != nil {
		t.Fatal(err)
	}
	f.mustVerify(t, idle.Token.Reveal()) // cached
	cutoff := f.m.Now().Add(-90 * 24 * time.Hour)

	dry, err := f.m.UnusedKeys(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry) != 1 || dry[0].ID != idle.Key.ID {
		t.Fatalf("UnusedKeys = %v, want only the idle key (not the used, expired, rotated-out or new ones)", dry)
	}
	if k, _ := f.m.Get(ctx, "ws_1", idle.Key.ID); !k.RevokedAt.IsZero() {
		t.Fatal("the dry run revoked the key")
	}
	f.events.take()
	got, err := f.m.RevokeUnused(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != idle.Key.ID || !got[0].RevokedAt.Equal(f.m.Now()) {
		t.Fatalf("RevokeUnused = %v", got)
	}
	evs := f.events.take()
	if len(evs) != 1 || evs[0].Kind != apikey.EventRevoked || evs[0].Reason != "unused" || evs[0].KeyID != idle.Key.ID {
		t.Errorf("events = %+v, want one revoked with reason unused", evs)
	}
	f.verifyErr(t, idle.Token.Reveal(), apikey.ErrRevoked)
	f.mustVerify(t, used.Token.Reveal())
	f.mustVerify(t, r.Token.Reveal())
	f.verifyErr(t, expired.Token.Reveal(), apikey.ErrExpired)
	if again, err := f.m.RevokeUnused(ctx, cutoff); err != nil || len(again) != 0 {
		t.Errorf("second RevokeUnused = %v, %v; want nothing", again, err)
	}
}
