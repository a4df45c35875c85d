package apikey_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func newThrottle(t *testing.T, opts apikey.ThrottleOptions) (*apikey.FailureThrottle, *apikey.ManualClock) {
	t.Helper()
	clock := apikey.NewManualClock(t0)
	opts.Clock = clock
	th, err := apikey.NewFailureThrottle(opts)
	if err != nil {
		t.Fatalf("NewFailureThrottle: %v", err)
	}
	return th, clock
}

func mustAllow(t *testing.T, th *apikey.FailureThrottle, client string) {
	t.Helper()
	if wait, ok := th.Check(client); !ok {
		t.Fatalf("%s refused (retry after %v), want allowed", client, wait)
	}
}

func mustRefuse(t *testing.T, th *apikey.FailureThrottle, client string, wantWait time.Duration) {
	t.Helper()
	wait, ok := th.Check(client)
	if ok || wait != wantWait {
		t.Fatalf("%s: Check = %v, %v; want refused with retry after %v", client, wait, ok, wantWait)
	}
}

// N failures block the client for the time one failure takes to be
// forgiven; it recovers once the window has passed, without a restart.
func TestThrottleBlocksAfterFailures(t *testing.T) {
	th, clock := newThrottle(t, apikey.ThrottleOptions{Failures: 3, Per: 30 * time.Second})
	const ip = "203.0.113.7"
	for range 3 {
		mustAllow(t, th, ip)
		th.Fail(ip)
	}
	mustRefuse(t, th, ip, 10*time.Second) // one failure is forgiven every 10 s
	mustAllow(t, th, "203.0.113.8")       // other clients are not affected

	clock.Advance(4 * time.Second)
	mustRefuse(t, th, ip, 6*time.Second)
	clock.Advance(6 * time.Second)
	mustAllow(t, th, ip) // one attempt back
	th.Fail(ip)
	mustRefuse(t, th, ip, 10*time.Second)

	clock.Advance(30 * time.Second) // fully forgiven: forgotten
	mustAllow(t, th, ip)
	if st := th.Stats(); st.Clients != 0 || st.Failures != 4 || st.Refused != 3 {
		t.Fatalf("Stats = %+v; want no client tracked, 4 failures, 3 refusals", st)
	}
}

// Retry-After is whole seconds and never zero, even for sub-second refills.
func TestThrottleRetryAfterRoundsUp(t *testing.T) {
	th, clock := newThrottle(t, apikey.ThrottleOptions{Failures: 100, Per: time.Second})
	for range 100 {
		th.Fail("198.51.100.1")
	}
	mustRefuse(t, th, "198.51.100.1", time.Second)
	clock.Advance(10 * time.Millisecond)
	mustAllow(t, th, "198.51.100.1")
}

// Successes never count: a client one failure short of the limit stays
// allowed through any number of successful requests.
func TestThrottleSuccessNeverCounts(t *testing.T) {
	th, _ := newThrottle(t, apikey.ThrottleOptions{Failures: 5, Per: time.Hour})
	const ip = "192.0.2.10"
	for range 4 {
		th.Fail(ip)
	}
	for range 10_000 {
		mustAllow(t, th, ip) // a verified request: Check, never Fail
	}
	th.Fail(ip)
	mustRefuse(t, th, ip, 720*time.Second)
}

// The table never holds more than MaxClients; the clients forgotten are
// those whose last failure is oldest, and every eviction is counted.
func TestThrottleMemoryBounded(t *testing.T) {
	th, clock := newThrottle(t, apikey.ThrottleOptions{Failures: 1, Per: time.Hour, MaxClients: 100})
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	const n = 10_000
	for i := range n {
		th.Fail(ip(i))
		clock.Advance(time.Millisecond)
		if c := th.Stats().Clients; c > 100 {
			t.Fatalf("%d clients tracked, bound is 100", c)
		}
	}
	st := th.Stats()
	if st.Clients != 100 || st.Evicted != n-100 {
		t.Fatalf("Stats = %+v; want 100 clients, %d evicted", st, n-100)
	}
	for i := n - 100; i < n; i++ {
		if _, ok := th.Check(ip(i)); ok {
			t.Fatalf("recent client %s was forgotten", ip(i))
		}
	}
	mustAllow(t, th, ip(0)) // evicted: allowed again
}

// Clients are grouped the way attackers hold addresses: a whole IPv6 /64 is
// one client, an IPv4-mapped address is its IPv4 address, and a string that
// is not an address is used as it is, truncated.
func TestThrottleClientGrouping(t *testing.T) {
	th, _ := newThrottle(t, apikey.ThrottleOptions{Failures: 1, Per: time.Minute})
	for _, tc := range []struct{ fail, same, other string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"},
		{"::ffff:192.0.2.1", "192.0.2.1", "192.0.2.2"},
		{"fe80::1%eth0", "fe80::2", "fe80:0:0:1::1"},
		{"unix:" + strings.Repeat("x", 100), "unix:" + strings.Repeat("x", 59) + "y", "unix:other"},
	} {
		th.Fail(tc.fail)
		if _, ok := th.Check(tc.same); ok {
			t.Errorf("%s should share %s's bucket", tc.same, tc.fail)
		}
		mustAllow(t, th, tc.other)
	}
	th128, _ := newThrottle(t, apikey.ThrottleOptions{Failures: 1, Per: time.Minute, IPv6Prefix: 128})
	th128.Fail("2001:db8::1")
	mustAllow(t, th128, "2001:db8::2")
}

func TestThrottleOptionsValidation(t *testing.T) {
	for _, o := range []apikey.ThrottleOptions{
		{Failures: -1}, {Per: -time.Second}, {MaxClients: -1}, {IPv6Prefix: 129}, {IPv6Prefix: -1},
	} {
		if _, err := apikey.NewFailureThrottle(o); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("NewFailureThrottle(%+v) = %v, want ErrInvalid", o, err)
		}
	}
	if _, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

// Concurrent Check and Fail from many goroutines are race-free and keep the
// bound.
func TestThrottleConcurrent(t *testing.T) {
	th, clock := newThrottle(t, apikey.ThrottleOptions{Failures: 3, Per: time.Second, MaxClients: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				ip := fmt.Sprintf("10.0.%d.%d", g, i%5)
				if _, ok := th.Check(ip); ok && i%3 != 0 {
					th.Fail(ip)
				}
				if i%500 == 0 {
					clock.Advance(100 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	if st := th.Stats(); st.Clients > 50 || st.Failures == 0 || st.Refused == 0 {
		t.Fatalf("Stats = %+v", st)
	}
}
