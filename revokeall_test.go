package apikey_test

import (
	"context"
	"slices"
	"testing"

	"github.com/apikit/apikey"
)

// Two revoke-alls at the same instant (a frozen clock here; two processes
// with one clock reading in production): the second one's audit event and
// log name only the key it revoked, not those the first one revoked at
// that same timestamp.
func TestRevokeAllEventListsOnlyKeysItChanged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := f.create(t, "acme", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	if _, err := f.m.RevokeAll(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	second := f.create(t, "acme", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	f.events.take()
	keys, err := f.m.RevokeAll(ctx, "acme") // same clock reading as the first
	if err != nil || len(keys) != 2 {
		t.Fatalf("RevokeAll = %d keys, %v", len(keys), err)
	}
	var ids []string
	for _, e := range f.events.take() {
		if e.Kind == apikey.EventRevokedAll {
			ids = append(ids, e.KeyIDs...)
		}
	}
	if !slices.Equal(ids, []string{second.Key.ID}) {
		t.Fatalf("revoked_all KeyIDs = %v, want only %s (not %s, revoked by the first call)", ids, second.Key.ID, first.Key.ID)
	}
	// A third call changes nothing and names nothing.
	if _, err := f.m.RevokeAll(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.events.take() {
		if e.Kind == apikey.EventRevokedAll && len(e.KeyIDs) != 0 {
			t.Fatalf("a revoke-all that changed nothing named %v", e.KeyIDs)
		}
	}
}
