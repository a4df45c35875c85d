package storetest

import (
	"time"

	"github.com/apikit/apikey"
)

var deleteCases = []testCase{
	{"Basic", testDeleteBasic},
	{"NotFound", testDeleteNotFound},
	{"Twice", testDeleteTwice},
	{"LookupFreed", testDeleteLookupFreed},
}

// Delete removes the key from Get, GetByLookup and List, returns it as it
// was, leaves other keys alone, and appends one "deleted" entry naming it.
func testDeleteBasic(f *fixture) {
	k := f.create("acme", func(k *apikey.Key) { k.RevokedAt = at(time.Minute); k.Metadata = map[string]string{"a": "b"} })
	other := f.create("acme")
	globex := f.create("globex")
	seq := f.lastChange()
	when := at(2 * time.Minute)
	got, err := f.s.Delete(f.ctx, k.ID, when)
	noErr(f, "Delete", err)
	checkKey(f, "Delete result", got, k)
	f.wantGone("deleted key", k)
	f.wantKey("other key of the tenant after Delete", other)
	f.wantKey("key of another tenant after Delete", globex)
	wantIDs(f, "List after Delete", f.list("acme", apikey.ListOptions{}), []string{other.ID})
	wantIDs(f, "List revoked after Delete", f.list("acme", apikey.ListOptions{Filter: apikey.ListRevoked}), nil)
	f.wantChanges("Delete", seq, []change{{apikey.ChangeDeleted, k, when}}, false)
}

func testDeleteNotFound(f *fixture) {
	k := f.create("acme")
	seq := f.lastChange()
	_, err := f.s.Delete(f.ctx, f.newID(), base)
	wantErr(f, "Delete of a missing key", err, apikey.ErrNotFound)
	f.wantKey("key after deleting another", k)
	f.wantNoChanges("Delete of a missing key", seq)
}

// A second Delete finds nothing and appends nothing.
func testDeleteTwice(f *fixture) {
	k := f.create("acme")
	_, err := f.s.Delete(f.ctx, k.ID, at(time.Minute))
	noErr(f, "first Delete", err)
	seq := f.lastChange()
	_, err = f.s.Delete(f.ctx, k.ID, at(2*time.Minute))
	wantErr(f, "second Delete", err, apikey.ErrNotFound)
	f.wantNoChanges("second Delete", seq)
}

// The deleted key's ID and lookup value are free again: nothing of the
// record stays behind to clash with.
func testDeleteLookupFreed(f *fixture) {
	k := f.create("acme")
	_, err := f.s.Delete(f.ctx, k.ID, at(time.Minute))
	noErr(f, "Delete", err)
	again := with(k, func(c *apikey.Key) { c.Name = "again" })
	noErr(f, "Create with the deleted key's ID and lookup value", f.s.Create(f.ctx, again.Clone()))
	f.wantKey("re-created key", again)
}
