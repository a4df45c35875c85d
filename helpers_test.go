package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/rotation"
)

// Peppers of the hash versions the tests register.
var (
	pepperV1 = []byte("v1-pepper-0123456789abcdef0123456789")
	pepperV2 = []byte("v2-pepper-0123456789abcdef0123456789")
	pepperV3 = []byte("v3-pepper-0123456789abcdef0123456789")
)

// testWebhookKey seals webhook secrets in the tests.
var testWebhookKey = []byte("webhook-key-0123456789abcdef0123")

// testWebhooks installs rotation webhooks sealed with testWebhookKey.
func testWebhooks(t testing.TB) apikey.Option {
	t.Helper()
	w, err := rotation.NewWebhooks(testWebhookKey, rotation.WebhookPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	return apikey.WithWebhooks(w)
}

// t0 is the instant every test clock starts at.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// errBroken is what a failing countingStore returns: not a sentinel, so the
// manager must report it as ErrStoreUnavailable.
var errBroken = errors.New("connection refused")

// countingStore wraps a Store and counts every call by method name. When
// fail is set, every call (or only calls of failOnly, when set) returns it
// instead of reaching the inner store.
type countingStore struct {
	inner apikey.Store

	mu       sync.Mutex
	calls    map[string]int
	fail     error
	failOnly string
}

var _ apikey.Store = (*countingStore)(nil)

func newCountingStore() *countingStore {
	return &countingStore{inner: memstore.New(), calls: map[string]int{}}
}

func (s *countingStore) count(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if s.failOnly != "" && s.failOnly != method {
		return nil
	}
	return s.fail
}

// reset zeroes the counters.
func (s *countingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// setFail makes every later call fail with err (nil restores the store).
func (s *countingStore) setFail(err error) { s.setFailOnly("", err) }

// setFailOnly makes later calls of method fail with err.
func (s *countingStore) setFailOnly(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.failOnly = err, method
}

// snapshot returns a copy of the counters.
func (s *countingStore) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

// total returns the number of calls of every method.
func (s *countingStore) total() int {
	n := 0
	for _, v := range s.snapshot() {
		n += v
	}
	return n
}

func (s *countingStore) Create(ctx context.Context, k *apikey.Key) error {
	if err := s.count("Create"); err != nil {
		return err
	}
	return s.inner.Create(ctx, k)
}

func (s *countingStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	if err := s.count("Get"); err != nil {
		return nil, err
	}
	return s.inner.Get(ctx, id)
}

func (s *countingStore) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	if err := s.count("GetByLookup"); err != nil {
		return nil, err
	}
	return s.inner.GetByLookup(ctx, lookup)
}

func (s *countingStore) List(ctx context.Context, tenant string, opts apikey.ListOptions) (apikey.Page, error) {
	if err := s.count("List"); err != nil {
		return apikey.Page{}, err
	}
	return s.inner.List(ctx, tenant, opts)
}

func (s *countingStore) Revoke(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	if err := s.count("Revoke"); err != nil {
		return nil, err
	}
	return s.inner.Revoke(ctx, id, at)
}

func (s *countingStore) RevokeAll(ctx context.Context, tenant string, at time.Time) ([]*apikey.Key, []string, error) {
	if err := s.count("RevokeAll"); err != nil {
		return nil, nil, err
	}
	return s.inner.RevokeAll(ctx, tenant, at)
}

func (s *countingStore) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	if err := s.count("Rotate"); err != nil {
		return nil, err
	}
	return s.inner.Rotate(ctx, r)
}

func (s *countingStore) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	if err := s.count("Update"); err != nil {
		return nil, err
	}
	return s.inner.Update(ctx, id, u)
}

func (s *countingStore) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	if err := s.count("UpgradeHash"); err != nil {
		return err
	}
	return s.inner.UpgradeHash(ctx, id, from, version, hash, at)
}

func (s *countingStore) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	if err := s.count("RecordUsage"); err != nil {
		return err
	}
	return s.inner.RecordUsage(ctx, batch)
}

func (s *countingStore) DueForRotation(ctx context.Context, now time.Time, limit int) ([]*apikey.Key, error) {
	if err := s.count("DueForRotation"); err != nil {
		return nil, err
	}
	return s.inner.DueForRotation(ctx, now, limit)
}

func (s *countingStore) ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error) {
	if err := s.count("ClaimRotation"); err != nil {
		return false, err
	}
	return s.inner.ClaimRotation(ctx, id, due, next)
}

func (s *countingStore) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	if err := s.count("TakeCredits"); err != nil {
		return apikey.CreditLease{}, err
	}
	return s.inner.TakeCredits(ctx, id, want, now)
}

func (s *countingStore) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	if err := s.count("ReturnCredits"); err != nil {
		return err
	}
	return s.inner.ReturnCredits(ctx, id, n, period)
}

func (s *countingStore) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if err := s.count("Purge"); err != nil {
		return 0, err
	}
	return s.inner.Purge(ctx, cutoff)
}

func (s *countingStore) Changes(ctx context.Context, after int64, limit int) ([]apikey.Change, error) {
	if err := s.count("Changes"); err != nil {
		return nil, err
	}
	return s.inner.Changes(ctx, after, limit)
}

func (s *countingStore) LastChange(ctx context.Context) (int64, error) {
	if err := s.count("LastChange"); err != nil {
		return 0, err
	}
	return s.inner.LastChange(ctx)
}

// eventLog collects audit events.
type eventLog struct {
	mu     sync.Mutex
	events []apikey.Event
}

func (l *eventLog) hook(_ context.Context, e apikey.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events collected so far and forgets them.
func (l *eventLog) take() []apikey.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// fixture is a manager on a counting memstore with a manual clock and an
// event log.
type fixture struct {
	m      *apikey.Manager
	store  *countingStore
	clock  *apikey.ManualClock
	events *eventLog
}

// newFixture builds a manager with prefix "pgk", environments live and test,
// hash version v1, and opts on top.

func newFixture(t testing.TB, opts ...apikey.Option) *fixture {
	t.Helper()
	f := &fixture{store: newCountingStore(), clock: apikey.NewManualClock(t0), events: &eventLog{}}
	base := []apikey.Option{
		apikey.WithPrefix("pgk"),
		apikey.WithEnvironments("live", "test"),
		apikey.WithPepper("v1", pepperV1),
		testWebhooks(t),
		apikey.WithClock(f.clock),
		apikey.WithEventHook(f.events.hook),
	}
	m, err := apikey.New(f.store, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	return f
}

// create issues a key for tenant with params p (Tenant is filled in).
func (f *fixture) create(t testing.TB, tenant string, p apikey.CreateParams) *apikey.Issued {
	t.Helper()
	p.Tenant = tenant
	is, err := f.m.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return is
}

// mustVerify verifies tok and fails the test unless it is valid.
func (f *fixture) mustVerify(t testing.TB, tok string) *apikey.Key {
	t.Helper()
	k, err := f.m.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return k
}

// verifyErr verifies tok and fails the test unless the error is want.
func (f *fixture) verifyErr(t testing.TB, tok string, want error) {
	t.Helper()
	k, err := f.m.Verify(context.Background(), tok)
	if !errors.Is(err, want) {
		t.Fatalf("Verify: got %v, want %v", err, want)
	}
	if k != nil {
		t.Fatalf("Verify returned a key with error %v", err)
	}
}

const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksum6 returns the 6-character base62 CRC-32 of s, the way tokens end.
func checksum6(s string) string {
	return base62Fixed(uint64(crc32.ChecksumIEEE([]byte(s))))
}

// base62Fixed encodes v in exactly 6 base62 characters.
func base62Fixed(v uint64) string {
	var out [6]byte
	for i := 5; i >= 0; i-- {
		out[i] = b62[v%62]
		v /= 62
	}
	return string(out[:])
}

// sealed appends the checksum to s, making a checksum-valid token of any
// shape the parser may then still refuse.
func sealed(s string) string { return s + checksum6(s) }

// unsealed strips the 6 checksum characters of tok.
func unsealed(tok string) string { return tok[:len(tok)-6] }

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
