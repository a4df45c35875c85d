package apikeytest_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/apikeytest"
)

// The same seed gives the same tokens and IDs on every run, on every
// machine: a golden value can be written down.
func TestSeedGolden(t *testing.T) {
	m := apikeytest.New(t, apikeytest.Seed(42))
	is := m.MustCreate(t, apikey.CreateParams{Name: "ci", Scopes: []string{"jobs:read"}})
	got := is.Key.ID + " " + is.Token.Reveal()
	if want := "01Q3DCBD0048R1ZE6R55WDNW07 test_live_0thRmD95YL9Vz0n89isISH14YJPVDnBuOOBUB3boeLkfWESeoilgqpZQNL092YnKby"; got != want {
		t.Errorf("seed 42 gave %s, want %s", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	run := func(opts ...apikey.Option) []string {
		m := apikeytest.New(t, opts...)
		var out []string
		for range 3 {
			is := m.MustCreate(t, apikey.CreateParams{})
			out = append(out, is.Token.Reveal(), is.Key.ID)
		}
		r := m.MustRotate(t, m.MustCreate(t, apikey.CreateParams{}).Key.ID, time.Hour)
		return append(out, r.Token.Reveal(), r.Key.ID)
	}
	a, b, c := run(), run(), run(apikeytest.Seed(2))
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("item %d differs between runs with the same seed: %s / %s", i, a[i], b[i])
		}
		if a[i] == c[i] {
			t.Errorf("item %d equal with another seed: %s", i, a[i])
		}
	}
}

func TestHelpers(t *testing.T) {
	m := apikeytest.New(t, apikey.WithDefaultLifetime(24*time.Hour))
	tok := m.MustToken(t, "jobs:read")
	k := m.MustVerify(t, tok)
	if k.Tenant != apikeytest.Tenant || !k.CreatedAt.Equal(apikeytest.Start) {
		t.Fatalf("key %+v", k)
	}
	m.Clock.Advance(25 * time.Hour)
	if _, err := m.Verify(t.Context(), tok); !errors.Is(err, apikey.ErrExpired) {
		t.Fatalf("after the manual clock passed the expiry: %v", err)
	}

	is := m.MustCreate(t, apikey.CreateParams{Tenant: "other"})
	m.MustRevoke(t, is.Key.ID)
	if _, err := m.Verify(t.Context(), is.Token.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("after MustRevoke: %v", err)
	}

	rec := httptest.NewRecorder()
	m.MustAuthenticator(t).Require()(http.NotFoundHandler()).ServeHTTP(rec, apikeytest.Request("GET", "/", ""))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("Request without token: %d", rec.Code)
	}
}

// fakeTB records Fatalf instead of stopping the goroutine's test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(f)
}

// The Must helpers fail the test they are given.
func TestMustFails(t *testing.T) {
	m := apikeytest.New(t, apikey.WithScopeCatalog("jobs:read"))
	cases := map[string]func(tb testing.TB){
		"New":           func(tb testing.TB) { apikeytest.New(tb, apikey.WithPrefix("no way")) },
		"MustCreate":    func(tb testing.TB) { m.MustToken(tb, "not:in:catalog") },
		"MustVerify":    func(tb testing.TB) { m.MustVerify(tb, "test_live_nope") },
		"MustRevoke":    func(tb testing.TB) { m.MustRevoke(tb, "01J00000000000000000000000") },
		"MustRotate":    func(tb testing.TB) { m.MustRotate(tb, "01J00000000000000000000000", 0) },
		"Authenticator": func(tb testing.TB) { m.MustAuthenticator(tb, apikey.WithRealm("\n")) },
	}
	for name, f := range cases {
		tb := &fakeTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != any(tb) {
					panic(r)
				}
			}()
			f(tb)
		}()
		if tb.failed == "" {
			t.Errorf("%s did not fail the test", name)
		}
	}
}
