package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/apikit/apikey"
)

var usageCountCases = []testCase{
	{"Add", testUsageCountsAdd},
	{"Range", testUsageCountsRange},
	{"MissingKey", testUsageCountsMissingKey},
	{"Delete", testUsageCountsDelete},
	{"Concurrent", testUsageCountsConcurrent},
	{"Purge", testUsageCountsPurge},
}

// day returns the UTC midnight n days after base's.
func day(n int) time.Time {
	y, m, d := base.Date()
	return time.Date(y, m, d+n, 0, 0, 0, 0, time.UTC)
}

func (f *fixture) usageCounts(id string, from, to time.Time) []apikey.UsageCount {
	f.Helper()
	cs, err := f.s.UsageCounts(f.ctx, id, from, to)
	noErr(f, "UsageCounts", err)
	return cs
}

func (f *fixture) wantCounts(what string, got []apikey.UsageCount, want ...apikey.UsageCount) {
	f.Helper()
	if len(got) != len(want) {
		f.Errorf("%s: %d counters %s, want %d %s", what, len(got), fmtCounts(got), len(want), fmtCounts(want))
		return
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].Day.Location() != time.UTC || got[i].Outcome != want[i].Outcome || got[i].N != want[i].N {
			f.Errorf("%s: got %s, want %s", what, fmtCounts(got), fmtCounts(want))
			return
		}
	}
}

func fmtCounts(cs []apikey.UsageCount) string {
	s := "["
	for _, c := range cs {
		s += fmt.Sprintf(" %s/%s=%d", c.Day.Format(time.RFC3339), c.Outcome, c.N)
	}
	return s + " ]"
}

// Counts add up across records and batches, whatever the records' At (a
// late record still counts), and do not touch other keys; the last-use
// fields still move forward only.
func testUsageCountsAdd(f *fixture) {
	k := f.create("acme")
	other := f.create("acme")
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{
		KeyID: k.ID, At: at(time.Hour), IP: "192.0.2.1",
		Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 3}, {Day: day(0), Outcome: "insufficient_scope", N: 1}, {Day: day(1), Outcome: "valid", N: 2}},
	}}))
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{
		{KeyID: k.ID, At: at(time.Minute), IP: "192.0.2.9", Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 4}}},
		{KeyID: k.ID, Counts: []apikey.UsageCount{{Day: day(1), Outcome: "rate_limited", N: 5}}},
	}))
	f.wantCounts("counters", f.usageCounts(k.ID, day(0), day(2)),
		apikey.UsageCount{Day: day(0), Outcome: "insufficient_scope", N: 1},
		apikey.UsageCount{Day: day(0), Outcome: "valid", N: 7},
		apikey.UsageCount{Day: day(1), Outcome: "rate_limited", N: 5},
		apikey.UsageCount{Day: day(1), Outcome: "valid", N: 2})
	f.wantKey("key after counted usage", with(k, func(k *apikey.Key) { k.LastUsedAt = at(time.Hour); k.LastUsedIP = "192.0.2.1" }))
	f.wantCounts("other key", f.usageCounts(other.ID, day(-10), day(10)))
	f.wantNoChanges("RecordUsage with counts", 0)
}

// from is inclusive, to exclusive.
func testUsageCountsRange(f *fixture) {
	k := f.create("acme")
	var cs []apikey.UsageCount
	for i := range 5 {
		cs = append(cs, apikey.UsageCount{Day: day(i), Outcome: "valid", N: int64(i + 1)})
	}
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: k.ID, At: base, Counts: cs}}))
	f.wantCounts("days 1-3", f.usageCounts(k.ID, day(1), day(4)), cs[1], cs[2], cs[3])
	f.wantCounts("empty range", f.usageCounts(k.ID, day(2), day(2)))
	f.wantCounts("before any", f.usageCounts(k.ID, day(-5), day(0)))
}

// Counts of a missing key are ignored, with the rest of the batch applied.
func testUsageCountsMissingKey(f *fixture) {
	k := f.create("acme")
	missing := f.newID()
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{
		{KeyID: missing, At: base, Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 1}}},
		{KeyID: k.ID, At: base, Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 1}}},
	}))
	f.wantCounts("missing key", f.usageCounts(missing, day(-1), day(1)))
	f.wantCounts("existing key", f.usageCounts(k.ID, day(-1), day(1)), apikey.UsageCount{Day: day(0), Outcome: "valid", N: 1})
}

// Delete takes the key's counters with it: a key re-created with the
// same ID starts from nothing.
func testUsageCountsDelete(f *fixture) {
	k := f.create("acme")
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: k.ID, At: base, Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 9}}}}))
	_, err := f.s.Delete(f.ctx, k.ID, at(time.Minute))
	noErr(f, "Delete", err)
	noErr(f, "re-Create", f.s.Create(f.ctx, k.Clone()))
	f.wantCounts("re-created key", f.usageCounts(k.ID, day(-1), day(1)))
}

// Concurrent flushes add up exactly.
func testUsageCountsConcurrent(f *fixture) {
	k := f.create("acme")
	const workers, rounds = 12, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				errs <- f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: k.ID, At: at(time.Duration(w*rounds+i) * time.Second),
					Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 1}}}})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(f, "concurrent RecordUsage", err)
	}
	f.wantCounts("after concurrent flushes", f.usageCounts(k.ID, day(0), day(1)), apikey.UsageCount{Day: day(0), Outcome: "valid", N: workers * rounds})
}

// Purge takes the counters and notices of the keys it deletes with them.
func testUsageCountsPurge(f *fixture) {
	dead := f.create("acme", func(k *apikey.Key) { k.RevokedAt = at(-48 * time.Hour) })
	live := f.create("acme")
	for _, k := range []*apikey.Key{dead, live} {
		noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: k.ID, At: base, Counts: []apikey.UsageCount{{Day: day(0), Outcome: "valid", N: 2}}}}))
		_, err := f.s.ClaimNotice(f.ctx, k.ID, "n", base)
		noErr(f, "ClaimNotice", err)
	}
	n, err := f.s.Purge(f.ctx, at(-time.Hour))
	noErr(f, "Purge", err)
	if n != 1 {
		f.Fatalf("Purge deleted %d keys, want 1", n)
	}
	f.wantCounts("live key after Purge", f.usageCounts(live.ID, day(0), day(1)), apikey.UsageCount{Day: day(0), Outcome: "valid", N: 2})
	noErr(f, "re-Create the purged key", f.s.Create(f.ctx, dead.Clone()))
	f.wantCounts("re-created purged key", f.usageCounts(dead.ID, day(0), day(1)))
	ok, err := f.s.ClaimNotice(f.ctx, dead.ID, "n", base)
	noErr(f, "ClaimNotice", err)
	if !ok {
		f.Error("a purged key's notice is still claimed")
	}
	if again, _ := f.s.ClaimNotice(f.ctx, live.ID, "n", base); again {
		f.Error("Purge released the notice of a key it kept")
	}
}
