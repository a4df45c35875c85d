package apikey

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Metrics receives the library's measurements, for a metrics system of the
// application's choice (package otelapikey implements it with
// OpenTelemetry). Set it with WithMetrics on the Manager: its
// Authenticators, its cache, and the follow.Follower and rotation.Scheduler
// built on it report to the same one; a UsageTracker takes it with
// WithUsageMetrics. Unset, nothing is measured and nothing is paid.
//
// Methods are called synchronously on the request path (Verified once per
// Manager.Verify): they must be safe for concurrent use, fast and must not
// block or call back into the Manager. Every argument is a value, so a
// careful implementation records without allocating. A hand-written one
// can be as small as:
//
//	type counts struct{ outcomes [16]atomic.Int64 }
//
//	func (c *counts) Verified(_ context.Context, r apikey.VerifyReport) {
//		c.outcomes[r.Outcome%16].Add(1)
//	}
//	func (c *counts) Count(context.Context, apikey.Counter, int64) {}
//
// Gauges (cache entries, pending usage, time since the change feed was
// read) are not pushed: read them when collecting, from
// Manager.CacheStats, UsageTracker.Stats and Follower.Stats.
type Metrics interface {
	// Verified reports one Manager.Verify: its outcome, duration and
	// whether the verification cache answered.
	Verified(ctx context.Context, r VerifyReport)
	// Count reports that the event c happened n times (n >= 1).
	Count(ctx context.Context, c Counter, n int64)
}

// StoreReadTracer is implemented by a Metrics that traces the store read a
// Verify makes when the verification cache cannot answer (or there is no
// cache): StartStoreRead returns the context the read runs with (carrying a
// span, say) and EndStoreRead is called with that context and the read's
// error (nil, or wrapping ErrNotFound for an unknown token) when it returns.
// It is found by a type assertion when the Manager is made.
type StoreReadTracer interface {
	StartStoreRead(ctx context.Context) context.Context
	EndStoreRead(ctx context.Context, err error)
}

// TimingSampler is implemented by a Metrics that wants the duration of a
// random sample of verifications rather than of every one. Timing a verify
// costs two clock reads (about 90 ns on a virtual machine's kvm-clock, a
// quarter of a cached verify) and a histogram may cost more; a sample of 1
// in n keeps the distribution and pays a 1/n share. Outcomes are still
// reported for every verify. It is found by a type assertion when the
// Manager is made.
type TimingSampler interface {
	// TimeOneIn returns n: each verify is timed with probability 1/n; one
	// times every verify, zero none.
	TimeOneIn() uint32
}

// VerifyReport describes one Manager.Verify for Metrics.Verified.
type VerifyReport struct {
	// Outcome is the result.
	Outcome Outcome
	// Duration is the time Verify took (monotonic clock), when Timed.
	Duration time.Duration
	// Timed says whether Duration was measured: always, unless the
	// Metrics is a TimingSampler and this verify was not in the sample.
	Timed bool
	// Cache says whether the verification cache answered.
	Cache CacheResult
}

// Outcome is the result of one verification. The zero value is
// OutcomeValid. Its String is the label metrics and logs use.
type Outcome uint8

// Verification outcomes.
const (
	// OutcomeValid: the token verified.
	OutcomeValid Outcome = iota
	// OutcomeMalformed: not a well-formed token of this Manager (no store read).
	OutcomeMalformed
	// OutcomeNotFound: no key has the token's selector.
	OutcomeNotFound
	// OutcomeMismatch: a key has the selector but the secret is wrong (or
	// the key's hash version is no longer registered). Callers see
	// ErrNotFound, as for an unknown token.
	OutcomeMismatch
	// OutcomeRevoked: the key was revoked.
	OutcomeRevoked
	// OutcomeExpired: the key expired.
	OutcomeExpired
	// OutcomeGraceEnded: the key was rotated and its grace period ended.
	OutcomeGraceEnded
	// OutcomeDisabled: the key is disabled.
	OutcomeDisabled
	// OutcomeStoreUnavailable: the store could not answer (answer 503).
	OutcomeStoreUnavailable
	// OutcomeIPNotAllowed: the client address is outside the key's
	// allowlist (key controls).
	OutcomeIPNotAllowed
	// OutcomeInsufficientScope: the key lacks a scope the verification
	// asked for (key controls).
	OutcomeInsufficientScope
	// OutcomeRateLimited: a rate limit of the key refused the request.
	OutcomeRateLimited
	// OutcomeUsageExceeded: the key has no credits left.
	OutcomeUsageExceeded
	// OutcomeLimiterUnavailable: the rate limiter could not answer and
	// fails closed (answer 503).
	OutcomeLimiterUnavailable
	// OutcomeNotYetValid: the key's NotBefore time has not come yet.
	OutcomeNotYetValid
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"valid", "malformed", "not_found", "mismatch", "revoked", "expired",
	"grace_ended", "disabled", "store_unavailable", "ip_not_allowed",
	"insufficient_scope", "rate_limited", "usage_exceeded", "limiter_unavailable",
	"not_yet_valid",
}

// String returns the outcome's label, such as "not_found".
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Outcomes returns every outcome, OutcomeValid first, so an implementation
// of Metrics can prepare one label set per outcome.
func Outcomes() []Outcome {
	out := make([]Outcome, numOutcomes)
	for i := range out {
		out[i] = Outcome(i)
	}
	return out
}

// outcomeOfState maps a non-active key state to its outcome.
func outcomeOfState(s State) Outcome {
	switch s {
	case StateRevoked:
		return OutcomeRevoked
	case StateGraceEnded:
		return OutcomeGraceEnded
	case StateExpired:
		return OutcomeExpired
	}
	return OutcomeValid
}

// CacheResult says whether the verification cache answered a Verify.
type CacheResult uint8

// Cache results.
const (
	// CacheUnused: no cache (or the token was refused before any lookup).
	CacheUnused CacheResult = iota
	// CacheHit: the cache answered (a known key or a remembered unknown
	// token), without a store read.
	CacheHit
	// CacheMiss: the cache had no live entry; the store was read.
	CacheMiss
)

// String returns "unused", "hit" or "miss".
func (c CacheResult) String() string {
	switch c {
	case CacheHit:
		return "hit"
	case CacheMiss:
		return "miss"
	}
	return "unused"
}

// WithMetrics reports the Manager's measurements (and those of its
// Authenticators, its cache, and the Followers and Schedulers built on it)
// to mx. Nil, the default, measures nothing. If mx also implements
// StoreReadTracer, the store read of every verify the cache cannot answer
// is traced; if it implements TimingSampler, only a random sample of
// verifies is timed.
func WithMetrics(mx Metrics) Option {
	return func(c *config) error { c.metrics = mx; return nil }
}

// count reports n events c to the Manager's Metrics, if any.
func (m *Manager) count(ctx context.Context, c Counter, n int64) {
	if m.cfg.metrics != nil && n > 0 {
		m.cfg.metrics.Count(ctx, c, n)
	}
}

// verifyRun is the state of one verify: what it reports, the clock reading
// it judges the key at (read by the verify itself when zero) and when the
// timing started.
type verifyRun struct {
	VerifyReport
	now   time.Time
	start time.Time
}

// startVerify starts timing a verify when the Manager has Metrics: the
// clock reading that starts the timing is the one the verify then judges
// the key at, so the default clock costs one extra clock read per timed
// verify (two without a cache, where a key without a time bound needs no
// reading); a clock without a monotonic reading (a ManualClock) is timed
// with time.Now. A TimingSampler's verifies outside the sample read no
// clock for it. Without Metrics it does nothing.
func (m *Manager) startVerify(r *verifyRun) {
	if m.cfg.metrics != nil { // small enough to inline: free without Metrics
		m.startTiming(r)
	}
}

// startTiming is startVerify with Metrics: it times the verify unless the
// Metrics samples timing (TimingSampler) and this one is not drawn.
func (m *Manager) startTiming(r *verifyRun) {
	if n := m.timeOneIn; n != 1 && (n == 0 || rand.Uint32N(n) != 0) {
		return
	}
	r.Timed = true
	r.now = m.cfg.clock.Now()
	r.start = r.now
	if r.start == r.start.Round(0) { // no monotonic reading: cannot time with it
		r.start = time.Now()
	}
}

// endVerify reports a verify that startVerify started, without allocating.
func (m *Manager) endVerify(ctx context.Context, r *verifyRun, err error) {
	if m.cfg.metrics != nil {
		m.report(ctx, r, err)
	}
}

// report is endVerify with Metrics.
func (m *Manager) report(ctx context.Context, r *verifyRun, err error) {
	if r.Timed {
		r.Duration = time.Since(r.start)
	}
	switch {
	case err == nil:
		r.Outcome = OutcomeValid
	case r.Outcome == OutcomeValid: // refused without verifyFailed
		r.Outcome = outcomeOfErr(err)
	}
	m.cfg.metrics.Verified(ctx, r.VerifyReport)
}

// outcomeOfErr maps a verify error to its outcome.
func outcomeOfErr(err error) Outcome {
	switch {
	case errors.Is(err, ErrMalformed):
		return OutcomeMalformed
	case errors.Is(err, ErrLimiterUnavailable):
		return OutcomeLimiterUnavailable
	case errors.Is(err, ErrStoreUnavailable):
		return OutcomeStoreUnavailable
	case errors.Is(err, ErrRevoked):
		return OutcomeRevoked
	case errors.Is(err, ErrExpired):
		return OutcomeExpired
	case errors.Is(err, ErrGraceEnded):
		return OutcomeGraceEnded
	case errors.Is(err, ErrDisabled):
		return OutcomeDisabled
	case errors.Is(err, ErrIPNotAllowed):
		return OutcomeIPNotAllowed
	case errors.Is(err, ErrInsufficientScope):
		return OutcomeInsufficientScope
	case errors.Is(err, ErrRateLimited):
		return OutcomeRateLimited
	case errors.Is(err, ErrUsageExceeded):
		return OutcomeUsageExceeded
	}
	return OutcomeNotFound
}

// Metrics returns the Metrics set with WithMetrics, or nil, for components
// built on a Manager in other packages.
func (m *Manager) Metrics() Metrics { return m.cfg.metrics }

// rateDecided counts one RateLimiter.Allow answer: allowed, refused, or
// err (the limiter could not decide). Call it once per decision. Without
// metrics it is one inlined comparison.
func (m *Manager) rateDecided(ctx context.Context, allowed bool, err error) {
	if m.cfg.metrics != nil {
		m.countRate(ctx, allowed, err)
	}
}

// countRate is rateDecided with metrics set.
func (m *Manager) countRate(ctx context.Context, allowed bool, err error) {
	c := CounterRateAllowed
	switch {
	case err != nil:
		c = CounterRateError
	case !allowed:
		c = CounterRateRefused
	}
	m.cfg.metrics.Count(ctx, c, 1)
}

// creditDecided counts one credit check by the spend's error: nil spent,
// ErrUsageExceeded refused (none left), anything else an error (the
// credits could not be checked). Call it once per decision. Without
// metrics it is one inlined comparison.
func (m *Manager) creditDecided(ctx context.Context, err error) {
	if m.cfg.metrics != nil {
		m.countCredit(ctx, err)
	}
}

// countCredit is creditDecided with metrics set.
func (m *Manager) countCredit(ctx context.Context, spendErr error) {
	allowed, err := spendErr == nil, decisionErr(spendErr, ErrUsageExceeded)
	c := CounterCreditAllowed
	switch {
	case err != nil:
		c = CounterCreditError
	case !allowed:
		c = CounterCreditRefused
	}
	m.cfg.metrics.Count(ctx, c, 1)
}

// decisionErr is err unless it is the refusal itself (wraps refusal): a
// refusal is a decision, any other error means none could be made.
func decisionErr(err, refusal error) error {
	if errors.Is(err, refusal) {
		return nil
	}
	return err
}
