package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func ptrTime(t time.Time) *time.Time { return &t }

func TestUpdateExpiry(t *testing.T) {
	ctx := context.Background()
	const maxLife = 90 * 24 * time.Hour
	f := newFixture(t, apikey.WithMaxLifetime(maxLife), apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	is := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(24 * time.Hour)})
	tok := is.Token.Reveal()
	f.mustVerify(t, tok)
	f.clock.Advance(time.Hour)

	for _, tc := range []struct {
		name string
		exp  time.Time
		want error
	}{
		{"past", t0.Add(30 * time.Minute), apikey.ErrInvalid},
		{"now", t0.Add(time.Hour), apikey.ErrInvalid},
		{"beyond the maximum lifetime from creation", t0.Add(maxLife + time.Second), apikey.ErrInvalid},
		{"removed under a maximum lifetime", time.Time{}, apikey.ErrInvalid},
		{"at the maximum lifetime from creation", t0.Add(maxLife), nil},
		{"shortened", t0.Add(2 * time.Hour), nil},
	} {
		k, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{ExpiresAt: ptrTime(tc.exp)})
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: Update = %v, want %v", tc.name, err, tc.want)
		case tc.want == nil && err != nil:
			t.Errorf("%s: Update: %v", tc.name, err)
		case tc.want == nil && !k.ExpiresAt.Equal(tc.exp):
			t.Errorf("%s: ExpiresAt = %v, want %v", tc.name, k.ExpiresAt, tc.exp)
		}
	}
	// The cached record follows the change at once: the shortened expiry
	// applies on the next verify.
	f.clock.Advance(time.Hour)
	f.verifyErr(t, tok, apikey.ErrExpired)
	// An expired key stays dead.
	if _, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{ExpiresAt: ptrTime(t0.Add(48 * time.Hour))}); !errors.Is(err, apikey.ErrConflict) {
		t.Errorf("extending an expired key: %v, want ErrConflict", err)
	}
	f.verifyErr(t, tok, apikey.ErrExpired)
}

func TestUpdateExpiryRemovedWithoutMaximum(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{ExpiresAt: t0.Add(time.Hour)})
	k, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{ExpiresAt: ptrTime(time.Time{})})
	if err != nil || !k.ExpiresAt.IsZero() {
		t.Fatalf("removing the expiry: %v, expires %v", err, k.ExpiresAt)
	}
	f.clock.Advance(1000 * time.Hour)
	f.mustVerify(t, is.Token.Reveal())
	var updated bool
	for _, e := range f.events.take() {
		updated = updated || e.Kind == apikey.EventUpdated && e.KeyID == is.Key.ID
	}
	if !updated {
		t.Errorf("no %q event for the expiry change", apikey.EventUpdated)
	}
}

func TestNotBefore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	if _, err := f.m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", ExpiresAt: t0.Add(time.Hour), NotBefore: t0.Add(time.Hour)}); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("not-before at the expiry: %v, want ErrInvalid", err)
	}
	is := f.create(t, "ws_1", apikey.CreateParams{NotBefore: t0.Add(time.Hour), ExpiresAt: t0.Add(3 * time.Hour)})
	tok := is.Token.Reveal()
	f.verifyErr(t, tok, apikey.ErrNotYetValid)
	if got := apikey.Reason(apikey.ErrNotYetValid); got != "not_yet_valid" {
		t.Errorf("Reason = %q", got)
	}
	var reasons []string
	for _, e := range f.events.take() {
		if e.Kind == apikey.EventVerifyFailed {
			reasons = append(reasons, e.Reason)
		}
	}
	if len(reasons) != 1 || reasons[0] != "not_yet_valid" {
		t.Errorf("verify_failed reasons = %v, want [not_yet_valid]", reasons)
	}
	f.clock.Advance(time.Hour - time.Microsecond)
	f.verifyErr(t, tok, apikey.ErrNotYetValid)
	f.clock.Advance(time.Microsecond)
	f.mustVerify(t, tok) // boundary: valid from NotBefore on

	// Moving it later refuses the key again at once (cache included);
	// removing it lets it through.
	if _, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{NotBefore: ptrTime(t0.Add(2 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	f.verifyErr(t, tok, apikey.ErrNotYetValid)
	if _, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{NotBefore: ptrTime(t0.Add(4 * time.Hour))}); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("not-before after the expiry: %v, want ErrInvalid", err)
	}
	if _, err := f.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{NotBefore: ptrTime(time.Time{})}); err != nil {
		t.Fatal(err)
	}
	f.mustVerify(t, tok)

	// A successor keeps the not-before time and the owner.
	is2 := f.create(t, "ws_1", apikey.CreateParams{NotBefore: t0.Add(10 * time.Hour), Owner: "usr_7"})
	r, err := f.m.Rotate(ctx, "ws_1", is2.Key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Key.NotBefore.Equal(t0.Add(10*time.Hour)) || r.Key.Owner != "usr_7" {
		t.Errorf("successor: not before %v, owner %q", r.Key.NotBefore, r.Key.Owner)
	}
}

// A not-yet-valid key gets the generic 401 over HTTP.
func TestNotBeforeHTTP(t *testing.T) {
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{NotBefore: t0.Add(time.Hour)})
	auth, err := apikey.NewAuthenticator(f.m)
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("handler reached") }))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="api", error="invalid_token"` {
		t.Errorf("answer %d %q, want the generic 401 invalid_token", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

// Another process's cache drops a key whose expiry or not-before changed.
func TestFollowerSeesExpiryChange(t *testing.T) {
	ctx := context.Background()
	a, b := twoProcesses(t)
	fl := newFollower(t, b.m)
	if err := fl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	is := a.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()
	b.mustVerify(t, tok)
	if _, err := a.m.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{NotBefore: ptrTime(t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	b.mustVerify(t, tok) // cached, no poll yet
	if err := fl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	b.verifyErr(t, tok, apikey.ErrNotYetValid)
}
