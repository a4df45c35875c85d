package storetest

import (
	"fmt"
	"strings"

	"github.com/apikit/apikey"
)

var createCases = []testCase{
	{"DuplicateID", testCreateDuplicateID},
	{"DuplicateLookup", testCreateDuplicateLookup},
	{"CopiesInput", testCreateCopiesInput},
	{"NoChange", testCreateNoChange},
}

var getCases = []testCase{
	{"NotFound", testGetNotFound},
	{"CallerOwnsResult", testGetCallerOwnsResult},
}

var getByLookupCases = []testCase{
	{"Found", testGetByLookupFound},
	{"NotFound", testGetByLookupNotFound},
	{"CaseSensitive", testGetByLookupCaseSensitive},
}

// A second key with an existing ID fails, in the same tenant or another,
// and changes nothing.
func testCreateDuplicateID(f *fixture) {
	k1 := f.create("acme")
	for _, tenant := range []string{"acme", "globex"} {
		k2 := f.key(tenant, func(k *apikey.Key) { k.ID = k1.ID; k.Name = "other" })
		wantErr(f, "Create with a duplicate ID in tenant "+tenant, f.s.Create(f.ctx, k2), apikey.ErrAlreadyExists)
		f.wantKey("first key after duplicate Create", k1)
		_, err := f.s.GetByLookup(f.ctx, k2.Lookup)
		wantErr(f, "GetByLookup of the refused key", err, apikey.ErrNotFound)
	}
	if keys := f.list("globex", apikey.ListOptions{}); len(keys) != 0 {
		f.Errorf("List(globex) after refused Create: %d keys, want 0", len(keys))
	}
}

// A second key with an existing lookup value fails, in the same tenant or
// another, and changes nothing.
func testCreateDuplicateLookup(f *fixture) {
	k1 := f.create("acme")
	for _, tenant := range []string{"acme", "globex"} {
		k2 := f.key(tenant, func(k *apikey.Key) { k.Lookup = k1.Lookup })
		wantErr(f, "Create with a duplicate lookup in tenant "+tenant, f.s.Create(f.ctx, k2), apikey.ErrAlreadyExists)
		_, err := f.s.Get(f.ctx, k2.ID)
		wantErr(f, "Get of the refused key", err, apikey.ErrNotFound)
		got, err := f.s.GetByLookup(f.ctx, k1.Lookup)
		noErr(f, "GetByLookup after duplicate Create", err)
		checkKey(f, "GetByLookup after duplicate Create", got, k1)
	}
	if keys := f.list("globex", apikey.ListOptions{}); len(keys) != 0 {
		f.Errorf("List(globex) after refused Create: %d keys, want 0", len(keys))
	}
}

// The store keeps its own copy of what Create was given.
func testCreateCopiesInput(f *fixture) {
	k := f.key("acme", func(k *apikey.Key) {
		k.Scopes = []string{"read", "write"}
		k.Metadata = map[string]string{"team": "a"}
	})
	want := k.Clone()
	noErr(f, "Create", f.s.Create(f.ctx, k))
	k.Name = "changed"
	k.Scopes[0] = "admin"
	k.Metadata["team"] = "b"
	k.Hash[0] ^= 0xff
	f.wantKey("after the caller changed its Key", want)
}

// Create does not write to the change feed: there is nothing for caches
// to forget.
func testCreateNoChange(f *fixture) {
	f.create("acme")
	if seq := f.lastChange(); seq != 0 {
		f.Errorf("LastChange after Create = %d, want 0", seq)
	}
	f.wantNoChanges("Create", 0)
}

func testGetNotFound(f *fixture) {
	f.create("acme")
	for _, id := range []string{f.newID(), "", "not-a-ulid", "'; DROP TABLE keys; --", strings.Repeat("Z", 300)} {
		_, err := f.s.Get(f.ctx, id)
		wantErr(f, fmt.Sprintf("Get(%.30q)", id), err, apikey.ErrNotFound)
	}
}

// Changing a returned key changes nothing in the store.
func testGetCallerOwnsResult(f *fixture) {
	want := f.create("acme", func(k *apikey.Key) {
		k.Scopes = []string{"read", "write"}
		k.Metadata = map[string]string{"team": "a"}
		k.WebhookSecret = randomBytes(40)
	})
	got := f.get(want.ID)
	got.Name = "changed"
	got.Scopes[0] = "admin"
	got.Metadata["team"] = "b"
	got.Hash[0] ^= 0xff
	got.WebhookSecret[0] ^= 0xff
	f.wantKey("after the caller changed a returned Key", want)
	byLookup, err := f.s.GetByLookup(f.ctx, want.Lookup)
	noErr(f, "GetByLookup", err)
	byLookup.Scopes[1] = "admin"
	byLookup.Metadata["x"] = "y"
	byLookup.Hash[1] ^= 0xff
	f.wantKey("after the caller changed a Key from GetByLookup", want)
}

func testGetByLookupFound(f *fixture) {
	keys := []*apikey.Key{f.create("acme"), f.create("acme"), f.create("globex")}
	for _, want := range keys {
		got, err := f.s.GetByLookup(f.ctx, want.Lookup)
		noErr(f, "GetByLookup", err)
		checkKey(f, "GetByLookup", got, want)
	}
}

func testGetByLookupNotFound(f *fixture) {
	k := f.create("acme")
	for _, lookup := range []string{newLookup(), "", k.Lookup[:16], k.Lookup + "x", k.ID, strings.Repeat("a", 300), "é"} {
		_, err := f.s.GetByLookup(f.ctx, lookup)
		wantErr(f, "GetByLookup of a missing value", err, apikey.ErrNotFound)
	}
}

// Lookup values are base62: two values differing only in case are two
// keys (a case-insensitive collation would mix them up).
func testGetByLookupCaseSensitive(f *fixture) {
	lower := f.create("acme", func(k *apikey.Key) { k.Lookup = "abcdefghijklmnopq" })
	_, err := f.s.GetByLookup(f.ctx, strings.ToUpper(lower.Lookup))
	wantErr(f, "GetByLookup of the upper-case form of a lookup value", err, apikey.ErrNotFound)
	upper := f.key("acme", func(k *apikey.Key) { k.Lookup = strings.ToUpper(lower.Lookup) })
	noErr(f, "Create with the upper-case form of an existing lookup value", f.s.Create(f.ctx, upper.Clone()))
	for _, want := range []*apikey.Key{lower, upper} {
		got, err := f.s.GetByLookup(f.ctx, want.Lookup)
		noErr(f, "GetByLookup", err)
		checkKey(f, "GetByLookup of case-variant lookup values", got, want)
	}
}
