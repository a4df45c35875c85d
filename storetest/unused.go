package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

var unusedCases = []testCase{
	{"Basic", testUnusedBasic},
	{"Paging", testUnusedPaging},
}

// ListUnused judges a key by its last use, else its creation, strictly
// before the cutoff, across tenants, skipping revoked keys.
func testUnusedBasic(f *fixture) {
	cutoff := at(-30 * 24 * time.Hour)
	old := func(k *apikey.Key) { k.CreatedAt = at(-400 * 24 * time.Hour) }
	neverUsed := f.create("acme", old)
	usedLongAgo := f.create("globex", old, func(k *apikey.Key) { k.LastUsedAt = at(-60 * 24 * time.Hour) })
	f.create("acme", old, func(k *apikey.Key) { k.LastUsedAt = at(-time.Hour) })           // used recently
	f.create("acme", func(k *apikey.Key) { k.CreatedAt = at(-time.Hour) })                 // new, never used
	f.create("acme", old, func(k *apikey.Key) { k.RevokedAt = at(-100 * 24 * time.Hour) }) // revoked
	f.create("acme", old, func(k *apikey.Key) { k.LastUsedAt = cutoff })                   // at the cutoff
	expired := f.create("initech", old, func(k *apikey.Key) { k.ExpiresAt = at(-200 * 24 * time.Hour) })
	got, err := f.s.ListUnused(f.ctx, cutoff, "", 100)
	noErr(f, "ListUnused", err)
	wantIDs(f, "ListUnused", got, []string{neverUsed.ID, usedLongAgo.ID, expired.ID})
	if len(got) == 3 {
		checkKey(f, "ListUnused record", got[1], usedLongAgo)
	}
	f.wantNoChanges("ListUnused", 0)
}

// after and limit page through the result in ID order.
func testUnusedPaging(f *fixture) {
	var want []string
	for i := range 7 {
		k := f.create([]string{"a", "b"}[i%2], func(k *apikey.Key) { k.CreatedAt = at(-48 * time.Hour) })
		want = append(want, k.ID)
	}
	var got []*apikey.Key
	after := ""
	for range 10 {
		page, err := f.s.ListUnused(f.ctx, base, after, 3)
		noErr(f, "ListUnused page", err)
		if len(page) > 3 {
			f.Fatalf("page of %d keys, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].ID
	}
	wantIDs(f, "ListUnused page by page", got, want)
}
