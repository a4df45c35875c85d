package rotation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/keylog"
	"github.com/apikit/apikey/internal/storeerr"
	"github.com/apikit/apikey/internal/worker"
)

// Scheduler defaults.
const (
	DefaultCheckInterval = time.Minute
	DefaultGrace         = 24 * time.Hour
	DefaultMaxRetryDelay = time.Hour
	defaultBatchSize     = 100
)

// Scheduler rotates keys whose NextRotationAt has passed and delivers each
// successor (by default to the key's rotation webhook, signed). A rotation
// commits only after a successful delivery; otherwise the successor is
// revoked, the old key stays valid, and a later check retries it.
//
// Several processes may run a Scheduler on one store: each due key is
// claimed with Store.ClaimRotation (a conditional move of NextRotationAt),
// so exactly one of them rotates it. The claim moves NextRotationAt to the
// retry time, which is when another process may try again if this one
// fails or dies.
//
// One known window: if the process dies after creating a successor and
// before committing or revoking it, that successor stays valid until its
// expiry (it may or may not have been delivered).
//
// NewScheduler starts nothing; call Start for a background loop, or RunOnce
// from your own loop. The scheduler reads time from the manager's clock.
type Scheduler struct {
	m        *apikey.Manager
	interval time.Duration
	grace    time.Duration
	minRetry time.Duration
	maxRetry time.Duration
	timeout  time.Duration
	batch    int
	deliver  Delivery
	// unusedAfter, when positive, makes every check also clean up keys
	// unused for that long (WithUnusedCleanup); unusedDry only lists them.
	unusedAfter time.Duration
	unusedDry   bool
	// webhookOnly is set for the default delivery: keys without a webhook
	// URL cannot be delivered and are taken off the schedule.
	webhookOnly bool

	runMu sync.Mutex // one check at a time

	mu       sync.Mutex
	attempts map[string]int // failed deliveries per key, for the backoff

	bg worker.Worker // the check loop
}

// Option configures a Scheduler. NewScheduler refuses an invalid value
// with an error naming the option.
type Option func(*Scheduler) error

// WithCheckInterval sets how often Start checks for due keys (default one
// minute). It is also the shortest retry delay (so a failed key is retried
// at the next check), unless WithRetryDelay says otherwise.
func WithCheckInterval(d time.Duration) Option {
	return func(s *Scheduler) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithCheckInterval(%v): must be positive", apikey.ErrInvalid, d)
		}
		s.interval = d
		return nil
	}
}

// WithGrace sets how long a rotated-out key keeps working after a
// committed scheduled rotation (default 24 h, never past the key's expiry).
// Zero revokes it at once.
func WithGrace(d time.Duration) Option {
	return func(s *Scheduler) error {
		if d < 0 {
			return fmt.Errorf("%w: WithGrace(%v): must not be negative", apikey.ErrInvalid, d)
		}
		s.grace = d
		return nil
	}
}

// WithRetryDelay sets the backoff after failed deliveries: the first retry
// comes min after a failure, each further one twice as late, up to max
// (defaults: the check interval and one hour). The delay is also the claim's
// lease, during which no other process touches the key, so min is raised to
// the delivery timeout if it is shorter.
func WithRetryDelay(min, max time.Duration) Option {
	return func(s *Scheduler) error {
		if min <= 0 || max < min {
			return fmt.Errorf("%w: WithRetryDelay(%v, %v): need 0 < min <= max", apikey.ErrInvalid, min, max)
		}
		s.minRetry, s.maxRetry = min, max
		return nil
	}
}

// WithDelivery replaces the default HTTP webhook delivery, for instance to
// put successors on a queue or to test without a network.
func WithDelivery(d Delivery) Option {
	return func(s *Scheduler) error {
		if d == nil {
			return fmt.Errorf("%w: WithDelivery(nil)", apikey.ErrInvalid)
		}
		s.deliver, s.webhookOnly = d, false
		return nil
	}
}

// WithDeliveryTimeout bounds one delivery (default 10 s).
func WithDeliveryTimeout(d time.Duration) Option {
	return func(s *Scheduler) error {
		if d <= 0 {
			return fmt.Errorf("%w: WithDeliveryTimeout(%v): must be positive", apikey.ErrInvalid, d)
		}
		s.timeout = d
		return nil
	}
}

// WithBatchSize sets how many due keys one check handles at most (default
// 100); the rest wait for the next check.
func WithBatchSize(n int) Option {
	return func(s *Scheduler) error {
		if n <= 0 {
			return fmt.Errorf("%w: WithBatchSize(%d): must be positive", apikey.ErrInvalid, n)
		}
		s.batch = n
		return nil
	}
}

// NewScheduler returns a scheduler for m's keys. It does no I/O and starts
// no goroutine. The default delivery POSTs to each key's rotation webhook
// through NewWebhookClient with the policy of the manager's Webhooks (the
// zero WebhookPolicy if they are not this package's). An invalid option is
// an error (wrapping apikey.ErrInvalid) that names it.
func NewScheduler(m *apikey.Manager, opts ...Option) (*Scheduler, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: NewScheduler: nil manager", apikey.ErrInvalid)
	}
	s := &Scheduler{
		m:           m,
		interval:    DefaultCheckInterval,
		grace:       DefaultGrace,
		timeout:     DefaultDeliveryTimeout,
		batch:       defaultBatchSize,
		webhookOnly: true,
		attempts:    map[string]int{},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.minRetry == 0 {
		s.minRetry, s.maxRetry = s.interval, max(DefaultMaxRetryDelay, s.interval)
	}
	// The retry delay is the claim's lease: it must outlast a delivery.
	s.minRetry = max(s.minRetry, s.timeout)
	s.maxRetry = max(s.maxRetry, s.minRetry)
	if s.deliver == nil {
		var p WebhookPolicy
		if w, ok := m.Webhooks().(*Webhooks); ok {
			p = w.Policy()
		}
		s.deliver = HTTPDelivery(NewWebhookClient(p, s.timeout))
	}
	return s, nil
}

// Start runs a check at once and then every check interval, in a goroutine,
// until ctx ends or Stop is called. Starting a started scheduler is an
// error (ErrConflict).
func (s *Scheduler) Start(ctx context.Context) error {
	return s.bg.Start(ctx, apikey.ErrConflict, "scheduler", s.loop)
}

func (s *Scheduler) loop(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.m.Logger().LogAttrs(ctx, slog.LevelWarn, "apikey: rotation check failed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop ends the loop Start began and waits for it: a check in progress is
// cancelled (an unfinished delivery counts as failed, so its successor is
// revoked) and its bookkeeping completes before Stop returns. Stopping a
// scheduler that is not running does nothing; it can be started again.
func (s *Scheduler) Stop() { s.bg.Stop() }

// RunOnce performs one check: it finds up to the batch size of due keys
// and rotates each it manages to claim. It returns an error only if the
// due keys cannot be listed (ErrStoreUnavailable) or ctx ends before it
// starts; per-key failures are in the report (and logged). Checks of one
// Scheduler never overlap; several Schedulers may run at once.
func (s *Scheduler) RunOnce(ctx context.Context) (Report, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var rep Report
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	due, err := s.m.Store().DueForRotation(ctx, s.m.Now(), s.batch)
	if err != nil {
		return rep, storeerr.Wrap("due for rotation", err)
	}
	for _, k := range due {
		if ctx.Err() != nil {
			break
		}
		res := s.rotateOne(ctx, k)
		s.count(ctx, res.Status)
		rep.Results = append(rep.Results, res)
	}
	if s.unusedAfter > 0 && ctx.Err() == nil {
		rep.Unused, rep.UnusedErr = s.cleanUnused(ctx)
	}
	return rep, nil
}

// rotateOne claims, rotates, delivers and commits or undoes one due key.
func (s *Scheduler) rotateOne(ctx context.Context, old *apikey.Key) Result {
	m := s.m
	store := m.Store()
	res := Result{KeyID: old.ID, Prefix: old.Prefix, Tenant: old.Tenant}
	now := m.Now()
	// A successor left by an earlier attempt that neither committed nor
	// was undone (its process died) is revoked before the key is claimed
	// again; if that fails, the key stays due as it is.
	if err := m.RevokePendingSuccessor(ctx, old); err != nil {
		return s.failed(ctx, res, err)
	}
	if why := s.unschedulable(old, now); why != "" {
		ok, err := store.ClaimRotation(ctx, old.ID, old.NextRotationAt, time.Time{})
		switch {
		case err != nil:
			return s.failed(ctx, res, storeerr.Wrap("claim rotation", err))
		case !ok:
			res.Status = ClaimedElsewhere
			return res
		}
		s.mu.Lock()
		delete(s.attempts, old.ID)
		s.mu.Unlock()
		m.Logger().LogAttrs(ctx, slog.LevelWarn, "apikey: scheduled rotation cancelled",
			append(keylog.Attrs(old), slog.String("reason", why))...)
		res.Status = Unscheduled
		return res
	}
	lease := now.Add(s.retryDelay(old.ID))
	ok, err := store.ClaimRotation(ctx, old.ID, old.NextRotationAt, lease)
	switch {
	case err != nil:
		return s.failed(ctx, res, storeerr.Wrap("claim rotation", err))
	case !ok:
		res.Status = ClaimedElsewhere
		return res
	}
	// From here on the bookkeeping must finish even if ctx ends.
	bg := context.WithoutCancel(ctx)

	if err := ctx.Err(); err != nil {
		return s.failed(bg, res, err)
	}
	if s.webhookOnly {
		// The policy may have changed since the key was created.
		if err := m.CheckWebhookURL(old.RotationWebhookURL); err != nil {
			return s.failed(bg, res, err)
		}
		if len(old.WebhookSecret) == 0 {
			return s.failed(bg, res, fmt.Errorf("%w: key %s has no webhook secret", apikey.ErrInvalid, old.ID))
		}
	}
	// The claim records the pending successor: DeliverRotation derives its
	// ID from the claimed NextRotationAt.
	claimed := old.Clone()
	claimed.NextRotationAt = lease
	res.SuccessorID, err = m.DeliverRotation(ctx, claimed, s.grace, func(ctx context.Context, r *apikey.Rotated) error {
		ev := Event{
			Type: EventType, OldKeyID: r.Old.ID, NewKeyID: r.Key.ID, Key: r.Token,
			KeyPrefix: r.Key.Prefix, Tenant: r.Old.Tenant, RotatedAt: r.Key.CreatedAt,
			GraceExpiresAt: r.Old.GraceExpiresAt, Timestamp: r.Key.CreatedAt.Unix(), URL: old.RotationWebhookURL,
		}
		dctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		return s.deliver(dctx, ev, r.WebhookSecret)
	})
	if err != nil {
		return s.failed(bg, res, err)
	}
	s.mu.Lock()
	delete(s.attempts, old.ID)
	s.mu.Unlock()
	res.Status = Committed
	return res
}

// unschedulable says why old can never be rotated by this scheduler, or "".
func (s *Scheduler) unschedulable(old *apikey.Key, now time.Time) string {
	switch {
	case old.ReplacedBy != "" || old.StateAt(now) != apikey.StateActive:
		return old.StateAt(now).String()
	case s.webhookOnly && old.RotationWebhookURL == "":
		return "no rotation webhook URL"
	}
	return ""
}

// failed records a failed attempt (the manager has already revoked any
// successor): it counts the attempt for the backoff and logs the reason
// without secrets.
func (s *Scheduler) failed(ctx context.Context, res Result, cause error) Result {
	res.Status, res.Err = Failed, cause
	attrs := []slog.Attr{slog.String("key_id", res.KeyID), slog.String("prefix", res.Prefix),
		slog.String("tenant", res.Tenant), slog.String("error", cause.Error())}
	if res.SuccessorID != "" {
		attrs = append(attrs, slog.String("successor_id", res.SuccessorID))
	}
	s.mu.Lock()
	s.attempts[res.KeyID]++
	n := s.attempts[res.KeyID]
	s.mu.Unlock()
	s.m.Logger().LogAttrs(ctx, slog.LevelWarn, "apikey: scheduled rotation failed", append(attrs, slog.Int("attempt", n))...)
	return res
}

// retryDelay is the claim lease of a key, which is also when it is retried
// if the attempt fails: min for a key that has not failed yet, doubling with
// every failure so far, capped at max.
func (s *Scheduler) retryDelay(id string) time.Duration {
	s.mu.Lock()
	n := s.attempts[id]
	s.mu.Unlock()
	d := s.minRetry
	for i := 0; i < n && d < s.maxRetry; i++ {
		d *= 2
	}
	return min(d, s.maxRetry)
}
