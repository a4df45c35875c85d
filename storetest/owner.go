package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

var ownerCases = []testCase{
	{"List", testOwnerList},
	{"Paging", testOwnerPaging},
	{"Filters", testOwnerFilters},
}

// List with Owner returns exactly the tenant's keys of that owner, newest
// first, comparing owners byte for byte and never crossing tenants.
func testOwnerList(f *fixture) {
	owned := func(o string) func(*apikey.Key) { return func(k *apikey.Key) { k.Owner = o } }
	a1 := f.create("acme", owned("alice"))
	f.create("acme", owned("bob"))
	f.create("acme")
	a2 := f.create("acme", owned("alice"))
	f.create("acme", owned("Alice"))
	f.create("acme", owned("alice "))
	f.create("globex", owned("alice"))
	a3 := f.create("acme", owned("alice"))
	wantIDs(f, "List by owner alice", f.list("acme", apikey.ListOptions{Owner: "alice"}), newestFirst(a1, a2, a3))
	wantIDs(f, "List by an unknown owner", f.list("acme", apikey.ListOptions{Owner: "carol"}), nil)
	wantIDs(f, "List by owner in an unknown tenant", f.list("initech", apikey.ListOptions{Owner: "alice"}), nil)
	if n := len(f.list("acme", apikey.ListOptions{})); n != 7 {
		f.Errorf("List without an owner: %d keys, want all 7", n)
	}
	for _, k := range f.list("acme", apikey.ListOptions{Owner: "alice"}) {
		if k.Owner != "alice" {
			f.Errorf("key %s listed for alice has owner %q", k.ID, k.Owner)
		}
	}
}

// Pages of an owner's keys follow the cursor without gaps or repeats.
func testOwnerPaging(f *fixture) {
	var want []*apikey.Key
	for i := range 7 {
		want = append(want, f.create("acme", func(k *apikey.Key) { k.Owner = "alice" }))
		if i%2 == 0 {
			f.create("acme", func(k *apikey.Key) { k.Owner = "bob" })
		}
	}
	var got []*apikey.Key
	opts := apikey.ListOptions{Owner: "alice", Limit: 3}
	for pages := 0; ; pages++ {
		p, err := f.s.List(f.ctx, "acme", opts)
		noErr(f, "List by owner", err)
		if len(p.Keys) > 3 {
			f.Fatalf("page of %d keys, limit 3", len(p.Keys))
		}
		got = append(got, p.Keys...)
		if p.Next == "" || pages > 10 {
			break
		}
		opts.After = p.Next
	}
	wantIDs(f, "owner's keys page by page", got, newestFirst(want...))
}

// Owner combines with ListActive (judged at At) and ListRevoked.
func testOwnerFilters(f *fixture) {
	owned := func(o string, mods ...func(*apikey.Key)) func(*apikey.Key) {
		return func(k *apikey.Key) {
			k.Owner = o
			for _, m := range mods {
				m(k)
			}
		}
	}
	active := f.create("acme", owned("alice"))
	revoked := f.create("acme", owned("alice", func(k *apikey.Key) { k.RevokedAt = at(-time.Hour) }))
	f.create("acme", owned("alice", func(k *apikey.Key) { k.ExpiresAt = at(-time.Minute) })) // expired
	later := f.create("acme", owned("alice", func(k *apikey.Key) { k.RevokedAt = at(time.Hour) }))
	f.create("acme", owned("bob"))
	f.create("acme", owned("bob", func(k *apikey.Key) { k.RevokedAt = at(-time.Hour) }))
	wantIDs(f, "active keys of alice", f.list("acme", apikey.ListOptions{Owner: "alice", Filter: apikey.ListActive, At: base}), newestFirst(active, later))
	wantIDs(f, "revoked keys of alice", f.list("acme", apikey.ListOptions{Owner: "alice", Filter: apikey.ListRevoked}), newestFirst(revoked, later))
	p, err := f.s.List(f.ctx, "acme", apikey.ListOptions{Owner: "alice", Filter: apikey.ListActive, At: base, Limit: 1})
	noErr(f, "List active by owner", err)
	wantIDs(f, "first page of alice's active keys", p.Keys, []string{later.ID})
	if p.Next == "" {
		f.Fatal("first page of two active keys has no Next")
	}
	p, err = f.s.List(f.ctx, "acme", apikey.ListOptions{Owner: "alice", Filter: apikey.ListActive, At: base, Limit: 1, After: p.Next})
	noErr(f, "List active by owner, page 2", err)
	wantIDs(f, "second page of alice's active keys", p.Keys, []string{active.ID})
}
