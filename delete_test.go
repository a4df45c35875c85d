package apikey_test

import (
	"context"
	"errors"
	"testing"

	"github.com/apikit/apikey"
)

func TestDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	is := f.create(t, "ws_1", apikey.CreateParams{Name: "mistake", Scopes: []string{"jobs:read"}})
	keep := f.create(t, "ws_1", apikey.CreateParams{Name: "keep"})
	tok := is.Token.Reveal()
	f.mustVerify(t, tok) // cached now
	f.events.take()

	if _, err := f.m.Delete(ctx, "ws_2", is.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("Delete from another tenant: %v, want ErrNotFound", err)
	}
	f.mustVerify(t, tok)

	got, err := f.m.Delete(ctx, "ws_1", is.Key.ID)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got.ID != is.Key.ID || got.RevokedAt.IsZero() {
		t.Errorf("Delete returned %v revoked at %v, want the key, revoked", got, got.RevokedAt)
	}
	f.verifyErr(t, tok, apikey.ErrNotFound) // the cached record is gone at once
	if _, err := f.m.Get(ctx, "ws_1", is.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	keys, err := f.m.ListAll(ctx, "ws_1", apikey.ListAny)
	if err != nil || len(keys) != 1 || keys[0].ID != keep.Key.ID {
		t.Errorf("ListAll after Delete = %v, %v; want only the other key", keys, err)
	}
	var kinds []apikey.EventKind
	for _, e := range f.events.take() {
		if e.Kind != apikey.EventVerifyFailed {
			kinds = append(kinds, e.Kind)
			if e.KeyID != is.Key.ID || e.Tenant != "ws_1" || e.Prefix != is.Key.Prefix {
				t.Errorf("event %+v does not name the deleted key", e)
			}
		}
	}
	if len(kinds) != 1 || kinds[0] != apikey.EventDeleted {
		t.Errorf("events = %v, want one %q", kinds, apikey.EventDeleted)
	}
	if _, err := f.m.Delete(ctx, "ws_1", is.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}

	// The feed holds the revocation and the deletion, so followers drop it
	// whichever entry they read.
	cs, err := f.store.Changes(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var feed []apikey.ChangeKind
	for _, c := range cs {
		feed = append(feed, c.Kind)
	}
	if len(feed) != 2 || feed[0] != apikey.ChangeRevoked || feed[1] != apikey.ChangeDeleted {
		t.Errorf("change feed = %v, want [revoked deleted]", feed)
	}
}

// A store failure is ErrStoreUnavailable, and the key stays refused if the
// revocation went through.
func TestDeleteStoreFailure(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{})
	f.store.setFailOnly("Delete", errBroken)
	if _, err := f.m.Delete(ctx, "ws_1", is.Key.ID); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("Delete on a failing store: %v, want ErrStoreUnavailable", err)
	}
	f.store.setFail(nil)
	f.verifyErr(t, is.Token.Reveal(), apikey.ErrRevoked)
	if _, err := f.m.Delete(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatalf("Delete again, store repaired: %v", err)
	}
	f.verifyErr(t, is.Token.Reveal(), apikey.ErrNotFound)
}
