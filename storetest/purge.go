package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/apikit/apikey"
)

var purgeCases = []testCase{
	{"Keys", testPurgeKeys},
	{"Changes", testPurgeChanges},
	{"Empty", testPurgeEmpty},
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
	slices.SortFunc(listed, func(a, b *apikey.Key) int { return strings.Compare(b.ID, a.ID) })
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
