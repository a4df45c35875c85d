package apikey_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// raceToken is one token the interleaving test knows, with the instant its
// key stopped working (set after Revoke/Rotate returned) if it did.
type raceToken struct {
	tok  string
	id   string
	dead atomic.Bool
}

// raceRig runs verifies concurrently with revokes, rotations (no grace),
// updates and usage writes on one manager, and counts stale accepts: a token
// that verified although the call that killed it had returned before the
// verify began. Run it under -race.
type raceRig struct {
	m      *apikey.Manager
	usage  *apikey.UsageTracker
	mu     sync.RWMutex
	tokens []*raceToken

	verifies, accepted, stale atomic.Int64
}

func (r *raceRig) add(is *apikey.Issued) *raceToken {
	rt := &raceToken{tok: is.Token.Reveal(), id: is.Key.ID}
	r.mu.Lock()
	r.tokens = append(r.tokens, rt)
	r.mu.Unlock()
	return rt
}

func (r *raceRig) pick(rng *rand.Rand) *raceToken {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tokens[rng.IntN(len(r.tokens))]
}

// verify checks one token. A token already dead when the verify starts must
// not verify; a live one may go either way (it may die meanwhile), but a
// success must name its own key.
func (r *raceRig) verify(t *testing.T, ctx context.Context, rt *raceToken) {
	deadBefore := rt.dead.Load()
	k, err := r.m.Verify(ctx, rt.tok)
	r.verifies.Add(1)
	switch {
	case err == nil && deadBefore:
		r.stale.Add(1)
		t.Errorf("stale accept: key %s verified after it was revoked or rotated", rt.id)
	case err == nil && k.ID != rt.id:
		t.Errorf("token of key %s verified as key %s", rt.id, k.ID)
	case err == nil:
		r.accepted.Add(1)
		r.usage.Touch(k.ID, r.m.Now(), "192.0.2.1", "race")
	case !errors.Is(err, apikey.ErrRevoked) && !errors.Is(err, apikey.ErrNotFound):
		t.Errorf("Verify: unexpected %v", err)
	}
}

func runRace(t *testing.T, m *apikey.Manager, store apikey.Store) {
	ctx := t.Context()
	tracker, err := apikey.NewUsageTracker(store, apikey.WithUsageMaxPending(20))
	if err != nil {
		t.Fatal(err)
	}
	r := &raceRig{m: m, usage: tracker}
	for range 50 {
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:read"}})
		if err != nil {
			t.Fatal(err)
		}
		r.add(is)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for {
				select {
				case <-stop:
					return
				default:
					r.verify(t, ctx, r.pick(rng))
				}
			}
		})
	}
	var writes sync.WaitGroup
	writes.Go(func() { // revoker
		rng := rand.New(rand.NewPCG(100, 1))
		for range 100 {
			rt := r.pick(rng)
			if _, err := m.Revoke(ctx, "acme", rt.id); err != nil {
				t.Errorf("Revoke: %v", err)
			}
			rt.dead.Store(true)
		}
	})
	writes.Go(func() { // rotator, no grace: the old key dies with Rotate
		rng := rand.New(rand.NewPCG(200, 1))
		for range 100 {
			rt := r.pick(rng)
			rot, err := m.Rotate(ctx, "acme", rt.id, 0)
			switch {
			case errors.Is(err, apikey.ErrConflict):
				continue // already revoked or rotated
			case err != nil:
				t.Errorf("Rotate: %v", err)
				continue
			}
			rt.dead.Store(true)
			r.add(&rot.Issued)
		}
	})
	writes.Go(func() { // updater
		rng := rand.New(rand.NewPCG(300, 1))
		for i := range 200 {
			name := "renamed"
			if i%2 == 0 {
				name = "again"
			}
			if _, err := m.Update(ctx, "acme", r.pick(rng).id, apikey.UpdateParams{Name: &name}); err != nil {
				t.Errorf("Update: %v", err)
			}
		}
	})
	writes.Go(func() { // usage flusher
		for range 200 {
			if err := tracker.Flush(ctx); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}
	})
	writes.Go(func() { // usage writes straight to the store, moving time
		rng := rand.New(rand.NewPCG(400, 1))
		for i := range 200 {
			batch := []apikey.Usage{{KeyID: r.pick(rng).id, At: t0.Add(time.Duration(i) * time.Second), IP: "192.0.2.2"}}
			if err := store.RecordUsage(ctx, batch); err != nil {
				t.Errorf("RecordUsage: %v", err)
			}
		}
	})
	writes.Wait()
	close(stop)
	wg.Wait()
	if err := tracker.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st := tracker.Stats(); st.Pending != 0 || st.Records == 0 {
		t.Fatalf("usage after Close: %+v", st)
	}

	// Every dead token is refused now; every live one verifies.
	for _, rt := range r.tokens {
		_, err := m.Verify(ctx, rt.tok)
		if rt.dead.Load() != (err != nil) {
			t.Errorf("key %s: dead %v, Verify: %v", rt.id, rt.dead.Load(), err)
		}
	}
	t.Logf("%d verifies interleaved with 100 revokes, 100 rotations, 200 updates, 200 usage flushes, 200 usage writes: %d accepted, %d stale accepts (usage %+v)",
		r.verifies.Load(), r.accepted.Load(), r.stale.Load(), tracker.Stats())
}

// TestRaceVerifyRevokeRotate interleaves verifies with every write that can
// change their outcome, on memstore, with and without the verification
// cache (whose in-process invalidation must leave no stale accept).
func TestRaceVerifyRevokeRotate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []apikey.Option
	}{
		{"uncached", nil},
		{"cached", []apikey.Option{apikey.WithCache(apikey.CacheOptions{})}},
		{"cached, tiny", []apikey.Option{apikey.WithCache(apikey.CacheOptions{MaxEntries: 8, MaxNegative: 4})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			m, err := apikey.New(store, append([]apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1),
				apikey.WithClock(apikey.NewManualClock(t0))}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			runRace(t, m, store)
		})
	}
}
