// Package reliability_test checks the library's reliability properties on
// the SQL stores: verifies interleaved with revokes, rotations and usage
// flushes never accept a dead key, and a PostgreSQL store recovers from
// killed connections without a restart.
package reliability_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

var (
	t0     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pepper = []byte("reliability-pepper-0123456789abcdef")
)

// liveToken is a token the test knows, and whether the call that killed its
// key (Revoke, or Rotate without grace) has returned.
type liveToken struct {
	tok, id string
	dead    atomic.Bool
}

type tokens struct {
	mu  sync.RWMutex
	all []*liveToken
}

func (ts *tokens) add(is *apikey.Issued) {
	ts.mu.Lock()
	ts.all = append(ts.all, &liveToken{tok: is.Token.Reveal(), id: is.Key.ID})
	ts.mu.Unlock()
}

func (ts *tokens) pick(rng *rand.Rand) *liveToken {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.all[rng.IntN(len(ts.all))]
}

// TestRaceSQL interleaves verifies with revokes, rotations without grace,
// and usage tracking and flushes, on every SQL engine, under -race. A token
// whose key was revoked or rotated before the verify began must never
// verify (a stale accept). Each engine runs without and with the
// verification cache.
func TestRaceSQL(t *testing.T) {
	for _, e := range sqltest.Engines() {
		for _, cached := range []bool{false, true} {
			name := string(e)
			opts := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepper), apikey.WithClock(apikey.NewManualClock(t0))}
			if cached {
				name += "_cached"
				opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
			}
			t.Run(name, func(t *testing.T) { raceSQL(t, e, opts) })
		}
	}
}

func raceSQL(t *testing.T, e sqltest.Engine, opts []apikey.Option) {
	t.Parallel()
	store := sqltest.NewStore(t, e)
	m, err := apikey.New(store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tracker, err := apikey.NewUsageTracker(store, apikey.WithUsageMaxPending(100))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	ts := &tokens{}
	for range 20 {
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		ts.add(is)
	}

	var verifies, accepted, stale atomic.Int64
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for g := range 4 {
		readers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				lt := ts.pick(rng)
				deadBefore := lt.dead.Load()
				k, err := m.Verify(ctx, lt.tok)
				verifies.Add(1)
				switch {
				case err == nil && (deadBefore || k.ID != lt.id):
					stale.Add(1)
					t.Errorf("stale accept of key %s", lt.id)
				case err == nil:
					accepted.Add(1)
					tracker.Touch(k.ID, m.Now(), "192.0.2.1", "")
				case !errors.Is(err, apikey.ErrRevoked):
					t.Errorf("Verify: %v", err)
				}
			}
		})
	}
	var flushes atomic.Int64
	readers.Go(func() { // usage flusher, until the writers are done
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := tracker.Flush(ctx); err != nil {
				t.Errorf("Flush: %v", err)
			}
			flushes.Add(1)
		}
	})
	var writers sync.WaitGroup
	writers.Go(func() {
		rng := rand.New(rand.NewPCG(10, 1))
		for range 30 {
			lt := ts.pick(rng)
			if _, err := m.Revoke(ctx, "acme", lt.id); err != nil {
				t.Errorf("Revoke: %v", err)
			}
			lt.dead.Store(true)
		}
	})
	writers.Go(func() {
		rng := rand.New(rand.NewPCG(20, 1))
		for range 30 {
			lt := ts.pick(rng)
			rot, err := m.Rotate(ctx, "acme", lt.id, 0)
			if errors.Is(err, apikey.ErrConflict) {
				continue
			}
			if err != nil {
				t.Errorf("Rotate: %v", err)
				continue
			}
			lt.dead.Store(true)
			ts.add(&rot.Issued)
		}
	})
	writers.Wait()
	close(stop)
	readers.Wait()
	if err := tracker.Close(ctx); err != nil {
		t.Fatalf("usage Close: %v", err)
	}
	for _, lt := range ts.all {
		if _, err := m.Verify(ctx, lt.tok); lt.dead.Load() != (err != nil) {
			t.Errorf("key %s: dead %v, Verify %v", lt.id, lt.dead.Load(), err)
		}
	}
	t.Logf("%d verifies with 30 revokes, 30 rotations, %d usage flushes: %d accepted, %d stale accepts, usage %+v",
		verifies.Load(), flushes.Load(), accepted.Load(), stale.Load(), tracker.Stats())
}
