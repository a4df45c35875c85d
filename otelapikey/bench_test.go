package otelapikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/otelapikey"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// BenchmarkVerifyOTelVsOff interleaves a verify without metrics ("off")
// with one reporting to otelapikey on the OpenTelemetry SDK (a meter
// provider whose manual reader is never collected; the global no-op tracer),
// with and without the duration histogram, and reports on/off as "ratio".
// Goal: at most 1.1 and no allocation.
func BenchmarkVerifyOTelVsOff(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		cached   bool
		duration bool
	}{
		{"memstore", false, true}, {"memstore+cache", true, true},
		{"memstore/no-histogram", false, false}, {"memstore+cache/no-histogram", true, false},
	} {
		cached := c.cached
		b.Run(c.name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer func() { _ = mp.Shutdown(ctx) }()
			opts := []otelapikey.Option{otelapikey.WithMeterProvider(mp)}
			if !c.duration {
				opts = append(opts, otelapikey.WithoutVerifyDuration())
			}
			mx, err := otelapikey.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			base := []apikey.Option{apikey.WithPrefix("bch"), apikey.WithPepper("v1", pepper)}
			if cached {
				base = append(base, apikey.WithCache(apikey.CacheOptions{}))
			}
			store := memstore.New()
			off, err := apikey.New(store, base...)
			if err != nil {
				b.Fatal(err)
			}
			on, err := apikey.New(store, append(base, apikey.WithMetrics(mx))...)
			if err != nil {
				b.Fatal(err)
			}
			tokens, err := benchkit.Populate(ctx, off, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			tok := tokens[0]
			b.ReportAllocs()
			b.ResetTimer()
			benchkit.Interleave(b, "off", func() {
				if _, err := off.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}, "on", func() {
				if _, err := on.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
