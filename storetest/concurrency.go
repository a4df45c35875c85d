package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikit/apikey"
)

var concurrencyCases = []testCase{
	{"Rotate", testConcurrentRotate},
	{"Revoke", testConcurrentRevoke},
	{"RotateAndRevoke", testConcurrentRotateAndRevoke},
	{"ReadWhileWriting", testConcurrentReadWhileWriting},
	{"RecordUsage", testConcurrentRecordUsage},
	{"ClaimRotation", testConcurrentClaimRotation},
	{"Create", testConcurrentCreate},
	{"CreateSameLookup", testConcurrentCreateSameLookup},
}

// workers is how many goroutines race in each test.
const workers = 12

// race runs fn(i) for i in [0, n) on n goroutines released together.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// Of concurrent rotations of one key exactly one succeeds; the others get
// ErrConflict and insert nothing. Several rounds widen the chance of
// catching a check-then-act race.
func testConcurrentRotate(f *fixture) {
	for range 3 {
		concurrentRotate(f)
	}
}

func concurrentRotate(f *fixture) {
	f.Helper()
	seq := f.lastChange()
	old := f.create("acme", rotatable)
	now := at(time.Hour)
	succs := make([]*apikey.Key, workers)
	for i := range succs {
		succs[i] = f.successorOf(old, now)
	}
	errs := make([]error, workers)
	race(workers, func(i int) {
		_, errs[i] = f.s.Rotate(f.ctx, apikey.Rotation{
			OldID: old.ID, SuccessorID: succs[i].ID, Successor: succs[i].Clone(),
			GraceExpiresAt: now.Add(time.Hour), At: now,
		})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			f.Errorf("rotations %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, apikey.ErrConflict):
			f.Errorf("losing rotation %d: error = %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		f.Fatal("no rotation succeeded")
	}
	f.wantKey("old key", with(old, func(k *apikey.Key) {
		k.ReplacedBy, k.GraceExpiresAt, k.NextRotationAt = succs[winner].ID, now.Add(time.Hour), time.Time{}
	}))
	for i, s := range succs {
		if i == winner {
			f.wantKey("winning successor", s)
		} else {
			f.wantGone("losing successor", s)
		}
	}
	f.wantChanges("racing rotations", seq, []change{{apikey.ChangeRotated, old, now}}, false)
}

// Of concurrent revocations of one key, one sets RevokedAt and every call
// returns that same timestamp.
func testConcurrentRevoke(f *fixture) {
	k := f.create("acme")
	got := make([]*apikey.Key, workers)
	errs := make([]error, workers)
	race(workers, func(i int) {
		got[i], errs[i] = f.s.Revoke(f.ctx, k.ID, at(time.Duration(i+1)*time.Second))
	})
	stored := f.get(k.ID)
	if stored.RevokedAt.IsZero() {
		f.Fatal("key not revoked")
	}
	for i := range workers {
		if errs[i] != nil {
			f.Errorf("Revoke %d: %v", i, errs[i])
			continue
		}
		if got[i] == nil {
			f.Errorf("Revoke %d returned no key", i)
		} else if !got[i].RevokedAt.Equal(stored.RevokedAt) {
			f.Errorf("Revoke %d returned RevokedAt %v, but the store kept %v", i, got[i].RevokedAt, stored.RevokedAt)
		}
	}
	f.wantChanges("racing revocations", 0, []change{{apikey.ChangeRevoked, k, stored.RevokedAt}}, false)
}

// Rotations racing with revocations of one key: a rotation succeeds only
// if it came first (then it is the only one), and otherwise fails with
// ErrConflict without inserting its successor.
func testConcurrentRotateAndRevoke(f *fixture) {
	for range 3 {
		old := f.create("acme", rotatable)
		now := at(time.Hour)
		succs := make([]*apikey.Key, workers)
		for i := range succs {
			succs[i] = f.successorOf(old, now)
		}
		errs := make([]error, workers)
		race(workers, func(i int) {
			if i%2 == 0 {
				_, errs[i] = f.s.Revoke(f.ctx, old.ID, now)
				return
			}
			_, errs[i] = f.s.Rotate(f.ctx, apikey.Rotation{
				OldID: old.ID, SuccessorID: succs[i].ID, Successor: succs[i].Clone(),
				GraceExpiresAt: now.Add(time.Hour), At: now,
			})
		})
		stored := f.get(old.ID)
		if stored.RevokedAt.IsZero() {
			f.Error("key not revoked after racing revocations")
		}
		winner := -1
		for i, err := range errs {
			switch {
			case i%2 == 0:
				noErr(f, "Revoke", err)
			case err == nil && winner >= 0:
				f.Errorf("rotations %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, apikey.ErrConflict):
				f.Errorf("losing rotation %d: error = %v, want ErrConflict", i, err)
			}
		}
		want := with(old, func(k *apikey.Key) { k.RevokedAt = now })
		if winner >= 0 {
			want.ReplacedBy, want.GraceExpiresAt, want.NextRotationAt = succs[winner].ID, now.Add(time.Hour), time.Time{}
		}
		checkKey(f, "key after racing Rotate and Revoke", stored, want)
		for i := 1; i < workers; i += 2 {
			if i == winner {
				f.wantKey("winning successor", succs[i])
			} else {
				f.wantGone("losing successor", succs[i])
			}
		}
	}
}

// Readers racing with writers see each record before or after a write,
// never a mix of the two.
func testConcurrentReadWhileWriting(f *fixture) {
	k := f.create("acme", func(k *apikey.Key) {
		rotatable(k)
		k.Name, k.Metadata = "v0", map[string]string{"v": "0"}
	})
	name, scopes, md := "v1", []string{"v1"}, map[string]string{"v": "1"}
	now := at(time.Minute)
	succ := f.successorOf(k, now)
	states := []*apikey.Key{k}
	states = append(states, with(k, func(k *apikey.Key) { k.Name, k.Scopes, k.Metadata = name, scopes, md }))
	states = append(states, with(states[1], func(k *apikey.Key) {
		k.ReplacedBy, k.GraceExpiresAt, k.RevokedAt, k.NextRotationAt = succ.ID, now, now, time.Time{}
	}))
	states = append(states, with(states[2], func(k *apikey.Key) { k.LastUsedAt, k.LastUsedIP = now, "192.0.2.1" }))

	var done atomic.Bool
	var started sync.WaitGroup
	started.Add(workers)
	problems := make([]string, workers)
	var wg sync.WaitGroup
	for r := range workers {
		wg.Go(func() {
			first := true
			for n := 0; n < 500; n++ {
				last := done.Load()
				var got *apikey.Key
				var err error
				if r%2 == 0 {
					got, err = f.s.GetByLookup(f.ctx, k.Lookup)
				} else {
					got, err = f.s.Get(f.ctx, k.ID)
				}
				if first {
					started.Done()
					first = false
				}
				if err != nil {
					problems[r] = fmt.Sprintf("read: %v", err)
					break
				}
				if !matchesOne(got, states) {
					problems[r] = fmt.Sprintf("torn record: %v", diffKey(states[len(states)-1], got))
					break
				}
				if last {
					if len(diffKey(states[len(states)-1], got)) != 0 {
						problems[r] = "a read after every write finished returned an old record"
					}
					break
				}
			}
			if first {
				started.Done()
			}
		})
	}
	started.Wait()
	_, err := f.s.Update(f.ctx, k.ID, apikey.Update{At: now, Name: &name, Scopes: &scopes, Metadata: &md})
	noErr(f, "Update", err)
	_, err = f.s.Rotate(f.ctx, apikey.Rotation{OldID: k.ID, SuccessorID: succ.ID, Successor: succ, GraceExpiresAt: now, RevokedAt: now, At: now})
	noErr(f, "Rotate", err)
	noErr(f, "RecordUsage", f.s.RecordUsage(f.ctx, []apikey.Usage{{KeyID: k.ID, At: now, IP: "192.0.2.1"}}))
	done.Store(true)
	wg.Wait()
	for r, p := range problems {
		if p != "" {
			f.Errorf("reader %d: %s", r, p)
		}
	}
}

// matchesOne reports whether got equals one of states.
func matchesOne(got *apikey.Key, states []*apikey.Key) bool {
	for _, s := range states {
		if len(diffKey(s, got)) == 0 {
			return true
		}
	}
	return false
}

// Concurrent usage batches leave the newest record, whatever the order.
func testConcurrentRecordUsage(f *fixture) {
	k1, k2 := f.create("acme"), f.create("acme")
	errs := make([]error, workers)
	race(workers, func(i int) {
		// Goroutine i writes second i+1 to k1 and the mirror to k2, so the
		// newest record of each key comes from a different goroutine.
		errs[i] = f.s.RecordUsage(f.ctx, []apikey.Usage{
			{KeyID: k1.ID, At: at(time.Duration(i+1) * time.Second), IP: fmt.Sprint("10.0.1.", i)},
			{KeyID: k2.ID, At: at(time.Duration(workers-i) * time.Second), IP: fmt.Sprint("10.0.2.", i)},
		})
	})
	for i, err := range errs {
		noErr(f, fmt.Sprint("RecordUsage ", i), err)
	}
	f.wantKey("first key", used(k1, apikey.Usage{At: at(workers * time.Second), IP: fmt.Sprint("10.0.1.", workers-1)}))
	f.wantKey("second key", used(k2, apikey.Usage{At: at(workers * time.Second), IP: "10.0.2.0"}))
}

// Of processes racing to claim one due key, exactly one wins.
func testConcurrentClaimRotation(f *fixture) {
	due := at(time.Hour)
	k := f.create("acme", func(k *apikey.Key) { k.RotationInterval, k.NextRotationAt = time.Hour, due })
	won := make([]bool, workers)
	errs := make([]error, workers)
	race(workers, func(i int) {
		won[i], errs[i] = f.s.ClaimRotation(f.ctx, k.ID, due, due.Add(time.Duration(i+1)*time.Hour))
	})
	winner := -1
	for i := range workers {
		noErr(f, "ClaimRotation", errs[i])
		if won[i] {
			if winner >= 0 {
				f.Errorf("claims %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		f.Fatal("no claim won")
	}
	f.wantKey("claimed key", with(k, func(k *apikey.Key) { k.NextRotationAt = due.Add(time.Duration(winner+1) * time.Hour) }))
}

// Concurrent creates of distinct keys all succeed.
func testConcurrentCreate(f *fixture) {
	keys := make([]*apikey.Key, workers*8)
	for i := range keys {
		keys[i] = f.key([]string{"acme", "globex"}[i%2])
	}
	createAll(f, keys, workers)
	for _, k := range keys {
		f.wantKey("after concurrent Create", k)
	}
	var acme []*apikey.Key
	for i := 0; i < len(keys); i += 2 {
		acme = append(acme, keys[i])
	}
	wantIDs(f, "List after concurrent Create", f.list("acme", apikey.ListOptions{}), newestFirst(acme...))
}

// Of concurrent creates with one lookup value, exactly one succeeds.
func testConcurrentCreateSameLookup(f *fixture) {
	lookup := newLookup()
	keys := make([]*apikey.Key, workers)
	for i := range keys {
		keys[i] = f.key("acme", func(k *apikey.Key) { k.Lookup = lookup })
	}
	errs := make([]error, workers)
	race(workers, func(i int) { errs[i] = f.s.Create(f.ctx, keys[i].Clone()) })
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			f.Errorf("creates %d and %d of one lookup value both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, apikey.ErrAlreadyExists):
			f.Errorf("losing create %d: error = %v, want ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		f.Fatal("no create succeeded")
	}
	got, err := f.s.GetByLookup(f.ctx, lookup)
	noErr(f, "GetByLookup", err)
	checkKey(f, "GetByLookup", got, keys[winner])
	wantIDs(f, "List", f.list("acme", apikey.ListOptions{}), []string{keys[winner].ID})
}
