package apikey

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures a Manager. Options are validated once, by New; a
// Manager's configuration never changes afterwards.
type Option func(*config) error

type config struct {
	prefix        string
	envs          []string
	hashers       map[string]Hasher
	current       string
	clock         Clock
	logger        *slog.Logger
	hook          EventHook
	catalog       *Catalog
	defaultExpiry func(created time.Time) time.Time
	maxLifetime   time.Duration
	defaultGrace  time.Duration
	maxGrace      time.Duration
	// webhooks checks webhook URLs and seals their secrets (WithWebhooks).
	webhooks Webhooks
	legacy   []LegacyScheme        // WithLegacyImport (legacy.go)
	cache    *CacheOptions         // nil: no verification cache
	publish  InvalidationPublisher // nil: none
	metrics  Metrics               // WithMetrics (metrics.go); nil: none
	failLog  time.Duration         // WithFailureLogInterval (faillog.go)
	// Key controls (ratelimit_options.go, credits_lease.go).
	limiter         RateLimiter // nil: an in-process MemoryLimiter
	limiterFailOpen bool
	creditLease     int64
	roles           map[string][]string // WithRole (roles.go): name to sorted scopes
}

func defaultConfig() config {
	return config{
		prefix:       "key",
		envs:         []string{"live"},
		hashers:      map[string]Hasher{},
		clock:        &wallClock{}, // SystemClock with one clock read instead of two
		logger:       slog.New(slog.DiscardHandler),
		defaultGrace: time.Hour,
		maxGrace:     30 * 24 * time.Hour,
		failLog:      DefaultFailureLogInterval,
		creditLease:  DefaultCreditLease,
	}
}

// WithPrefix sets the token prefix ("pgk" in "pgk_live_..."): 1 to 16 ASCII
// letters or digits. Pick one that secret scanners can recognise as yours.
// The default is "key".
func WithPrefix(prefix string) Option {
	return func(c *config) error {
		if !isAlnum(prefix) || len(prefix) > maxNameLen {
			return fmt.Errorf("%w: prefix %q must be 1-%d ASCII letters or digits", ErrInvalid, prefix, maxNameLen)
		}
		c.prefix = prefix
		return nil
	}
}

// WithEnvironments sets the token environments this manager issues and
// accepts ("live", "test"); the first is the default for new keys. A token
// of another environment is refused as malformed, so test keys cannot reach
// a live deployment that does not list "test". The default is "live".
func WithEnvironments(envs ...string) Option {
	return func(c *config) error {
		if len(envs) == 0 {
			return fmt.Errorf("%w: at least one environment is needed", ErrInvalid)
		}
		for _, e := range envs {
			if !isAlnum(e) || len(e) > maxNameLen {
				return fmt.Errorf("%w: environment %q must be 1-%d ASCII letters or digits", ErrInvalid, e, maxNameLen)
			}
		}
		c.envs = append([]string(nil), envs...)
		return nil
	}
}

// WithPepper registers HMAC-SHA-256 keyed with pepper as hash version
// (such as "v1"). The pepper must be at least 32 random bytes kept outside
// the database (one that obviously holds no entropy, such as zeros, a few
// distinct bytes repeated or a counting sequence, is refused with
// ErrInvalid): with it, a stolen database alone cannot be used to check a
// guessed token. To rotate the pepper, register the new one under a new
// version, make it current with WithCurrentHashVersion, and keep the old one
// registered until every key has been verified (and so re-hashed) once.
func WithPepper(version string, pepper []byte) Option {
	return func(c *config) error {
		h, err := NewHMACHasher(pepper)
		if err != nil {
			return err
		}
		if err := checkPepperEntropy(pepper); err != nil {
			return err
		}
		return addHasher(c, version, h)
	}
}

// WithHasher registers a custom Hasher under version.
func WithHasher(version string, h Hasher) Option {
	return func(c *config) error {
		if h == nil {
			return fmt.Errorf("%w: nil hasher for version %q", ErrInvalid, version)
		}
		return addHasher(c, version, h)
	}
}

func addHasher(c *config, version string, h Hasher) error {
	if version == "" || len(version) > 32 {
		return fmt.Errorf("%w: hash version must be 1-32 bytes", ErrInvalid)
	}
	if _, dup := c.hashers[version]; dup || c.legacyScheme(version) != nil {
		return fmt.Errorf("%w: hash version %q registered twice", ErrInvalid, version)
	}
	c.hashers[version] = h
	return nil
}

// WithCurrentHashVersion names the hash version new keys use and old keys
// are re-hashed to on their next successful verify. It is required when
// more than one version is registered.
func WithCurrentHashVersion(version string) Option {
	return func(c *config) error { c.current = version; return nil }
}

// WithClock sets the clock every timestamp comes from. Default: the
// system clock (as SystemClock, read more cheaply; a step of the wall clock
// is seen within a second).
func WithClock(clock Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalid)
		}
		c.clock = clock
		return nil
	}
}

// WithLogger sets the logger. The library never logs a token or secret;
// failures are logged with the display prefix and a reason.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithEventHook sets the audit hook.
func WithEventHook(h EventHook) Option {
	return func(c *config) error { c.hook = h; return nil }
}

// WithScopeCatalog makes Create and Update refuse scopes outside scopes.
func WithScopeCatalog(scopes ...string) Option {
	return func(c *config) error {
		cat, err := NewCatalog(scopes...)
		if err != nil {
			return err
		}
		c.catalog = cat
		return nil
	}
}

// WithDefaultLifetime makes keys created without an expiry expire d after
// creation. Zero (the default) means such keys never expire.
func WithDefaultLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative default lifetime", ErrInvalid)
		}
		if d == 0 {
			c.defaultExpiry = nil
			return nil
		}
		c.defaultExpiry = func(t time.Time) time.Time { return t.Add(d) }
		return nil
	}
}

// WithDefaultExpiry computes the expiry of keys created without one from
// their creation time, for calendar rules such as
// func(t time.Time) time.Time { return t.AddDate(2, 0, 0) }.
func WithDefaultExpiry(f func(created time.Time) time.Time) Option {
	return func(c *config) error { c.defaultExpiry = f; return nil }
}

// WithMaxLifetime refuses keys whose expiry is more than d after creation,
// and gives keys created without an expiry (and no default) exactly d.
// Zero (the default) means no maximum.
func WithMaxLifetime(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative max lifetime", ErrInvalid)
		}
		c.maxLifetime = d
		return nil
	}
}

// WithGrace sets the default grace period (Manager.DefaultGrace, one hour
// unless set) and the longest grace it accepts (default 30 days).
// A long grace keeps a possibly leaked key alive; keep the maximum short.
func WithGrace(def, max time.Duration) Option {
	return func(c *config) error {
		if def < 0 || max < 0 || def > max {
			return fmt.Errorf("%w: grace default %v must be between 0 and max %v", ErrInvalid, def, max)
		}
		c.defaultGrace, c.maxGrace = def, max
		return nil
	}
}
