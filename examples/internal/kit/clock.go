package kit

import (
	"fmt"
	"sync/atomic"
	"time"
)

// DevClock is the wall clock plus an offset that POST /dev/clock moves
// forward, so expiry, grace periods and scheduled rotation can be shown
// without waiting. It never moves backwards.
type DevClock struct{ offset atomic.Int64 }

// Now returns the wall-clock time plus the offset.
func (c *DevClock) Now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load())).UTC()
}

// Advance moves the clock forward by d (d must not be negative) and returns
// the new time.
func (c *DevClock) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("advance must not be negative")
	}
	c.offset.Add(int64(d))
	return c.Now(), nil
}

// maxAdvanceDays keeps a day count inside time.Duration (about 292 years).
const maxAdvanceDays = 100_000

// ParseAdvance parses the body of POST /dev/clock: {"advance":"48h"}.
// Units are those of time.ParseDuration, plus "d" for days.
func ParseAdvance(s string) (time.Duration, error) {
	if n := len(s); n > 1 && s[n-1] == 'd' {
		var days int
		if _, err := fmt.Sscanf(s, "%dd", &days); err != nil || fmt.Sprintf("%dd", days) != s || days < 0 || days > maxAdvanceDays {
			return 0, fmt.Errorf("advance %q is not a duration", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("advance %q is not a non-negative duration such as \"48h\"", s)
	}
	return d, nil
}
