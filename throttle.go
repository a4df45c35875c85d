package apikey

import (
	"container/list"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ThrottleOptions configures a FailureThrottle. The zero value gives the
// defaults: 10 failures in a burst, forgiven over a minute, 10 000 clients
// tracked, IPv6 clients grouped by /64, the system clock.
type ThrottleOptions struct {
	// Failures is how many failed verifications a client may make in a
	// burst before it is refused. Default 10.
	Failures int
	// Per is the time over which that many failures are forgiven: one
	// failure is forgiven every Per/Failures. Default one minute.
	Per time.Duration
	// MaxClients bounds memory: the table never holds more clients. When it
	// is full, the client whose last failure is oldest is forgotten (and
	// counted in ThrottleStats.Evicted). Default 10 000 (about 1 MiB).
	MaxClients int
	// IPv6Prefix groups IPv6 clients by this prefix length, since one host
	// usually controls a whole /64. Default 64; 128 tracks single addresses.
	IPv6Prefix int
	// Clock tells the time; tests pass a ManualClock. Default SystemClock.
	Clock Clock
}

// ThrottleStats are a FailureThrottle's counters since it was made.
type ThrottleStats struct {
	// Failures is how many failed verifications were recorded.
	Failures uint64
	// Refused is how many requests were refused before verification.
	Refused uint64
	// Evicted is how many tracked clients were forgotten because the table
	// was full: a steady rise means more attacking addresses than
	// MaxClients, and that some were let back early.
	Evicted uint64
	// Clients is how many clients are tracked now.
	Clients int
}

// FailureThrottle limits failed verifications per client address, to slow
// down anyone guessing keys. Only failures count: a client that presents
// valid keys is never throttled, however fast it goes. A client that has
// used up its failures is refused before its credentials are even looked at,
// so a flood from it costs one map lookup per request. It is safe for
// concurrent use and holds at most MaxClients entries.
//
// Plug it into the middleware with WithFailureThrottle, or use Check and
// Fail around your own verify.
//
// Tokens carry 256 random bits, so the throttle is not what keeps them from
// being guessed; it keeps guessing traffic off your store and out of your
// logs, and makes abusive clients visible (ThrottleStats).
type FailureThrottle struct {
	clock      Clock
	per        time.Duration // the whole allowance is forgiven over per
	interval   time.Duration // one failure is forgiven every interval
	maxClients int
	v6bits     int

	mu      sync.Mutex
	clients map[throttleKey]*list.Element // of *throttleEntry
	order   list.List                     // front: most recent failure
	stats   ThrottleStats
}

// throttleEntry is one client's state in the generic cell rate algorithm
// (a token bucket kept as one instant): tat is when all its failures will
// have been forgiven.
type throttleEntry struct {
	client throttleKey
	tat    time.Time
}

// throttleKey identifies a client: an address (or IPv6 prefix, as its
// first address), or for a client that is not an address, its name.
type throttleKey struct {
	addr  netip.Addr
	other string
}

// NewFailureThrottle returns a throttle configured by opts.
func NewFailureThrottle(opts ThrottleOptions) (*FailureThrottle, error) {
	if opts.Failures == 0 {
		opts.Failures = 10
	}
	if opts.Per == 0 {
		opts.Per = time.Minute
	}
	if opts.MaxClients == 0 {
		opts.MaxClients = 10_000
	}
	if opts.IPv6Prefix == 0 {
		opts.IPv6Prefix = 64
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock
	}
	switch {
	case opts.Failures < 0, opts.Per < 0, opts.MaxClients < 0:
		return nil, fmt.Errorf("%w: throttle failures, period and size must be positive", ErrInvalid)
	case opts.IPv6Prefix < 0 || opts.IPv6Prefix > 128:
		return nil, fmt.Errorf("%w: IPv6 prefix length %d is not 1-128", ErrInvalid, opts.IPv6Prefix)
	}
	return &FailureThrottle{
		clock:      opts.Clock,
		per:        opts.Per,
		interval:   max(opts.Per/time.Duration(opts.Failures), 1),
		maxClients: opts.MaxClients,
		v6bits:     opts.IPv6Prefix,
		clients:    make(map[throttleKey]*list.Element),
	}, nil
}

// maxClientKeyLen bounds what a table entry keeps of a client that is not
// an IP address.
const maxClientKeyLen = 64

// clientKey maps a client address to its table key: IPv4 addresses as they
// are, IPv6 addresses masked to the configured prefix, anything else by its
// first maxClientKeyLen bytes. It does not allocate for addresses.
func (t *FailureThrottle) clientKey(client string) throttleKey {
	a, err := netip.ParseAddr(client)
	if err != nil {
		if len(client) > maxClientKeyLen {
			client = client[:maxClientKeyLen]
		}
		return throttleKey{other: client}
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(t.v6bits); err == nil {
			a = p.Addr()
		}
	}
	return throttleKey{addr: a}
}

// Check reports whether client may attempt a verification now. When it may
// not, retryAfter says how long until it may (at least a second, in whole
// seconds, ready for a Retry-After header). Check itself never counts as a
// failure.
func (t *FailureThrottle) Check(client string) (retryAfter time.Duration, ok bool) {
	key := t.clientKey(client)
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.clients[key]
	if el == nil {
		return 0, true
	}
	e := el.Value.(*throttleEntry)
	now := t.clock.Now()
	if !e.tat.After(now) {
		t.drop(el) // fully forgiven: nothing left to remember
		return 0, true
	}
	// Room for one more failure while tat stays within per of now.
	over := e.tat.Sub(now) - (t.per - t.interval)
	if over <= 0 {
		return 0, true
	}
	t.stats.Refused++
	secs := (over + time.Second - 1) / time.Second
	return max(secs, 1) * time.Second, false
}

// Fail records one failed verification by client.
func (t *FailureThrottle) Fail(client string) {
	key := t.clientKey(client)
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Failures++
	el := t.clients[key]
	if el == nil {
		for len(t.clients) >= t.maxClients {
			t.drop(t.order.Back())
			t.stats.Evicted++
		}
		key.other = strings.Clone(key.other) // do not pin the request's memory
		el = t.order.PushFront(&throttleEntry{client: key, tat: now})
		t.clients[key] = el
	} else {
		t.order.MoveToFront(el)
	}
	e := el.Value.(*throttleEntry)
	if e.tat.Before(now) {
		e.tat = now
	}
	// A failure that squeezed past Check concurrently still counts, but the
	// debt never exceeds the whole allowance.
	e.tat = e.tat.Add(t.interval)
	if lim := now.Add(t.per); e.tat.After(lim) {
		e.tat = lim
	}
}

func (t *FailureThrottle) drop(el *list.Element) {
	delete(t.clients, el.Value.(*throttleEntry).client)
	t.order.Remove(el)
}

// Stats returns the throttle's counters.
func (t *FailureThrottle) Stats() ThrottleStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Clients = len(t.clients)
	return s
}

// ErrThrottled: the client made too many failed verifications and is
// refused until its failures are forgiven. The middleware answers it 429
// with Retry-After; it never reaches the manager or the store.
var ErrThrottled = errors.New("apikey: too many failed verifications")

// ThrottledError is what the middleware hands to the error handler when a
// FailureThrottle refuses a client. It wraps ErrThrottled.
type ThrottledError struct {
	// RetryAfter is how long until the client may try again, in whole
	// seconds (at least one).
	RetryAfter time.Duration
}

// Error says the client is throttled and for how long.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("apikey: too many failed verifications; retry after %ds", int64(e.RetryAfter/time.Second))
}

// Unwrap returns ErrThrottled.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// WithFailureThrottle refuses, with 429 and Retry-After, clients (by
// ClientIP, so configure WithTrustedProxies behind a proxy) that made too
// many failed verifications, before reading their credentials. Failures are
// bad credentials of any kind (malformed, unknown, revoked, expired, grace
// ended); a request without credentials, a store failure (503) and a
// missing scope (403) do not count, and successes are never throttled. A
// refused request carries no key, so a client sharing an address with an
// attacker is refused too while the address is throttled.
func WithFailureThrottle(t *FailureThrottle) MiddlewareOption {
	return func(a *Authenticator) error {
		if t == nil {
			return fmt.Errorf("%w: nil failure throttle", ErrInvalid)
		}
		a.throttle = t
		return nil
	}
}

// authenticateThrottled is Authenticate behind the failure throttle.
func (a *Authenticator) authenticateThrottled(r *http.Request) (*Key, error) {
	client := ClientIP(r, a.trusted)
	if wait, ok := a.throttle.Check(client); !ok {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	k, err := a.authenticate(r)
	if err != nil && !errors.Is(err, ErrNoCredentials) && !errors.Is(err, ErrStoreUnavailable) && !controlRefusal(err) {
		a.throttle.Fail(client)
	}
	return k, err
}

// CheckThrottle returns a *ThrottledError when the request's client (by
// ClientIP, as the middleware sees it) is refused by the WithFailureThrottle
// throttle, and nil otherwise (or without a throttle). It counts nothing.
// A flow that accepts another credential before Authenticate, such as an
// operator token, calls it first so that this credential too is refused to
// a throttled client; a wrong value of it should then go on to
// Authenticate, where it fails and counts like any bad key.
func (a *Authenticator) CheckThrottle(r *http.Request) error {
	if a.throttle == nil {
		return nil
	}
	if wait, ok := a.throttle.Check(ClientIP(r, a.trusted)); !ok {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// msgThrottled is the client-facing message of a 429.
const msgThrottled = "too many failed attempts; retry later"

// SetRetryAfter sets the Retry-After header (whole seconds) when err is a
// *ThrottledError, and does nothing otherwise. WriteError calls it; a custom
// ErrorHandler that answers 429 (see Challenge) should too.
func SetRetryAfter(h http.Header, err error) {
	if te, ok := errors.AsType[*ThrottledError](err); ok {
		h.Set("Retry-After", strconv.FormatInt(int64(max(te.RetryAfter/time.Second, 1)), 10))
	}
}
