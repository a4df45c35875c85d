package apikey

import (
	"sync/atomic"
	"time"
)

// wallClock is the default Clock: the wall clock, read through the
// monotonic clock. time.Now reads two clocks (wall and monotonic); Now here
// reads only the monotonic one and adds the time elapsed to a wall reading
// taken less than a second earlier, which saves one clock read on every
// verify (about 25 ns on a virtual machine). A step of the wall clock (NTP,
// an operator) is picked up within a second.
type wallClock struct {
	base atomic.Pointer[time.Time]
}

// wallRebase is how long a wall reading is extended through the monotonic
// clock before it is taken again.
const wallRebase = time.Second

// Now returns the current time.
func (c *wallClock) Now() time.Time {
	if b := c.base.Load(); b != nil {
		if d := time.Since(*b); d >= 0 && d < wallRebase {
			return b.Add(d)
		}
	}
	now := time.Now()
	c.base.Store(&now)
	return now
}
