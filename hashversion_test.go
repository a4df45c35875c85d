package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/apikit/apikey"
)

// managerOn builds a manager on store with the given peppers registered
// (by version) and current as its current version.
func managerOn(t *testing.T, store apikey.Store, current string, versions ...string) (*apikey.Manager, *eventLog) {
	t.Helper()
	peppers := map[string][]byte{"v1": pepperV1, "v2": pepperV2, "v3": pepperV3}
	events := &eventLog{}
	opts := []apikey.Option{
		apikey.WithPrefix("pgk"),
		apikey.WithCurrentHashVersion(current),
		apikey.WithEventHook(events.hook),
	}
	for _, v := range versions {
		opts = append(opts, apikey.WithPepper(v, peppers[v]))
	}
	m, err := apikey.New(store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m, events
}

// A verify of a valid key reads the store exactly once, whatever the number
// of registered hash versions. Only a key under a non-current version adds
// one write: its re-hash.
func TestVerifyOneStoreRead(t *testing.T) {
	ctx := context.Background()
	t.Run("one version", func(t *testing.T) {
		store := newCountingStore()
		m, _ := managerOn(t, store, "v1", "v1")
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			store.reset()
			if _, err := m.Verify(ctx, is.Token.Reveal()); err != nil {
				t.Fatal(err)
			}
			if got := store.snapshot(); !maps.Equal(got, map[string]int{"GetByLookup": 1}) {
				t.Fatalf("store calls = %v, want exactly one GetByLookup", got)
			}
		}
	})
	t.Run("three versions", func(t *testing.T) {
		store := newCountingStore()
		all := []string{"v1", "v2", "v3"}
		tokens := map[string]string{}
		for _, v := range all {
			m, _ := managerOn(t, store, v, all...)
			is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if is.Key.HashVersion != v {
				t.Fatalf("created under %q, want %q", is.Key.HashVersion, v)
			}
			tokens[v] = is.Token.Reveal()
		}
		m, _ := managerOn(t, store, "v2", all...)
		for _, v := range all {
			store.reset()
			k, err := m.Verify(ctx, tokens[v])
			if err != nil {
				t.Fatalf("verify of a %s key: %v", v, err)
			}
			want := map[string]int{"GetByLookup": 1}
			if v != "v2" {
				want["UpgradeHash"] = 1
			}
			if got := store.snapshot(); !maps.Equal(got, want) {
				t.Errorf("verify of a %s key: store calls = %v, want %v", v, got, want)
			}
			if k.HashVersion != "v2" {
				t.Errorf("verify of a %s key returned hash version %q, want v2", v, k.HashVersion)
			}
			// Once re-hashed, a verify is one read and nothing else.
			store.reset()
			if _, err := m.Verify(ctx, tokens[v]); err != nil {
				t.Fatal(err)
			}
			if got := store.snapshot(); !maps.Equal(got, map[string]int{"GetByLookup": 1}) {
				t.Errorf("second verify of a %s key: store calls = %v, want one GetByLookup", v, got)
			}
		}
	})
}

func TestLazyRehash(t *testing.T) {
	ctx := context.Background()
	store := newCountingStore()
	m1, _ := managerOn(t, store, "v1", "v1")
	is, err := m1.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	tok, id := is.Token.Reveal(), is.Key.ID
	oldHash := is.Key.Hash

	m12, events := managerOn(t, store, "v2", "v1", "v2")
	if _, err := m12.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	stored, err := store.inner.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.HashVersion != "v2" || bytes.Equal(stored.Hash, oldHash) || len(stored.Hash) != 32 {
		t.Fatalf("after a verify under v2 the record says %q (hash changed: %v)", stored.HashVersion, !bytes.Equal(stored.Hash, oldHash))
	}
	ev := events.take()
	if len(ev) != 1 || ev[0].Kind != apikey.EventRehashed || ev[0].KeyID != id {
		t.Errorf("events = %+v, want one rehashed", ev)
	}
	changes, err := store.inner.Changes(ctx, 0, 0)
	if err != nil || len(changes) != 1 || changes[0].Kind != apikey.ChangeHashUpgrade || changes[0].KeyID != id {
		t.Errorf("change feed = %+v, %v; want one hash_upgraded entry", changes, err)
	}

	// v1 retired: a manager with only v2 verifies the key, with no write.
	m2, _ := managerOn(t, store, "v2", "v2")
	store.reset()
	if _, err := m2.Verify(ctx, tok); err != nil {
		t.Fatalf("verify with v1 retired: %v", err)
	}
	if got := store.snapshot(); !maps.Equal(got, map[string]int{"GetByLookup": 1}) {
		t.Errorf("store calls = %v, want one GetByLookup", got)
	}
	// And the v1-only manager can no longer check it: the record names a
	// version it does not know.
	if _, err := m1.Verify(ctx, tok); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("v1-only verify of a v2 key = %v, want ErrNotFound", err)
	}
}

// A failed re-hash write never fails the verify; the next verify retries.
func TestRehashFailureDoesNotFailVerify(t *testing.T) {
	ctx := context.Background()
	store := newCountingStore()
	m1, _ := managerOn(t, store, "v1", "v1")
	is, err := m1.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	m12, events := managerOn(t, store, "v2", "v1", "v2")
	store.setFailOnly("UpgradeHash", errBroken)
	k, err := m12.Verify(ctx, is.Token.Reveal())
	if err != nil || k.HashVersion != "v1" {
		t.Fatalf("Verify with a failing re-hash = %v, %v; want the key, still v1", k, err)
	}
	if ev := events.take(); len(ev) != 0 {
		t.Errorf("a failed re-hash emitted %+v", ev)
	}
	store.setFail(nil)
	store.reset()
	if _, err := m12.Verify(ctx, is.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if got := store.snapshot(); got["UpgradeHash"] != 1 {
		t.Errorf("the next verify did not retry the re-hash: %v", got)
	}
	if stored, _ := store.inner.Get(ctx, is.Key.ID); stored.HashVersion != "v2" {
		t.Errorf("record still says %q", stored.HashVersion)
	}
}
