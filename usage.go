package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/apikit/apikey/internal/worker"
)

// Usage tracking defaults.
const (
	// DefaultUsageInterval is how often a started UsageTracker flushes.
	DefaultUsageInterval = 60 * time.Second
	// DefaultUsageMaxPending bounds the keys with a pending use.
	DefaultUsageMaxPending = 100_000
	defaultUsageBatch      = 500
	usageShards            = 64
)

// UsageTracker records the last use of keys (time, client IP, client name)
// without a store write per request. Touch coalesces uses per key in memory
// (the latest wins); a flusher writes the pending uses with
// Store.RecordUsage once per interval, in batches, so N requests on one key
// within an interval make one write. Memory is bounded: beyond the maximum
// number of pending keys, new keys are dropped and counted (see Stats). A
// failed flush puts its records back (forward-only) for the next one; it
// never blocks Touch.
//
// NewUsageTracker starts nothing; call Start to run the flusher and Close,
// after the HTTP server has stopped serving, to stop it and flush. It is
// safe for concurrent use.
type UsageTracker struct {
	store      Store
	interval   time.Duration
	maxPending int64
	batchSize  int
	logger     *slog.Logger
	metrics    Metrics // WithUsageMetrics; nil: none

	shards  [usageShards]usageShard
	pending atomic.Int64

	writes   atomic.Uint64
	records  atomic.Uint64
	dropped  atomic.Uint64
	failures atomic.Uint64

	flushMu sync.Mutex // one flush at a time

	lifeMu  sync.Mutex
	started bool
	closed  bool
	bg      worker.Worker // the flush loop
}

type usageShard struct {
	mu sync.Mutex
	m  map[string]usageEntry
	_  [48]byte // keep shards on separate cache lines
}

type usageEntry struct {
	at         time.Time
	ip, client string
	// Per-day outcome counts (usage_counts.go): the OutcomeValid requests
	// of the current day in validDay/validN (no map work per Touch), the
	// rest in counts.
	validDay int64 // Unix seconds of the UTC midnight
	validN   int64
	counts   map[usageCountKey]int64
}

// UsageOption configures a UsageTracker.
type UsageOption func(*UsageTracker) error

// WithUsageInterval sets how often pending uses are written (default 60 s).
// It is also the most a key's LastUsedAt lags behind, and the timeout of
// one flush.
func WithUsageInterval(d time.Duration) UsageOption {
	return func(t *UsageTracker) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithUsageInterval(%v): must be positive", ErrInvalid, d)
		}
		t.interval = d
		return nil
	}
}

// WithUsageMaxPending bounds the number of keys with a pending use (default
// 100 000). Uses of further keys are dropped until the next flush and
// counted in UsageStats.Dropped: usage data is best-effort, memory is not.
func WithUsageMaxPending(n int) UsageOption {
	return func(t *UsageTracker) error {
		if n <= 0 {
			return fmt.Errorf("%w: WithUsageMaxPending(%d): must be positive", ErrInvalid, n)
		}
		t.maxPending = int64(n)
		return nil
	}
}

// WithUsageBatchSize sets how many records one RecordUsage call carries
// (default 500).
func WithUsageBatchSize(n int) UsageOption {
	return func(t *UsageTracker) error {
		if n <= 0 {
			return fmt.Errorf("%w: WithUsageBatchSize(%d): must be positive", ErrInvalid, n)
		}
		t.batchSize = n
		return nil
	}
}

// WithUsageLogger sets the logger for flush failures (default: none).
func WithUsageLogger(l *slog.Logger) UsageOption {
	return func(t *UsageTracker) error {
		if l != nil {
			t.logger = l
		}
		return nil
	}
}

// WithUsageMetrics reports the tracker's records written, failed flushes
// and dropped uses to mx (usually the Metrics given to the Manager with
// WithMetrics). Nil, the default, reports nothing.
func WithUsageMetrics(mx Metrics) UsageOption {
	return func(t *UsageTracker) error { t.metrics = mx; return nil }
}

// count reports n events c to the tracker's Metrics, if any.
func (t *UsageTracker) count(ctx context.Context, c Counter, n int64) {
	if t.metrics != nil {
		t.metrics.Count(ctx, c, n)
	}
}

// NewUsageTracker returns a tracker writing to store. It starts no
// goroutine.
func NewUsageTracker(store Store, opts ...UsageOption) (*UsageTracker, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalid)
	}
	t := &UsageTracker{
		store:      store,
		interval:   DefaultUsageInterval,
		maxPending: DefaultUsageMaxPending,
		batchSize:  defaultUsageBatch,
		logger:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	for i := range t.shards {
		t.shards[i].m = make(map[string]usageEntry)
	}
	return t, nil
}

// Touch records a use of key keyID at at from ip by client (either may be
// empty). It only updates memory: a later at replaces an earlier one with
// its ip and client, an earlier or equal at changes nothing. It also counts
// one "valid" request (OutcomeValid's label) for the key on the UTC day of at (see
// UsageCounts). For a key that already has a pending use that day it does
// not allocate.
func (t *UsageTracker) Touch(keyID string, at time.Time, ip, client string) {
	if keyID == "" {
		return
	}
	t.merge(keyID, usageEntry{at: at, ip: cleanUsageText(ip, maxUsageIPLen), client: cleanUsageText(client, maxUsageClientLen),
		validDay: dayStart(at), validN: 1}, usageCountKey{}, 0)
}

// Bounds on the client-controlled text a usage record carries.
const (
	maxUsageIPLen     = 64
	maxUsageClientLen = 128
)

// cleanUsageText truncates s to at most n bytes on a rune boundary and
// replaces invalid UTF-8, so client-controlled values can neither bloat
// memory nor make a store refuse (and so retry forever) a batch. Valid
// short input is returned as is, without allocating.
func cleanUsageText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for i := 0; i < utf8.UTFMax && len(s) > 0 && !utf8.ValidString(s); i++ {
			s = s[:len(s)-1]
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// merge applies e to keyID's pending entry, forward-only, adds its counts
// (e.validN requests on e.validDay and the map e.counts) and n requests
// under ck, and reports whether it was kept (false: dropped for lack of
// room).
func (t *UsageTracker) merge(keyID string, e usageEntry, ck usageCountKey, n int64) bool {
	s := &t.shards[shardOf(keyID)]
	s.mu.Lock()
	defer s.mu.Unlock()
	// Strings are copied when kept, so a pending entry never pins the
	// memory of the request (a header) it was cut from; an unchanged value
	// keeps the copy already held, so the steady state does not allocate.
	if old, ok := s.m[keyID]; ok {
		if e.at.After(old.at) {
			old.at = e.at
			old.ip = keepString(old.ip, e.ip)
			old.client = keepString(old.client, e.client)
		}
		old.addValid(e.validDay, e.validN)
		old.counts = addCounts(old.counts, ck, n, e.counts)
		s.m[keyID] = old
		return true
	}
	if t.pending.Add(1) > t.maxPending {
		t.pending.Add(-1)
		t.dropped.Add(1)
		t.count(context.Background(), CounterUsageDropped, 1)
		return false
	}
	e.ip, e.client = strings.Clone(e.ip), strings.Clone(e.client)
	e.counts = addCounts(nil, ck, n, e.counts)
	s.m[strings.Clone(keyID)] = e
	return true
}

// keepString returns held if it equals s, else a copy of s.
func keepString(held, s string) string {
	if held == s {
		return held
	}
	return strings.Clone(s)
}

// shardOf hashes keyID (FNV-1a) to a shard without allocating.
func shardOf(keyID string) int {
	h := uint32(2166136261)
	for i := 0; i < len(keyID); i++ {
		h ^= uint32(keyID[i])
		h *= 16777619
	}
	return int(h % usageShards)
}

// Flush writes every pending use now, in batches. Records of a batch that
// fails are put back for the next flush (unless a newer use replaced them)
// and the error is returned. Flushes never run concurrently.
func (t *UsageTracker) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	batch := t.drain()
	for len(batch) > 0 {
		n := min(len(batch), t.batchSize)
		if err := t.store.RecordUsage(ctx, batch[:n]); err != nil {
			// Put this batch and the untried rest back, forward-only: a
			// newer use recorded meanwhile wins.
			t.failures.Add(1)
			t.count(ctx, CounterUsageFlushFailures, 1)
			for _, u := range batch {
				t.merge(u.KeyID, usageEntry{at: u.At, ip: u.IP, client: u.Client, counts: countMap(u.Counts)}, usageCountKey{}, 0)
			}
			t.logger.LogAttrs(ctx, levelWarn, "apikey: usage flush failed; will retry",
				slog.String("error", err.Error()), slog.Int64("pending", t.pending.Load()))
			return fmt.Errorf("apikey: usage flush: %w", err)
		}
		t.writes.Add(1)
		t.records.Add(uint64(n))
		t.count(ctx, CounterUsageRecords, int64(n))
		batch = batch[n:]
	}
	return nil
}

// drain takes every pending entry out of the shards.
func (t *UsageTracker) drain() []Usage {
	out := make([]Usage, 0, t.pending.Load())
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, e := range s.m {
			e.addValid(-1, 0) // fold the current day's valid count into the map
			out = append(out, Usage{KeyID: id, At: e.at, IP: e.ip, Client: e.client, Counts: countList(e.counts)})
		}
		t.pending.Add(-int64(len(s.m)))
		clear(s.m)
		s.mu.Unlock()
	}
	return out
}

// Start runs the flusher in a goroutine: it flushes every interval until
// Close is called or ctx ends. Store writes use ctx's values but not its
// cancellation, each bounded by the interval. Start may be called once.
func (t *UsageTracker) Start(ctx context.Context) error {
	t.lifeMu.Lock()
	defer t.lifeMu.Unlock()
	switch {
	case t.closed:
		return errors.New("apikey: usage tracker is closed")
	case t.started:
		return errors.New("apikey: usage tracker already started")
	}
	t.started = true
	return t.bg.Start(ctx, ErrConflict, "usage tracker", t.run)
}

func (t *UsageTracker) run(ctx context.Context) {
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	wctx := context.WithoutCancel(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fctx, cancel := context.WithTimeout(wctx, t.interval)
			_ = t.Flush(fctx) // logged by Flush; records kept for the next tick
			cancel()
		}
	}
}

// Close stops the flusher (waiting for a flush in progress) and flushes
// what is pending with ctx, returning the flush error. Call it after the
// HTTP server has stopped serving, so no use is left behind. Calling it
// again only flushes again.
func (t *UsageTracker) Close(ctx context.Context) error {
	t.lifeMu.Lock()
	t.bg.Stop()
	t.closed = true
	t.lifeMu.Unlock()
	return t.Flush(ctx)
}

// UsageStats are counters of a UsageTracker, for metrics.
type UsageStats struct {
	// Pending is the number of keys with a use not yet written.
	Pending int
	// Writes counts successful RecordUsage calls (batches).
	Writes uint64
	// Records counts usage records written.
	Records uint64
	// Dropped counts uses refused because MaxPending keys were pending.
	Dropped uint64
	// Failures counts batches whose RecordUsage failed (and were kept for
	// a retry).
	Failures uint64
}

// Stats returns the tracker's counters.
func (t *UsageTracker) Stats() UsageStats {
	return UsageStats{
		Pending:  int(t.pending.Load()),
		Writes:   t.writes.Load(),
		Records:  t.records.Load(),
		Dropped:  t.dropped.Load(),
		Failures: t.failures.Load(),
	}
}
