package apikey

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// MemoryLimiter is the in-process RateLimiter: GCRA (the generic cell rate
// algorithm, a leaky bucket kept as one "theoretical arrival time" per
// limit) on wall time, in shards with one lock each. A limit of L per
// window W admits L requests at once and then one every W/L. Its memory is
// bounded: at most maxEntries limit states; a state whose budget is whole
// again is idle and dropped first when room is needed. Allow allocates
// nothing for a limit already tracked.
//
// Limits hold within one process. Several processes need a shared limiter
// (package redislimit).
//
// Allow reads the exact monotonic clock. A Manager's verify path may read
// the limiter's coarse clock instead (see RateLimit): a goroutine that runs
// only while requests come faster than one per 100 us, and stops 100 ms
// after the last (a goroutine-leak check run at once after a burst of
// verifies may see it: wait those 100 ms, or ignore
// "github.com/apikit/apikey.(*coarseClock).tick").
type MemoryLimiter struct {
	seed     maphash.Seed // for the key ID or tenant
	seedName maphash.Seed // for the limit name
	start    time.Time    // monotonic origin of the nanosecond clock
	clock    coarseClock  // the verify path's clock (ratelimit_clock.go)
	perShard int
	shards   [limiterShards]limiterShard
}

const limiterShards = 64

// DefaultLimiterEntries bounds a MemoryLimiter's states unless
// NewMemoryLimiter is given another bound.
const DefaultLimiterEntries = 1 << 20

type limiterShard struct {
	mu  sync.Mutex
	tat map[uint64]*limitState // by limit identity
	_   [48]byte               // keep shards on separate cache lines (64 bytes)
}

// limitState is one limit's GCRA state: its theoretical arrival time, and
// the emission interval (window / limit) worked out for the limit and
// window it was last used with, so that a request divides only when they
// change.
type limitState struct {
	tat           int64 // nanoseconds since MemoryLimiter.start
	window, limit int64
	step          int64 // max(1, window / limit)
}

// emission returns the emission interval of a limit: max(1, window / limit).
func emission(window, limit int64) int64 { return max(1, window/max(1, limit)) }

// stepFor returns st's emission interval for a limit of window and limit,
// refreshing it when they changed since (mu held). A nil st gets a fresh
// one.
func (st *limitState) stepFor(window, limit int64) int64 {
	if st == nil {
		return emission(window, limit)
	}
	if st.window != window || st.limit != limit {
		st.window, st.limit, st.step = window, limit, emission(window, limit)
	}
	return st.step
}

var _ RateLimiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an in-process limiter holding at most
// maxEntries limit states (DefaultLimiterEntries when maxEntries <= 0).
// When full, it drops idle states, then (if none is idle) arbitrary ones:
// a dropped limit starts again with its whole budget.
func NewMemoryLimiter(maxEntries int) *MemoryLimiter {
	if maxEntries <= 0 {
		maxEntries = DefaultLimiterEntries
	}
	l := &MemoryLimiter{seed: maphash.MakeSeed(), seedName: maphash.MakeSeed(), start: time.Now(), perShard: max(1, maxEntries/limiterShards)}
	l.clock.start = l.start
	return l
}

// Len returns the number of limit states held.
func (l *MemoryLimiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}

// ident identifies one limit: (tenant, name) when shared, else (key, name):
// two seeded hashes mixed, so distinct limits collide with probability
// about 2^-64.
func (l *MemoryLimiter) ident(k *Key, r *RateLimit) uint64 {
	owner := k.ID
	if r.Shared {
		owner = k.Tenant
	}
	h := maphash.String(l.seed, owner) ^ maphash.String(l.seedName, r.Name)*0x9E3779B97F4A7C15
	if r.Shared {
		h ^= 0x5bd1e9955bd1e995
	}
	return h
}

// Allow implements RateLimiter: every limit of k or none spends cost.
func (l *MemoryLimiter) Allow(_ context.Context, k *Key, cost int64) (RateDecision, error) {
	var d RateDecision
	l.allowAt(k, cost, int64(time.Since(l.start)), &d, true)
	return d, nil
}

// allowAt is Allow at now, in nanoseconds since l.start on the monotonic
// clock (a verify passes the reading it already took). It fills d (through
// a pointer: a decision is 72 bytes) and returns d.Allowed. An allowed
// decision is filled in full (Limit, Remaining, Reset) only when full is
// set: a verify needs only the refusals' (saving a division and a copy).
func (l *MemoryLimiter) allowAt(k *Key, cost int64, now int64, d *RateDecision, full bool) bool {
	n := len(k.RateLimits)
	if n == 0 {
		*d = RateDecision{Allowed: true}
		return true
	}
	if n == 1 {
		return l.allowOne(k, cost, now, d, full)
	}
	if n > MaxRateLimits {
		n = MaxRateLimits // Create and Update refuse more; never index past the arrays
	}
	var ids [MaxRateLimits]uint64
	var locked [MaxRateLimits]uint8 // shard indexes, sorted, unique
	nl := 0
	for i := 0; i < n; i++ {
		ids[i] = l.ident(k, &k.RateLimits[i])
		s := uint8(ids[i] % limiterShards)
		j := 0
		for j < nl && locked[j] < s {
			j++
		}
		if j < nl && locked[j] == s {
			continue
		}
		copy(locked[j+1:nl+1], locked[j:nl])
		locked[j] = s
		nl++
	}
	for i := 0; i < nl; i++ { // in index order: no deadlock between callers
		l.shards[locked[i]].mu.Lock()
	}
	*d = l.decide(k, ids[:n], cost, now, full)
	for i := nl - 1; i >= 0; i-- {
		l.shards[locked[i]].mu.Unlock()
	}
	return d.Allowed
}

// allowOne is allowAt for a key with one limit (the common case): one
// shard, no arrays.
func (l *MemoryLimiter) allowOne(k *Key, cost, now int64, d *RateDecision, full bool) bool {
	r := &k.RateLimits[0]
	id := l.ident(k, r)
	s := &l.shards[id%limiterShards]
	window := int64(r.Window)
	s.mu.Lock()
	st := s.tat[id]
	step := st.stepFor(window, r.Limit)
	tat := now
	if st != nil {
		tat = max(st.tat, now)
	}
	next := tat + cost*step
	if next-now > window {
		s.mu.Unlock()
		*d = RateDecision{Limit: *r, Remaining: 0, Reset: time.Duration(tat - now), RetryAfter: time.Duration(next - window - now)}
		return false
	}
	if st != nil {
		st.tat = next
	} else {
		l.store(s, id, next, now, window, r.Limit, step)
	}
	s.mu.Unlock()
	if full {
		*d = RateDecision{Allowed: true, Limit: *r, Remaining: (window - (next - now)) / step, Reset: time.Duration(next - now)}
	} else {
		d.Allowed = true
	}
	return true
}

// decide runs GCRA on every limit (shards locked), commits when all allow.
// An allowed decision names the limit with the least budget left when
// full is set.
func (l *MemoryLimiter) decide(k *Key, ids []uint64, cost, now int64, full bool) RateDecision {
	var newTAT, steps [MaxRateLimits]int64
	var slots [MaxRateLimits]*limitState
	best := RateDecision{Allowed: true, Remaining: -1}
	for i, id := range ids {
		r := &k.RateLimits[i]
		window := int64(r.Window)
		st := l.shards[id%limiterShards].tat[id]
		step := st.stepFor(window, r.Limit) // emission interval
		steps[i] = step
		tat := now
		if st != nil {
			slots[i] = st
			tat = max(st.tat, now)
		}
		next := tat + cost*step
		if next-now > window {
			// Refused: how long until enough budget has leaked away.
			return RateDecision{Limit: *r, Remaining: 0, Reset: time.Duration(tat - now),
				RetryAfter: time.Duration(next - window - now)}
		}
		newTAT[i] = next
		if full {
			rem := (window - (next - now)) / step
			if best.Remaining < 0 || rem < best.Remaining {
				best.Limit, best.Remaining, best.Reset = *r, rem, time.Duration(next-now)
			}
		}
	}
	for i, id := range ids {
		if slots[i] != nil {
			slots[i].tat = newTAT[i] // tracked: no map write, no allocation
		} else {
			r := &k.RateLimits[i]
			l.store(&l.shards[id%limiterShards], id, newTAT[i], now, int64(r.Window), r.Limit, steps[i])
		}
	}
	if !full {
		best.Remaining = 0
	}
	return best
}

// store records a new state for id, making room when the shard is full
// (mu held).
func (l *MemoryLimiter) store(s *limiterShard, id uint64, tat, now, window, limit, step int64) {
	if s.tat == nil {
		s.tat = make(map[uint64]*limitState)
	}
	if len(s.tat) >= l.perShard {
		for k, t := range s.tat { // drop idle states: their budget is whole
			if t.tat <= now {
				delete(s.tat, k)
			}
		}
		for k := range s.tat { // none idle: drop arbitrary ones
			if len(s.tat) < l.perShard {
				break
			}
			delete(s.tat, k)
		}
	}
	s.tat[id] = &limitState{tat: tat, window: window, limit: limit, step: step}
}
