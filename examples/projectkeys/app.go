package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/rotation"
)

// Token format and scope catalogue of seed 003.
const (
	tokenPrefix = "pk"
	tokenEnv    = "live"
)

// catalogue is every scope a key can hold.
var catalogue = []string{"jobs:read", "jobs:write", "runs:read", scopeManage}

// config is the server's configuration.
type config struct {
	kit.Config
	// AdminToken is the operator token (-admin-token or ADMIN_TOKEN);
	// empty disables it, or under -dev makes newApp generate one.
	AdminToken string
	// RotationCheck is how often due keys are rotated (-rotation-check).
	RotationCheck time.Duration
	// Redis is the -redis URL: rate limits in that Redis, shared by every
	// process given the same one and the same -db; empty: in-process.
	Redis string
	// SecretScanKeys is the file of the secret scanner's public keys, in
	// GitHub's format (-secret-scanning-keys); empty: no endpoint.
	SecretScanKeys string
	// SecretScanFlag only flags reported keys instead of revoking them
	// (-secret-scanning-policy flag).
	SecretScanFlag bool

	// Test hooks: an already opened store and fixed secrets, used instead
	// of opening DB and loading the secret.
	backend *kit.Backend
	secrets *kit.Secrets
	// stderr receives the generated -dev admin token (default os.Stderr).
	stderr io.Writer
}

// app is a wired server: its handler, the pieces tests reach into, and
// the shutdown that stops the background work and closes the store.
type app struct {
	handler   http.Handler
	m         *apikey.Manager
	clock     *kit.DevClock
	tracker   *apikey.UsageTracker
	scheduler *rotation.Scheduler
	log       *slog.Logger
	maxKeys   int          // active keys per project (-max-keys; 0: no limit)
	leaks     http.Handler // secret scanning reports, or nil (handlers_lifecycle.go)
	// redis is the -redis rate limiter (nil without -redis).
	redis *kit.RedisLimiter

	closeOnce sync.Once
	closeErr  error
	closers   []func(context.Context) error
}

// shutdown stops the rotation scheduler, flushes last-used data, stops
// the change-feed follower and closes the store, once; later calls return
// the first result.
func (a *app) shutdown(ctx context.Context) error {
	a.closeOnce.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closeErr = errors.Join(a.closeErr, a.closers[i](ctx))
		}
	})
	return a.closeErr
}

// newApp opens the store, builds the manager, the usage tracker and the
// rotation scheduler (both started), and the routes. On error, whatever
// was started is stopped again.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (_ *app, err error) {
	a := &app{clock: &kit.DevClock{}, log: log, maxKeys: cfg.MaxKeys}
	defer func() {
		if err != nil {
			_ = a.shutdown(context.WithoutCancel(ctx))
		}
	}()
	if cfg.RotationCheck <= 0 {
		return nil, errors.New("-rotation-check must be positive")
	}
	adminToken, err := resolveAdminToken(cfg, log)
	if err != nil {
		return nil, err
	}
	backend := cfg.backend
	if backend == nil {
		if backend, err = kit.OpenStore(ctx, cfg.DB); err != nil {
			return nil, err
		}
	}
	a.closers = append(a.closers, backend.Close)
	if backend.Metrics == nil {
		if backend.Metrics, err = kit.StartMetrics(cfg.MetricsAddr, log); err != nil {
			return nil, err
		}
	}
	secrets, err := loadSecrets(cfg, backend, log)
	if err != nil {
		return nil, err
	}
	if cfg.Redis != "" {
		if a.redis, err = kit.OpenRedisLimiter(ctx, cfg.Redis, "projectkeys", cfg.DB, log); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.redis.Close)
	}
	hooks, err := rotation.NewWebhooks(secrets.WebhookKey, rotation.WebhookPolicy{AllowLoopback: cfg.Dev})
	if err != nil {
		return nil, err
	}
	opts := []apikey.Option{
		apikey.WithPrefix(tokenPrefix),
		apikey.WithEnvironments(tokenEnv),
		apikey.WithPepper("v1", secrets.Pepper),
		apikey.WithWebhooks(hooks),
		apikey.WithClock(a.clock),
		apikey.WithLogger(log),
		apikey.WithScopeCatalog(catalogue...),
		apikey.WithGrace(defaultGrace, maxGrace),
	}
	if a.redis != nil { // -redis; else the Manager's in-process MemoryLimiter
		opts = append(opts, apikey.WithRateLimiter(a.redis.Limiter))
	}
	// Verification cache on SQL stores, kept in step with other processes
	// by the change-feed follower.
	opts = append(opts, backend.CacheOptions()...)
	opts = append(opts, backend.Metrics.Options()...) // -metrics-addr
	if a.m, err = apikey.New(backend.Store, opts...); err != nil {
		return nil, err
	}
	// Credits leased from the store and not spent go back on shutdown
	// (after the server stopped, before the store closes).
	a.closers = append(a.closers, a.m.FlushCredits)
	unfollow, err := backend.Follow(ctx, a.m)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, unfollow)
	if a.tracker, err = apikey.NewUsageTracker(backend.Store, append(backend.Metrics.UsageOptions(),
		apikey.WithUsageInterval(cfg.UsageInterval), apikey.WithUsageLogger(log))...); err != nil {
		return nil, err
	}
	backend.Metrics.Observe(a.m, a.tracker)
	if err := a.tracker.Start(ctx); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.tracker.Close)
	throttle, err := kit.AuthThrottle(cfg.MaxAuthFailures)
	if err != nil {
		return nil, err
	}
	keys, err := apikey.NewAuthenticator(a.m, append([]apikey.MiddlewareOption{
		apikey.WithRealm(realm), apikey.WithUsageTracker(a.tracker),
	}, throttle...)...)
	if err != nil {
		return nil, err
	}
	auth := &authenticator{keys: keys, manage: keys.Scoped(scopeManage)}
	if adminToken != "" {
		d := sha256.Sum256([]byte(adminToken))
		auth.adminDigest = d[:]
	}
	if a.scheduler, err = rotation.NewScheduler(a.m, rotation.WithCheckInterval(cfg.RotationCheck)); err != nil {
		return nil, err
	}
	if err := a.scheduler.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func(context.Context) error { a.scheduler.Stop(); return nil })
	if a.leaks, err = secretScanHandler(cfg, a.m, log); err != nil {
		return nil, err
	}
	a.handler = a.routes(auth, cfg.Dev)
	return a, nil
}

// routes builds the mux. /dev routes exist only under -dev, so without it
// they are unknown routes (404).
func (a *app) routes(auth *authenticator, dev bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/api-keys", auth.requireManager(a.createKey))
	mux.Handle("GET /v1/api-keys", auth.requireManager(a.listKeys))
	mux.Handle("GET /v1/api-keys/expiring", auth.requireManager(a.listExpiring))
	mux.Handle("DELETE /v1/api-keys/{keyID}", auth.requireManager(a.revokeKey))
	mux.Handle("POST /v1/api-keys/{keyID}/rotate", auth.requireManager(a.rotateKey))
	mux.Handle("PATCH /v1/api-keys/{keyID}", auth.requireManager(a.patchKey))
	mux.Handle("GET /v1/whoami", auth.require(a.whoamiHandler))
	if a.leaks != nil {
		mux.Handle("POST /v1/secret-scanning/github", a.leaks)
	}
	if dev {
		mux.HandleFunc("POST /dev/clock", a.devClock)
		mux.HandleFunc("POST /dev/bootstrap", a.devBootstrap)
	}
	return jsonErrors(mux)
}

// resolveAdminToken returns the operator token: the configured one
// (checked), or under -dev a generated one printed once to stderr, or ""
// (operator disabled, with a warning).
func resolveAdminToken(cfg config, log *slog.Logger) (string, error) {
	if cfg.AdminToken != "" {
		if err := checkAdminToken(cfg.AdminToken); err != nil {
			return "", err
		}
		return cfg.AdminToken, nil
	}
	if !cfg.Dev {
		log.Warn("no admin token (-admin-token or ADMIN_TOKEN): operator access is disabled; set one to create the first keys (or use -dev for /dev/bootstrap)")
		return "", nil
	}
	tok := newAdminToken()
	out := cfg.stderr
	if out == nil {
		out = os.Stderr
	}
	// The operator token of this -dev process, shown once so a demo can
	// start; it is not an API key and is never stored.
	fmt.Fprintf(out, "projectkeys -dev: generated admin token for this run: %s\n", tok)
	return tok, nil
}

// loadSecrets returns the pepper and webhook key: the test hook's, fresh
// ones for the memory store, or those of APIKEY_SECRET / a secret file
// beside the SQLite database (projectkeys.secret for other stores).
func loadSecrets(cfg config, b *kit.Backend, log *slog.Logger) (kit.Secrets, error) {
	if cfg.secrets != nil {
		return *cfg.secrets, nil
	}
	return kit.StoreSecrets(b, kit.SecretFileBeside(cfg.DB, "projectkeys.secret"), log)
}
