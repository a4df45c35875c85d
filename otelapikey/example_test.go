package otelapikey_test

import (
	"context"
	"fmt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/otelapikey"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Example wires a Manager to an OpenTelemetry meter provider (here the
// SDK with a manual reader; in production, the Prometheus or OTLP
// exporter's) and reads the verification outcomes.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(ctx) }()

	mx, err := otelapikey.New(otelapikey.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	m, err := apikey.New(memstore.New(),
		apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
		apikey.WithCache(apikey.CacheOptions{}),
		apikey.WithMetrics(mx))
	if err != nil {
		panic(err)
	}
	mx.ObserveManager(m) // apikey.cache.entries

	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	_, _ = m.Verify(ctx, issued.Token.Reveal())
	_, _ = m.Verify(ctx, issued.Token.Reveal())
	_, _ = m.Verify(ctx, "key_live_not-a-token")

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if md.Name != "apikey.verify.outcomes" {
				continue
			}
			for _, p := range md.Data.(metricdata.Sum[int64]).DataPoints {
				outcome, _ := p.Attributes.Value(otelapikey.KeyOutcome)
				fmt.Printf("%s %s=%s: %d\n", md.Name, otelapikey.KeyOutcome, outcome.AsString(), p.Value)
			}
		}
	}
	// Unordered output:
	// apikey.verify.outcomes apikey.outcome=valid: 2
	// apikey.verify.outcomes apikey.outcome=malformed: 1
}
