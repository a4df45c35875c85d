package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Follower defaults.
const (
	// DefaultFollowInterval is how often a started Follower reads the feed.
	DefaultFollowInterval = 250 * time.Millisecond
	// DefaultFollowBatch is how many feed entries one read asks for.
	DefaultFollowBatch = 1000
	// DefaultFollowTimeout bounds one poll.
	DefaultFollowTimeout = 5 * time.Second
)

// Follower keeps a Manager's verification cache in step with the changes
// other processes make on the same store. It reads the store's change feed
// (Store.Changes) from where it last stopped and drops the cache entry of
// every key an entry names (revoked, rotated, updated, re-hashed), so a
// change committed by any process is refused here at most one poll
// interval plus one feed read after its commit, instead of one cache TTL.
// Notify makes it read at once (a push path such as PostgreSQL
// LISTEN/NOTIFY calls it); polling stays as the safety net.
//
// Each poll is one Changes call from the last position (repeated only
// while full batches come back), whatever the number of keys.
//
// If the feed cannot be read, the failure is logged, counted (Stats) and
// passed to the failure hook, and the cache falls back to its TTL: entries
// are served until they expire, as without a follower. When the feed is
// readable again the follower catches up from its position. If the entries
// it needs were trimmed meanwhile (Store.Purge; ErrChangesTrimmed), it
// empties the whole cache and restarts from the newest entry.
//
// Keys created by other processes are not in the feed: a negative cache
// entry for one still lasts up to CacheOptions.NegativeTTL.
//
// NewFollower starts nothing; Start reads the feed's position and runs the
// loop; Stop ends it. A Follower is safe for concurrent use. Without a
// cache (WithCache) it has nothing to drop.
type Follower struct {
	m        *Manager
	interval time.Duration
	batch    int
	timeout  time.Duration
	onFail   func(ctx context.Context, err error)

	wake chan struct{}

	pollMu     sync.Mutex // one poll at a time; guards what follows
	pos        int64
	positioned bool
	streak     int // consecutive failed polls

	statsMu sync.Mutex
	stats   FollowerStats

	bg worker // the polling loop
}

// FollowOption configures a Follower. Zero or negative values are ignored
// and the default kept.
type FollowOption func(*Follower)

// WithFollowInterval sets how often the follower reads the feed (default
// 250 ms). It bounds how long a change made elsewhere goes unnoticed here,
// plus the duration of one feed read.
func WithFollowInterval(d time.Duration) FollowOption {
	return func(f *Follower) {
		if d > 0 {
			f.interval = d
		}
	}
}

// WithFollowBatch sets how many entries one feed read asks for (default
// 1000). A full batch is followed at once by another read.
func WithFollowBatch(n int) FollowOption {
	return func(f *Follower) {
		if n > 0 {
			f.batch = n
		}
	}
}

// WithFollowTimeout bounds one poll (default 5 s); a poll that runs out
// counts as a failure.
func WithFollowTimeout(d time.Duration) FollowOption {
	return func(f *Follower) {
		if d > 0 {
			f.timeout = d
		}
	}
}

// WithFollowFailureHook sets a function called after every failed poll,
// for metrics and alerts; keep it fast. The error wraps
// ErrStoreUnavailable. While polls fail, changes made by other processes
// are seen only after the cache TTL.
func WithFollowFailureHook(h func(ctx context.Context, err error)) FollowOption {
	return func(f *Follower) {
		if h != nil {
			f.onFail = h
		}
	}
}

// NewFollower returns a follower of m's store that drops entries from m's
// cache. It does no I/O and starts no goroutine.
func NewFollower(m *Manager, opts ...FollowOption) *Follower {
	f := &Follower{
		m:        m,
		interval: DefaultFollowInterval,
		batch:    DefaultFollowBatch,
		timeout:  DefaultFollowTimeout,
		wake:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// FollowerStats are counters of a Follower, for metrics.
type FollowerStats struct {
	// Polls counts polls, successful or not.
	Polls uint64
	// Changes counts feed entries applied (cache entries dropped).
	Changes uint64
	// Failures counts polls that could not read the feed.
	Failures uint64
	// Resets counts whole-cache resets because the entries the follower
	// needed were trimmed.
	Resets uint64
	// Position is the Seq of the last entry applied (or the feed's newest
	// entry when the follower positioned itself).
	Position int64
	// LastSuccess is when the feed was last read successfully (manager
	// clock); zero if never. Compare it with Manager.Now to alert on a
	// follower that is behind.
	LastSuccess time.Time
	// Failing says the last poll failed: changes made elsewhere are seen
	// only after the cache TTL until a poll succeeds.
	Failing bool
}

// Stats returns a snapshot of the follower's counters.
func (f *Follower) Stats() FollowerStats {
	f.statsMu.Lock()
	defer f.statsMu.Unlock()
	return f.stats
}

// Start positions the follower at the feed's newest entry, empties the
// cache (entries cached before that instant may predate changes the
// follower will never see), and then polls every interval, and whenever
// Notify is called, in a goroutine, until ctx ends or Stop is called. If
// the feed cannot be read at Start, the failure is handled like any failed
// poll and the follower positions itself at the first poll that succeeds.
// Starting a started follower is an error (ErrConflict).
func (f *Follower) Start(ctx context.Context) error {
	if f.bg.running() {
		return fmt.Errorf("%w: follower already started", ErrConflict)
	}
	f.pollMu.Lock()
	f.positioned = false
	f.pollMu.Unlock()
	_ = f.Poll(ctx) // positions; a failure is recorded and retried by the loop
	return f.bg.start(ctx, "follower", f.loop)
}

func (f *Follower) loop(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.wake:
		}
		_ = f.Poll(ctx) // recorded, logged and hooked by Poll
	}
}

// Stop ends the loop Start began and waits for it (a poll in progress is
// cancelled). Stopping a follower that is not running does nothing; it can
// be started again. Stop it before closing the store's database.
func (f *Follower) Stop() { f.bg.stop() }

// Notify asks a started follower to poll now rather than at its next tick.
// It never blocks; calls that arrive while a poll is pending or running
// are merged into one more poll.
func (f *Follower) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Poll reads the feed once, now, and drops the cache entries it names: the
// work of one tick, for callers that run their own loop (or tests). A
// follower that has no position yet takes the feed's newest entry as its
// position and empties the cache. The error, if any, wraps
// ErrStoreUnavailable; it is also logged, counted and hooked. Polls never
// overlap.
func (f *Follower) Poll(ctx context.Context) error {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	n, err := f.poll(pctx)
	f.record(ctx, n, err)
	return err
}

// poll does the reading of Poll and returns how many entries it applied.
func (f *Follower) poll(ctx context.Context) (int, error) {
	if !f.positioned {
		return 0, f.position(ctx)
	}
	applied := 0
	for {
		cs, err := f.m.store.Changes(ctx, f.pos, f.batch)
		if errors.Is(err, ErrChangesTrimmed) {
			f.trimmed(ctx)
			return applied, f.position(ctx)
		}
		if err != nil {
			return applied, storeErr("changes", err)
		}
		if len(cs) > 0 {
			lookups := make([]string, len(cs))
			for i, c := range cs {
				lookups[i] = c.Lookup
			}
			f.m.Invalidate(lookups...)
			f.pos = cs[len(cs)-1].Seq
			applied += len(cs)
		}
		if len(cs) < f.batch {
			return applied, nil
		}
	}
}

// position takes the feed's newest entry as the follower's position and
// then empties the cache: a record cached before the position was read may
// predate a change at or before it, which the follower will not see again.
// (A fill whose read began before the reset is refused by the cache.)
func (f *Follower) position(ctx context.Context) error {
	n, err := f.m.store.LastChange(ctx)
	if err != nil {
		return storeErr("last change", err)
	}
	f.pos, f.positioned = n, true
	f.m.InvalidateAll()
	return nil
}

// trimmed handles ErrChangesTrimmed: the follower cannot tell which keys
// changed, so it empties the cache at once (position then empties it again
// once it knows where the feed stands).
func (f *Follower) trimmed(ctx context.Context) {
	f.positioned = false
	f.m.InvalidateAll()
	f.statsMu.Lock()
	f.stats.Resets++
	f.statsMu.Unlock()
	f.m.count(ctx, CounterFeedResets, 1)
	f.m.cfg.logger.LogAttrs(ctx, levelWarn,
		"apikey: change feed trimmed past this follower's position; verification cache emptied",
		slog.Int64("position", f.pos))
}

// record updates the counters and logs after a poll. A poll cut short by
// the end of ctx (Stop) is not a failure.
func (f *Follower) record(ctx context.Context, applied int, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	f.statsMu.Lock()
	f.stats.Polls++
	f.stats.Changes += uint64(applied)
	f.stats.Position = f.pos
	f.stats.Failing = err != nil
	if err == nil {
		f.stats.LastSuccess = f.m.Now()
	} else {
		f.stats.Failures++
	}
	f.statsMu.Unlock()

	f.m.count(ctx, CounterFeedChanges, int64(applied))
	log := f.m.cfg.logger
	if err == nil {
		if f.streak > 0 {
			log.LogAttrs(ctx, levelInfo, "apikey: change feed readable again; caught up",
				slog.Int("failed_polls", f.streak), slog.Int64("position", f.pos))
		}
		f.streak = 0
		return
	}
	f.streak++
	f.m.count(ctx, CounterFeedFailures, 1)
	// Warn on the first failure of a streak, then at 2, 4, 8... failures,
	// so an outage does not flood the log at the poll rate.
	if f.streak&(f.streak-1) == 0 {
		log.LogAttrs(ctx, levelWarn, "apikey: change feed unreadable; cached keys fall back to the cache TTL",
			slog.String("error", err.Error()), slog.Int("failed_polls", f.streak))
	}
	if f.onFail != nil {
		f.onFail(ctx, err)
	}
}
