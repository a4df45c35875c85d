package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/otelapikey"
	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Metrics serves the apikey metrics of an example server in Prometheus
// text format at /metrics on its own listener (-metrics-addr), apart from
// the API so that it can stay internal. The measurements go through
// otelapikey to an OpenTelemetry meter provider whose reader is the
// OpenTelemetry Prometheus exporter, on a registry of its own.
//
// A nil *Metrics (the flag unset) is valid: every method does nothing and
// Options returns none, so a server wires it unconditionally.
type Metrics struct {
	mx  *otelapikey.Metrics
	mp  *sdkmetric.MeterProvider
	srv *http.Server
	ln  net.Listener
}

// StartMetrics starts serving /metrics on addr, or returns nil when addr
// is empty (metrics off). Stop it with Close.
func StartMetrics(addr string, log *slog.Logger) (*Metrics, error) {
	if addr == "" {
		return nil, nil
	}
	reg := promclient.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	// A server's request costs tens of microseconds, so timing every
	// verify (rather than otelapikey's default 1 in 32) is affordable and
	// gives a quiet demo server a histogram at once.
	mx, err := otelapikey.New(otelapikey.WithMeterProvider(mp), otelapikey.WithDurationSampling(1))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &Metrics{mx: mx, mp: mp, ln: ln, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics listener stopped", "error", err.Error())
		}
	}()
	log.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	return m, nil
}

// Addr returns the address /metrics is served on ("" when off).
func (m *Metrics) Addr() string {
	if m == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Options returns the Manager option that reports to these metrics (none
// when off).
func (m *Metrics) Options() []apikey.Option {
	if m == nil {
		return nil
	}
	return []apikey.Option{apikey.WithMetrics(m.mx)}
}

// UsageOptions returns the UsageTracker option that reports to these
// metrics (none when off).
func (m *Metrics) UsageOptions() []apikey.UsageOption {
	if m == nil {
		return nil
	}
	return []apikey.UsageOption{apikey.WithUsageMetrics(m.mx)}
}

// Observe reports the cache sizes of mgr and the pending uses of t (either
// may be nil) as gauges.
func (m *Metrics) Observe(mgr *apikey.Manager, t *apikey.UsageTracker) {
	if m == nil {
		return
	}
	if mgr != nil {
		m.mx.ObserveManager(mgr)
	}
	if t != nil {
		m.mx.ObserveUsage(t)
	}
}

// observeFollower reports f's feed lag.
func (m *Metrics) observeFollower(mgr *apikey.Manager, f *follow.Follower) {
	if m != nil {
		m.mx.ObserveFollower(mgr, f)
	}
}

// Close stops the listener and the meter provider.
func (m *Metrics) Close(ctx context.Context) error {
	if m == nil {
		return nil
	}
	return errors.Join(m.srv.Shutdown(ctx), m.mp.Shutdown(ctx))
}
