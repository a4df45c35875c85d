package storetest

import (
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
	{"NotFound", testUpdateNotFound},
}

var upgradeHashCases = []testCase{
	{"Upgrades", testUpgradeHash},
	{"VersionMoved", testUpgradeHashVersionMoved},
	{"NotFound", testUpgradeHashNotFound},
}

var purgeCases = []testCase{
	{"Keys", testPurgeKeys},
	{"Changes", testPurgeChanges},
	{"Empty", testPurgeEmpty},
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

	got, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "RevokeAll", err)
	wantIDs(f, "RevokeAll result", got, newestFirst(a1, a2, a3, a4, a5))
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
	_, err := f.s.RevokeAll(f.ctx, "acme", first)
	noErr(f, "first RevokeAll", err)
	seq := f.lastChange()
	got, err := f.s.RevokeAll(f.ctx, "acme", at(time.Hour))
	noErr(f, "second RevokeAll", err)
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
	got, err := f.s.RevokeAll(f.ctx, "acme", when)
	noErr(f, "RevokeAll", err)
	wantIDs(f, "RevokeAll of 150 keys", got, newestFirst(keys...))
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
	got, err := f.s.RevokeAll(f.ctx, "nobody", base)
	noErr(f, "RevokeAll of an unknown tenant", err)
	if len(got) != 0 {
		f.Errorf("RevokeAll of an unknown tenant returned %d keys", len(got))
	}
	f.wantKey("key of another tenant", k)
	f.wantNoChanges("RevokeAll of an unknown tenant", 0)
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

// Purge deletes exactly the keys that stopped working before the cutoff.
func testPurgeKeys(f *fixture) {
	cutoff := at(0)
	before, after := cutoff.Add(-time.Microsecond), cutoff.Add(time.Microsecond)
	cases := []struct {
		mod  func(*apikey.Key)
		dead bool
	}{
		{func(*apikey.Key) {}, false},
		{func(k *apikey.Key) { k.RevokedAt = before }, true},
		{func(k *apikey.Key) { k.RevokedAt = cutoff }, false},
		{func(k *apikey.Key) { k.RevokedAt = after }, false},
		{func(k *apikey.Key) { k.ExpiresAt = before }, true},
		{func(k *apikey.Key) { k.ExpiresAt = cutoff }, false},
		{func(k *apikey.Key) { k.ExpiresAt = after }, false},
		{func(k *apikey.Key) { k.ReplacedBy, k.GraceExpiresAt = unusedID(), before }, true},
		{func(k *apikey.Key) { k.ReplacedBy, k.GraceExpiresAt = unusedID(), after }, false},
		{func(k *apikey.Key) { k.RevokedAt, k.ExpiresAt = after, before }, true},
		{func(k *apikey.Key) { k.ReplacedBy, k.GraceExpiresAt, k.ExpiresAt = unusedID(), after, before }, true},
		{func(k *apikey.Key) { k.LastUsedAt, k.CreatedAt = before, before.Add(-time.Hour) }, false},
	}
	var dead, alive []*apikey.Key
	for i, c := range cases {
		tenant := []string{"acme", "globex"}[i%2]
		k := f.create(tenant, c.mod)
		if c.dead {
			dead = append(dead, k)
		} else {
			alive = append(alive, k)
		}
	}
	n, err := f.s.Purge(f.ctx, cutoff)
	noErr(f, "Purge", err)
	if n != len(dead) {
		f.Errorf("Purge returned %d, want %d", n, len(dead))
	}
	for _, k := range dead {
		f.wantGone("purged key", k)
	}
	for _, k := range alive {
		f.wantKey("key kept by Purge", k)
	}
	listed := append(f.list("acme", apikey.ListOptions{}), f.list("globex", apikey.ListOptions{})...)
	slices.SortFunc(listed, func(a, b *apikey.Key) int { return cmpStr(b.ID, a.ID) })
	wantIDs(f, "List after Purge", listed, newestFirst(alive...))
	n, err = f.s.Purge(f.ctx, cutoff)
	noErr(f, "second Purge", err)
	if n != 0 {
		f.Errorf("second Purge returned %d, want 0", n)
	}
	// A purged key's lookup value is free again.
	reuse := f.key("acme", func(k *apikey.Key) { k.Lookup = dead[0].Lookup })
	noErr(f, "Create with a purged key's lookup value", f.s.Create(f.ctx, reuse.Clone()))
}

// Purge trims change-feed entries older than the cutoff; reading from
// before the trim gives ErrChangesTrimmed; Seq keeps growing.
func testPurgeChanges(f *fixture) {
	keys := []*apikey.Key{f.create("acme"), f.create("acme"), f.create("acme"), f.create("acme")}
	for i, k := range keys[:3] {
		_, err := f.s.Revoke(f.ctx, k.ID, at(time.Duration(i)*time.Hour))
		noErr(f, "Revoke", err)
	}
	cs := f.changes(0)
	if len(cs) != 3 {
		f.Fatalf("3 revocations gave %d change-feed entries", len(cs))
	}
	last := f.lastChange()
	// Keys revoked at 0h and 1h are dead before 1h30; entries at 0h and 1h go.
	_, err := f.s.Purge(f.ctx, at(90*time.Minute))
	noErr(f, "Purge", err)
	for _, after := range []int64{0, cs[0].Seq} {
		_, err := f.s.Changes(f.ctx, after, 10)
		wantErr(f, "Changes from before the trim", err, apikey.ErrChangesTrimmed)
	}
	f.wantChanges("Changes after the trim", cs[1].Seq, []change{{apikey.ChangeRevoked, keys[2], at(2 * time.Hour)}}, false)
	if got := f.lastChange(); got != last {
		f.Errorf("LastChange after Purge = %d, want %d", got, last)
	}
	// Trim everything: LastChange stays and new entries continue the sequence.
	_, err = f.s.Purge(f.ctx, at(3*time.Hour))
	noErr(f, "second Purge", err)
	if got := f.lastChange(); got != last {
		f.Errorf("LastChange after purging every entry = %d, want %d", got, last)
	}
	_, err = f.s.Changes(f.ctx, cs[1].Seq, 10)
	wantErr(f, "Changes from before the second trim", err, apikey.ErrChangesTrimmed)
	f.wantNoChanges("nothing", last)
	_, err = f.s.Revoke(f.ctx, keys[3].ID, at(4*time.Hour))
	noErr(f, "Revoke after Purge", err)
	got := f.changes(last)
	if len(got) != 1 || got[0].Seq <= last || got[0].KeyID != keys[3].ID {
		f.Errorf("Changes after a new revocation = %s, want one entry for %s with Seq > %d", fmtChanges(got), keys[3].ID, last)
	}
}

// Purge with nothing to delete succeeds and trims nothing.
func testPurgeEmpty(f *fixture) {
	n, err := f.s.Purge(f.ctx, base)
	noErr(f, "Purge of an empty store", err)
	if n != 0 {
		f.Errorf("Purge of an empty store = %d", n)
	}
	k := f.create("acme")
	_, err = f.s.Revoke(f.ctx, k.ID, at(time.Hour))
	noErr(f, "Revoke", err)
	n, err = f.s.Purge(f.ctx, at(time.Hour)) // revoked at the cutoff: kept
	noErr(f, "Purge", err)
	if n != 0 {
		f.Errorf("Purge of a key revoked at the cutoff = %d, want 0", n)
	}
	f.wantChanges("Changes after a Purge that trims nothing", 0, []change{{apikey.ChangeRevoked, k, at(time.Hour)}}, false)
}
