package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	mu      sync.Mutex
	local   int64     // credits held, not spent
	period  time.Time // the store's credit period they belong to
	expires time.Time // next refill: local credits are void from then
	size    int64     // credits to ask for next time
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
		v, _ = c.leases.LoadOrStore(k.ID, &lease{size: c.leaseSize(k.Credits.Remaining)})
	}
	l := v.(*lease)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.expires.IsZero() && now.IsZero() {
		now = m.cfg.clock.Now()
	}
	if !l.expires.IsZero() && !now.Before(l.expires) || k.Credits.LastRefill.After(l.period) {
		// A refill happened, or the record shows credits set after the
		// lease was taken (Update): what is left belongs to an old period.
		l.local = 0
	}
	if l.local >= cost {
		l.local -= cost
		return nil
	}
	if now.IsZero() {
		now = m.cfg.clock.Now()
	}
	got, err := m.store.TakeCredits(ctx, k.ID, max(cost-l.local, l.size), normTime(now))
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
		l.local = 0
	}
	l.period, l.expires = got.Period, got.Expires
	l.local += got.Granted
	l.size = c.leaseSize(got.Left)
	if l.local >= cost {
		l.local -= cost
		return nil
	}
	if l.local > 0 {
		c.giveBack(ctx, m, k.ID, l)
	}
	return ErrUsageExceeded
}

// giveBack returns l's local credits to the store (l.mu held).
func (c *creditLeases) giveBack(ctx context.Context, m *Manager, id string, l *lease) error {
	n := l.local
	l.local = 0
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
		if l.local > 0 && (l.expires.IsZero() || now.Before(l.expires)) {
			if err := m.credits.giveBack(ctx, m, id.(string), l); err != nil && first == nil {
				first = err
			}
		}
		l.local = 0
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
