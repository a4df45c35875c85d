package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

var rotateCases = []testCase{
	{"Basic", testRotateBasic},
	{"RevokeNow", testRotateRevokeNow},
	{"ExistingSuccessor", testRotateExistingSuccessor},
	{"Conflict", testRotateConflict},
	{"DuplicateSuccessor", testRotateDuplicateSuccessor},
	{"NotFound", testRotateNotFound},
}

var dueCases = []testCase{
	{"Basic", testDueForRotation},
	{"Limit", testDueForRotationLimit},
}

var claimCases = []testCase{
	{"Once", testClaimRotationOnce},
	{"NotFound", testClaimRotationNotFound},
}

// rotatable is a key with a rotation schedule.
func rotatable(k *apikey.Key) {
	k.Scopes = []string{"read", "write"}
	k.RotationInterval = 24 * time.Hour
	k.NextRotationAt = at(time.Hour)
	k.ExpiresAt = at(720 * time.Hour)
}

// successorOf builds (without storing) the successor of old.
func (f *fixture) successorOf(old *apikey.Key, now time.Time) *apikey.Key {
	return f.key(old.Tenant, func(k *apikey.Key) {
		k.Name, k.Scopes, k.CreatedAt = old.Name, old.Scopes, now
		k.RotationInterval, k.NextRotationAt = old.RotationInterval, now.Add(old.RotationInterval)
		k.ExpiresAt = old.ExpiresAt
	})
}

// Rotate inserts the successor and marks the old key, in one step.
func testRotateBasic(f *fixture) {
	old := f.create("acme", rotatable)
	bystander := f.create("acme", rotatable)
	now := at(30 * time.Minute)
	succ := f.successorOf(old, now)
	r := apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, Successor: succ.Clone(), GraceExpiresAt: now.Add(time.Hour), At: now}
	got, err := f.s.Rotate(f.ctx, r)
	noErr(f, "Rotate", err)
	want := with(old, func(k *apikey.Key) {
		k.ReplacedBy, k.GraceExpiresAt, k.NextRotationAt = succ.ID, r.GraceExpiresAt, time.Time{}
	})
	checkKey(f, "Rotate result", got, want)
	f.wantKey("old key after Rotate", want)
	f.wantKey("successor after Rotate", succ)
	byLookup, err := f.s.GetByLookup(f.ctx, succ.Lookup)
	noErr(f, "GetByLookup of the successor", err)
	checkKey(f, "GetByLookup of the successor", byLookup, succ)
	f.wantKey("other key after Rotate", bystander)
	wantIDs(f, "List after Rotate", f.list("acme", apikey.ListOptions{}), newestFirst(old, bystander, succ))
	f.wantChanges("Rotate", 0, []change{{apikey.ChangeRotated, old, now}}, false)
}

// A rotation with RevokedAt revokes the old key at once.
func testRotateRevokeNow(f *fixture) {
	old := f.create("acme", rotatable)
	now := at(30 * time.Minute)
	succ := f.successorOf(old, now)
	r := apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, Successor: succ.Clone(), GraceExpiresAt: now, RevokedAt: now, At: now}
	got, err := f.s.Rotate(f.ctx, r)
	noErr(f, "Rotate", err)
	want := with(old, func(k *apikey.Key) {
		k.ReplacedBy, k.GraceExpiresAt, k.RevokedAt, k.NextRotationAt = succ.ID, now, now, time.Time{}
	})
	checkKey(f, "Rotate result", got, want)
	f.wantKey("old key after Rotate", want)
	f.wantKey("successor after Rotate", succ)
	f.wantChanges("Rotate", 0, []change{{apikey.ChangeRotated, old, now}}, false)
}

// With Successor nil the successor already exists and is left alone.
func testRotateExistingSuccessor(f *fixture) {
	old := f.create("acme", rotatable)
	now := at(time.Hour)
	succ := f.successorOf(old, now)
	noErr(f, "Create successor", f.s.Create(f.ctx, succ.Clone()))
	r := apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, GraceExpiresAt: now.Add(24 * time.Hour), At: now}
	got, err := f.s.Rotate(f.ctx, r)
	noErr(f, "Rotate with an existing successor", err)
	want := with(old, func(k *apikey.Key) {
		k.ReplacedBy, k.GraceExpiresAt, k.NextRotationAt = succ.ID, r.GraceExpiresAt, time.Time{}
	})
	checkKey(f, "Rotate result", got, want)
	f.wantKey("old key after Rotate", want)
	f.wantKey("successor after Rotate", succ)
	f.wantChanges("Rotate", 0, []change{{apikey.ChangeRotated, old, now}}, false)
}

// Rotating a replaced or revoked key fails with ErrConflict and changes
// nothing: the new successor is not inserted.
func testRotateConflict(f *fixture) {
	now := at(time.Hour)
	replaced := f.create("acme", func(k *apikey.Key) {
		rotatable(k)
		k.ReplacedBy, k.GraceExpiresAt, k.NextRotationAt = unusedID(), at(2*time.Hour), time.Time{}
	})
	revoked := f.create("acme", func(k *apikey.Key) { rotatable(k); k.RevokedAt = at(-time.Hour) })
	revokedLater := f.create("acme", func(k *apikey.Key) { rotatable(k); k.RevokedAt = at(5 * time.Hour) })
	rotated := f.create("acme", rotatable) // replaced through Rotate below
	first := f.successorOf(rotated, now)
	_, err := f.s.Rotate(f.ctx, apikey.Rotation{OldID: rotated.ID, SuccessorID: first.ID, Successor: first.Clone(), GraceExpiresAt: now.Add(time.Hour), At: now})
	noErr(f, "first Rotate", err)
	seq := f.lastChange()
	for _, old := range []*apikey.Key{replaced, revoked, revokedLater, rotated} {
		before := f.get(old.ID)
		for _, withSuccessor := range []bool{true, false} {
			succ := f.successorOf(old, now)
			r := apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, GraceExpiresAt: now.Add(time.Hour), At: now}
			if withSuccessor {
				r.Successor = succ.Clone()
			} else {
				noErr(f, "Create successor", f.s.Create(f.ctx, succ.Clone()))
			}
			got, err := f.s.Rotate(f.ctx, r)
			wantErr(f, "Rotate of a replaced or revoked key", err, apikey.ErrConflict)
			if got != nil && err != nil {
				f.Errorf("Rotate returned a key with its error")
			}
			checkKey(f, "old key after a refused Rotate", f.get(old.ID), before)
			if withSuccessor {
				f.wantGone("successor of a refused Rotate", succ)
			} else {
				f.wantKey("existing successor after a refused Rotate", succ)
			}
		}
	}
	f.wantKey("first successor", first)
	f.wantNoChanges("refused Rotate", seq)
}

// A successor that cannot be inserted fails the whole rotation.
func testRotateDuplicateSuccessor(f *fixture) {
	old := f.create("acme", rotatable)
	taken := f.create("acme")
	now := at(time.Hour)
	for _, dup := range []func(*apikey.Key){
		func(k *apikey.Key) { k.Lookup = taken.Lookup },
		func(k *apikey.Key) { k.ID = taken.ID },
	} {
		succ := f.successorOf(old, now)
		dup(succ)
		_, err := f.s.Rotate(f.ctx, apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, Successor: succ.Clone(), GraceExpiresAt: now.Add(time.Hour), At: now})
		wantErr(f, "Rotate with a clashing successor", err, apikey.ErrAlreadyExists)
		f.wantKey("old key after a failed Rotate", old)
		f.wantKey("key whose ID or lookup the successor reused", taken)
	}
	f.wantNoChanges("failed Rotate", 0)
}

func testRotateNotFound(f *fixture) {
	f.create("acme")
	now := at(time.Hour)
	succ := f.key("acme")
	_, err := f.s.Rotate(f.ctx, apikey.Rotation{OldID: f.newID(), SuccessorID: succ.ID, Successor: succ.Clone(), GraceExpiresAt: now, At: now})
	wantErr(f, "Rotate of a missing key", err, apikey.ErrNotFound)
	f.wantGone("successor of a missing key", succ)
	f.wantNoChanges("Rotate of a missing key", 0)
}

// DueForRotation lists active keys (not revoked, not replaced) whose
// NextRotationAt is at or before now, across tenants, oldest due first.
func testDueForRotation(f *fixture) {
	now := at(10 * time.Hour)
	due := func(d time.Time, mods ...func(*apikey.Key)) func(*apikey.Key) {
		return func(k *apikey.Key) {
			k.RotationInterval, k.NextRotationAt = time.Hour, d
			for _, m := range mods {
				m(k)
			}
		}
	}
	k1 := f.create("acme", due(now.Add(-time.Hour)))
	k2 := f.create("globex", due(now.Add(-3*time.Hour)))
	k3 := f.create("acme", due(now))
	k4 := f.create("acme", due(now.Add(-2*time.Hour)))
	f.create("acme", due(now.Add(time.Microsecond)))
	f.create("acme")
	f.create("acme", due(now.Add(-time.Hour), func(k *apikey.Key) { k.RevokedAt = now.Add(-2 * time.Hour) }))
	f.create("acme", due(now.Add(-time.Hour), func(k *apikey.Key) { k.ReplacedBy, k.GraceExpiresAt = unusedID(), now.Add(time.Hour) }))
	got, err := f.s.DueForRotation(f.ctx, now, 100)
	noErr(f, "DueForRotation", err)
	wantIDs(f, "DueForRotation", got, ids([]*apikey.Key{k2, k4, k1, k3}))
	if len(got) > 0 {
		checkKey(f, "DueForRotation result", got[0], k2)
	}
	got, err = f.s.DueForRotation(f.ctx, now.Add(-24*time.Hour), 100)
	noErr(f, "DueForRotation", err)
	wantIDs(f, "DueForRotation before anything is due", got, nil)
}

// DueForRotation returns at most limit keys, the oldest due.
func testDueForRotationLimit(f *fixture) {
	var keys []*apikey.Key
	for i := range 5 {
		keys = append(keys, f.create("acme", func(k *apikey.Key) {
			k.RotationInterval, k.NextRotationAt = time.Hour, at(time.Duration(-i)*time.Minute)
		}))
	}
	for _, limit := range []int{1, 2, 5} {
		got, err := f.s.DueForRotation(f.ctx, base, limit)
		noErr(f, "DueForRotation", err)
		want := []string{keys[4].ID, keys[3].ID, keys[2].ID, keys[1].ID, keys[0].ID}[:limit]
		wantIDs(f, "DueForRotation with a limit", got, want)
	}
}

// ClaimRotation moves NextRotationAt only from the expected value.
func testClaimRotationOnce(f *fixture) {
	due, next, later := at(time.Hour), at(25*time.Hour), at(49*time.Hour)
	k := f.create("acme", func(k *apikey.Key) { k.RotationInterval, k.NextRotationAt = 24*time.Hour, due })
	other := f.create("acme", func(k *apikey.Key) { k.RotationInterval, k.NextRotationAt = 24*time.Hour, due })
	steps := []struct {
		from, to time.Time
		want     bool
		stored   time.Time
	}{
		{due.Add(time.Microsecond), next, false, due},
		{due, next, true, next},
		{due, next, false, next},
		{due, later, false, next},
		{next, later, true, later},
	}
	for i, s := range steps {
		ok, err := f.s.ClaimRotation(f.ctx, k.ID, s.from, s.to)
		noErr(f, "ClaimRotation", err)
		if ok != s.want {
			f.Errorf("step %d: ClaimRotation(%s -> %s) = %t, want %t", i, s.from, s.to, ok, s.want)
		}
		f.wantKey("after ClaimRotation", with(k, func(k *apikey.Key) { k.NextRotationAt = s.stored }))
	}
	f.wantKey("other key after ClaimRotation", other)
}

func testClaimRotationNotFound(f *fixture) {
	f.create("acme", func(k *apikey.Key) { k.NextRotationAt = base })
	ok, err := f.s.ClaimRotation(f.ctx, f.newID(), base, at(time.Hour))
	noErr(f, "ClaimRotation of a missing key", err)
	if ok {
		f.Error("ClaimRotation of a missing key = true")
	}
}
