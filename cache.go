package apikey

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// CacheOptions configures the verification cache (see WithCache). Zero
// fields take the defaults named on each.
type CacheOptions struct {
	// MaxEntries bounds the number of known keys held (default 100000;
	// each entry holds the key's record, about half a kilobyte). When full,
	// an insert evicts an expired entry if it finds one, else a random one.
	MaxEntries int
	// TTL is how long an entry is served without re-reading the store
	// (default 10 s). It is the longest a change made by another process
	// (or directly on the store) can go unnoticed by this one when nothing
	// invalidates the entry: see WithCache.
	TTL time.Duration
	// NegativeTTL is how long an unknown but well-formed token is refused
	// without a store read (default 5 s); a negative value disables negative
	// entries.
	NegativeTTL time.Duration
	// MaxNegative bounds the negative entries (default 10000), separately
	// from MaxEntries, so a flood of random tokens cannot evict known keys.
	MaxNegative int
}

// Cache defaults.
const (
	DefaultCacheEntries     = 100_000
	DefaultCacheTTL         = 10 * time.Second
	DefaultCacheNegativeTTL = 5 * time.Second
	DefaultCacheNegative    = 10_000
)

// WithCache turns on the verification cache: Verify then reads the store
// only on a miss, and a burst of requests with one uncached key makes one
// store read (the others wait for it). A hit still compares the keyed hash
// in constant time and checks revocation, grace and expiry against the
// clock, so a cached key never outlives its expiry or grace end. Unknown
// but well-formed tokens are remembered for NegativeTTL, so floods of
// random keys do not reach the database. Store errors are never cached.
//
// Consistency: Revoke, RevokeAll, Rotate, Update and the hash upgrade
// through this Manager (and the rotation.Scheduler's rotations) drop the affected
// entries before they return, so this process never accepts a key after
// revoking it; Create and Import drop a negative entry for the new key.
// Changes made by other processes on the same store: with a started
// follow.Follower (package follow), they are seen within the follower's
// poll interval (default 250 ms) plus one feed query, or at once when it is
// woken (Follower.Notify, such as from PostgreSQL LISTEN/NOTIFY); while the feed
// cannot be read, and without a follower, within TTL (NegativeTTL for keys
// created elsewhere). A bus works too: wire WithInvalidationPublisher to it
// and it to Invalidate on the other processes. Changes made on the
// database behind the store's back (not in the feed) are seen within TTL,
// or at once after InvalidateAll.
//
// Keys returned by Verify are shared with the cache: never modify one
// (Clone it to change it).
func WithCache(o CacheOptions) Option {
	return func(c *config) error {
		if o.MaxEntries < 0 || o.TTL < 0 || o.MaxNegative < 0 {
			return fmt.Errorf("%w: cache sizes and TTL must not be negative", ErrInvalid)
		}
		if o.MaxEntries == 0 {
			o.MaxEntries = DefaultCacheEntries
		}
		if o.TTL == 0 {
			o.TTL = DefaultCacheTTL
		}
		if o.NegativeTTL == 0 {
			o.NegativeTTL = DefaultCacheNegativeTTL
		}
		if o.MaxNegative == 0 {
			o.MaxNegative = DefaultCacheNegative
		}
		c.cache = &o
		return nil
	}
}

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

// changed drops lookups from this Manager's cache and tells the publisher.
// Management calls run it after their store write, whether the write
// reported success or not (a failed write may still have committed).
func (m *Manager) changed(ctx context.Context, lookups ...string) {
	if len(lookups) == 0 {
		return
	}
	m.Invalidate(lookups...)
	if m.cfg.publish != nil {
		m.cfg.publish(ctx, lookups)
	}
}

// fetch returns the record whose lookup value is lookup: from the cache when
// there is a live entry, else with one store read shared by every
// concurrent caller, which fills the cache. now is the raw clock reading of
// the verify. The returned key may be shared: never modify it. Store errors
// other than ErrNotFound are returned as the store gave them.
func (m *Manager) fetch(ctx context.Context, lookup string, now time.Time, r *verifyRun) (*Key, error) {
	c := m.cache
	if c == nil {
		return m.read(ctx, lookup)
	}
	if v, ok := c.read.Load(lookup); ok {
		if e := v.(*cacheEntry); now.Before(e.expires) {
			r.Cache = CacheHit
			if e.key == nil {
				return nil, ErrNotFound
			}
			return e.key, nil
		}
	}
	r.Cache = CacheMiss
	sh := c.shard(lookup)
	gen := sh.gen.Load()
	// The flight key carries the shard's generation: a verify that starts
	// after an invalidation never joins a read that started before it.
	v, err, shared := c.flight.Do(flightKey(lookup, gen), func() (any, error) {
		// A caller that missed the cache just before another flight
		// filled it starts a flight of its own once that one is over:
		// look again before reading the store.
		if k, err, ok := c.hit(lookup, now); ok {
			return k, err
		}
		k, err := m.read(ctx, lookup)
		evicted := false
		switch {
		case err == nil:
			evicted = c.put(sh, lookup, k, now.Add(c.ttl), gen)
		case errors.Is(err, ErrNotFound) && c.negTTL > 0:
			evicted = c.put(sh, lookup, nil, now.Add(c.negTTL), gen)
		}
		if evicted {
			m.count(ctx, CounterCacheEvicted, 1)
		}
		return k, err
	})
	if shared && err != nil && ctx.Err() == nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The caller whose read we shared gave up; our own context is fine.
		return m.read(ctx, lookup)
	}
	if err != nil {
		return nil, err
	}
	return v.(*Key), nil
}

// read is the store read of a verify, traced when the Metrics is a
// StoreReadTracer.
func (m *Manager) read(ctx context.Context, lookup string) (*Key, error) {
	if m.tracer == nil {
		return m.readLookup(ctx, lookup)
	}
	sctx := m.tracer.StartStoreRead(ctx)
	k, err := m.readLookup(sctx, lookup)
	m.tracer.EndStoreRead(sctx, err)
	return k, err
}

// hit returns the live entry for lookup at now, if any: the key, or
// ErrNotFound for a negative entry. (fetch does the same inline on its
// hot path.)
func (c *verifyCache) hit(lookup string, now time.Time) (*Key, error, bool) {
	v, ok := c.read.Load(lookup)
	if !ok {
		return nil, nil, false
	}
	e := v.(*cacheEntry)
	if !now.Before(e.expires) {
		return nil, nil, false
	}
	if e.key == nil {
		return nil, ErrNotFound, true
	}
	return e.key, nil, true
}

// flightKey is the singleflight key of a read of lookup at generation gen.
func flightKey(lookup string, gen uint64) string {
	b := make([]byte, 0, len(lookup)+21)
	b = append(b, lookup...)
	b = append(b, 0)
	return string(strconv.AppendUint(b, gen, 10))
}

// verifyCache maps lookup values to records. Reads are lock-free: one
// sync.Map that a hit consults and nothing else, so one hot key does not
// make every core write to one lock word. Writers (fills, invalidations,
// evictions) go through shards, chosen by a seeded hash of the lookup
// value: each has a mutex, plain maps of its entries (for counting and for
// eviction at a random position) and a count of invalidations (gen). A
// store read fills the cache only if its shard's count did not move since
// the read began, so a read that raced a revocation can never re-insert the
// record it saw before the revocation.
type verifyCache struct {
	read   sync.Map // lookup -> *cacheEntry
	seed   maphash.Seed
	mask   uint64
	ttl    time.Duration
	negTTL time.Duration
	shards []cacheShard
	flight singleflight.Group
}

type cacheShard struct {
	gen atomic.Uint64 // invalidations so far

	mu     sync.Mutex             // guards what follows and every write of its lookups to read
	pos    map[string]*cacheEntry // the known-key entries of this shard
	neg    map[string]*cacheEntry // the negative entries of this shard
	maxPos int
	maxNeg int
}

// cacheEntry is immutable once published.
type cacheEntry struct {
	key     *Key // nil for a negative entry
	expires time.Time
}

// maxShards and minPerShard size the shards: enough of them to spread the
// writers, each large enough that the per-shard bounds add up to the
// configured ones without rounding away most of a small cache.
const (
	maxShards   = 64
	minPerShard = 64
)

func newVerifyCache(o *CacheOptions) *verifyCache {
	if o == nil {
		return nil
	}
	n := 1
	for n < maxShards && o.MaxEntries/(n*2) >= minPerShard {
		n *= 2
	}
	c := &verifyCache{
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		ttl:    o.TTL,
		negTTL: o.NegativeTTL,
		shards: make([]cacheShard, n),
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.maxPos = o.MaxEntries / n
		sh.maxNeg = o.MaxNegative / n
		if i < o.MaxNegative%n {
			sh.maxNeg++ // spread the remainder: a tiny negative bound still works
		}
		sh.pos = map[string]*cacheEntry{}
		sh.neg = map[string]*cacheEntry{}
	}
	return c
}

func (c *verifyCache) shard(lookup string) *cacheShard {
	if c.mask == 0 {
		return &c.shards[0]
	}
	return &c.shards[maphash.String(c.seed, lookup)&c.mask]
}

// put stores an entry of shard s (negative when k is nil) unless s was
// invalidated since generation gen was read, and reports whether it
// evicted another entry to make room.
func (c *verifyCache) put(s *cacheShard, lookup string, k *Key, expires time.Time, gen uint64) (evicted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen.Load() != gen {
		return false
	}
	index, other, limit := s.pos, s.neg, s.maxPos
	if k == nil {
		index, other, limit = s.neg, s.pos, s.maxNeg
	}
	if _, ok := index[lookup]; !ok && len(index) >= limit {
		if limit == 0 {
			return false
		}
		c.evict(index)
		evicted = true
	}
	e := &cacheEntry{key: k, expires: expires}
	delete(other, lookup)
	index[lookup] = e
	c.read.Store(lookup, e)
	return evicted
}

// evictSample is how many entries an eviction looks at for an expired one.
const evictSample = 4

// evict removes one entry of index (a shard's map, locked): the one
// expiring first among a few taken at a random position (Go randomises map
// iteration), which is an expired one whenever the sample holds one.
func (c *verifyCache) evict(index map[string]*cacheEntry) {
	var victim string
	var first time.Time
	n := 0
	for l, e := range index {
		if n == 0 || e.expires.Before(first) {
			victim, first = l, e.expires
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(index, victim)
	c.read.Delete(victim)
}

func (c *verifyCache) invalidate(lookup string) {
	s := c.shard(lookup)
	s.mu.Lock()
	s.gen.Add(1)
	delete(s.pos, lookup)
	delete(s.neg, lookup)
	c.read.Delete(lookup)
	s.mu.Unlock()
}

func (c *verifyCache) invalidateAll() {
	for i := range c.shards {
		c.shards[i].mu.Lock()
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.gen.Add(1)
		clear(s.pos)
		clear(s.neg)
	}
	c.read.Clear()
	for i := range c.shards {
		c.shards[i].mu.Unlock()
	}
}

// size returns the number of known-key and negative entries.
func (c *verifyCache) size() (pos, neg int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		pos += len(s.pos)
		neg += len(s.neg)
		s.mu.Unlock()
	}
	return pos, neg
}
