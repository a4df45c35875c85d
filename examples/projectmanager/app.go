package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// Product settings of ProjectManager.com's keys.
const (
	tokenPrefix = "pmk"
	tokenEnv    = "live"
	realm       = "projectmanager"
	// maxIntegrationName bounds the x-integration-name recorded with a
	// use, in bytes.
	maxIntegrationName = 100
)

// validity is a key's lifetime: two calendar years after creation
// (created.AddDate(2, 0, 0)); the key is refused from that instant.
func validity(created time.Time) time.Time { return created.AddDate(2, 0, 0) }

// devClock is the server's clock, which POST /dev/clock moves forward.
// kit.DevClock is one.
type devClock interface {
	apikey.Clock
	Advance(d time.Duration) (time.Time, error)
}

// appConfig is what newApp builds the server from.
type appConfig struct {
	// Backend is the opened store; the app closes it at shutdown.
	Backend *kit.Backend
	// Secrets hold the pepper.
	Secrets kit.Secrets
	// Clock is the server's clock.
	Clock devClock
	// Dev enables /dev/bootstrap and /dev/clock.
	Dev bool
	// UsageInterval is how often last-used data is written (default 1 s).
	UsageInterval time.Duration
	// MaxAuthFailures throttles failed key verifications per client address
	// per minute (0: off); see kit.AuthThrottle.
	MaxAuthFailures int
	// MaxKeys is how many active keys a workspace may hold (0: no limit);
	// see kit.CheckKeyLimit.
	MaxKeys int
	// Logger receives the server's logs (default: discarded).
	Logger *slog.Logger
}

// app is the ProjectManager server: its handler and what it needs to
// stop cleanly.
type app struct {
	handler http.Handler
	mgr     *apikey.Manager
	usage   *apikey.UsageTracker
	clock   devClock
	log     *slog.Logger
	backend *kit.Backend
	maxKeys int // active keys per workspace (0: no limit)
	// unfollow stops the change-feed follower.
	unfollow func(context.Context) error
}

// newApp wires the manager, the usage tracker (started here; stopped and
// flushed by shutdown), the authenticator and the routes.
func newApp(ctx context.Context, cfg appConfig) (*app, error) {
	if cfg.Backend == nil || cfg.Clock == nil {
		return nil, errors.New("projectmanager: backend and clock are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.UsageInterval <= 0 {
		cfg.UsageInterval = time.Second
	}
	opts := []apikey.Option{
		apikey.WithPrefix(tokenPrefix),
		apikey.WithEnvironments(tokenEnv),
		apikey.WithPepper("v1", cfg.Secrets.Pepper),
		apikey.WithClock(cfg.Clock),
		apikey.WithLogger(log),
		apikey.WithDefaultExpiry(validity),
	}
	// Verification cache on SQL stores, kept in step with other processes
	// by the change-feed follower started below.
	opts = append(opts, cfg.Backend.Metrics.Options()...) // -metrics-addr
	mgr, err := apikey.New(cfg.Backend.Store, append(opts, cfg.Backend.CacheOptions()...)...)
	if err != nil {
		return nil, err
	}
	usage, err := apikey.NewUsageTracker(cfg.Backend.Store, append(cfg.Backend.Metrics.UsageOptions(),
		apikey.WithUsageInterval(cfg.UsageInterval), apikey.WithUsageLogger(log))...)
	if err != nil {
		return nil, err
	}
	cfg.Backend.Metrics.Observe(mgr, usage)
	throttle, err := kit.AuthThrottle(cfg.MaxAuthFailures)
	if err != nil {
		return nil, err
	}
	auth, err := apikey.NewAuthenticator(mgr, append([]apikey.MiddlewareOption{
		apikey.WithRealm(realm),
		apikey.WithErrorHandler(authError),
		apikey.WithUsageTracker(usage),
		apikey.WithClientName(integrationName),
	}, throttle...)...)
	if err != nil {
		return nil, err
	}
	a := &app{mgr: mgr, usage: usage, clock: cfg.Clock, log: log, backend: cfg.Backend, maxKeys: cfg.MaxKeys}
	mux := http.NewServeMux()
	routes := map[string]http.Handler{
		"GET /api/data/api-keys":                auth.Middleware(http.HandlerFunc(a.listKeys)),
		"POST /api/data/api-keys":               auth.Middleware(http.HandlerFunc(a.createKey)),
		"DELETE /api/data/api-keys/revoke-all":  auth.Middleware(http.HandlerFunc(a.revokeAll)),
		"DELETE /api/data/api-keys/{id}/revoke": auth.Middleware(http.HandlerFunc(a.revokeKey)),
	}
	if cfg.Dev {
		routes["POST /dev/bootstrap"] = http.HandlerFunc(a.bootstrap)
		routes["POST /dev/clock"] = http.HandlerFunc(a.advanceClock)
	}
	for pattern, h := range routes {
		mux.Handle(pattern, ours(h))
	}
	a.handler = envelopeMux{mux: mux}
	if a.unfollow, err = cfg.Backend.Follow(ctx, mgr); err != nil {
		return nil, err
	}
	if err := usage.Start(context.WithoutCancel(ctx)); err != nil {
		_ = a.unfollow(ctx)
		return nil, err
	}
	return a, nil
}

// shutdown stops the usage tracker, writing pending last-used data, and
// the change-feed follower, and closes the store. Call it after the HTTP
// server has stopped serving.
func (a *app) shutdown(ctx context.Context) error {
	return errors.Join(a.usage.Close(ctx), a.unfollow(ctx), a.backend.Close(ctx))
}

// integrationName is the calling system's name from the x-integration-name
// header, trimmed and cut to maxIntegrationName bytes on a character
// boundary, for the key's last use.
func integrationName(r *http.Request) string {
	s := strings.TrimSpace(r.Header.Get("X-Integration-Name"))
	if len(s) > maxIntegrationName {
		cut := maxIntegrationName
		for cut > maxIntegrationName-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
