package storetest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikit/apikey"
)

var expiringCases = []testCase{
	{"Window", testExpiringWindow},
	{"Paging", testExpiringPaging},
	{"Tenant", testExpiringTenant},
}

var noticeCases = []testCase{
	{"ClaimOnce", testNoticeClaimOnce},
	{"Release", testNoticeRelease},
	{"MissingKey", testNoticeMissingKey},
	{"Concurrent", testNoticeConcurrent},
	{"Delete", testNoticeDelete},
}

func expiring(d time.Duration) func(*apikey.Key) {
	return func(k *apikey.Key) { k.ExpiresAt = at(d) }
}

// ListExpiring returns the working keys expiring in [From, Before), by
// expiry then ID, across tenants.
func testExpiringWindow(f *fixture) {
	in1 := f.create("acme", expiring(3*time.Hour))
	in2 := f.create("globex", expiring(time.Hour))
	atFrom := f.create("acme", expiring(0))
	f.create("acme", expiring(-time.Minute))                                                    // already expired
	f.create("acme", expiring(24*time.Hour))                                                    // at Before: out
	f.create("acme")                                                                            // never expires
	f.create("acme", expiring(time.Hour), func(k *apikey.Key) { k.RevokedAt = at(-time.Hour) }) // revoked
	f.create("acme", expiring(time.Hour), func(k *apikey.Key) {                                 // rotated out
		k.ReplacedBy = unusedID()
		k.GraceExpiresAt = at(time.Minute)
	})
	same := f.create("initech", expiring(time.Hour))
	got, err := f.s.ListExpiring(f.ctx, apikey.ExpiringOptions{From: base, Before: at(24 * time.Hour), Limit: 100})
	noErr(f, "ListExpiring", err)
	wantIDs(f, "ListExpiring", got, []string{atFrom.ID, in2.ID, same.ID, in1.ID})
	if len(got) == 4 {
		checkKey(f, "ListExpiring record", got[3], in1)
	}
}

// The cursor (ExpiresAt, ID) pages without gaps or repeats, also among
// keys sharing one expiry.
func testExpiringPaging(f *fixture) {
	var want []string
	for i := range 8 {
		k := f.create("acme", expiring(time.Duration(1+i/3)*time.Hour)) // groups of three share an expiry
		want = append(want, k.ID)
	}
	var got []*apikey.Key
	opts := apikey.ExpiringOptions{From: base, Before: at(48 * time.Hour), Limit: 2}
	for range 10 {
		page, err := f.s.ListExpiring(f.ctx, opts)
		noErr(f, "ListExpiring page", err)
		if len(page) > 2 {
			f.Fatalf("page of %d keys, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last := page[len(page)-1]
		opts.AfterExpires, opts.AfterID = last.ExpiresAt, last.ID
	}
	wantIDs(f, "ListExpiring page by page", got, want)
}

func testExpiringTenant(f *fixture) {
	a := f.create("acme", expiring(time.Hour))
	f.create("ACME", expiring(time.Hour))
	f.create("globex", expiring(time.Hour))
	got, err := f.s.ListExpiring(f.ctx, apikey.ExpiringOptions{From: base, Before: at(2 * time.Hour), Tenant: "acme"})
	noErr(f, "ListExpiring of a tenant", err)
	wantIDs(f, "ListExpiring of acme", got, []string{a.ID})
}

// A notice is claimed once: the second claim of the same (key, notice)
// fails, another notice or key succeeds.
func testNoticeClaimOnce(f *fixture) {
	k := f.create("acme")
	other := f.create("acme")
	claim := func(id, notice string, want bool) {
		f.Helper()
		got, err := f.s.ClaimNotice(f.ctx, id, notice, base)
		noErr(f, "ClaimNotice", err)
		if got != want {
			f.Errorf("ClaimNotice(%s, %q) = %v, want %v", id, notice, got, want)
		}
	}
	claim(k.ID, "expiring/168h", true)
	claim(k.ID, "expiring/168h", false)
	claim(k.ID, "expiring/24h", true)
	claim(other.ID, "expiring/168h", true)
	f.wantKey("key after claims", k)
	f.wantNoChanges("ClaimNotice", 0)
}

func testNoticeRelease(f *fixture) {
	k := f.create("acme")
	ok, err := f.s.ClaimNotice(f.ctx, k.ID, "n", base)
	noErr(f, "ClaimNotice", err)
	noErr(f, "ReleaseNotice", f.s.ReleaseNotice(f.ctx, k.ID, "n"))
	noErr(f, "ReleaseNotice of an unclaimed notice", f.s.ReleaseNotice(f.ctx, k.ID, "never"))
	again, err := f.s.ClaimNotice(f.ctx, k.ID, "n", base)
	noErr(f, "ClaimNotice after release", err)
	if !ok || !again {
		f.Errorf("claim %v, claim after release %v; want true, true", ok, again)
	}
}

func testNoticeMissingKey(f *fixture) {
	ok, err := f.s.ClaimNotice(f.ctx, f.newID(), "n", base)
	noErr(f, "ClaimNotice of a missing key", err)
	if ok {
		f.Error("ClaimNotice of a missing key = true")
	}
}

// Of 12 concurrent claims of one notice, exactly one wins.
func testNoticeConcurrent(f *fixture) {
	k := f.create("acme")
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			ok, err := f.s.ClaimNotice(f.ctx, k.ID, "expiring/24h", base)
			errs <- err
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(f, "concurrent ClaimNotice", err)
	}
	if n := wins.Load(); n != 1 {
		f.Errorf("%d of 12 concurrent claims won, want exactly 1", n)
	}
}

// Delete forgets the key's notices.
func testNoticeDelete(f *fixture) {
	k := f.create("acme")
	_, err := f.s.ClaimNotice(f.ctx, k.ID, "n", base)
	noErr(f, "ClaimNotice", err)
	_, err = f.s.Delete(f.ctx, k.ID, base)
	noErr(f, "Delete", err)
	noErr(f, "re-Create", f.s.Create(f.ctx, k.Clone()))
	ok, err := f.s.ClaimNotice(f.ctx, k.ID, "n", base)
	noErr(f, "ClaimNotice after Delete", err)
	if !ok {
		f.Error("a deleted key's notice is still claimed")
	}
}
