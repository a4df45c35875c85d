package storetest

import (
	"net/netip"
	"slices"
	"time"

	"github.com/apikit/apikey"
)

var revokeCases = []testCase{
	{"Basic", testRevokeBasic},
	{"Idempotent", testRevokeIdempotent},
	{"NotFound", testRevokeNotFound},
}

var revokeAllCases = []testCase{
	{"Basic", testRevokeAllBasic},
	{"Again", testRevokeAllAgain},
	{"ManyKeys", testRevokeAllManyKeys},
	{"UnknownTenant", testRevokeAllUnknownTenant},
	{"SameInstant", testRevokeAllSameInstant},
}

var updateCases = []testCase{
	{"Name", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		name := "renamed ✓"
		u.Name, k.Name = &name, name
	})},
	{"Scopes", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		scopes := []string{"billing:read", "users:*"}
		u.Scopes, k.Scopes = &scopes, slices.Clone(scopes)
	})},
	{"Metadata", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		md := map[string]string{"owner": "bob", "env": ""}
		u.Metadata, k.Metadata = &md, map[string]string{"owner": "bob", "env": ""}
	})},
	{"All", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		name, scopes, md := "all", []string{"a"}, map[string]string{"b": "c"}
		u.Name, u.Scopes, u.Metadata = &name, &scopes, &md
		k.Name, k.Scopes, k.Metadata = name, []string{"a"}, map[string]string{"b": "c"}
	})},
	{"Clear", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		name, scopes, md := "", []string{}, map[string]string{}
		u.Name, u.Scopes, u.Metadata = &name, &scopes, &md
		k.Name, k.Scopes, k.Metadata = "", nil, nil
	})},
	{"Nothing", testUpdateField(func(*apikey.Update, *apikey.Key) {})},
	{"Disabled", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		yes := true
		u.Disabled, k.Disabled = &yes, true
	})},
	{"RateLimits", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		l := []apikey.RateLimit{{Name: "per_min", Limit: 60, Window: time.Minute, Shared: true}}
		u.RateLimits, k.RateLimits = &l, slices.Clone(l)
	})},
	{"Credits", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		c := &apikey.Credits{Remaining: 7, RefillAmount: 9, RefillInterval: time.Hour, LastRefill: at(time.Second)}
		u.Credits, k.Credits = &c, &apikey.Credits{Remaining: 7, RefillAmount: 9, RefillInterval: time.Hour, LastRefill: at(time.Second)}
	})},
	{"IPAllowlist", testUpdateField(func(u *apikey.Update, k *apikey.Key) {
		l := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}
		u.IPAllowlist, k.IPAllowlist = &l, slices.Clone(l)
	})},
	{"ClearControls", testClearControls},
	{"NotFound", testUpdateNotFound},
}

var upgradeHashCases = []testCase{
	{"Upgrades", testUpgradeHash},
	{"VersionMoved", testUpgradeHashVersionMoved},
	{"NotFound", testUpgradeHashNotFound},
}

// Revoke sets RevokedAt, changes nothing else, and returns the stored key.
func testRevokeBasic(f *fixture) {
	k := f.create("acme", func(k *apikey.Key) { k.NextRotationAt = at(time.Hour) })
	other := f.create("acme")
	when := at(time.Minute)
	got, err := f.s.Revoke(f.ctx, k.ID, when)
	noErr(f, "Revoke", err)
	want := with(k, func(k *apikey.Key) { k.RevokedAt = when })
	checkKey(f, "Revoke result", got, want)
	f.wantKey("Get after Revoke", want)
	f.wantKey("other key after Revoke", other)
	f.wantChanges("Revoke", 0, []change{{apikey.ChangeRevoked, k, when}}, false)
}

// Revoking twice keeps the first RevokedAt and appends no second entry.
func testRevokeIdempotent(f *fixture) {
	k := f.create("acme")
	first := at(time.Minute)
	_, err := f.s.Revoke(f.ctx, k.ID, first)
	noErr(f, "first Revoke", err)
	seq := f.lastChange()
	for _, when := range []time.Time{at(time.Hour), at(-time.Hour), first} {
		got, err := f.s.Revoke(f.ctx, k.ID, when)
		noErr(f, "second Revoke", err)
		want := with(k, func(k *apikey.Key) { k.RevokedAt = first })
		checkKey(f, "second Revoke result", got, want)
		f.wantKey("Get after a second Revoke", want)
	}
	f.wantNoChanges("Revoke of a revoked key", seq)
}

func testRevokeNotFound(f *fixture) {
	f.create("acme")
	_, err := f.s.Revoke(f.ctx, f.newID(), base)
	wantErr(f, "Revoke of a missing key", err, apikey.ErrNotFound)
	f.wantNoChanges("Revoke of a missing key", 0)
}

// RevokeAll revokes every unrevoked key of the tenant with one timestamp,
// keeps earlier revocations, touches no other tenant, and returns all the
// tenant's keys newest first.
func testRevokeAllBasic(f *fixture) {
	earlier := at(-time.Hour)
	when := at(time.Minute)
	a1 := f.create("acme")
	a2 := f.create("acme", func(k *apikey.Key) { k.RevokedAt = earlier })
	a3 := f.create("acme", func(k *apikey.Key) { k.ExpiresAt = at(-time.Hour) })
	a4 := f.create("acme", func(k *apikey.Key) { k.ReplacedBy = unusedID(); k.GraceExpiresAt = at(time.Hour) })
	others := []*apikey.Key{f.create("ACME"), f.create("acme "), f.create("globex")}
	a5 := f.create("acme")
	seq := f.lastChange()

	got, revoked, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "RevokeAll", err)
	wantIDs(f, "RevokeAll result", got, newestFirst(a1, a2, a3, a4, a5))
	wantRevoked(f, "RevokeAll", revoked, a1, a3, a4, a5)
	want := map[string]*apikey.Key{a2.ID: a2}
	var newly []change
	for _, k := range []*apikey.Key{a1, a3, a4, a5} {
		want[k.ID] = with(k, func(k *apikey.Key) { k.RevokedAt = when })
		newly = append(newly, change{apikey.ChangeRevoked, k, when})
	}
	for _, k := range got {
		if w := want[k.ID]; w != nil {
			checkKey(f, "RevokeAll result", k, w)
		}
	}
	for _, w := range want {
		f.wantKey("Get after RevokeAll", w)
	}
	for _, k := range others {
		f.wantKey("other tenant's key after RevokeAll", k)
	}
	f.wantChanges("RevokeAll", seq, newly, true)
}

// A second RevokeAll changes no timestamp and appends nothing.
func testRevokeAllAgain(f *fixture) {
	a1, a2 := f.create("acme"), f.create("acme")
	first := at(time.Minute)
	_, _, err := f.s.RevokeAll(f.ctx, "acme", first)
	noErr(f, "first RevokeAll", err)
	seq := f.lastChange()
	got, revoked, err := f.s.RevokeAll(f.ctx, "acme", at(time.Hour))
	noErr(f, "second RevokeAll", err)
	wantRevoked(f, "second RevokeAll", revoked)
	wantIDs(f, "second RevokeAll result", got, newestFirst(a1, a2))
	for i, k := range []*apikey.Key{a2, a1} {
		want := with(k, func(k *apikey.Key) { k.RevokedAt = first })
		if i < len(got) {
			checkKey(f, "second RevokeAll result", got[i], want)
		}
		f.wantKey("Get after a second RevokeAll", want)
	}
	f.wantNoChanges("second RevokeAll", seq)
}

// RevokeAll returns every key of the tenant, not one List page.
func testRevokeAllManyKeys(f *fixture) {
	keys := make([]*apikey.Key, 150)
	for i := range keys {
		keys[i] = f.key("acme")
	}
	createAll(f, keys, 8)
	when := at(time.Minute)
	got, revoked, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "RevokeAll", err)
	wantIDs(f, "RevokeAll of 150 keys", got, newestFirst(keys...))
	wantRevoked(f, "RevokeAll of 150 keys", revoked, keys...)
	if left := f.list("acme", apikey.ListOptions{Filter: apikey.ListActive, At: when}); len(left) != 0 {
		f.Errorf("%d keys still active after RevokeAll", len(left))
	}
	cs := f.changes(0)
	if len(cs) != len(keys) {
		f.Errorf("RevokeAll of %d keys appended %d change-feed entries", len(keys), len(cs))
	}
}

func testRevokeAllUnknownTenant(f *fixture) {
	k := f.create("acme")
	got, revoked, err := f.s.RevokeAll(f.ctx, "nobody", base)
	noErr(f, "RevokeAll of an unknown tenant", err)
	wantRevoked(f, "RevokeAll of an unknown tenant", revoked)
	if len(got) != 0 {
		f.Errorf("RevokeAll of an unknown tenant returned %d keys", len(got))
	}
	f.wantKey("key of another tenant", k)
	f.wantNoChanges("RevokeAll of an unknown tenant", 0)
}

// Two RevokeAll calls at the same instant: the second reports only the key
// it revoked, not those the first revoked at that same timestamp (the
// audit event of each names only its own keys).
func testRevokeAllSameInstant(f *fixture) {
	when := at(time.Minute)
	a1, a2 := f.create("acme"), f.create("acme")
	_, revoked, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "first RevokeAll", err)
	wantRevoked(f, "first RevokeAll", revoked, a1, a2)
	a3 := f.create("acme")
	got, revoked, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "second RevokeAll at the same instant", err)
	wantIDs(f, "second RevokeAll result", got, newestFirst(a1, a2, a3))
	wantRevoked(f, "second RevokeAll at the same instant", revoked, a3)
}

// wantRevoked checks that the IDs a RevokeAll reported revoking are
// exactly those of want, in any order.
func wantRevoked(f *fixture, what string, got []string, want ...*apikey.Key) {
	f.Helper()
	ids := make([]string, len(want))
	for i, k := range want {
		ids[i] = k.ID
	}
	if g := slices.Sorted(slices.Values(got)); !slices.Equal(g, slices.Sorted(slices.Values(ids))) {
		f.Errorf("%s reported revoking %v, want %v", what, g, slices.Sorted(slices.Values(ids)))
	}
}

// testUpdateField applies the update set sets (and the change it makes to
// the expected key): other fields stay as they were.
func testUpdateField(set func(*apikey.Update, *apikey.Key)) func(*fixture) {
	return func(f *fixture) {
		k := f.create("acme", func(k *apikey.Key) {
			k.Name = "original"
			k.Scopes = []string{"read", "write"}
			k.Metadata = map[string]string{"owner": "alice"}
			k.ExpiresAt = at(24 * time.Hour)
			k.NextRotationAt = at(time.Hour)
		})
		other := f.create("acme")
		u := apikey.Update{At: at(time.Minute)}
		want := k.Clone()
		set(&u, want)
		got, err := f.s.Update(f.ctx, k.ID, u)
		noErr(f, "Update", err)
		checkKey(f, "Update result", got, want)
		f.wantKey("Get after Update", want)
		f.wantKey("other key after Update", other)
		if u.Name != nil || u.Scopes != nil || u.Metadata != nil {
			f.wantChanges("Update", 0, []change{{apikey.ChangeUpdated, k, u.At}}, false)
		}
		// The store keeps its own copy of the update's values.
		if u.Scopes != nil && len(*u.Scopes) > 0 {
			(*u.Scopes)[0] = "mutated"
		}
		if u.Metadata != nil {
			(*u.Metadata)["mutated"] = "yes"
		}
		f.wantKey("Get after the caller changed the Update", want)
	}
}

func testUpdateNotFound(f *fixture) {
	f.create("acme")
	name := "x"
	_, err := f.s.Update(f.ctx, f.newID(), apikey.Update{At: base, Name: &name})
	wantErr(f, "Update of a missing key", err, apikey.ErrNotFound)
	f.wantNoChanges("Update of a missing key", 0)
}

// UpgradeHash replaces version and hash when the version is still from.
func testUpgradeHash(f *fixture) {
	k := f.create("acme")
	other := f.create("acme")
	hash := randomBytes(32)
	want := with(k, func(k *apikey.Key) { k.HashVersion, k.Hash = "v2", slices.Clone(hash) })
	when := at(time.Minute)
	noErr(f, "UpgradeHash", f.s.UpgradeHash(f.ctx, k.ID, "v1", "v2", hash, when))
	hash[0] ^= 0xff // the store keeps its own copy
	f.wantKey("Get after UpgradeHash", want)
	got, err := f.s.GetByLookup(f.ctx, k.Lookup)
	noErr(f, "GetByLookup after UpgradeHash", err)
	checkKey(f, "GetByLookup after UpgradeHash", got, want)
	f.wantKey("other key after UpgradeHash", other)
	f.wantChanges("UpgradeHash", 0, []change{{apikey.ChangeHashUpgrade, k, when}}, false)
}

// When another process upgraded first, UpgradeHash changes nothing.
func testUpgradeHashVersionMoved(f *fixture) {
	k := f.create("acme")
	noErr(f, "first UpgradeHash", f.s.UpgradeHash(f.ctx, k.ID, "v1", "v2", randomBytes(32), base))
	moved := f.get(k.ID)
	seq := f.lastChange()
	noErr(f, "UpgradeHash from a stale version", f.s.UpgradeHash(f.ctx, k.ID, "v1", "v3", randomBytes(32), at(time.Minute)))
	noErr(f, "UpgradeHash from an unknown version", f.s.UpgradeHash(f.ctx, k.ID, "v0", "v2", randomBytes(32), at(time.Minute)))
	f.wantKey("Get after stale UpgradeHash", moved)
	f.wantNoChanges("stale UpgradeHash", seq)
}

func testUpgradeHashNotFound(f *fixture) {
	f.create("acme")
	err := f.s.UpgradeHash(f.ctx, f.newID(), "v1", "v2", randomBytes(32), base)
	wantErr(f, "UpgradeHash of a missing key", err, apikey.ErrNotFound)
	f.wantNoChanges("UpgradeHash of a missing key", 0)
}
