package apikey

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// reservedTenant is refused as a tenant name: it was the any-tenant
// marker of earlier versions (now Manager.GetByID), so a caller still
// passing it gets ErrNotFound, never another tenant's key.
const reservedTenant = "*"

// maxTenantLen and maxKeyNameLen bound tenant and key names.
const (
	maxTenantLen  = 128
	maxKeyNameLen = 256
)

// Manager issues, verifies, rotates and revokes API keys on a Store. It is
// safe for concurrent use. New does no I/O and starts no goroutine.
type Manager struct {
	store   Store
	cfg     config
	current Hasher
	// dummy is a stored-hash-shaped value compared against when no record
	// matches, so unknown tokens cost what wrong secrets cost.
	dummy []byte
	// cache is the verification cache, nil unless WithCache.
	cache *verifyCache
	// readLookup is the store read of Verify: the store's shared read when it
	// offers one (SharedLookupStore), else GetByLookup.
	readLookup func(ctx context.Context, lookup string) (*Key, error)
	// tracer traces store reads of Verify, nil unless the Metrics is one.
	tracer StoreReadTracer
	// timeOneIn: time 1 verify in timeOneIn (0: none), from TimingSampler.
	timeOneIn uint32
	// failLog samples the INFO lines of failed verifications (faillog.go).
	failLog failureLog

	// limiter spends rate limits (WithRateLimiter; an in-process
	// MemoryLimiter by default); credits holds credit leases.
	limiter RateLimiter
	credits creditLeases
	// wallLimiter is limiter when it is a *MemoryLimiter and the clock is
	// the wall clock: verify then hands it its own clock reading.
	wallLimiter *MemoryLimiter

	idMu    sync.Mutex
	entropy io.Reader
}

// New returns a Manager over store. At least one hash version must be
// registered (WithPepper or WithHasher).
func New(store Store, opts ...Option) (*Manager, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalid)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.checkConfig(); err != nil {
		return nil, err
	}
	if err := checkRoles(&cfg); err != nil {
		return nil, err
	}
	switch {
	case len(cfg.hashers) == 0:
		return nil, fmt.Errorf("%w: no hash version registered (use WithPepper)", ErrInvalid)
	case cfg.current == "" && len(cfg.hashers) == 1:
		for v := range cfg.hashers {
			cfg.current = v
		}
	case cfg.current == "":
		return nil, fmt.Errorf("%w: several hash versions registered; name the current one with WithCurrentHashVersion", ErrInvalid)
	}
	cur, ok := cfg.hashers[cfg.current]
	if !ok {
		return nil, fmt.Errorf("%w: current hash version %q is not registered", ErrInvalid, cfg.current)
	}
	dummy, err := cur.Hash("apikey dummy token for constant-shape misses")
	if err != nil {
		return nil, fmt.Errorf("%w: current hash version %q cannot hash: %w", ErrInvalid, cfg.current, err)
	}
	m := &Manager{
		store:      store,
		cfg:        cfg,
		current:    cur,
		dummy:      dummy,
		cache:      newVerifyCache(cfg.cache),
		readLookup: store.GetByLookup,
		entropy:    ulid.Monotonic(rand.Reader, 0),
		limiter:    cfg.limiter,
		credits:    creditLeases{max: cfg.creditLease},
	}
	if m.limiter == nil {
		m.limiter = NewMemoryLimiter(0)
	}
	if ml, ok := m.limiter.(*MemoryLimiter); ok {
		if _, wall := cfg.clock.(*wallClock); wall {
			m.wallLimiter = ml
		}
	}
	if cfg.testEntropy != nil {
		m.entropy = ulid.Monotonic(cfg.testEntropy, 0)
		cfg.logger.Warn("apikey: WithTestEntropy is set: tokens are predictable; never use it in production")
	}
	if s, ok := store.(SharedLookupStore); ok && s.SharedStore() == store {
		m.readLookup = s.GetByLookupShared
	}
	m.tracer, _ = cfg.metrics.(StoreReadTracer)
	m.timeOneIn = 1
	if s, ok := cfg.metrics.(TimingSampler); ok {
		m.timeOneIn = s.TimeOneIn()
	}
	m.failLog.interval = cfg.failLog
	return m, nil
}

// Store returns the manager's store.
func (m *Manager) Store() Store { return m.store }

// Now returns the manager's clock reading, as the library stores instants
// (UTC, microseconds).
func (m *Manager) Now() time.Time { return normTime(m.cfg.clock.Now()) }

// Prefix returns the token prefix.
func (m *Manager) Prefix() string { return m.cfg.prefix }

// Environments returns the token environments, the default first.
func (m *Manager) Environments() []string { return slices.Clone(m.cfg.envs) }

// Catalog returns the scope catalogue, or nil if none is set.
func (m *Manager) Catalog() *Catalog { return m.cfg.catalog }

// HashVersion returns the current hash version.
func (m *Manager) HashVersion() string { return m.cfg.current }

// Logger returns the manager's logger.
func (m *Manager) Logger() *slog.Logger { return m.cfg.logger }

// newID returns a fresh ULID stamped with t.
func (m *Manager) newID(t time.Time) (string, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	id, err := ulid.New(ulid.Timestamp(t), m.entropy)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// emit sends an audit event to the hook, if any.
func (m *Manager) emit(ctx context.Context, e Event) {
	if m.cfg.hook != nil {
		m.cfg.hook(ctx, e)
	}
}

// storeErr turns a store failure into the error callers see: sentinel
// errors pass through, anything else becomes ErrStoreUnavailable.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrAlreadyExists),
		errors.Is(err, ErrInvalid), errors.Is(err, ErrChangesTrimmed):
		return err
	}
	return fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, op, err)
}

// checkTenant validates a tenant argument of a management call.
func checkTenant(tenant string) error {
	if tenant == "" || len(tenant) > maxTenantLen || tenant == reservedTenant {
		return fmt.Errorf("%w: tenant must be 1-%d bytes and not %q", ErrInvalid, maxTenantLen, reservedTenant)
	}
	return nil
}

// validID reports whether id is a ULID, so malformed IDs never reach a store.
func validID(id string) bool {
	_, err := ulid.ParseStrict(id)
	return err == nil
}

// Get returns the key id of tenant. A malformed ID, a missing key and
// another tenant's key all give ErrNotFound.
func (m *Manager) Get(ctx context.Context, tenant, id string) (*Key, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	k, err := m.GetByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Tenant != tenant {
		return nil, fmt.Errorf("%w: key %q", ErrNotFound, id)
	}
	return k, nil
}

// GetByID returns key id whatever its tenant, for operator paths (an
// operator console, an import check); pass the key's Tenant to the other
// management calls. Every path that acts for a tenant uses Get, where
// another tenant's key is ErrNotFound. A malformed ID gives ErrNotFound.
func (m *Manager) GetByID(ctx context.Context, id string) (*Key, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: key %q", ErrNotFound, id)
	}
	k, err := m.store.Get(ctx, id)
	if err != nil {
		return nil, storeErr("get", err)
	}
	return k, nil
}

// List returns one page of the tenant's keys, newest first. ListActive is
// judged at the manager's clock unless opts.At is set.
func (m *Manager) List(ctx context.Context, tenant string, opts ListOptions) (Page, error) {
	if err := checkTenant(tenant); err != nil {
		return Page{}, fmt.Errorf("%w: list needs one tenant", ErrInvalid)
	}
	if opts.At.IsZero() {
		opts.At = m.Now()
	}
	p, err := m.store.List(ctx, tenant, opts)
	return p, storeErr("list", err)
}

// ListAll returns every key of the tenant, newest first, following pages.
func (m *Manager) ListAll(ctx context.Context, tenant string, filter ListFilter) ([]*Key, error) {
	var all []*Key
	opts := ListOptions{Filter: filter, Limit: 1000, At: m.Now()}
	for {
		p, err := m.List(ctx, tenant, opts)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Keys...)
		if p.Next == "" {
			return all, nil
		}
		opts.After = p.Next
	}
}

// TokenRegexp returns the pattern of this manager's tokens, for secret
// scanners: `\b<prefix>_(<env>|<env>...)_[0-9A-Za-z]{66}\b`. Check a match
// with ValidChecksum before acting on it.
//
// Its leading \b needs a non-word character before the prefix, so it misses
// a token glued to letters, digits or an underscore, as in
// "API_KEY_pgk_live_..." or "xpgk_live_...". To register the tokens with a
// secret-scanning service (GitHub custom patterns, gitleaks, trufflehog),
// give it no boundary before the prefix and a non-alphanumeric one after:
//
//	secret:  pgk_(?:live|test)_[0-9A-Za-z]{66}
//	before:  anything (no boundary)
//	after:   \z|[^0-9A-Za-z]
//
// and validate each match with the checksum (the algorithm and a test vector
// are in TokenPattern's documentation); examples/scan does so, and also
// looks inside base64 and JSON \u escapes.
func (m *Manager) TokenRegexp() *regexp.Regexp {
	envs := make([]string, len(m.cfg.envs))
	for i, e := range m.cfg.envs {
		envs[i] = regexp.QuoteMeta(e)
	}
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(m.cfg.prefix) + `_(?:` + strings.Join(envs, "|") + `)_[0-9A-Za-z]{66}\b`)
}
