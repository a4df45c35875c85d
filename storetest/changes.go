package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

var changesCases = []testCase{
	{"Empty", testChangesEmpty},
	{"EveryMutation", testChangesEveryMutation},
	{"Paging", testChangesPaging},
	{"OnlyMutations", testChangesOnlyMutations},
}

// An empty feed reads as empty, and LastChange is 0.
func testChangesEmpty(f *fixture) {
	if seq := f.lastChange(); seq != 0 {
		f.Errorf("LastChange of an empty store = %d, want 0", seq)
	}
	cs, err := f.s.Changes(f.ctx, 0, 10)
	noErr(f, "Changes of an empty store", err)
	if len(cs) != 0 {
		f.Errorf("Changes of an empty store = %s", fmtChanges(cs))
	}
}

// Every mutating method appends one entry per affected key, in call order,
// with the key's ID, lookup value and tenant and the caller's time.
func testChangesEveryMutation(f *fixture) {
	revoked := f.create("acme")
	rotated := f.create("acme", rotatable)
	updated := f.create("globex")
	upgraded := f.create("acme")
	all1, all2 := f.create("initech"), f.create("initech")
	f.create("acme") // untouched

	_, err := f.s.Revoke(f.ctx, revoked.ID, at(1*time.Minute))
	noErr(f, "Revoke", err)
	succ := f.successorOf(rotated, at(2*time.Minute))
	_, err = f.s.Rotate(f.ctx, apikey.Rotation{OldID: rotated.ID, SuccessorID: succ.ID, Successor: succ, GraceExpiresAt: at(time.Hour), At: at(2 * time.Minute)})
	noErr(f, "Rotate", err)
	name := "renamed"
	_, err = f.s.Update(f.ctx, updated.ID, apikey.Update{At: at(3 * time.Minute), Name: &name})
	noErr(f, "Update", err)
	noErr(f, "UpgradeHash", f.s.UpgradeHash(f.ctx, upgraded.ID, "v1", "v2", randomBytes(32), at(4*time.Minute)))
	f.wantChanges("Revoke, Rotate, Update, UpgradeHash", 0, []change{
		{apikey.ChangeRevoked, revoked, at(1 * time.Minute)},
		{apikey.ChangeRotated, rotated, at(2 * time.Minute)},
		{apikey.ChangeUpdated, updated, at(3 * time.Minute)},
		{apikey.ChangeHashUpgrade, upgraded, at(4 * time.Minute)},
	}, false)
	seq := f.lastChange()
	_, _, err = f.s.RevokeAll(f.ctx, "initech", at(5*time.Minute))
	noErr(f, "RevokeAll", err)
	f.wantChanges("RevokeAll", seq, []change{
		{apikey.ChangeRevoked, all1, at(5 * time.Minute)},
		{apikey.ChangeRevoked, all2, at(5 * time.Minute)},
	}, true)
	cs := f.changes(0)
	if len(cs) > 0 {
		if last := f.lastChange(); last != cs[len(cs)-1].Seq {
			f.Errorf("LastChange = %d, want the newest entry's Seq %d", last, cs[len(cs)-1].Seq)
		}
	}
}

// Changes honours after and limit, so a follower can read in steps.
func testChangesPaging(f *fixture) {
	var keys []*apikey.Key
	for i := range 7 {
		k := f.create("acme")
		keys = append(keys, k)
		_, err := f.s.Revoke(f.ctx, k.ID, at(time.Duration(i)*time.Second))
		noErr(f, "Revoke", err)
	}
	all := f.changes(0)
	if len(all) != len(keys) {
		f.Fatalf("7 revocations gave %d entries", len(all))
	}
	for _, limit := range []int{1, 3, 7, 8} {
		var got []apikey.Change
		after := int64(0)
		for range 10 {
			cs, err := f.s.Changes(f.ctx, after, limit)
			noErr(f, "Changes", err)
			if len(cs) > limit {
				f.Fatalf("Changes(limit %d) returned %d entries", limit, len(cs))
			}
			if len(cs) == 0 {
				break
			}
			got = append(got, cs...)
			after = cs[len(cs)-1].Seq
		}
		if len(got) != len(all) {
			f.Errorf("reading with limit %d gave %d entries, want %d", limit, len(got), len(all))
			continue
		}
		for i := range got {
			if !sameChange(got[i], all[i]) {
				f.Errorf("limit %d: entry %d = %+v, want %+v", limit, i, got[i], all[i])
			}
		}
	}
	from := all[3].Seq
	cs, err := f.s.Changes(f.ctx, from, 2)
	noErr(f, "Changes", err)
	if len(cs) != 2 || !sameChange(cs[0], all[4]) || !sameChange(cs[1], all[5]) {
		f.Errorf("Changes(%d, 2) = %s, want entries 5 and 6", from, fmtChanges(cs))
	}
	cs, err = f.s.Changes(f.ctx, f.lastChange(), 10)
	noErr(f, "Changes from LastChange", err)
	if len(cs) != 0 {
		f.Errorf("Changes from LastChange = %s, want none", fmtChanges(cs))
	}
}

// Reads, usage, claims and calls that change nothing append no entry.
func testChangesOnlyMutations(f *fixture) {
	k := f.create("acme", func(k *apikey.Key) { rotatable(k); k.RevokedAt = at(-time.Hour) })
	live := f.create("acme", rotatable)
	seq := f.lastChange()
	_, _ = f.s.Get(f.ctx, k.ID)
	_, _ = f.s.GetByLookup(f.ctx, k.Lookup)
	_, _ = f.s.List(f.ctx, "acme", apikey.ListOptions{})
	_, _ = f.s.DueForRotation(f.ctx, at(48*time.Hour), 10)
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: live.ID, At: base}}))
	ok, err := f.s.ClaimRotation(f.ctx, live.ID, live.NextRotationAt, at(25*time.Hour))
	noErr(f, "ClaimRotation", err)
	if !ok {
		f.Error("ClaimRotation of a due key = false")
	}
	_, err = f.s.Revoke(f.ctx, k.ID, base)
	noErr(f, "Revoke of a revoked key", err)
	_, _, err = f.s.RevokeAll(f.ctx, "nobody", base)
	noErr(f, "RevokeAll of an unknown tenant", err)
	succ := f.successorOf(k, base)
	_, err = f.s.Rotate(f.ctx, apikey.Rotation{OldID: k.ID, SuccessorID: succ.ID, Successor: succ, At: base})
	wantErr(f, "Rotate of a revoked key", err, apikey.ErrConflict)
	noErr(f, "stale UpgradeHash", f.s.UpgradeHash(f.ctx, k.ID, "v0", "v2", randomBytes(32), base))
	_, err = f.s.Purge(f.ctx, at(-24*time.Hour))
	noErr(f, "Purge", err)
	f.wantNoChanges("reads, usage, claims and no-op calls", seq)
}

// sameChange reports whether two reads returned the same entry.
func sameChange(a, b apikey.Change) bool {
	return a.Seq == b.Seq && a.KeyID == b.KeyID && a.Lookup == b.Lookup &&
		a.Tenant == b.Tenant && a.Kind == b.Kind && a.At.Equal(b.At)
}
