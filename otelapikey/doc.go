// Package otelapikey reports the measurements of package apikey through
// OpenTelemetry: it implements apikey.Metrics (and apikey.StoreReadTracer)
// with the OpenTelemetry API only, so it works with any SDK or exporter the
// application sets up (Prometheus, OTLP...).
//
//	mx, err := otelapikey.New(otelapikey.WithMeterProvider(mp), otelapikey.WithTracerProvider(tp))
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper), apikey.WithMetrics(mx))
//	mx.ObserveManager(m) // cache sizes
//	usage, err := apikey.NewUsageTracker(store, apikey.WithUsageMetrics(mx))
//	mx.ObserveUsage(usage)
//	mx.ObserveFollower(m, follower) // a *follow.Follower
//
// Without WithMeterProvider / WithTracerProvider the global providers
// (otel.GetMeterProvider, otel.GetTracerProvider) are used.
//
// # Instruments
//
// Names and units follow the OpenTelemetry semantic-convention style
// (dotted lower-case names, UCUM units, seconds for durations):
//
//	apikey.verify.duration      histogram  s             apikey.outcome
//	apikey.verify.outcomes      counter    {verification} apikey.outcome
//	apikey.cache.lookups        counter    {lookup}      apikey.cache.result (hit, miss)
//	apikey.cache.entries        gauge      {entry}       apikey.cache.entry (known, negative)
//	apikey.cache.evictions      counter    {entry}
//	apikey.auth.refusals        counter    {request}     apikey.reason
//	apikey.rehashes             counter    {key}         apikey.result (ok, failed)
//	apikey.feed.changes         counter    {change}
//	apikey.feed.failures        counter    {poll}
//	apikey.feed.resets          counter    {reset}
//	apikey.feed.lag             gauge      s             (time since the change feed was last read)
//	apikey.usage.records        counter    {record}
//	apikey.usage.flush.failures counter    {batch}
//	apikey.usage.dropped        counter    {use}
//	apikey.usage.pending        gauge      {key}
//	apikey.rotation.deliveries  counter    {rotation}    apikey.outcome (rotated, failed, claimed_elsewhere, unscheduled)
//	apikey.ratelimit.decisions  counter    {decision}    apikey.decision (allowed, refused, error)
//	apikey.credits.decisions    counter    {decision}    apikey.decision (allowed, refused, error)
//
// apikey.outcome of a verification is one of apikey.Outcomes (valid,
// malformed, not_found, mismatch, revoked, expired, grace_ended, disabled,
// store_unavailable, and with key controls ip_not_allowed,
// insufficient_scope, rate_limited, usage_exceeded, limiter_unavailable); apikey.reason of a refusal is no_credentials,
// malformed, invalid, insufficient_scope, ip_not_allowed, throttled,
// rate_limited, usage_exceeded or unavailable. No attribute ever carries a
// key, a key ID or a tenant: the label sets are fixed and small.
//
// # Traces
//
// Inside a recording (sampled) request span, a verify the cache cannot
// answer (or any verify without a cache) reads the store inside a child
// span named "apikey.store.lookup" (attribute apikey.found); a store
// failure is recorded on it as an error. Without a recording span in the
// request's context nothing is traced.
//
// # Cost
//
// Every attribute set is built once, in New, and the counts by outcome and
// cache result are kept in atomic counters read at collection, so
// recording a verification allocates nothing. Timing a verify (two clock
// reads) and recording into an SDK histogram would together cost more
// than half a cached verify, so apikey.verify.duration holds a uniform
// random sample of 1 verification in DefaultDurationSampling (32): the
// distribution and its quantiles are those of every verify, its count is
// a thirty-second (apikey.verify.outcomes counts every one).
// WithDurationSampling(1) times every verify; WithoutVerifyDuration leaves
// the histogram out. BENCHMARKS.md has the figures.
package otelapikey
