package otelapikey_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/otelapikey"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var (
	pepper = []byte("otelapikey-test-pepper-0123456789abcdef")
	t0     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// rig is a Manager with a cache on a memstore, reporting to an SDK meter
// provider with a manual reader and a tracer provider with a span recorder.
type rig struct {
	m      *apikey.Manager
	store  *flakyStore
	clock  *apikey.ManualClock
	mx     *otelapikey.Metrics
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
}

// flakyStore fails its reads and usage writes while broken is set.
type flakyStore struct {
	apikey.Store
	broken bool
}

var errDown = errors.New("connection refused")

func (s *flakyStore) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	if s.broken {
		return nil, errDown
	}
	return s.Store.GetByLookup(ctx, lookup)
}

func (s *flakyStore) RecordUsage(ctx context.Context, b []apikey.Usage) error {
	if s.broken {
		return errDown
	}
	return s.Store.RecordUsage(ctx, b)
}

// newRig makes a Manager (cached, manual clock) reporting to otelapikey
// with opts, on an SDK meter provider read by hand.
func newRig(t *testing.T, opts ...otelapikey.Option) *rig {
	t.Helper()
	r := &rig{store: &flakyStore{Store: memstore.New()}, clock: apikey.NewManualClock(t0),
		reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	mx, err := otelapikey.New(append([]otelapikey.Option{otelapikey.WithMeterProvider(mp),
		otelapikey.WithTracerProvider(tp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.mx = mx
	r.m, err = apikey.New(r.store, apikey.WithPrefix("tst"), apikey.WithPepper("v1", pepper),
		apikey.WithClock(r.clock), apikey.WithCache(apikey.CacheOptions{}), apikey.WithMetrics(mx))
	if err != nil {
		t.Fatal(err)
	}
	mx.ObserveManager(r.m)
	return r
}

func (r *rig) create(t *testing.T) *apikey.Issued {
	t.Helper()
	is, err := r.m.Create(context.Background(), apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// point is one data point: its value (a sum, a gauge value or a
// histogram count) and, for histograms, the sum.
type point struct {
	value float64
	sum   float64
}

// collect reads every metric and indexes points by name and the value of
// the one attribute (or "" without one).
func (r *rig) collect(t *testing.T) map[string]map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]point{}
	label := func(s attribute.Set) string {
		if s.Len() == 0 {
			return ""
		}
		kv, _ := s.Get(0)
		return kv.Value.String()
	}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			pts := map[string]point{}
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					pts[label(p.Attributes)] = point{value: float64(p.Value)}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					pts[label(p.Attributes)] = point{value: float64(p.Value)}
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					pts[label(p.Attributes)] = point{value: p.Value}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					pts[label(p.Attributes)] = point{value: float64(p.Count), sum: p.Sum}
				}
			default:
				t.Fatalf("%s: unexpected data %T", md.Name, md.Data)
			}
			out[md.Name] = pts
		}
	}
	return out
}

func TestVerifyMetricsAndSpans(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, otelapikey.WithDurationSampling(1))
	good := r.create(t)
	revoked := r.create(t)
	if _, err := r.m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	other, err := apikey.New(memstore.New(), apikey.WithPrefix("tst"), apikey.WithPepper("v1", pepper))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.Create(ctx, apikey.CreateParams{Tenant: "acme"}) // well formed, unknown here
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	ctx, request := tp.Tracer("test").Start(ctx, "request")
	for _, tok := range []string{
		good.Token.Reveal(), good.Token.Reveal(), good.Token.Reveal(), // one miss, two hits
		stranger.Token.Reveal(), stranger.Token.Reveal(), // miss then negative hit
		revoked.Token.Reveal(),
		"tst_live_garbage", "not even close",
	} {
		_, _ = r.m.Verify(ctx, tok)
	}
	r.store.broken = true
	r.m.InvalidateAll()
	if _, err := r.m.Verify(ctx, good.Token.Reveal()); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("verify on a broken store: %v", err)
	}

	request.End()
	got := r.collect(t)
	wantOutcomes := map[string]float64{"valid": 3, "not_found": 2, "revoked": 1, "malformed": 2, "store_unavailable": 1}
	for outcome, n := range wantOutcomes {
		if v := got["apikey.verify.outcomes"][outcome].value; v != n {
			t.Errorf("apikey.verify.outcomes{%s} = %v, want %v", outcome, v, n)
		}
		if v := got["apikey.verify.duration"][outcome].value; v != n {
			t.Errorf("apikey.verify.duration{%s} count = %v, want %v", outcome, v, n)
		}
	}
	if len(got["apikey.verify.outcomes"]) != len(wantOutcomes) {
		t.Errorf("outcomes %v, want only %v", got["apikey.verify.outcomes"], wantOutcomes)
	}
	if s := got["apikey.verify.duration"]["valid"].sum; s <= 0 || s > 10 {
		t.Errorf("duration sum of valid verifies = %v s, want a small positive number", s)
	}
	if h, m := got["apikey.cache.lookups"]["hit"].value, got["apikey.cache.lookups"]["miss"].value; h != 3 || m != 4 {
		t.Errorf("cache hits %v misses %v, want 3 and 4", h, m)
	}
	// After the reset: nothing cached (the failed read is not cached).
	if e := got["apikey.cache.entries"]; e["known"].value != 0 || e["negative"].value != 0 {
		t.Errorf("cache entries %v after InvalidateAll, want 0 and 0", e)
	}

	// Spans: one per store read (the four misses) and the request's, the
	// unknown one not found, the failing one an error.
	spans := r.spans.Ended()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	spans = spans[:4]
	found := map[string]int{}
	for _, s := range spans {
		if s.Name() != "apikey.store.lookup" || s.SpanKind() != trace.SpanKindInternal {
			t.Errorf("span %q kind %v", s.Name(), s.SpanKind())
		}
		for _, a := range s.Attributes() {
			if a.Key == otelapikey.KeyFound {
				found[a.Value.String()]++
			}
		}
	}
	if found["true"] != 2 || found["false"] != 1 {
		t.Errorf("found attributes %v, want 2 true and 1 false", found)
	}
	if last := spans[3]; last.Status().Code.String() != "Error" || len(last.Events()) == 0 {
		t.Errorf("failed read span: status %v events %v", last.Status(), last.Events())
	}
}

func TestCacheEntriesGauge(t *testing.T) {
	r := newRig(t)
	good := r.create(t)
	if _, err := r.m.Verify(context.Background(), good.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if e := r.collect(t)["apikey.cache.entries"]; e["known"].value != 1 || e["negative"].value != 0 {
		t.Errorf("cache entries %v, want known 1", e)
	}
}

func TestSpanIsChildOfRequestSpan(t *testing.T) {
	r := newRig(t)
	good := r.create(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if _, err := r.m.Verify(ctx, good.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := r.spans.Ended()
	if len(spans) != 2 || spans[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("store span parent %v, want the request span %v", spans[0].Parent().SpanID(), parent.SpanContext().SpanID())
	}
	// Without a recording span in the context, nothing is traced.
	r.m.InvalidateAll()
	if _, err := r.m.Verify(context.Background(), good.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if n := len(r.spans.Ended()); n != 2 {
		t.Errorf("%d spans after an untraced verify, want still 2", n)
	}
}

func TestUsageAndFollowerMetrics(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	tr, err := apikey.NewUsageTracker(r.store, apikey.WithUsageMetrics(r.mx), apikey.WithUsageMaxPending(2))
	if err != nil {
		t.Fatal(err)
	}
	r.mx.ObserveUsage(tr)
	a, b, c := r.create(t), r.create(t), r.create(t)
	for _, k := range []*apikey.Issued{a, b, c} {
		tr.Touch(k.Key.ID, t0, "192.0.2.1", "")
	}
	if p := r.collect(t)["apikey.usage.pending"][""].value; p != 2 {
		t.Errorf("usage pending %v, want 2", p)
	}
	r.store.broken = true
	if err := tr.Flush(ctx); err == nil {
		t.Fatal("flush on a broken store succeeded")
	}
	r.store.broken = false
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	f, err := follow.New(r.m)
	if err != nil {
		t.Fatal(err)
	}
	r.mx.ObserveFollower(r.m, f)
	if _, ok := r.collect(t)["apikey.feed.lag"][""]; ok {
		t.Error("feed lag reported before the follower read the feed")
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Revoke(ctx, "acme", a.Key.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(3 * time.Second)

	got := r.collect(t)
	for name, want := range map[string]float64{
		"apikey.usage.records": 2, "apikey.usage.flush.failures": 1, "apikey.usage.dropped": 1,
		"apikey.feed.changes": 1, "apikey.feed.lag": 3,
	} {
		if v := got[name][""].value; v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
}

func TestCountMapsEveryCounter(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, c := range apikey.Counters() {
		r.mx.Count(ctx, c, 2)
	}
	got := r.collect(t)
	for name, labels := range map[string][]string{
		"apikey.rehashes":            {"ok", "failed"},
		"apikey.auth.refusals":       {"no_credentials", "malformed", "invalid", "insufficient_scope", "ip_not_allowed", "throttled", "rate_limited", "usage_exceeded", "unavailable"},
		"apikey.rotation.deliveries": {"rotated", "failed", "claimed_elsewhere", "unscheduled"},
		"apikey.ratelimit.decisions": {"allowed", "refused", "error"},
		"apikey.credits.decisions":   {"allowed", "refused", "error"},
		"apikey.cache.evictions":     {""},
		"apikey.feed.resets":         {""},
		"apikey.feed.failures":       {""},
	} {
		if len(got[name]) != len(labels) {
			t.Errorf("%s has points %v, want %v", name, got[name], labels)
		}
		for _, l := range labels {
			if v := got[name][l].value; v != 2 {
				t.Errorf("%s{%s} = %v, want 2", name, l, v)
			}
		}
	}
	if _, ok := got["apikey.events"]; ok {
		t.Errorf("some counters fell through to apikey.events: %v", got["apikey.events"])
	}
}

// TestDurationSampling: by default 1 verification in 32 is timed into the
// histogram (a uniform random sample), every one is counted; sampling 1
// times all, WithoutVerifyDuration none, and 0 is refused.
func TestDurationSampling(t *testing.T) {
	ctx := context.Background()
	const verifies = 3200
	for _, c := range []struct {
		name     string
		opts     []otelapikey.Option
		min, max float64 // histogram count
	}{
		// Binomial(3200, 1/32): mean 100, standard deviation 9.8.
		{"default", nil, 50, 150},
		{"every", []otelapikey.Option{otelapikey.WithDurationSampling(1)}, verifies, verifies},
		{"one in 4", []otelapikey.Option{otelapikey.WithDurationSampling(4)}, 700, 900},
		{"none", []otelapikey.Option{otelapikey.WithoutVerifyDuration()}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.opts...)
			tok := r.create(t).Token.Reveal()
			for range verifies {
				if _, err := r.m.Verify(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			got := r.collect(t)
			if n := got["apikey.verify.outcomes"]["valid"].value; n != verifies {
				t.Errorf("outcomes{valid} = %v, want %d", n, verifies)
			}
			n := got["apikey.verify.duration"]["valid"].value
			if n < c.min || n > c.max {
				t.Errorf("duration count = %v, want %v to %v", n, c.min, c.max)
			}
		})
	}
	if _, err := otelapikey.New(otelapikey.WithDurationSampling(0)); err == nil {
		t.Error("New accepted WithDurationSampling(0)")
	}
}
