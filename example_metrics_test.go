package apikey_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// outcomeCounts is a hand-written apikey.Metrics: verifications by
// outcome, cache hits, and every other event by counter.
type outcomeCounts struct {
	outcomes [16]atomic.Int64
	hits     atomic.Int64
	events   [64]atomic.Int64
}

func (c *outcomeCounts) Verified(_ context.Context, r apikey.VerifyReport) {
	c.outcomes[r.Outcome%16].Add(1)
	if r.Cache == apikey.CacheHit {
		c.hits.Add(1)
	}
}

func (c *outcomeCounts) Count(_ context.Context, ctr apikey.Counter, n int64) {
	c.events[ctr%64].Add(n)
}

// ExampleWithMetrics counts verifications by outcome with a hand-written
// Metrics (package otelapikey has one for OpenTelemetry).
func ExampleWithMetrics() {
	ctx := context.Background()
	counts := &outcomeCounts{}
	m, err := apikey.New(memstore.New(),
		apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
		apikey.WithCache(apikey.CacheOptions{}),
		apikey.WithMetrics(counts))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	_, _ = m.Verify(ctx, issued.Token.Reveal())
	_, _ = m.Verify(ctx, issued.Token.Reveal())
	_, _ = m.Revoke(ctx, "acme", issued.Key.ID)
	_, _ = m.Verify(ctx, issued.Token.Reveal())
	_, _ = m.Verify(ctx, "key_live_typo")

	for _, o := range apikey.Outcomes() {
		if n := counts.outcomes[o].Load(); n > 0 {
			fmt.Printf("%s: %d\n", o, n)
		}
	}
	fmt.Println("cache hits:", counts.hits.Load())
	// Output:
	// valid: 2
	// malformed: 1
	// revoked: 1
	// cache hits: 1
}

// slowest keeps the longest verify it was shown, timing only a random 1
// verify in 8 (apikey.TimingSampler): the others read no clock for it.
type slowest struct {
	outcomeCounts
	timed atomic.Int64
	worst atomic.Int64 // nanoseconds
}

func (s *slowest) TimeOneIn() uint32 { return 8 }

func (s *slowest) Verified(ctx context.Context, r apikey.VerifyReport) {
	s.outcomeCounts.Verified(ctx, r)
	if !r.Timed {
		return
	}
	s.timed.Add(1)
	for d := int64(r.Duration); ; {
		w := s.worst.Load()
		if d <= w || s.worst.CompareAndSwap(w, d) {
			return
		}
	}
}

// ExampleTimingSampler times a random sample of verifications while
// counting every one.
func ExampleTimingSampler() {
	ctx := context.Background()
	mx := &slowest{}
	m, err := apikey.New(memstore.New(),
		apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
		apikey.WithMetrics(mx))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	for range 800 {
		_, _ = m.Verify(ctx, issued.Token.Reveal())
	}
	fmt.Println("counted:", mx.outcomes[apikey.OutcomeValid].Load())
	fmt.Println("timed about 1 in 8:", mx.timed.Load() > 50 && mx.timed.Load() < 150)
	fmt.Println("worst measured:", mx.worst.Load() > 0)
	// Output:
	// counted: 800
	// timed about 1 in 8: true
	// worst measured: true
}
