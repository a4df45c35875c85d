package apikey

import (
	"sync/atomic"
	"time"
)

// coarseClock is the in-process limiter's clock on the verify path when
// requests come fast. Reading the monotonic clock costs about 40 ns on
// some virtual machines (kvm-clock), an eighth of a verify; like nginx's
// limit_req, which judges limits on a time cached once per event-loop
// turn, the limiter then reads a time that a goroutine refreshes every
// coarseTick. The goroutine starts when two exact readings come less than
// coarseFastGap apart and stops after coarseIdleTicks ticks without a
// reading, so a process that verifies slowly, or not at all, runs none.
//
// The reading lags the true time by at most a tick and the time it takes
// the runtime to run the goroutine. A GCRA state updated on a lagging
// reading lags its exact value by no more than that (it never runs
// ahead): the limit behaves as GCRA whose burst tolerance is raised by the
// lag, at most lag/Window of the limit more (0.1% for a 1 ms lag and a
// 1 s window). Limits with windows under coarseMinWindow, and every
// refusal, are judged on the exact clock (see Manager.allow).
type coarseClock struct {
	start    time.Time    // monotonic origin (the limiter's)
	now      atomic.Int64 // ns since start at the last tick; 0 while no ticker runs
	used     atomic.Bool  // read since the last tick
	running  atomic.Bool  // a ticker runs or is starting
	lastReal atomic.Int64 // the last exact reading, ns since start (0: none)
}

const (
	coarseTick      = time.Millisecond
	coarseIdleTicks = 100                    // the ticker stops after 100 ms unread
	coarseFastGap   = 100 * time.Microsecond // 10,000 exact readings a second start it
	coarseMinWindow = time.Second            // shorter windows always read the exact clock
)

// read returns the time since start in nanoseconds: the ticker's last
// reading while one runs (coarse is then true), else an exact one.
func (c *coarseClock) read() (ns int64, coarse bool) {
	if n := c.now.Load(); n != 0 {
		if !c.used.Load() {
			c.used.Store(true)
		}
		return n, true
	}
	return c.exact(), false
}

// exact reads the monotonic clock, and starts the ticker when the
// previous exact reading is less than coarseFastGap old.
func (c *coarseClock) exact() int64 {
	n := max(1, int64(time.Since(c.start)))
	if prev := c.lastReal.Swap(n); prev != 0 && n-prev < int64(coarseFastGap) && c.running.CompareAndSwap(false, true) {
		c.used.Store(true)
		c.now.Store(n)
		go c.tick()
	}
	return n
}

// tick refreshes now every coarseTick until it goes unread for
// coarseIdleTicks ticks, then clears it (readers go back to the exact
// clock) and ends.
func (c *coarseClock) tick() {
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	for idle := 0; idle < coarseIdleTicks; {
		<-t.C
		c.now.Store(max(1, int64(time.Since(c.start))))
		if c.used.Swap(false) {
			idle = 0
		} else {
			idle++
		}
	}
	c.now.Store(0)
	c.running.Store(false)
}
