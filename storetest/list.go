package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/apikit/apikey"
)

var listCases = []testCase{
	{"NewestFirst", testListNewestFirst},
	{"Pagination", testListPagination},
	{"PaginationWithFilter", testListPaginationWithFilter},
	{"StableCursor", testListStableCursor},
	{"Limits", testListLimits},
	{"Filters", testListFilters},
	{"UnknownTenant", testListUnknownTenant},
	{"TenantIsolation", testListTenantIsolation},
}

// List returns only the tenant's keys, by ID descending.
func testListNewestFirst(f *fixture) {
	var mine []*apikey.Key
	for i := range 6 {
		mine = append(mine, f.create("acme", func(k *apikey.Key) {
			// CreatedAt runs against ID order: List orders by ID.
			k.CreatedAt = at(time.Duration(-i) * time.Hour)
		}))
		f.create("globex")
	}
	p, err := f.s.List(f.ctx, "acme", apikey.ListOptions{})
	noErr(f, "List", err)
	wantIDs(f, "List(acme)", p.Keys, newestFirst(mine...))
	if p.Next != "" {
		f.Errorf("List of 6 keys with the default limit: Next = %q, want empty", p.Next)
	}
}

// Following Next visits every key once, in order, whatever the page size,
// and the last page has an empty Next (also when it is full).
func testListPagination(f *fixture) {
	var keys []*apikey.Key
	for range 20 {
		keys = append(keys, f.create("acme"))
	}
	f.create("globex")
	want := newestFirst(keys...)
	for _, limit := range []int{1, 3, 7, 10, 19, 20, 21} {
		var got []*apikey.Key
		opts := apikey.ListOptions{Limit: limit}
		pages := 0
		for {
			p, err := f.s.List(f.ctx, "acme", opts)
			noErr(f, fmt.Sprintf("List(limit %d, after %q)", limit, opts.After), err)
			pages++
			if len(p.Keys) > limit {
				f.Fatalf("List(limit %d) returned %d keys", limit, len(p.Keys))
			}
			got = append(got, p.Keys...)
			if p.Next == "" || pages > 25 {
				break
			}
			if len(p.Keys) < limit {
				f.Errorf("List(limit %d): a page of %d keys has Next %q: only the last page may be short", limit, len(p.Keys), p.Next)
			}
			opts.After = p.Next
		}
		wantIDs(f, fmt.Sprintf("all pages of List(limit %d)", limit), got, want)
		if wantPages := (len(keys) + limit - 1) / limit; pages != wantPages {
			f.Errorf("List(limit %d) of %d keys took %d pages, want %d (Next must be empty on the last page)", limit, len(keys), pages, wantPages)
		}
	}
}

// Pagination works together with a filter.
func testListPaginationWithFilter(f *fixture) {
	var revoked, active []*apikey.Key
	for i := range 17 {
		if i%3 == 0 {
			revoked = append(revoked, f.create("acme", func(k *apikey.Key) { k.RevokedAt = at(-time.Hour) }))
		} else {
			active = append(active, f.create("acme"))
		}
	}
	for _, tc := range []struct {
		filter apikey.ListFilter
		want   []*apikey.Key
	}{
		{apikey.ListRevoked, revoked},
		{apikey.ListActive, active},
	} {
		for _, limit := range []int{1, 2, 4} {
			got := f.list("acme", apikey.ListOptions{Filter: tc.filter, At: base, Limit: limit})
			wantIDs(f, fmt.Sprintf("List(filter %d, limit %d)", tc.filter, limit), got, newestFirst(tc.want...))
		}
	}
}

// A cursor stays valid while keys are added, revoked and deleted (even
// the key it names): later pages neither repeat nor skip the keys that
// existed at the first page.
func testListStableCursor(f *fixture) {
	var keys []*apikey.Key
	for i := range 9 {
		keys = append(keys, f.create("acme", func(k *apikey.Key) {
			if i == 6 {
				k.RevokedAt = at(-time.Hour) // the last key of page 1, purged below
			}
		}))
	}
	p, err := f.s.List(f.ctx, "acme", apikey.ListOptions{Limit: 3})
	noErr(f, "List page 1", err)
	got := p.Keys
	for range 3 {
		f.create("acme") // newer than every key listed so far
	}
	_, err = f.s.Revoke(f.ctx, keys[3].ID, base) // on page 2
	noErr(f, "Revoke", err)
	n, err := f.s.Purge(f.ctx, base) // deletes the cursor's key
	noErr(f, "Purge", err)
	if n != 1 {
		f.Errorf("Purge = %d, want 1", n)
	}
	got = append(got, f.list("acme", apikey.ListOptions{Limit: 3, After: p.Next})...)
	wantIDs(f, "pages around writes (the cursor's own key deleted)", got, newestFirst(keys...))
}

// The default page size is 100 and no page is larger than 1000.
func testListLimits(f *fixture) {
	keys := make([]*apikey.Key, 1001)
	for i := range keys {
		keys[i] = f.key("acme")
	}
	createAll(f, keys, 8)
	want := newestFirst(keys...)
	for _, tc := range []struct {
		limit int
		want  int
	}{
		{0, 100}, {-1, 100}, {1000, 1000}, {1001, 1000}, {1 << 30, 1000},
	} {
		p, err := f.s.List(f.ctx, "acme", apikey.ListOptions{Limit: tc.limit})
		noErr(f, fmt.Sprintf("List(limit %d)", tc.limit), err)
		wantIDs(f, fmt.Sprintf("List(limit %d)", tc.limit), p.Keys, want[:tc.want])
		if p.Next == "" {
			f.Errorf("List(limit %d) of 1001 keys: Next is empty", tc.limit)
		}
	}
	p, err := f.s.List(f.ctx, "acme", apikey.ListOptions{Limit: 5000, After: want[999]})
	noErr(f, "List after the 1000th key", err)
	wantIDs(f, "List after the 1000th key", p.Keys, want[1000:])
	if p.Next != "" {
		f.Errorf("last page: Next = %q, want empty", p.Next)
	}
}

// createAll stores keys from workers goroutines.
func createAll(f *fixture, keys []*apikey.Key, workers int) {
	f.Helper()
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(keys); i += workers {
				errs[i] = f.s.Create(f.ctx, keys[i].Clone())
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		noErr(f, fmt.Sprintf("Create(%s)", keys[i].ID), err)
	}
}

// ListActive judges each key at ListOptions.At exactly like Key.StateAt;
// ListRevoked lists keys with RevokedAt set; ListAny lists everything.
func testListFilters(f *fixture) {
	now := at(10 * time.Hour)
	type tc struct {
		name   string
		mod    func(*apikey.Key)
		active bool
	}
	cases := []tc{
		{"plain", func(*apikey.Key) {}, true},
		{"expires later", func(k *apikey.Key) { k.ExpiresAt = now.Add(time.Microsecond) }, true},
		{"expires at At", func(k *apikey.Key) { k.ExpiresAt = now }, false},
		{"expired", func(k *apikey.Key) { k.ExpiresAt = now.Add(-time.Hour) }, false},
		{"revoked", func(k *apikey.Key) { k.RevokedAt = now.Add(-time.Hour) }, false},
		{"revoked at At", func(k *apikey.Key) { k.RevokedAt = now }, false},
		{"revoked after At", func(k *apikey.Key) { k.RevokedAt = now.Add(time.Hour) }, true},
		{"in grace", func(k *apikey.Key) { k.ReplacedBy = unusedID(); k.GraceExpiresAt = now.Add(time.Minute) }, true},
		{"grace ends at At", func(k *apikey.Key) { k.ReplacedBy = unusedID(); k.GraceExpiresAt = now }, false},
		{"out of grace", func(k *apikey.Key) { k.ReplacedBy = unusedID(); k.GraceExpiresAt = now.Add(-time.Minute) }, false},
		{"rotated without grace", func(k *apikey.Key) {
			k.ReplacedBy = unusedID()
			k.GraceExpiresAt, k.RevokedAt = now.Add(-time.Hour), now.Add(-time.Hour)
		}, false},
		{"expired in grace", func(k *apikey.Key) {
			k.ReplacedBy = unusedID()
			k.GraceExpiresAt, k.ExpiresAt = now.Add(time.Hour), now.Add(-time.Second)
		}, false},
	}
	var all, active, revoked []*apikey.Key
	for _, c := range cases {
		k := f.create("acme", c.mod)
		if got := k.StateAt(now) == apikey.StateActive; got != c.active {
			f.Fatalf("suite bug: case %q active = %t", c.name, got)
		}
		all = append(all, k)
		if c.active {
			active = append(active, k)
		}
		if !k.RevokedAt.IsZero() {
			revoked = append(revoked, k)
		}
		f.create("globex", c.mod)
	}
	name := map[string]string{}
	for i, k := range all {
		name[k.ID] = cases[i].name
	}
	for _, fc := range []struct {
		what   string
		filter apikey.ListFilter
		want   []*apikey.Key
	}{
		{"ListAny", apikey.ListAny, all},
		{"ListActive", apikey.ListActive, active},
		{"ListRevoked", apikey.ListRevoked, revoked},
	} {
		got := f.list("acme", apikey.ListOptions{Filter: fc.filter, At: now})
		if g, w := ids(got), newestFirst(fc.want...); !slices.Equal(g, w) {
			f.Errorf("%s at %s: got %v, want %v", fc.what, now.Format(time.RFC3339Nano), names(g, name), names(w, name))
		}
	}
}

// names maps IDs to case names for readable failures.
func names(ids []string, name map[string]string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name[id]
		if out[i] == "" {
			out[i] = id
		}
	}
	return out
}

// An unknown tenant gives an empty page, with any filter.
func testListUnknownTenant(f *fixture) {
	f.create("acme")
	for _, filter := range []apikey.ListFilter{apikey.ListAny, apikey.ListActive, apikey.ListRevoked} {
		p, err := f.s.List(f.ctx, "nobody", apikey.ListOptions{Filter: filter, At: base})
		noErr(f, "List of an unknown tenant", err)
		if len(p.Keys) != 0 || p.Next != "" {
			f.Errorf("List of an unknown tenant (filter %d) = %d keys, Next %q; want an empty page", filter, len(p.Keys), p.Next)
		}
	}
}

// Tenants are compared byte for byte: no case, accent or trailing-space
// folding (a MySQL-style collation would leak keys across tenants).
func testListTenantIsolation(f *fixture) {
	tenants := []string{"acme", "ACME", "Acme", "acmé", "acme ", " acme", "acme\t"}
	byTenant := map[string]*apikey.Key{}
	for _, tn := range tenants {
		byTenant[tn] = f.create(tn)
	}
	for _, tn := range tenants {
		got := f.list(tn, apikey.ListOptions{})
		wantIDs(f, fmt.Sprintf("List(%q)", tn), got, []string{byTenant[tn].ID})
		if len(got) == 1 && got[0].Tenant != tn {
			f.Errorf("List(%q) returned a key of tenant %q", tn, got[0].Tenant)
		}
	}
}
