// Package benchkit holds the bodies of the verify benchmarks, so that every
// store (memstore in the root package, the SQL stores in theirs) is
// measured the same way. It is for tests and benchmarks only.
package benchkit

import (
	"context"
	"crypto/rand"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/oklog/ulid/v2"
)

// KeysPerTenant is how many keys Populate gives each tenant.
const KeysPerTenant = 1000

// Populate fills m's store with n keys, on all CPUs, spread over tenants
// of KeysPerTenant keys ("t0", "t1", ...), and returns the tokens of up to
// sample of them, evenly spread over the n (so the sampled records are
// scattered through the store, not the first ones created). The sampled
// keys are created through m.Create; the others, which are never verified,
// are inserted directly into the store with a random lookup value and
// hash, which is much faster than minting real tokens.
func Populate(ctx context.Context, m *apikey.Manager, n, sample int) ([]string, error) {
	sample = min(sample, n)
	stride := n / max(sample, 1)
	tokens := make([]string, sample)
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				tenant := "t" + strconv.Itoa(i/KeysPerTenant)
				var err error
				if i%stride == 0 && i/stride < sample {
					var is *apikey.Issued
					is, err = m.Create(ctx, apikey.CreateParams{Tenant: tenant, Scopes: []string{"jobs:read"}})
					if err == nil {
						tokens[i/stride] = is.Token.Reveal()
					}
				} else {
					err = m.Store().Create(ctx, filler(m, tenant))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return tokens, <-errs
}

// filler returns a record shaped like one Create makes, for a token nobody
// holds.
func filler(m *apikey.Manager, tenant string) *apikey.Key {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var raw [17 + 32]byte
	_, _ = rand.Read(raw[:])
	lookup := make([]byte, 17)
	for i := range lookup {
		lookup[i] = alphabet[raw[i]%62]
	}
	now := m.Now()
	return &apikey.Key{
		ID:          ulid.MustNew(ulid.Timestamp(now), rand.Reader).String(),
		Tenant:      tenant,
		Environment: m.Environments()[0],
		Prefix:      m.Prefix() + "_" + m.Environments()[0] + "_" + string(lookup[:4]),
		Lookup:      string(lookup),
		HashVersion: m.HashVersion(),
		Hash:        raw[17:],
		Scopes:      []string{"jobs:read"},
		CreatedAt:   now,
	}
}

// Verify measures m.Verify, cycling through tokens; every verify must
// succeed.
func Verify(b *testing.B, m *apikey.Manager, tokens []string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Verify(ctx, tokens[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(tokens) {
			i = 0
		}
	}
}

// VerifyParallel is Verify from GOMAXPROCS goroutines.
func VerifyParallel(b *testing.B, m *apikey.Manager, tokens []string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Verify(ctx, tokens[i]); err != nil {
				b.Error(err)
				return
			}
			if i++; i == len(tokens) {
				i = 0
			}
		}
	})
}

// VerifyUnknown measures m.Verify of well-formed tokens the store does not
// hold; every verify must fail with ErrNotFound.
func VerifyUnknown(b *testing.B, m *apikey.Manager, tokens []string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Verify(ctx, tokens[i]); !errors.Is(err, apikey.ErrNotFound) {
			b.Fatalf("want ErrNotFound, got %v", err)
		}
		if i++; i == len(tokens) {
			i = 0
		}
	}
}

// ratioChunk is how many operations each side runs before the other takes
// its turn: short enough that both sides usually see the same machine load
// (a chunk pair takes well under a scheduler time slice).
const ratioChunk = 256

// Interleave runs a and b alternately in chunks until about bm.N operations
// of each have run. It reports each side's mean ns/op and their ratio b/a
// ("ratio"), and the ratio of their fastest chunks ("best-ratio"): on a busy
// machine (a shared runner) the fastest chunks are the ones no other
// process disturbed, so best-ratio is the steadier figure.
func Interleave(bm *testing.B, aName string, a func(), bName string, b func()) {
	var ta, tb time.Duration
	bestA, bestB := time.Duration(1<<62), time.Duration(1<<62)
	n := 0
	for n < bm.N {
		start := time.Now()
		for range ratioChunk {
			a()
		}
		mid := time.Now()
		for range ratioChunk {
			b()
		}
		da, db := mid.Sub(start), time.Since(mid)
		ta, tb = ta+da, tb+db
		bestA, bestB = min(bestA, da), min(bestB, db)
		n += ratioChunk
	}
	bm.ReportMetric(float64(ta.Nanoseconds())/float64(n), aName+"-ns/op")
	bm.ReportMetric(float64(tb.Nanoseconds())/float64(n), bName+"-ns/op")
	bm.ReportMetric(float64(bestA.Nanoseconds())/ratioChunk, aName+"-best-ns/op")
	bm.ReportMetric(float64(bestB.Nanoseconds())/ratioChunk, bName+"-best-ns/op")
	bm.ReportMetric(float64(tb)/float64(ta), "ratio")
	bm.ReportMetric(float64(bestB)/float64(bestA), "best-ratio")
}

// Leg is one measured function of InterleaveLegs.
type Leg struct {
	Name string
	Fn   func()
}

// InterleaveLegs generalises Interleave to any number of legs: it runs
// each leg ratioChunk times in turn, round after round, until each ran
// bm.N times, and returns each leg's mean and best-chunk cost in ns per
// call, in the order given. Load on the machine then affects every leg
// alike, and ratios of the best chunks are the steadiest figures.
func InterleaveLegs(bm *testing.B, legs ...Leg) (mean, best []float64) {
	total := make([]time.Duration, len(legs))
	bests := make([]time.Duration, len(legs))
	for i := range bests {
		bests[i] = 1 << 62
	}
	n := 0
	for n < bm.N {
		for i, l := range legs {
			start := time.Now()
			for range ratioChunk {
				l.Fn()
			}
			d := time.Since(start)
			total[i] += d
			bests[i] = min(bests[i], d)
		}
		n += ratioChunk
	}
	mean, best = make([]float64, len(legs)), make([]float64, len(legs))
	for i := range legs {
		mean[i] = float64(total[i].Nanoseconds()) / float64(n)
		best[i] = float64(bests[i].Nanoseconds()) / ratioChunk
	}
	return mean, best
}
