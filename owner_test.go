package apikey_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestOwnerListAndRevoke(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	a1 := f.create(t, "ws_1", apikey.CreateParams{Owner: "usr_alice"})
	a2 := f.create(t, "ws_1", apikey.CreateParams{Owner: "usr_alice"})
	b := f.create(t, "ws_1", apikey.CreateParams{Owner: "usr_bob"})
	none := f.create(t, "ws_1", apikey.CreateParams{})
	other := f.create(t, "ws_2", apikey.CreateParams{Owner: "usr_alice"})
	f.clock.Advance(time.Minute)
	if _, err := f.m.Revoke(ctx, "ws_1", a1.Key.ID); err != nil {
		t.Fatal(err)
	}
	revokedEarlier := f.m.Now()
	for _, is := range []*apikey.Issued{a1, a2, b, none, other} {
		if is != a1 {
			f.mustVerify(t, is.Token.Reveal()) // cached
		}
	}

	keys, err := f.m.ListOwner(ctx, "ws_1", "usr_alice", apikey.ListActive)
	if err != nil || len(keys) != 1 || keys[0].ID != a2.Key.ID {
		t.Fatalf("ListOwner active = %v, %v; want a2", keys, err)
	}
	f.clock.Advance(time.Minute)
	f.events.take()
	keys, err = f.m.RevokeOwner(ctx, "ws_1", "usr_alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != a2.Key.ID || keys[1].ID != a1.Key.ID {
		t.Fatalf("RevokeOwner returned %v, want a2, a1", keys)
	}
	if !keys[1].RevokedAt.Equal(revokedEarlier) || !keys[0].RevokedAt.Equal(f.m.Now()) {
		t.Errorf("revocation times %v, %v: the earlier one must stay", keys[0].RevokedAt, keys[1].RevokedAt)
	}
	evs := f.events.take()
	f.verifyErr(t, a2.Token.Reveal(), apikey.ErrRevoked) // cache dropped at once
	for _, is := range []*apikey.Issued{b, none, other} {
		f.mustVerify(t, is.Token.Reveal())
	}
	if len(evs) != 1 || evs[0].Kind != apikey.EventRevokedOwner || evs[0].Owner != "usr_alice" ||
		evs[0].Tenant != "ws_1" || len(evs[0].KeyIDs) != 1 || evs[0].KeyIDs[0] != a2.Key.ID {
		t.Errorf("events = %+v, want one revoked_owner naming a2", evs)
	}
	for _, bad := range []struct{ tenant, owner string }{{"ws_1", ""}, {"*", "usr_alice"}} {
		if _, err := f.m.RevokeOwner(ctx, bad.tenant, bad.owner); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("RevokeOwner(%q, %q) = %v, want ErrInvalid", bad.tenant, bad.owner, err)
		}
	}
}

func TestOwnerValidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, bad := range []string{strings.Repeat("x", 257), "a\nb", "\xff"} {
		if _, err := f.m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Owner: bad}); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("Create with owner %q: %v, want ErrInvalid", bad, err)
		}
	}
	is := f.create(t, "ws_1", apikey.CreateParams{Owner: "usr_alice"})
	owner := "ext|okta|42"
	k, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{Owner: &owner})
	if err != nil || k.Owner != owner {
		t.Fatalf("Update owner: %v, %q", err, k.Owner)
	}
	bad := "a\x00b"
	if _, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{Owner: &bad}); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("Update with a control character: %v, want ErrInvalid", err)
	}
}

// tenantLimiter is a RateLimiter that, like the real ones, identifies a
// shared limit by (Tenant, name) and a per-key one by (ID, name); it
// allows Limit requests per identity and never refills.
type tenantLimiter struct {
	mu   sync.Mutex
	used map[string]int64
}

func (l *tenantLimiter) Allow(_ context.Context, k *apikey.Key, cost int64) (apikey.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range k.RateLimits {
		id := "k\x00" + k.ID + "\x00" + r.Name
		if r.Shared {
			id = "t\x00" + k.Tenant + "\x00" + r.Name
		}
		if l.used[id]+cost > r.Limit {
			return apikey.RateDecision{Limit: r}, nil
		}
	}
	for _, r := range k.RateLimits {
		id := "k\x00" + k.ID + "\x00" + r.Name
		if r.Shared {
			id = "t\x00" + k.Tenant + "\x00" + r.Name
		}
		l.used[id] += cost
	}
	return apikey.RateDecision{Allowed: true}, nil
}

// With ShareByOwner, a shared limit is one budget per owner: two keys of
// alice share it, bob's key and an unowned key have their own.
func TestShareByOwner(t *testing.T) {
	ctx := context.Background()
	lim := apikey.ShareByOwner(&tenantLimiter{used: map[string]int64{}})
	shared := []apikey.RateLimit{{Name: "per_day", Limit: 3, Window: 24 * time.Hour, Shared: true}}
	key := func(id, owner string) *apikey.Key {
		return &apikey.Key{ID: id, Tenant: "ws_1", Owner: owner, RateLimits: shared}
	}
	alice1, alice2, bob, unowned := key("k1", "alice"), key("k2", "alice"), key("k3", "bob"), key("k4", "")
	allowed := func(k *apikey.Key) bool {
		d, err := lim.Allow(ctx, k, 1)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	for i, k := range []*apikey.Key{alice1, alice2, alice1} {
		if !allowed(k) {
			t.Fatalf("alice's request %d refused within her budget of 3", i+1)
		}
	}
	if allowed(alice2) {
		t.Error("alice's 4th request (second key) allowed: her keys must share one budget")
	}
	if !allowed(bob) || !allowed(unowned) {
		t.Error("bob or an unowned key refused: alice's budget leaked to them")
	}
	if alice1.Tenant != "ws_1" {
		t.Errorf("the caller's key was modified: tenant %q", alice1.Tenant)
	}
}
