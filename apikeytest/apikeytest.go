package apikeytest

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// Pepper is the fixed hash pepper of test managers. It is public: never
// use it outside tests.
var Pepper = []byte("apikeytest: public test pepper, never for production")

// Start is the time the manual clock of a test manager starts at.
var Start = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// Tenant is the tenant MustCreate fills in when the params have none.
const Tenant = "test"

// DefaultSeed is the seed of a test manager's tokens unless Seed sets
// another.
const DefaultSeed = 1

// Manager is an apikey.Manager for tests, with its store and clock.
type Manager struct {
	*apikey.Manager
	// Store is the manager's in-memory store.
	Store *memstore.Store
	// Clock is the manager's clock, at Start until moved.
	Clock *apikey.ManualClock
}

// New returns a test manager: memstore, prefix "test", Pepper under hash
// version "v1", a manual clock at Start, tokens and IDs drawn from
// DefaultSeed, and no logging. opts are applied after these and override
// them. It fails the test if New refuses the options.
func New(tb testing.TB, opts ...apikey.Option) *Manager {
	tb.Helper()
	m := &Manager{Store: memstore.New(), Clock: apikey.NewManualClock(Start)}
	base := []apikey.Option{
		apikey.WithPrefix("test"),
		apikey.WithPepper("v1", Pepper),
		apikey.WithClock(m.Clock),
		apikey.WithLogger(nil),
		Seed(DefaultSeed),
	}
	am, err := apikey.New(m.Store, append(base, opts...)...)
	if err != nil {
		tb.Fatalf("apikeytest.New: %v", err)
	}
	m.Manager = am
	return m
}

// Seed makes the manager's tokens and key IDs a function of seed (a
// ChaCha8 stream through apikey.WithTestEntropy): the same seed and the
// same sequence of calls give the same tokens on every run.
func Seed(seed uint64) apikey.Option {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return apikey.WithTestEntropy(rand.NewChaCha8(s))
}

// MustCreate creates a key (in Tenant when p.Tenant is empty) or fails the
// test.
func (m *Manager) MustCreate(tb testing.TB, p apikey.CreateParams) *apikey.Issued {
	tb.Helper()
	if p.Tenant == "" {
		p.Tenant = Tenant
	}
	is, err := m.Create(context.Background(), p)
	if err != nil {
		tb.Fatalf("apikeytest: Create: %v", err)
	}
	return is
}

// MustToken creates a key in Tenant granting scopes and returns its
// plaintext token, or fails the test.
func (m *Manager) MustToken(tb testing.TB, scopes ...string) string {
	tb.Helper()
	return m.MustCreate(tb, apikey.CreateParams{Scopes: scopes}).Token.Reveal()
}

// MustVerify verifies token or fails the test.
func (m *Manager) MustVerify(tb testing.TB, token string) *apikey.Key {
	tb.Helper()
	k, err := m.Verify(context.Background(), token)
	if err != nil {
		tb.Fatalf("apikeytest: Verify: %v", err)
	}
	return k
}

// MustRevoke revokes key id of its tenant or fails the test.
func (m *Manager) MustRevoke(tb testing.TB, id string) *apikey.Key {
	tb.Helper()
	k := m.mustGet(tb, id)
	k, err := m.Revoke(context.Background(), k.Tenant, id)
	if err != nil {
		tb.Fatalf("apikeytest: Revoke: %v", err)
	}
	return k
}

// MustRotate rotates key id of its tenant with grace or fails the test.
func (m *Manager) MustRotate(tb testing.TB, id string, grace time.Duration) *apikey.Rotated {
	tb.Helper()
	k := m.mustGet(tb, id)
	r, err := m.Rotate(context.Background(), k.Tenant, id, grace)
	if err != nil {
		tb.Fatalf("apikeytest: Rotate: %v", err)
	}
	return r
}

func (m *Manager) mustGet(tb testing.TB, id string) *apikey.Key {
	tb.Helper()
	k, err := m.GetByID(context.Background(), id)
	if err != nil {
		tb.Fatalf("apikeytest: GetByID: %v", err)
	}
	return k
}

// MustAuthenticator returns an Authenticator on the manager or fails the
// test.
func (m *Manager) MustAuthenticator(tb testing.TB, opts ...apikey.MiddlewareOption) *apikey.Authenticator {
	tb.Helper()
	a, err := apikey.NewAuthenticator(m.Manager, opts...)
	if err != nil {
		tb.Fatalf("apikeytest: NewAuthenticator: %v", err)
	}
	return a
}

// Request returns a server-side test request (httptest.NewRequest) with
// token as its Bearer credential; an empty token sends none.
func Request(method, target, token string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}
