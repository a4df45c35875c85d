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
type MemoryLimiter struct {
	seed     maphash.Seed // for the key ID or tenant
	seedName maphash.Seed // for the limit name
	start    time.Time    // monotonic origin of the nanosecond clock
	perShard int
	shards   [limiterShards]limiterShard
}

const limiterShards = 64

// DefaultLimiterEntries bounds a MemoryLimiter's states unless
// NewMemoryLimiter is given another bound.
const DefaultLimiterEntries = 1 << 20

type limiterShard struct {
	mu  sync.Mutex
	tat map[uint64]*int64 // limit identity -> theoretical arrival time (ns)
	_   [40]byte          // keep shards on separate cache lines
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
	l.allowAt(k, cost, int64(time.Since(l.start)), &d)
	return d, nil
}

// allowAt is Allow at now, in nanoseconds since l.start on the monotonic
// clock (a verify passes the reading it already took). It fills d (through
// a pointer: a decision is 72 bytes) and returns d.Allowed.
func (l *MemoryLimiter) allowAt(k *Key, cost int64, now int64, d *RateDecision) bool {
	n := len(k.RateLimits)
	if n == 0 {
		*d = RateDecision{Allowed: true}
		return true
	}
	if n == 1 {
		return l.allowOne(k, cost, now, d)
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
	*d = l.decide(k, ids[:n], cost, now)
	for i := nl - 1; i >= 0; i-- {
		l.shards[locked[i]].mu.Unlock()
	}
	return d.Allowed
}

// allowOne is allowAt for a key with one limit (the common case): one
// shard, no arrays.
func (l *MemoryLimiter) allowOne(k *Key, cost, now int64, d *RateDecision) bool {
	r := &k.RateLimits[0]
	id := l.ident(k, r)
	s := &l.shards[id%limiterShards]
	window := int64(r.Window)
	step := max(1, window/max(1, r.Limit))
	s.mu.Lock()
	p := s.tat[id]
	tat := now
	if p != nil {
		tat = max(*p, now)
	}
	next := tat + cost*step
	if next-now > window {
		s.mu.Unlock()
		*d = RateDecision{Limit: *r, Remaining: 0, Reset: time.Duration(tat - now), RetryAfter: time.Duration(next - window - now)}
		return false
	}
	if p != nil {
		*p = next
	} else {
		l.store(s, id, next, now)
	}
	s.mu.Unlock()
	*d = RateDecision{Allowed: true, Limit: *r, Remaining: (window - (next - now)) / step, Reset: time.Duration(next - now)}
	return true
}

// decide runs GCRA on every limit (shards locked), commits when all allow.
func (l *MemoryLimiter) decide(k *Key, ids []uint64, cost, now int64) RateDecision {
	var newTAT [MaxRateLimits]int64
	var slots [MaxRateLimits]*int64
	best := RateDecision{Allowed: true, Remaining: -1}
	for i, id := range ids {
		r := &k.RateLimits[i]
		window := int64(r.Window)
		step := max(1, window/max(1, r.Limit)) // emission interval
		tat := now
		if p := l.shards[id%limiterShards].tat[id]; p != nil {
			slots[i] = p
			tat = max(*p, now)
		}
		next := tat + cost*step
		if next-now > window {
			// Refused: how long until enough budget has leaked away.
			return RateDecision{Limit: *r, Remaining: 0, Reset: time.Duration(tat - now),
				RetryAfter: time.Duration(next - window - now)}
		}
		newTAT[i] = next
		rem := (window - (next - now)) / step
		if best.Remaining < 0 || rem < best.Remaining {
			best.Limit, best.Remaining, best.Reset = *r, rem, time.Duration(next-now)
		}
	}
	for i, id := range ids {
		if slots[i] != nil {
			*slots[i] = newTAT[i] // tracked: no map write, no allocation
		} else {
			l.store(&l.shards[id%limiterShards], id, newTAT[i], now)
		}
	}
	return best
}

// store records tat for id, making room when the shard is full (mu held).
func (l *MemoryLimiter) store(s *limiterShard, id uint64, tat, now int64) {
	if s.tat == nil {
		s.tat = make(map[uint64]*int64)
	}
	if len(s.tat) >= l.perShard {
		for k, t := range s.tat { // drop idle states: their budget is whole
			if *t <= now {
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
	p := new(int64)
	*p = tat
	s.tat[id] = p
}
