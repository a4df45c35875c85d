package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/worker"
)

// Follower defaults.
const (
	// DefaultInterval is how often a started Follower reads the feed.
	DefaultInterval = 250 * time.Millisecond
	// DefaultBatch is how many feed entries one read asks for.
	DefaultBatch = 1000
	// DefaultTimeout bounds one poll.
	DefaultTimeout = 5 * time.Second
)

// Follower keeps a Manager's verification cache in step with the changes
// other processes make on the same store. It reads the store's change feed
// (apikey.Store.Changes) from where it last stopped and drops the cache entry of
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
// it needs were trimmed meanwhile (apikey.Store.Purge; apikey.ErrChangesTrimmed), it
// empties the whole cache and restarts from the newest entry.
//
// Keys created by other processes are not in the feed: a negative cache
// entry for one still lasts up to apikey.CacheOptions.NegativeTTL.
//
// New starts nothing; Start reads the feed's position and runs the
// loop; Stop ends it. A Follower is safe for concurrent use. Without a
// cache (apikey.WithCache) it has nothing to drop.
type Follower struct {
	m        *apikey.Manager
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
	stats   Stats

	bg worker.Worker // the polling loop
}

// Option configures a Follower. New refuses an invalid value with an
// error (wrapping apikey.ErrInvalid) naming the option.
type Option func(*Follower) error

// WithInterval sets how often the follower reads the feed (default
// 250 ms). It bounds how long a change made elsewhere goes unnoticed here,
// plus the duration of one feed read.
func WithInterval(d time.Duration) Option {
	return func(f *Follower) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithInterval(%v): must be positive", apikey.ErrInvalid, d)
		}
		f.interval = d
		return nil
	}
}

// WithBatch sets how many entries one feed read asks for (default
// 1000). A full batch is followed at once by another read.
func WithBatch(n int) Option {
	return func(f *Follower) error {
		if n <= 0 {
			return fmt.Errorf("%w: WithBatch(%d): must be positive", apikey.ErrInvalid, n)
		}
		f.batch = n
		return nil
	}
}

// WithTimeout bounds one poll (default 5 s); a poll that runs out
// counts as a failure.
func WithTimeout(d time.Duration) Option {
	return func(f *Follower) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithTimeout(%v): must be positive", apikey.ErrInvalid, d)
		}
		f.timeout = d
		return nil
	}
}

// WithFailureHook sets a function called after every failed poll,
// for metrics and alerts; keep it fast. The error wraps
// apikey.ErrStoreUnavailable. While polls fail, changes made by other processes
// are seen only after the cache TTL.
func WithFailureHook(h func(ctx context.Context, err error)) Option {
	return func(f *Follower) error {
		if h == nil {
			return fmt.Errorf("%w: WithFailureHook(nil)", apikey.ErrInvalid)
		}
		f.onFail = h
		return nil
	}
}

// New returns a follower of m's store that drops entries from m's cache.
// It does no I/O and starts no goroutine. An invalid option is an error
// naming it.
func New(m *apikey.Manager, opts ...Option) (*Follower, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: follow.New: nil manager", apikey.ErrInvalid)
	}
	f := &Follower{
		m:        m,
		interval: DefaultInterval,
		batch:    DefaultBatch,
		timeout:  DefaultTimeout,
		wake:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		if err := o(f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Stats are counters of a Follower, for metrics.
type Stats struct {
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
func (f *Follower) Stats() Stats {
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
// Starting a started follower is an error (apikey.ErrConflict).
func (f *Follower) Start(ctx context.Context) error {
	if f.bg.Running() {
		return fmt.Errorf("%w: follower already started", apikey.ErrConflict)
	}
	f.pollMu.Lock()
	f.positioned = false
	f.pollMu.Unlock()
	_ = f.Poll(ctx) // positions; a failure is recorded and retried by the loop
	return f.bg.Start(ctx, apikey.ErrConflict, "follower", f.loop)
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
func (f *Follower) Stop() { f.bg.Stop() }

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
// apikey.ErrStoreUnavailable; it is also logged, counted and hooked. Polls never
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
		cs, err := f.m.Store().Changes(ctx, f.pos, f.batch)
		if errors.Is(err, apikey.ErrChangesTrimmed) {
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
	n, err := f.m.Store().LastChange(ctx)
	if err != nil {
		return storeErr("last change", err)
	}
	f.pos, f.positioned = n, true
	f.m.InvalidateAll()
	return nil
}

// trimmed handles apikey.ErrChangesTrimmed: the follower cannot tell which keys
// changed, so it empties the cache at once (position then empties it again
// once it knows where the feed stands).
func (f *Follower) trimmed(ctx context.Context) {
	f.positioned = false
	f.m.InvalidateAll()
	f.statsMu.Lock()
	f.stats.Resets++
	f.statsMu.Unlock()
	f.count(ctx, apikey.CounterFeedResets, 1)
	f.m.Logger().LogAttrs(ctx, slog.LevelWarn,
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

	f.count(ctx, apikey.CounterFeedChanges, int64(applied))
	log := f.m.Logger()
	if err == nil {
		if f.streak > 0 {
			log.LogAttrs(ctx, slog.LevelInfo, "apikey: change feed readable again; caught up",
				slog.Int("failed_polls", f.streak), slog.Int64("position", f.pos))
		}
		f.streak = 0
		return
	}
	f.streak++
	f.count(ctx, apikey.CounterFeedFailures, 1)
	// Warn on the first failure of a streak, then at 2, 4, 8... failures,
	// so an outage does not flood the log at the poll rate.
	if f.streak&(f.streak-1) == 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "apikey: change feed unreadable; cached keys fall back to the cache TTL",
			slog.String("error", err.Error()), slog.Int("failed_polls", f.streak))
	}
	if f.onFail != nil {
		f.onFail(ctx, err)
	}
}

// storeErr wraps a store failure as the Manager does: sentinel errors pass
// through, anything else becomes apikey.ErrStoreUnavailable.
func storeErr(op string, err error) error {
	for _, e := range []error{apikey.ErrNotFound, apikey.ErrConflict, apikey.ErrAlreadyExists, apikey.ErrInvalid, apikey.ErrChangesTrimmed} {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("%w: %s: %w", apikey.ErrStoreUnavailable, op, err)
}

// count reports n events c to the Manager's Metrics (apikey.WithMetrics),
// if any.
func (f *Follower) count(ctx context.Context, c apikey.Counter, n int64) {
	if mx := f.m.Metrics(); mx != nil && n > 0 {
		mx.Count(ctx, c, n)
	}
}
