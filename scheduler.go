package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Scheduler defaults.
const (
	DefaultRotationCheckInterval = time.Minute
	DefaultScheduledGrace        = 24 * time.Hour
	DefaultRotationMaxRetryDelay = time.Hour
	defaultBatchSize             = 100
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
	m        *Manager
	interval time.Duration
	grace    time.Duration
	minRetry time.Duration
	maxRetry time.Duration
	timeout  time.Duration
	batch    int
	deliver  Delivery
	// webhookOnly is set for the default delivery: keys without a webhook
	// URL cannot be delivered and are taken off the schedule.
	webhookOnly bool

	runMu sync.Mutex // one check at a time

	mu       sync.Mutex
	attempts map[string]int // failed deliveries per key, for the backoff

	bg worker // the check loop
}

// SchedulerOption configures a Scheduler. Invalid values (zero or
// negative durations or sizes) are ignored and the default kept.
type SchedulerOption func(*Scheduler)

// WithRotationCheckInterval sets how often Start checks for due keys (default one
// minute). It is also the shortest retry delay (so a failed key is retried
// at the next check), unless WithRotationRetryDelay says otherwise.
func WithRotationCheckInterval(d time.Duration) SchedulerOption {
	return func(s *Scheduler) {
		if d > 0 {
			s.interval = d
		}
	}
}

// WithScheduledGrace sets how long a rotated-out key keeps working after a
// committed scheduled rotation (default 24 h, never past the key's expiry).
// Zero revokes it at once.
func WithScheduledGrace(d time.Duration) SchedulerOption {
	return func(s *Scheduler) {
		if d >= 0 {
			s.grace = d
		}
	}
}

// WithRotationRetryDelay sets the backoff after failed deliveries: the first retry
// comes min after a failure, each further one twice as late, up to max
// (defaults: the check interval and one hour). The delay is also the claim's
// lease, during which no other process touches the key, so min is raised to
// the delivery timeout if it is shorter.
func WithRotationRetryDelay(min, max time.Duration) SchedulerOption {
	return func(s *Scheduler) {
		if min > 0 && max >= min {
			s.minRetry, s.maxRetry = min, max
		}
	}
}

// WithDelivery replaces the default HTTP webhook delivery, for instance to
// put successors on a queue or to test without a network.
func WithDelivery(d Delivery) SchedulerOption {
	return func(s *Scheduler) {
		if d != nil {
			s.deliver, s.webhookOnly = d, false
		}
	}
}

// WithDeliveryTimeout bounds one delivery (default 10 s).
func WithDeliveryTimeout(d time.Duration) SchedulerOption {
	return func(s *Scheduler) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithRotationBatchSize sets how many due keys one check handles at most (default
// 100); the rest wait for the next check.
func WithRotationBatchSize(n int) SchedulerOption {
	return func(s *Scheduler) {
		if n > 0 {
			s.batch = n
		}
	}
}

// NewScheduler returns a scheduler for m's keys. It does no I/O and starts
// no goroutine. The default delivery POSTs to each key's rotation webhook
// through NewWebhookClient with the manager's WebhookPolicy.
func NewScheduler(m *Manager, opts ...SchedulerOption) *Scheduler {
	s := &Scheduler{
		m:           m,
		interval:    DefaultRotationCheckInterval,
		grace:       DefaultScheduledGrace,
		timeout:     DefaultDeliveryTimeout,
		batch:       defaultBatchSize,
		webhookOnly: true,
		attempts:    map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.minRetry == 0 {
		s.minRetry, s.maxRetry = s.interval, max(DefaultRotationMaxRetryDelay, s.interval)
	}
	// The retry delay is the claim's lease: it must outlast a delivery.
	s.minRetry = max(s.minRetry, s.timeout)
	s.maxRetry = max(s.maxRetry, s.minRetry)
	if s.deliver == nil {
		s.deliver = HTTPDelivery(NewWebhookClient(m.cfg.webhookPolicy, s.timeout))
	}
	return s
}

// Start runs a check at once and then every check interval, in a goroutine,
// until ctx ends or Stop is called. Starting a started scheduler is an
// error (ErrConflict).
func (s *Scheduler) Start(ctx context.Context) error {
	return s.bg.start(ctx, "scheduler", s.loop)
}

func (s *Scheduler) loop(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: rotation check failed", slog.String("error", err.Error()))
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
func (s *Scheduler) Stop() { s.bg.stop() }

// RotationStatus is the outcome of one due key in a check.
type RotationStatus string

// Rotation outcomes.
const (
	// RotationCommitted: delivered and committed; the old key is in grace.
	RotationCommitted RotationStatus = "rotated"
	// RotationFailed: not delivered or not committed; any successor was
	// revoked and the key is retried after a backoff.
	RotationFailed RotationStatus = "failed"
	// RotationClaimedElsewhere: another scheduler claimed the key first.
	RotationClaimedElsewhere RotationStatus = "claimed_elsewhere"
	// RotationUnscheduled: the key cannot be rotated (it expired, or it has
	// no webhook URL for the default delivery); its schedule was cleared.
	RotationUnscheduled RotationStatus = "unscheduled"
)

// RotationResult is what a check did with one due key.
type RotationResult struct {
	KeyID  string
	Prefix string
	Tenant string
	// SuccessorID is the successor created for the attempt, if any (on
	// RotationFailed it has been revoked).
	SuccessorID string
	Status      RotationStatus
	// Err says why a rotation failed; it holds no secret.
	Err error
}

// RotationReport is the outcome of one check.
type RotationReport struct {
	// Results has one entry per due key the check found, oldest due first.
	Results []RotationResult
}

// Count returns how many results have status st.
func (r RotationReport) Count(st RotationStatus) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == st {
			n++
		}
	}
	return n
}

// RunOnce performs one check: it finds up to the batch size of due keys
// and rotates each it manages to claim. It returns an error only if the
// due keys cannot be listed (ErrStoreUnavailable) or ctx ends before it
// starts; per-key failures are in the report (and logged). Checks of one
// Scheduler never overlap; several Schedulers may run at once.
func (s *Scheduler) RunOnce(ctx context.Context) (RotationReport, error) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var rep RotationReport
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	due, err := s.m.store.DueForRotation(ctx, s.m.Now(), s.batch)
	if err != nil {
		return rep, storeErr("due for rotation", err)
	}
	for _, k := range due {
		if ctx.Err() != nil {
			break
		}
		res := s.rotateOne(ctx, k)
		s.m.count(ctx, rotationCounter(res.Status), 1)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// rotateOne claims, rotates, delivers and commits or undoes one due key.
func (s *Scheduler) rotateOne(ctx context.Context, old *Key) RotationResult {
	m := s.m
	res := RotationResult{KeyID: old.ID, Prefix: old.Prefix, Tenant: old.Tenant}
	now := m.Now()
	if why := s.unschedulable(old, now); why != "" {
		ok, err := m.store.ClaimRotation(ctx, old.ID, old.NextRotationAt, time.Time{})
		switch {
		case err != nil:
			return s.failed(ctx, res, storeErr("claim rotation", err))
		case !ok:
			res.Status = RotationClaimedElsewhere
			return res
		}
		s.mu.Lock()
		delete(s.attempts, old.ID)
		s.mu.Unlock()
		m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: scheduled rotation cancelled",
			append(keyAttrs(old), slog.String("reason", why))...)
		res.Status = RotationUnscheduled
		return res
	}
	ok, err := m.store.ClaimRotation(ctx, old.ID, old.NextRotationAt, now.Add(s.retryDelay(old.ID)))
	switch {
	case err != nil:
		return s.failed(ctx, res, storeErr("claim rotation", err))
	case !ok:
		res.Status = RotationClaimedElsewhere
		return res
	}
	// From here on the work must finish (revoke or commit) even if ctx ends.
	bg := context.WithoutCancel(ctx)

	if err := ctx.Err(); err != nil {
		return s.failed(bg, res, err)
	}
	if s.webhookOnly {
		// The policy may have changed since the key was created.
		if err := m.CheckWebhookURL(old.RotationWebhookURL); err != nil {
			return s.failed(bg, res, err)
		}
	}
	var secret Secret
	if len(old.WebhookSecret) > 0 || s.webhookOnly {
		if secret, err = m.openWebhookSecret(old); err != nil {
			return s.failed(bg, res, err)
		}
	}
	succ, token, err := m.successor(old, now)
	if err != nil {
		return s.failed(bg, res, err)
	}
	err = m.store.Create(bg, succ)
	m.Invalidate(succ.Lookup) // a negative cache entry must not hide the successor
	if err != nil {
		return s.failed(bg, res, storeErr("create successor", err))
	}
	res.SuccessorID = succ.ID
	graceExp, revokedAt := graceEnd(old, now, s.grace)
	ev := RotationEvent{
		Type: RotationEventType, OldKeyID: old.ID, NewKeyID: succ.ID, Key: NewSecret(token),
		KeyPrefix: succ.Prefix, Tenant: old.Tenant, RotatedAt: now, GraceExpiresAt: graceExp,
		Timestamp: now.Unix(), URL: old.RotationWebhookURL,
	}
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = s.deliver(dctx, ev, secret)
	cancel()
	if err != nil {
		return s.failed(bg, res, fmt.Errorf("delivery: %w", err))
	}
	stored, err := m.store.Rotate(bg, Rotation{
		OldID: old.ID, SuccessorID: succ.ID, GraceExpiresAt: graceExp, RevokedAt: revokedAt, At: now,
	})
	m.changed(bg, old.Lookup)
	if err != nil {
		return s.failed(bg, res, storeErr("commit rotation", err))
	}
	s.mu.Lock()
	delete(s.attempts, old.ID)
	s.mu.Unlock()
	m.rotated(bg, stored, succ, now)
	res.Status = RotationCommitted
	return res
}

// unschedulable says why old can never be rotated by this scheduler, or "".
func (s *Scheduler) unschedulable(old *Key, now time.Time) string {
	switch {
	case rotatable(old, now) != nil:
		return old.StateAt(now).String()
	case s.webhookOnly && old.RotationWebhookURL == "":
		return "no rotation webhook URL"
	}
	return ""
}

// failed undoes a failed attempt: it revokes the successor (a successor is
// never left valid without a committed rotation), counts the attempt for
// the backoff, and logs the reason without secrets.
func (s *Scheduler) failed(ctx context.Context, res RotationResult, cause error) RotationResult {
	m := s.m
	res.Status, res.Err = RotationFailed, cause
	attrs := []slog.Attr{slog.String("key_id", res.KeyID), slog.String("prefix", res.Prefix),
		slog.String("tenant", res.Tenant), slog.String("error", cause.Error())}
	if res.SuccessorID != "" {
		attrs = append(attrs, slogSuccessor(res.SuccessorID))
		k, err := m.store.Revoke(ctx, res.SuccessorID, m.Now())
		if err == nil {
			m.changed(ctx, k.Lookup)
		}
		if err != nil {
			res.Err = errors.Join(cause, fmt.Errorf("revoking successor %s: %w", res.SuccessorID, storeErr("revoke", err)))
			m.cfg.logger.LogAttrs(ctx, slog.LevelError, "apikey: undelivered successor could not be revoked",
				append(attrs, slog.String("revoke_error", err.Error()))...)
		}
	}
	s.mu.Lock()
	s.attempts[res.KeyID]++
	n := s.attempts[res.KeyID]
	s.mu.Unlock()
	m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: scheduled rotation failed", append(attrs, slog.Int("attempt", n))...)
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
