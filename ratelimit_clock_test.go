package apikey

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCoarseClock: exact readings while requests are slow; fast readings
// start the ticker, whose readings never run ahead of the exact clock;
// unread, the ticker stops and readers go back to the exact clock.
func TestCoarseClock(t *testing.T) {
	c := &coarseClock{start: time.Now()}
	if _, coarse := c.read(); coarse {
		t.Fatal("first reading is coarse, want exact")
	}
	time.Sleep(2 * coarseFastGap)
	if _, coarse := c.read(); coarse || c.running.Load() {
		t.Fatal("a reading long after the last one started the ticker")
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, coarse := c.read(); coarse {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readings in a tight loop never started the ticker")
		}
	}
	var ticked bool
	first, _ := c.read()
	for range 100_000 {
		n, coarse := c.read()
		if e := int64(time.Since(c.start)); n > e {
			t.Fatalf("coarse reading %d ahead of the exact clock %d", n, e)
		}
		if coarse && n > first {
			ticked = true
		}
	}
	for !ticked && time.Now().Before(deadline) {
		n, _ := c.read()
		ticked = n > first
	}
	if !ticked {
		t.Fatal("the coarse reading never advanced")
	}

	for c.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the ticker still runs, unread")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, coarse := c.read(); coarse || c.now.Load() != 0 {
		t.Fatal("reading after the ticker stopped is coarse, want exact")
	}
}

// TestCoarseClockBound checks the bound ratelimit_clock.go documents: a
// limit judged on readings that lag the true time by at most lag, with
// refusals judged again on the true time (as Manager.allow does), admits in
// any interval [t1, t2] at most Limit + (t2-t1+lag)/step requests, where
// exact GCRA admits at most Limit + (t2-t1)/step. Random bursty arrivals
// for several limits and lags.
func TestCoarseClockBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		limit  int64
		window time.Duration
		lag    time.Duration
	}{
		{10, time.Second, 5 * time.Millisecond},
		{1000, time.Second, 5 * time.Millisecond},
		{3, time.Second, 200 * time.Millisecond},
		{100, 10 * time.Second, 20 * time.Millisecond},
	} {
		k := &Key{ID: "k", Tenant: "t", RateLimits: []RateLimit{{Name: "l", Limit: c.limit, Window: c.window}}}
		step := int64(c.window) / c.limit
		for _, lagged := range []bool{false, true} {
			l := NewMemoryLimiter(0)
			var admitted []int64
			now, seen := int64(1), int64(1) // true time; the last lagging reading
			for range 10_000 {
				if rng.IntN(4) == 0 {
					now += rng.Int64N(int64(c.window) / 2) // a pause
				} else {
					now += rng.Int64N(step/4 + 1) // a burst
				}
				at := now
				if lagged { // a reading at most lag old, never going back
					seen = max(seen, now-rng.Int64N(int64(c.lag)+1))
					at = seen
				}
				var d RateDecision
				ok := l.allowAt(k, 1, at, &d, false)
				if !ok && lagged {
					ok = l.allowAt(k, 1, now, &d, false)
				}
				if ok {
					admitted = append(admitted, now)
				}
			}
			slack := int64(0)
			if lagged {
				slack = int64(c.lag)
			}
			for i := range admitted {
				for j := i; j < len(admitted); j++ {
					if n, most := int64(j-i+1), c.limit+(admitted[j]-admitted[i]+slack)/step; n > most {
						t.Fatalf("limit %d per %v, lag %v (lagged %v): %d admitted in %v, bound %d",
							c.limit, c.window, c.lag, lagged, n, time.Duration(admitted[j]-admitted[i]), most)
					}
				}
			}
			if len(admitted) < int(c.limit) {
				t.Fatalf("limit %d per %v: only %d admitted in all", c.limit, c.window, len(admitted))
			}
		}
	}
}
