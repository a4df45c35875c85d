package storetest

import (
	"context"
	"time"

	"github.com/apikit/apikey"
)

var contextCases = []testCase{
	{"Cancelled", testContextCancelled},
}

// Every method fails on a cancelled context, and the writes among them
// change nothing.
func testContextCancelled(f *fixture) {
	k := f.create("acme", rotatable)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	name := "cancelled"
	succ := f.successorOf(k, base)
	calls := []struct {
		name string
		call func() error
	}{
		{"Create", func() error { return f.s.Create(ctx, f.key("acme")) }},
		{"Get", func() error { _, err := f.s.Get(ctx, k.ID); return err }},
		{"GetByLookup", func() error { _, err := f.s.GetByLookup(ctx, k.Lookup); return err }},
		{"List", func() error { _, err := f.s.List(ctx, "acme", apikey.ListOptions{}); return err }},
		{"Revoke", func() error { _, err := f.s.Revoke(ctx, k.ID, base); return err }},
		{"RevokeAll", func() error { _, _, err := f.s.RevokeAll(ctx, "acme", base); return err }},
		{"Rotate", func() error {
			_, err := f.s.Rotate(ctx, apikey.Rotation{OldID: k.ID, SuccessorID: succ.ID, Successor: succ.Clone(), GraceExpiresAt: at(time.Hour), At: base})
			return err
		}},
		{"Update", func() error { _, err := f.s.Update(ctx, k.ID, apikey.Update{At: base, Name: &name}); return err }},
		{"UpgradeHash", func() error { return f.s.UpgradeHash(ctx, k.ID, "v1", "v2", randomBytes(32), base) }},
		{"Delete", func() error { _, err := f.s.Delete(ctx, k.ID, base); return err }},
		{"RecordUsage", func() error {
			return f.s.RecordUsage(ctx, []apikey.Usage{{KeyID: k.ID, At: base, IP: "192.0.2.1"}})
		}},
		{"UsageCounts", func() error { _, err := f.s.UsageCounts(ctx, k.ID, base, at(24*time.Hour)); return err }},
		{"DueForRotation", func() error { _, err := f.s.DueForRotation(ctx, at(48*time.Hour), 10); return err }},
		{"ClaimRotation", func() error { _, err := f.s.ClaimRotation(ctx, k.ID, k.NextRotationAt, at(48*time.Hour)); return err }},
		{"ListUnused", func() error { _, err := f.s.ListUnused(ctx, at(time.Hour), "", 10); return err }},
		{"ListExpiring", func() error {
			_, err := f.s.ListExpiring(ctx, apikey.ExpiringOptions{From: base, Before: at(time.Hour)})
			return err
		}},
		{"ClaimNotice", func() error { _, err := f.s.ClaimNotice(ctx, k.ID, "n", base); return err }},
		{"ReleaseNotice", func() error { return f.s.ReleaseNotice(ctx, k.ID, "n") }},
		{"Purge", func() error { _, err := f.s.Purge(ctx, at(1000*time.Hour)); return err }},
		{"Changes", func() error { _, err := f.s.Changes(ctx, 0, 10); return err }},
		{"LastChange", func() error { _, err := f.s.LastChange(ctx); return err }},
	}
	for _, c := range calls {
		if err := c.call(); err == nil {
			f.Errorf("%s with a cancelled context: no error", c.name)
		}
	}
	f.wantKey("key after cancelled calls", k)
	f.wantGone("successor of a cancelled Rotate", succ)
	wantIDs(f, "List after cancelled calls", f.list("acme", apikey.ListOptions{}), []string{k.ID})
	f.wantNoChanges("cancelled calls", 0)
}
