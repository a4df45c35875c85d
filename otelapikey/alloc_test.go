//go:build !race

package otelapikey_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/otelapikey"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestVerifyRecordsWithoutAllocating checks that a cached verify reported to
// the OpenTelemetry SDK allocates nothing, for a valid key and for a
// remembered unknown token.
func TestVerifyRecordsWithoutAllocating(t *testing.T) {
	ctx := context.Background()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(ctx) }()
	mx, err := otelapikey.New(otelapikey.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("tst"), apikey.WithPepper("v1", pepper),
		apikey.WithCache(apikey.CacheOptions{}), apikey.WithMetrics(mx))
	if err != nil {
		t.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := apikey.New(memstore.New(), apikey.WithPrefix("tst"), apikey.WithPepper("v1", pepper))
	stranger, err := other.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{is.Token.Reveal(), stranger.Token.Reveal()} {
		_, _ = m.Verify(ctx, tok) // fill the cache and the SDK's aggregators
		if n := testing.AllocsPerRun(500, func() { _, _ = m.Verify(ctx, tok) }); n != 0 {
			t.Errorf("%v allocations per verify with OpenTelemetry metrics, want 0", n)
		}
	}
}
