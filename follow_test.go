package apikey_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
)

// followTTL is the cache TTL of the two-process fixtures: long enough that
// only the follower (or an explicit clock move) can make an entry go.
const followTTL = 10 * time.Second

// twoProcesses returns two managers with a cache on one store, as two
// processes on one database would be: a (the writer) on the shared store,
// b (the reader) on its own countingStore over the same records, so that
// b's feed reads can be broken alone. They share a clock.
func twoProcesses(t *testing.T) (a, b *fixture) {
	t.Helper()
	cache := apikey.WithCache(apikey.CacheOptions{TTL: followTTL})
	a = newFixture(t, cache)
	b = &fixture{
		store:  &countingStore{inner: a.store.inner, calls: map[string]int{}},
		clock:  a.clock,
		events: &eventLog{},
	}
	m, err := apikey.New(b.store, apikey.WithPrefix("pgk"), apikey.WithEnvironments("live", "test"),
		apikey.WithPepper("v1", pepperV1), apikey.WithClock(b.clock), cache)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.m = m
	return a, b
}

// refusedWithin verifies tok on f until it fails with want, and fails the
// test if that takes longer than limit (a correctness bound, not a timing).
func refusedWithin(t *testing.T, f *fixture, tok string, want error, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, err := f.m.Verify(context.Background(), tok)
		if errors.Is(err, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v after %v, want %v", err, limit, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// followChanges are the changes another process can make that a follower
// must carry over, with the error the reader must then see.
var followChanges = []struct {
	name   string
	change func(t *testing.T, a *fixture, k *apikey.Key)
	want   error
}{
	{"revoke", func(t *testing.T, a *fixture, k *apikey.Key) {
		if _, err := a.m.Revoke(context.Background(), k.Tenant, k.ID); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
	}, apikey.ErrRevoked},
	{"revoke all", func(t *testing.T, a *fixture, k *apikey.Key) {
		if _, err := a.m.RevokeAll(context.Background(), k.Tenant); err != nil {
			t.Fatalf("RevokeAll: %v", err)
		}
	}, apikey.ErrRevoked},
	{"rotate with grace 0", func(t *testing.T, a *fixture, k *apikey.Key) {
		if _, err := a.m.Rotate(context.Background(), k.Tenant, k.ID, 0); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
	}, apikey.ErrRevoked},
	{"delete", func(t *testing.T, a *fixture, k *apikey.Key) {
		if _, err := a.m.Delete(context.Background(), k.Tenant, k.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}, apikey.ErrNotFound},
	{"update scopes", func(t *testing.T, a *fixture, k *apikey.Key) {
		scopes := []string{"jobs:write"}
		if _, err := a.m.Update(context.Background(), k.Tenant, k.ID, apikey.UpdateParams{Scopes: &scopes}); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}, nil},
}

func TestFollowerPollDropsChangedKeys(t *testing.T) {
	for _, tc := range followChanges {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoProcesses(t)
			f := newFollower(t, b.m)
			if err := f.Poll(ctx); err != nil { // positions the follower
				t.Fatalf("Poll: %v", err)
			}
			is := a.create(t, "ws_1", apikey.CreateParams{Scopes: []string{"jobs:read"}})
			tok := is.Token.Reveal()
			a.mustVerify(t, tok)
			b.mustVerify(t, tok)

			tc.change(t, a, is.Key)
			// Without the follower, b still serves its cached record.
			if k := b.mustVerify(t, tok); !k.HasScope("jobs:read") {
				t.Fatalf("b saw the change without the follower: scopes %v", k.Scopes)
			}
			if err := f.Poll(ctx); err != nil {
				t.Fatalf("Poll: %v", err)
			}
			if tc.want != nil {
				b.verifyErr(t, tok, tc.want)
			} else if k := b.mustVerify(t, tok); k.HasScope("jobs:read") {
				t.Fatalf("b kept the old scopes after the poll: %v", k.Scopes)
			}
			if st := f.Stats(); st.Changes == 0 || st.Failing || st.Polls != 2 || !st.LastSuccess.Equal(a.clock.Now()) {
				t.Fatalf("stats after the poll: %+v", st)
			}
		})
	}
}

func TestFollowerLoopRefusesRevokedKey(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	f := newFollower(t, b.m, follow.WithInterval(5*time.Millisecond))
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer f.Stop()
	is := a.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()
	b.mustVerify(t, tok)
	if _, err := a.m.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	refusedWithin(t, b, tok, apikey.ErrRevoked, 5*time.Second)
}

func TestFollowerNotifyWakesIt(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	// An interval no test waits for: only Notify can make it poll.
	f := newFollower(t, b.m, follow.WithInterval(time.Hour))
	f.Notify() // before Start: merged, harmless
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer f.Stop()
	is := a.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()
	b.mustVerify(t, tok)
	if _, err := a.m.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	f.Notify()
	refusedWithin(t, b, tok, apikey.ErrRevoked, 5*time.Second)
}

func TestFollowerStartEmptiesCache(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	is := a.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()
	b.mustVerify(t, tok) // cached before the follower exists
	if _, err := a.m.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	f := newFollower(t, b.m, follow.WithInterval(time.Hour))
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer f.Stop()
	// The revocation is before the follower's position: only the reset at
	// Start keeps b from serving its cached record.
	b.verifyErr(t, tok, apikey.ErrRevoked)
	last, err := b.store.LastChange(ctx)
	if err != nil {
		t.Fatalf("LastChange: %v", err)
	}
	if st := f.Stats(); st.Position != last || last == 0 {
		t.Fatalf("position %d, want the feed's newest entry %d", st.Position, last)
	}
}

func TestFollowerStartStop(t *testing.T) {
	ctx := context.Background()
	_, b := twoProcesses(t)
	f := newFollower(t, b.m, follow.WithInterval(time.Millisecond))
	f.Stop() // not started: nothing to do
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := f.Start(ctx); !errors.Is(err, apikey.ErrConflict) {
		t.Fatalf("second Start: %v, want ErrConflict", err)
	}
	f.Stop()
	f.Stop()
	polls := f.Stats().Polls
	if polls == 0 {
		t.Fatal("Start did not poll")
	}
	b.store.reset()
	if n := b.store.snapshot()["Changes"] + b.store.snapshot()["LastChange"]; n != 0 {
		t.Fatalf("feed read after Stop: %d calls", n)
	}
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	f.Stop()
	if f.Stats().Polls <= polls {
		t.Fatal("restarted follower did not poll")
	}
}

func TestFollowerBrokenFeedFallsBackToTTLAndRecovers(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	var hooked atomic.Int64
	f := newFollower(t, b.m, follow.WithFailureHook(func(_ context.Context, err error) {
		if errors.Is(err, apikey.ErrStoreUnavailable) {
			hooked.Add(1)
		}
	}))
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	k1 := a.create(t, "ws_1", apikey.CreateParams{})
	k2 := a.create(t, "ws_1", apikey.CreateParams{})
	tok1, tok2 := k1.Token.Reveal(), k2.Token.Reveal()
	b.mustVerify(t, tok1)

	b.store.setFailOnly("Changes", errBroken)
	if _, err := a.m.Revoke(ctx, "ws_1", k1.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	for range 3 {
		if err := f.Poll(ctx); !errors.Is(err, apikey.ErrStoreUnavailable) {
			t.Fatalf("Poll on a broken feed: %v, want ErrStoreUnavailable", err)
		}
	}
	if st := f.Stats(); st.Failures != 3 || !st.Failing || hooked.Load() != 3 {
		t.Fatalf("stats %+v, hook calls %d; want 3 failures", st, hooked.Load())
	}
	// Fallback: the cached record is served until the TTL, then re-read.
	b.mustVerify(t, tok1)
	a.clock.Advance(followTTL)
	b.verifyErr(t, tok1, apikey.ErrRevoked)

	// Recovery: a key cached and revoked while the feed is down is refused
	// as soon as a poll succeeds, long before its TTL.
	b.mustVerify(t, tok2)
	if _, err := a.m.Revoke(ctx, "ws_1", k2.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := f.Poll(ctx); err == nil {
		t.Fatal("Poll succeeded on a broken feed")
	}
	b.mustVerify(t, tok2)
	b.store.setFail(nil)
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll after the fault cleared: %v", err)
	}
	b.verifyErr(t, tok2, apikey.ErrRevoked)
	st := f.Stats()
	if st.Failing || st.Failures != 4 || st.Changes != 2 || hooked.Load() != 4 || !st.LastSuccess.Equal(a.clock.Now()) {
		t.Fatalf("stats after recovery %+v, hook calls %d", st, hooked.Load())
	}
}

func TestFollowerStartWithFeedDown(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	b.store.setFailOnly("LastChange", errBroken)
	f := newFollower(t, b.m, follow.WithInterval(time.Hour))
	if err := f.Start(ctx); err != nil {
		t.Fatalf("Start with the feed down: %v (want it to start and retry)", err)
	}
	defer f.Stop()
	if st := f.Stats(); !st.Failing || st.Failures != 1 {
		t.Fatalf("stats %+v, want one failure", st)
	}
	is := a.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()
	b.mustVerify(t, tok) // cached while the follower has no position
	if _, err := a.m.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	b.store.setFail(nil)
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	// Positioning after the revocation empties the cache, so the record
	// cached before it cannot survive.
	b.verifyErr(t, tok, apikey.ErrRevoked)
}

func TestFollowerTrimmedFeedEmptiesCache(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	f := newFollower(t, b.m)
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	k1 := a.create(t, "ws_1", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	k2 := a.create(t, "ws_1", apikey.CreateParams{})
	b.mustVerify(t, k1.Token.Reveal())
	b.mustVerify(t, k2.Token.Reveal())
	scopes := []string{"jobs:write"}
	if _, err := a.m.Update(ctx, "ws_1", k1.Key.ID, apikey.UpdateParams{Scopes: &scopes}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	// The update's entry is purged before b reads it.
	if _, err := a.store.Purge(ctx, a.clock.Now().Add(time.Second)); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if n := b.m.CacheStats().Entries; n != 0 {
		t.Fatalf("%d entries left after a trimmed feed, want 0", n)
	}
	if k := b.mustVerify(t, k1.Token.Reveal()); !k.HasScope("jobs:write") {
		t.Fatalf("b kept the old scopes: %v", k.Scopes)
	}
	last, err := a.store.LastChange(ctx)
	if err != nil {
		t.Fatalf("LastChange: %v", err)
	}
	if st := f.Stats(); st.Resets != 1 || st.Position != last || st.Failing {
		t.Fatalf("stats %+v, want one reset at position %d", st, last)
	}
	// From the new position on, it follows as before.
	if _, err := a.m.Revoke(ctx, "ws_1", k2.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	b.mustVerify(t, k1.Token.Reveal())
	if err := f.Poll(ctx); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	b.verifyErr(t, k2.Token.Reveal(), apikey.ErrRevoked)
}

func TestFollowerReadsFullBatchesOnly(t *testing.T) {
	for _, tc := range []struct {
		changes, wantReads int
	}{
		{0, 1}, {1, 1}, {3, 2}, {4, 3}, {5, 3},
	} {
		ctx := context.Background()
		a, b := twoProcesses(t)
		f := newFollower(t, b.m, follow.WithBatch(2))
		if err := f.Poll(ctx); err != nil {
			t.Fatalf("Poll: %v", err)
		}
		for range tc.changes {
			is := a.create(t, "ws_1", apikey.CreateParams{})
			if _, err := a.m.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
		}
		b.store.reset()
		if err := f.Poll(ctx); err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if got := b.store.snapshot()["Changes"]; got != tc.wantReads {
			t.Errorf("%d changes in batches of 2: %d reads, want %d", tc.changes, got, tc.wantReads)
		}
		if got := f.Stats().Changes; got != uint64(tc.changes) {
			t.Errorf("%d changes: %d applied", tc.changes, got)
		}
	}
}

// newFollower is follow.New for options that must be valid.
func newFollower(t testing.TB, m *apikey.Manager, opts ...follow.Option) *follow.Follower {
	t.Helper()
	f, err := follow.New(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFollowNewRefusesInvalidOptions checks that every invalid option is an
// ErrInvalid naming the option, as apikey.New does for its own.
func TestFollowNewRefusesInvalidOptions(t *testing.T) {
	m := newFixture(t).m
	cases := []struct {
		name string
		opt  follow.Option
	}{
		{"WithInterval", follow.WithInterval(0)},
		{"WithBatch", follow.WithBatch(-1)},
		{"WithTimeout", follow.WithTimeout(-time.Second)},
		{"WithFailureHook", follow.WithFailureHook(nil)},
	}
	for _, c := range cases {
		f, err := follow.New(m, c.opt)
		if f != nil || !errors.Is(err, apikey.ErrInvalid) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: follower %v, err %v; want ErrInvalid naming the option", c.name, f, err)
		}
	}
	if _, err := follow.New(nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("nil manager: %v", err)
	}
}
