package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCreditLease is the largest number of credits a Manager takes from
// the store at once (WithCreditLease).
const DefaultCreditLease = 100

// creditLeases holds the credits this Manager took from the store and has
// not spent yet, one lease per key. Spending from a lease is local; the
// store is written only to take a new lease (one atomic statement) and to
// hand back what is left (FlushCredits, or a refused request).
type creditLeases struct {
	max    int64
	leases sync.Map // key ID -> *lease
}

type lease struct {
	// local is the credits held and not spent. Spending takes them with a
	// compare-and-swap, without the mutex, while the lease is current;
	// everything else (a new lease, a refill, handing back) holds mu.
	local atomic.Int64
	// periodNs and expiresNs mirror period and expires for the lock-free
	// check (noPeriod / 0 for the zero time).
	periodNs  atomic.Int64
	expiresNs atomic.Int64

	mu      sync.Mutex
	period  time.Time // the store's credit period the local credits belong to
	expires time.Time // next refill: local credits are void from then
	size    int64     // credits to ask for next time
}

// noPeriod is periodNs before any lease: every refill is after it.
const noPeriod = math.MinInt64

// setPeriod records the period and expiry of a new lease (mu held).
func (l *lease) setPeriod(period, expires time.Time) {
	l.period, l.expires = period, expires
	pn, en := int64(noPeriod), int64(0)
	if !period.IsZero() {
		pn = period.UnixNano()
	}
	if !expires.IsZero() {
		en = expires.UnixNano()
	}
	l.periodNs.Store(pn)
	l.expiresNs.Store(en)
}

// take spends cost from the local credits if they hold that many.
func (l *lease) take(cost int64) bool {
	for {
		v := l.local.Load()
		if v < cost {
			return false
		}
		if l.local.CompareAndSwap(v, v-cost) {
			return true
		}
	}
}

// current reports, without the mutex, whether the local credits still
// belong to k's current period at now (zero: not read yet; the clock is
// read only when the lease has an expiry). It returns the reading.
func (l *lease) current(m *Manager, k *Key, now time.Time) (time.Time, bool) {
	if exp := l.expiresNs.Load(); exp != 0 {
		if now.IsZero() {
			now = m.cfg.clock.Now()
		}
		if now.UnixNano() >= exp {
			return now, false
		}
	}
	if lr := k.Credits.LastRefill; !lr.IsZero() {
		if pn := l.periodNs.Load(); pn == noPeriod || lr.UnixNano() > pn {
			return now, false
		}
	}
	return now, true
}

// leaseSize is what to ask for when the store has left credits: an eighth
// of them, between 1 and max, so that the last credits are spread over the
// processes instead of stranded in one.
func (c *creditLeases) leaseSize(left int64) int64 {
	return min(c.max, max(1, left/8))
}

// spend takes cost credits of k, from the local lease or, when it is short,
// from a new lease. A refused request spends nothing: a short lease is
// handed back at once. now is the verify's clock reading, or zero when it
// took none (the clock is then read only if a refill bound or a new lease
// needs it).
func (c *creditLeases) spend(ctx context.Context, m *Manager, k *Key, cost int64, now time.Time) error {
	v, ok := c.leases.Load(k.ID)
	if !ok {
		l := &lease{size: c.leaseSize(k.Credits.Remaining)}
		l.periodNs.Store(noPeriod)
		v, _ = c.leases.LoadOrStore(k.ID, l)
	}
	l := v.(*lease)
	now, ok = l.current(m, k, now)
	if ok && l.take(cost) { // the common case: no lock, no store
		return nil
	}
	return c.spendSlow(ctx, m, k, l, cost, now)
}

// spendSlow is spend when the local credits are void or short: under the
// lease's mutex it voids credits of an ended period, takes a new lease
// from the store when needed, and hands a short one back at once.
func (c *creditLeases) spendSlow(ctx context.Context, m *Manager, k *Key, l *lease, cost int64, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.expires.IsZero() && now.IsZero() {
		now = m.cfg.clock.Now()
	}
	if !l.expires.IsZero() && !now.Before(l.expires) || k.Credits.LastRefill.After(l.period) {
		// A refill happened, or the record shows credits set after the
		// lease was taken (Update): what is left belongs to an old period.
		l.local.Store(0)
	}
	if l.take(cost) {
		return nil
	}
	if now.IsZero() {
		now = m.cfg.clock.Now()
	}
	got, err := m.store.TakeCredits(ctx, k.ID, max(cost-l.local.Load(), l.size), normTime(now))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: key %s has no record", ErrUsageExceeded, k.ID)
		}
		return storeErr("take credits", err)
	}
	if got.Unlimited {
		return nil // credits were removed; the cached record is stale
	}
	if !got.Period.Equal(l.period) {
		l.local.Store(0)
	}
	l.setPeriod(got.Period, got.Expires)
	l.local.Add(got.Granted)
	l.size = c.leaseSize(got.Left)
	if l.take(cost) {
		return nil
	}
	if l.local.Load() > 0 {
		c.giveBack(ctx, m, k.ID, l)
	}
	return ErrUsageExceeded
}

// giveBack returns l's local credits to the store (l.mu held).
func (c *creditLeases) giveBack(ctx context.Context, m *Manager, id string, l *lease) error {
	n := l.local.Swap(0)
	if n <= 0 {
		return nil
	}
	if err := m.store.ReturnCredits(ctx, id, n, l.period); err != nil {
		m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: handing back credits failed",
			slog.String("key_id", id), slog.Int64("credits", n), slog.String("error", err.Error()))
		return storeErr("return credits", err)
	}
	return nil
}

// FlushCredits hands the credits this Manager took from the store and did
// not spend back to it (those of a period that has ended are dropped).
// Call it on shutdown, after the last request: a process that stops
// without it loses at most one lease per key (WithCreditLease), never
// over-spends. The Manager stays usable; the next request takes a new lease.
func (m *Manager) FlushCredits(ctx context.Context) error {
	var first error
	now := m.Now()
	m.credits.leases.Range(func(id, v any) bool {
		l := v.(*lease)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.expires.IsZero() || now.Before(l.expires) {
			if err := m.credits.giveBack(ctx, m, id.(string), l); err != nil && first == nil {
				first = err
			}
		}
		l.local.Store(0)
		return true
	})
	return first
}

// WithCreditLease sets the largest number of credits the Manager takes
// from the store at once (default 100). Larger leases mean fewer store
// writes; a crashed process loses what it held, at most one lease per key,
// and leases shrink as a key's credits run low. 1 takes credits one by one
// (one store write per request).
func WithCreditLease(n int64) Option {
	return func(c *config) error {
		if n < 1 || n > MaxCredits {
			return fmt.Errorf("%w: credit lease must be 1 to %d", ErrInvalid, MaxCredits)
		}
		c.creditLease = n
		return nil
	}
}
