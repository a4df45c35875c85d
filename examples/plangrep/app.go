package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// Plangrep's token prefix, environment and scope catalogue (SPEC C1).
const (
	tokenPrefix = "pgk"
	tokenEnv    = "live"
	realm       = "plangrep"
)

// The scopes of the catalogue.
const (
	scopeJobsRead      = "jobs:read"
	scopeJobsWrite     = "jobs:write"
	scopeArtifactsRead = "artifacts:read"
)

// appConfig is everything newApp needs; main fills it from the flags and
// tests fill it directly.
type appConfig struct {
	// Backend is the opened, migrated store. The app closes it on shutdown.
	Backend *kit.Backend
	// Secrets hold the pepper of hash version v1.
	Secrets kit.Secrets
	// Clock is the server's clock; POST /dev/clock moves it.
	Clock *kit.DevClock
	// Dev enables the /dev endpoints.
	Dev bool
	// UsageInterval is how often last-used data is written.
	UsageInterval time.Duration
	// MaxAuthFailures throttles failed key verifications per client address
	// per minute (0: off); see kit.AuthThrottle.
	MaxAuthFailures int
	// MaxKeys is how many active keys a workspace may hold (0: no limit);
	// see kit.CheckKeyLimit.
	MaxKeys int
	// Logger receives the server's and the library's logs (never a token).
	Logger *slog.Logger
}

// app is the plangrep server: its handler and what it must stop.
type app struct {
	handler  http.Handler
	manager  *apikey.Manager
	tracker  *apikey.UsageTracker
	auth     *apikey.Authenticator
	sessions *sessionTable
	jobs     *jobBoard
	clock    *kit.DevClock
	backend  *kit.Backend
	log      *slog.Logger
	dev      bool                        // the /dev endpoints and the dev sign-in are on
	nonces   formNonces                  // create forms already submitted
	maxKeys  int                         // active keys per workspace (0: no limit)
	unfollow func(context.Context) error // stops the change-feed follower

	closeOnce sync.Once
	closeErr  error
}

// newApp builds the manager, the usage tracker (started), the middleware
// and the routes. Call shutdown once the HTTP server has stopped.
func newApp(ctx context.Context, cfg appConfig) (*app, error) {
	if cfg.Backend == nil || cfg.Clock == nil {
		return nil, errors.New("plangrep: backend and clock are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	interval := cfg.UsageInterval
	if interval <= 0 {
		interval = time.Second
	}
	opts := []apikey.Option{
		apikey.WithPrefix(tokenPrefix),
		apikey.WithEnvironments(tokenEnv),
		apikey.WithScopeCatalog(scopeJobsRead, scopeJobsWrite, scopeArtifactsRead),
		apikey.WithPepper("v1", cfg.Secrets.Pepper),
		apikey.WithClock(cfg.Clock),
		apikey.WithLogger(log),
	}
	// Verification cache on SQL stores; the follower started below bounds
	// how long another process's revocation goes unseen here.
	opts = append(opts, cfg.Backend.CacheOptions()...)
	opts = append(opts, cfg.Backend.Metrics.Options()...) // -metrics-addr
	m, err := apikey.New(cfg.Backend.Store, opts...)
	if err != nil {
		return nil, err
	}
	tracker, err := apikey.NewUsageTracker(cfg.Backend.Store, append(cfg.Backend.Metrics.UsageOptions(),
		apikey.WithUsageInterval(interval), apikey.WithUsageLogger(log))...)
	if err != nil {
		return nil, err
	}
	cfg.Backend.Metrics.Observe(m, tracker)
	throttle, err := kit.AuthThrottle(cfg.MaxAuthFailures)
	if err != nil {
		return nil, err
	}
	auth, err := apikey.NewAuthenticator(m, append([]apikey.MiddlewareOption{
		apikey.WithRealm(realm),
		apikey.WithErrorCodes(apikey.ErrorCodes{Unauthorized: codeUnauthorized, Forbidden: codeForbidden}),
		apikey.WithUsageTracker(tracker),
	}, throttle...)...)
	if err != nil {
		return nil, err
	}
	a := &app{
		manager:  m,
		tracker:  tracker,
		auth:     auth,
		sessions: newSessionTable(),
		jobs:     newJobBoard(),
		clock:    cfg.Clock,
		backend:  cfg.Backend,
		log:      log,
		dev:      cfg.Dev,
		maxKeys:  cfg.MaxKeys,
	}
	a.handler = a.routes(cfg.Dev)
	if a.unfollow, err = cfg.Backend.Follow(ctx, m); err != nil {
		return nil, err
	}
	if err := tracker.Start(context.WithoutCancel(ctx)); err != nil {
		_ = a.unfollow(ctx)
		return nil, err
	}
	return a, nil
}

// routes registers every endpoint on a mux wrapped so that its own 404 and
// 405 answers take the JSON error shape.
func (a *app) routes(dev bool) http.Handler {
	mux := http.NewServeMux()

	// Key management: session cookie only; state changes refuse cross-site.
	mux.Handle("GET /api/open-api/keys", a.session(http.HandlerFunc(a.listKeys)))
	mux.Handle("POST /api/open-api/keys", a.sameOrigin(a.session(http.HandlerFunc(a.createKey))))
	mux.Handle("POST /api/open-api/keys/revoke-all", a.sameOrigin(a.session(http.HandlerFunc(a.revokeAll))))
	mux.Handle("POST /api/open-api/keys/{id}/revoke", a.sameOrigin(a.session(http.HandlerFunc(a.revokeKey))))

	// Open API: bearer keys only, tenant = the key's workspace.
	bearer := a.auth.Middleware
	mux.Handle("GET /api/open/v1/projects", bearer(http.HandlerFunc(a.listProjects)))
	mux.Handle("GET /api/open/v1/jobs", bearer(a.auth.RequireAll(scopeJobsRead)(http.HandlerFunc(a.listJobs))))
	mux.Handle("POST /api/open/v1/jobs", bearer(a.auth.RequireAll(scopeJobsWrite)(http.HandlerFunc(a.createJob))))
	mux.Handle("GET /api/open/v1/artifacts/{id}", bearer(a.auth.RequireAll(scopeArtifactsRead)(http.HandlerFunc(a.getArtifact))))

	// The settings page (HTML) over the same sessions.
	a.settingsRoutes(mux, dev)

	if dev {
		mux.HandleFunc("POST /dev/bootstrap", a.devBootstrap)
		mux.HandleFunc("POST /dev/clock", a.devClock)
	}
	return jsonMux(mux)
}

// shutdown stops the usage tracker (flushing last-used data) and the
// change-feed follower, and closes the database. Later calls return the
// first call's result.
func (a *app) shutdown(ctx context.Context) error {
	a.closeOnce.Do(func() {
		err := a.tracker.Close(ctx)
		if err != nil {
			a.log.Warn("flushing usage data on shutdown failed", "error", err.Error())
		}
		a.closeErr = errors.Join(err, a.unfollow(ctx), a.backend.Close(ctx))
	})
	return a.closeErr
}
