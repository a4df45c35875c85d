package otelapikey

import (
	"context"
	"errors"
	"strings"

	"github.com/apikit/apikey"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrument describes the counter one group of apikey.Counters goes to.
type instrument struct {
	name, unit, desc string
	key              attribute.Key // the label the rest of the counter's name becomes; "" for none
}

// groups maps the first part of an apikey.Counter's name to its counter.
// A counter whose name has no group here goes to apikey.events, labelled
// apikey.event with its full name, so a newer apikey loses nothing.
var groups = map[string]instrument{
	"rehash":               {"apikey.rehashes", "{key}", "Keys re-hashed to the current hash version, by result.", KeyResult},
	"refused":              {"apikey.auth.refusals", "{request}", "Requests the Authenticator refused, by reason.", KeyReason},
	"cache.evicted":        {"apikey.cache.evictions", "{entry}", "Verification cache entries evicted to make room.", ""},
	"feed.changes":         {"apikey.feed.changes", "{change}", "Change-feed entries applied to the verification cache.", ""},
	"feed.failures":        {"apikey.feed.failures", "{poll}", "Change-feed polls that could not read the feed.", ""},
	"feed.resets":          {"apikey.feed.resets", "{reset}", "Whole-cache resets because the change feed was trimmed.", ""},
	"usage.records":        {"apikey.usage.records", "{record}", "Usage records written.", ""},
	"usage.flush_failures": {"apikey.usage.flush.failures", "{batch}", "Usage batches whose write failed (kept for a retry).", ""},
	"usage.dropped":        {"apikey.usage.dropped", "{use}", "Uses dropped because too many keys were pending.", ""},
	"rotation":             {"apikey.rotation.deliveries", "{rotation}", "Scheduled rotations, by outcome.", KeyOutcome},
	"ratelimit":            {"apikey.ratelimit.decisions", "{decision}", "Rate-limit decisions, by decision.", KeyDecision},
	"credits":              {"apikey.credits.decisions", "{decision}", "Credit decisions, by decision.", KeyDecision},
}

var otherEvents = instrument{"apikey.events", "{event}", "Other apikey events, by name.", "apikey.event"}

// counters fills byCounter: one counter per group, one prebuilt attribute
// set per apikey.Counter.
func (m *Metrics) counters(meter metric.Meter) error {
	made := map[string]metric.Int64Counter{}
	var errs []error
	for _, c := range apikey.Counters() {
		if int(c) >= len(m.byCounter) {
			continue
		}
		name := c.String()
		in, rest := otherEvents, name
		if g, ok := groups[name]; ok {
			in, rest = g, ""
		} else if group, label, ok := strings.Cut(name, "."); ok {
			if g, ok := groups[group]; ok {
				in, rest = g, label
			}
		}
		ctr, ok := made[in.name]
		if !ok {
			var err error
			ctr, err = meter.Int64Counter(in.name, metric.WithUnit(in.unit), metric.WithDescription(in.desc))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			made[in.name] = ctr
		}
		t := target{c: ctr}
		if in.key != "" {
			t.add = label(in.key.String(rest)).add
		}
		m.byCounter[c] = t
	}
	return errors.Join(errs...)
}

// gauges registers the observed gauges and their one callback.
func (m *Metrics) gauges(meter metric.Meter) error {
	entries, err1 := meter.Int64ObservableGauge("apikey.cache.entries", metric.WithUnit("{entry}"),
		metric.WithDescription("Verification cache entries, known keys and remembered unknown tokens."))
	pending, err2 := meter.Int64ObservableGauge("apikey.usage.pending", metric.WithUnit("{key}"),
		metric.WithDescription("Keys with a use not yet written."))
	lag, err3 := meter.Float64ObservableGauge("apikey.feed.lag", metric.WithUnit("s"),
		metric.WithDescription("Time since the change feed was last read: how long a change made elsewhere may go unnoticed."))
	outcomes, err4 := meter.Int64ObservableCounter("apikey.verify.outcomes", metric.WithUnit("{verification}"),
		metric.WithDescription("API key verifications, by outcome."))
	lookups, err5 := meter.Int64ObservableCounter("apikey.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Verification cache lookups, by result (hit or miss)."))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	known := metric.WithAttributeSet(attribute.NewSet(KeyCacheEntry.String("known")))
	negative := metric.WithAttributeSet(attribute.NewSet(KeyCacheEntry.String("negative")))
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		var byCache [3]int64
		for i := range m.verifyN {
			var n int64
			for c := range m.verifyN[i] {
				v := m.verifyN[i][c].Load()
				n += v
				byCache[c] += v
			}
			if n > 0 {
				o.ObserveInt64(outcomes, n, m.byOutcome[i].obs...)
			}
		}
		for _, c := range []apikey.CacheResult{apikey.CacheHit, apikey.CacheMiss} {
			if byCache[c] > 0 {
				o.ObserveInt64(lookups, byCache[c], m.byCache[c].obs...)
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.managers) > 0 {
			var s apikey.CacheStats
			for _, mgr := range m.managers {
				cs := mgr.CacheStats()
				s.Entries += cs.Entries
				s.Negative += cs.Negative
			}
			o.ObserveInt64(entries, int64(s.Entries), known)
			o.ObserveInt64(entries, int64(s.Negative), negative)
		}
		if len(m.usages) > 0 {
			var n int64
			for _, t := range m.usages {
				n += int64(t.Stats().Pending)
			}
			o.ObserveInt64(pending, n)
		}
		var worst float64
		seen := false
		for _, fw := range m.followers {
			if d, ok := fw.lag(); ok {
				worst, seen = max(worst, d.Seconds()), true
			}
		}
		if seen {
			o.ObserveFloat64(lag, worst)
		}
		return nil
	}, entries, pending, lag, outcomes, lookups)
	return err
}
