package otelapikey

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/apikit/apikey/otelapikey"

// Attribute keys.
const (
	// KeyOutcome labels a verification or a scheduled rotation outcome.
	KeyOutcome = attribute.Key("apikey.outcome")
	// KeyReason labels an Authenticator refusal.
	KeyReason = attribute.Key("apikey.reason")
	// KeyCacheResult labels a cache lookup: hit or miss.
	KeyCacheResult = attribute.Key("apikey.cache.result")
	// KeyCacheEntry labels cache entries: known or negative.
	KeyCacheEntry = attribute.Key("apikey.cache.entry")
	// KeyResult labels a re-hash: ok or failed.
	KeyResult = attribute.Key("apikey.result")
	// KeyDecision labels a rate-limit or credit decision.
	KeyDecision = attribute.Key("apikey.decision")
	// KeyFound says whether a traced store read found a key.
	KeyFound = attribute.Key("apikey.found")
)

// verifyBuckets are the bucket bounds of apikey.verify.duration, in
// seconds: a cached verify takes a microsecond or less, a store read a
// fraction of a millisecond to several.
var verifyBuckets = []float64{
	0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
}

// Option configures New.
type Option func(*config)

type config struct {
	mp         metric.MeterProvider
	tp         trace.TracerProvider
	noDuration bool
	oneIn      uint32
}

// DefaultDurationSampling is how many verifications there are, on
// average, for each one recorded in apikey.verify.duration (see
// WithDurationSampling).
const DefaultDurationSampling = 32

// WithDurationSampling records the duration of a uniform random sample of
// 1 verification in n in the apikey.verify.duration histogram (default
// DefaultDurationSampling; 1 records every one). The verifications outside
// the sample are not timed at all (apikey.TimingSampler), so their cost
// is the outcome count alone. New refuses n = 0.
func WithDurationSampling(n uint32) Option {
	return func(c *config) { c.oneIn = n }
}

// WithMeterProvider sets the meter provider (default: the global one).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider sets the tracer provider (default: the global one).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithoutVerifyDuration leaves out the apikey.verify.duration histogram:
// no verify is timed, a verify's report is a few atomic additions, and
// outcomes are still counted.
func WithoutVerifyDuration() Option {
	return func(c *config) { c.noDuration = true }
}

// Metrics reports apikey's measurements to OpenTelemetry. Give it to
// apikey.WithMetrics (and apikey.WithUsageMetrics); it is safe for
// concurrent use.
type Metrics struct {
	tracer trace.Tracer
	oneIn  uint32 // TimeOneIn: 0 (time none) without the duration histogram

	duration metric.Float64Histogram
	// The verifications, by outcome and cache result, are counted here,
	// lock-free, and reported by observable counters at collection (by
	// outcome, and the cache lookups by result): one atomic add costs a few
	// nanoseconds where an SDK counter's Add costs a hundred.
	verifyN [outcomeSlots][3]paddedCount

	byOutcome [outcomeSlots]labelled // by apikey.Outcome
	byCache   [3]labelled            // by apikey.CacheResult
	byCounter [counterSlots]target   // by apikey.Counter

	mu        sync.Mutex // guards the observed sources
	managers  []*apikey.Manager
	usages    []*apikey.UsageTracker
	followers []followed
}

// outcomeSlots and counterSlots bound the tables indexed by apikey's enums.
const (
	outcomeSlots = 32
	counterSlots = 64
)

// paddedCount is a counter on its own cache line, so that cores counting
// different outcomes do not contend.
type paddedCount struct {
	atomic.Int64
	_ [56]byte
}

// labelled holds the prebuilt options of one attribute set.
type labelled struct {
	add []metric.AddOption
	rec []metric.RecordOption
	obs []metric.ObserveOption
}

// target is where one apikey.Counter goes.
type target struct {
	c   metric.Int64Counter
	add []metric.AddOption
}

type followed struct {
	m *apikey.Manager
	f *follow.Follower
}

var (
	_ apikey.Metrics         = (*Metrics)(nil)
	_ apikey.StoreReadTracer = (*Metrics)(nil)
	_ apikey.TimingSampler   = (*Metrics)(nil)
)

func label(kvs ...attribute.KeyValue) labelled {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return labelled{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}, obs: []metric.ObserveOption{o}}
}

// New creates the instruments. It fails if an option is invalid or the
// meter provider refuses an instrument.
func New(opts ...Option) (*Metrics, error) {
	c := config{oneIn: DefaultDurationSampling}
	for _, o := range opts {
		o(&c)
	}
	if c.oneIn == 0 {
		return nil, errors.New("otelapikey: WithDurationSampling(0): want 1 (every verification) or more")
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	meter := c.mp.Meter(ScopeName)
	m := &Metrics{tracer: c.tp.Tracer(ScopeName)}
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !c.noDuration {
		d, err := meter.Float64Histogram("apikey.verify.duration", metric.WithUnit("s"),
			metric.WithDescription("Duration of API key verifications."),
			metric.WithExplicitBucketBoundaries(verifyBuckets...))
		check(err)
		m.duration, m.oneIn = d, c.oneIn
	}
	for i := range m.byOutcome { // including values apikey may add later
		m.byOutcome[i] = label(KeyOutcome.String(apikey.Outcome(i).String()))
	}
	m.byCache[apikey.CacheHit] = label(KeyCacheResult.String("hit"))
	m.byCache[apikey.CacheMiss] = label(KeyCacheResult.String("miss"))
	check(m.counters(meter))
	check(m.gauges(meter))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otelapikey: %w", err)
	}
	return m, nil
}

// TimeOneIn implements apikey.TimingSampler: the Manager times 1 verify in
// WithDurationSampling's n, and none without the duration histogram.
func (m *Metrics) TimeOneIn() uint32 {
	return m.oneIn
}

// Verified records one verification: its outcome, the cache lookup if the
// cache was used, and its duration if it was timed. It does not allocate.
func (m *Metrics) Verified(ctx context.Context, r apikey.VerifyReport) {
	if r.Timed && m.duration != nil {
		m.duration.Record(ctx, r.Duration.Seconds(), m.byOutcome[r.Outcome%outcomeSlots].rec...)
	}
	m.verifyN[r.Outcome%outcomeSlots][r.Cache%3].Add(1)
}

// Count adds n to the instrument of c (see the package doc).
func (m *Metrics) Count(ctx context.Context, c apikey.Counter, n int64) {
	if int(c) < len(m.byCounter) {
		if t := &m.byCounter[c]; t.c != nil {
			t.c.Add(ctx, n, t.add...)
		}
	}
}

// storeSpanKey marks a context whose span is a store-read span of ours.
type storeSpanKey struct{}

// StartStoreRead starts the span of a verify's store read, as a child of
// the span in ctx when that one is recording (sampled); without a recording
// span it does nothing and costs nothing.
func (m *Metrics) StartStoreRead(ctx context.Context) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	ctx, span := m.tracer.Start(ctx, "apikey.store.lookup", trace.WithSpanKind(trace.SpanKindInternal))
	return context.WithValue(ctx, storeSpanKey{}, span)
}

// EndStoreRead ends the span StartStoreRead began, if it began one,
// recording whether a key was found and any store failure.
func (m *Metrics) EndStoreRead(ctx context.Context, err error) {
	span, ok := ctx.Value(storeSpanKey{}).(trace.Span)
	if !ok {
		return
	}
	switch {
	case err == nil:
		span.SetAttributes(KeyFound.Bool(true))
	case errors.Is(err, apikey.ErrNotFound):
		span.SetAttributes(KeyFound.Bool(false))
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, "store unavailable")
	}
	span.End()
}

// ObserveManager reports mgr's cache sizes as apikey.cache.entries.
func (m *Metrics) ObserveManager(mgr *apikey.Manager) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.managers = append(m.managers, mgr)
}

// ObserveUsage reports t's pending keys as apikey.usage.pending.
func (m *Metrics) ObserveUsage(t *apikey.UsageTracker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usages = append(m.usages, t)
}

// ObserveFollower reports the time since f (a follower of mgr) last read
// the change feed as apikey.feed.lag: how long a change made by another
// process may go unnoticed here. Before the first successful read it
// reports nothing.
func (m *Metrics) ObserveFollower(mgr *apikey.Manager, f *follow.Follower) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.followers = append(m.followers, followed{mgr, f})
}

// lag is the feed lag of one follower, and whether it has one yet.
func (fw followed) lag() (time.Duration, bool) {
	s := fw.f.Stats()
	if s.LastSuccess.IsZero() {
		return 0, false
	}
	return max(fw.m.Now().Sub(s.LastSuccess), 0), true
}
