package apikey

import (
	"testing"
	"time"
)

func TestWallClockFollowsTimeNow(t *testing.T) {
	c := &wallClock{}
	prev := c.Now()
	for range 10_000 {
		before := time.Now()
		got := c.Now()
		after := time.Now()
		// Within the rebase period the reading is derived from the monotonic
		// clock, so compare on the monotonic clock: it lies between two
		// time.Now readings taken around it.
		if got.Before(before) || got.After(after) {
			t.Fatalf("wallClock.Now() = %v, not between %v and %v", got, before, after)
		}
		if got.Before(prev) {
			t.Fatalf("wallClock went backwards: %v after %v", got, prev)
		}
		prev = got
	}
	// The wall reading differs from time.Now's by no more than the wall
	// clock moved against the monotonic one since the base was taken.
	if d := time.Until(c.Now().Round(0)); d > time.Millisecond || d < -time.Millisecond {
		t.Fatalf("wall reading off by %v", d)
	}
}
