package apikey

import "context"

// InvalidationPublisher is told the lookup values this Manager has just
// dropped from its own cache because it changed the keys (revoke, revoke
// all, rotate, update, hash upgrade), so that the application can broadcast
// them to its other processes, which pass them to Manager.Invalidate. It is
// called synchronously after the change and the local invalidation, with a
// non-empty list; keep it fast. Lookup values are not secret (they cannot
// authenticate anything) but they identify keys: keep the bus internal.
type InvalidationPublisher func(ctx context.Context, lookups []string)

// WithInvalidationPublisher sets the publisher told about every cache
// invalidation this Manager's own changes cause. It is called whether or not
// this Manager has a cache (an admin process may have none while the
// serving processes do). Manager.Invalidate does not call it, so a message
// received from the bus is not echoed.
func WithInvalidationPublisher(p InvalidationPublisher) Option {
	return func(c *config) error { c.publish = p; return nil }
}

// Invalidate drops the cache entries (known or negative) of the given
// lookup values (Key.Lookup), so the next verify of those keys reads the
// store. Wire it to the bus your InvalidationPublisher writes to. Without a
// cache it does nothing.
func (m *Manager) Invalidate(lookups ...string) {
	if m.cache != nil {
		for _, l := range lookups {
			m.cache.invalidate(l)
		}
	}
}

// InvalidateAll empties the cache, for when an application cannot tell
// which keys changed (a lost bus message, a bulk change made on the
// database). Without a cache it does nothing.
func (m *Manager) InvalidateAll() {
	if m.cache != nil {
		m.cache.invalidateAll()
	}
}

// CacheStats is a snapshot of the verification cache's size.
type CacheStats struct {
	// Entries is the number of known keys held (some may have expired).
	Entries int
	// Negative is the number of unknown tokens remembered.
	Negative int
}

// CacheStats returns the cache's current size; zero without a cache.
func (m *Manager) CacheStats() CacheStats {
	var s CacheStats
	if m.cache != nil {
		s.Entries, s.Negative = m.cache.size()
	}
	return s
}
