package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

// lifecycleUpdateCases check Update's expiry, not-before and owner fields.
var lifecycleUpdateCases = []testCase{
	{"ExpiresAt", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		t := at(48 * time.Hour)
		u.ExpiresAt, k.ExpiresAt = &t, t
	})},
	{"ExpiresAtRemoved", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		u.ExpiresAt, k.ExpiresAt = &time.Time{}, time.Time{}
	})},
	{"NotBefore", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		t := at(2*time.Hour + time.Microsecond)
		u.NotBefore, k.NotBefore = &t, t
	})},
	{"NotBeforeRemoved", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		u.NotBefore, k.NotBefore = &time.Time{}, time.Time{}
	})},
	{"Owner", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		o := "bob"
		u.Owner, k.Owner = &o, o
	})},
	{"OwnerRemoved", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		o := ""
		u.Owner, k.Owner = &o, o
	})},
	{"LifecycleWithName", testUpdateLifecycle(func(u *apikey.Update, k *apikey.Key) {
		name, exp, nb, o := "both", at(72*time.Hour), at(3*time.Hour), "carol"
		u.Name, u.ExpiresAt, u.NotBefore, u.Owner = &name, &exp, &nb, &o
		k.Name, k.ExpiresAt, k.NotBefore, k.Owner = name, exp, nb, o
	})},
}

// testUpdateLifecycle updates a key that has an expiry, a not-before time
// and an owner, and checks the result, both read paths, the untouched
// fields and keys, and the feed entry.
func testUpdateLifecycle(set func(*apikey.Update, *apikey.Key)) func(*fixture) {
	return func(f *fixture) {
		k := f.create("acme", func(k *apikey.Key) {
			k.Name = "original"
			k.Metadata = map[string]string{"team": "a"}
			k.ExpiresAt = at(24 * time.Hour)
			k.NotBefore = at(time.Hour)
			k.Owner = "alice"
		})
		other := f.create("acme", func(k *apikey.Key) { k.ExpiresAt = at(24 * time.Hour); k.Owner = "alice" })
		u := apikey.Update{At: at(time.Minute)}
		want := k.Clone()
		set(&u, want)
		got, err := f.s.Update(f.ctx, k.ID, u)
		noErr(f, "Update", err)
		checkKey(f, "Update result", got, want)
		f.wantKey("Get after Update", want)
		byLookup, err := f.s.GetByLookup(f.ctx, k.Lookup)
		noErr(f, "GetByLookup after Update", err)
		checkKey(f, "GetByLookup after Update", byLookup, want)
		f.wantKey("other key after Update", other)
		f.wantChanges("Update", 0, []change{{apikey.ChangeUpdated, k, u.At}}, false)
	}
}
