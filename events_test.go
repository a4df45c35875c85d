package apikey_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestVerifyFailedEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.create(t, "acme", apikey.CreateParams{ExpiresAt: t0.Add(time.Hour)})
	head, sel, sec, _ := tokenParts(t, good.Token.Reveal())

	revoked := f.create(t, "acme", apikey.CreateParams{})
	if _, err := f.m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	rotated := f.create(t, "acme", apikey.CreateParams{})
	if _, err := f.m.Rotate(ctx, "acme", rotated.Key.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	expired := f.create(t, "acme", apikey.CreateParams{ExpiresAt: t0.Add(2 * time.Minute)})
	f.clock.Advance(2 * time.Minute) // past the grace and the expiry

	tests := []struct {
		name      string
		token     string
		fail      bool // the store fails
		want      error
		reason    string // of the event
		errReason string // apikey.Reason of the error
		key       *apikey.Key
	}{
		{"malformed", "pgk_live_nope", false, apikey.ErrMalformed, "malformed", "malformed", nil},
		{"unknown selector", sealed(head + flip(sel, 1) + sec), false, apikey.ErrNotFound, "not_found", "not_found", nil},
		{"wrong secret", sealed(head + sel + flip(sec, 1)), false, apikey.ErrNotFound, "mismatch", "not_found", good.Key},
		{"revoked", revoked.Token.Reveal(), false, apikey.ErrRevoked, "revoked", "revoked", revoked.Key},
		{"grace ended", rotated.Token.Reveal(), false, apikey.ErrGraceEnded, "grace_ended", "grace_ended", rotated.Key},
		{"expired", expired.Token.Reveal(), false, apikey.ErrExpired, "expired", "expired", expired.Key},
		{"store unavailable", good.Token.Reveal(), true, apikey.ErrStoreUnavailable, "store_unavailable", "store_unavailable", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.events.take()
			if tt.fail {
				f.store.setFail(errBroken)
				defer f.store.setFail(nil)
			}
			_, err := f.m.Verify(ctx, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if got := apikey.Reason(err); got != tt.errReason {
				t.Errorf("Reason(err) = %q, want %q", got, tt.errReason)
			}
			ev := f.events.take()
			if len(ev) != 1 {
				t.Fatalf("events = %+v, want one", ev)
			}
			e := ev[0]
			if e.Kind != apikey.EventVerifyFailed || e.Reason != tt.reason || !e.At.Equal(f.m.Now()) {
				t.Errorf("event = %+v, want verify_failed/%s", e, tt.reason)
			}
			var wantID, wantPrefix, wantTenant string
			if tt.key != nil {
				wantID, wantPrefix, wantTenant = tt.key.ID, tt.key.Prefix, tt.key.Tenant
			}
			if e.KeyID != wantID || e.Prefix != wantPrefix || e.Tenant != wantTenant {
				t.Errorf("event names key %q/%q/%q, want %q/%q/%q", e.KeyID, e.Prefix, e.Tenant, wantID, wantPrefix, wantTenant)
			}
		})
	}
	f.events.take()
	f.clock.Set(t0)
	f.mustVerify(t, good.Token.Reveal())
	if ev := f.events.take(); len(ev) != 0 {
		t.Errorf("a successful verify emitted %+v", ev)
	}
}

func TestLifecycleEvents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	is := f.create(t, "acme", apikey.CreateParams{})
	at := f.clock.Advance(time.Minute)
	r, err := f.m.Rotate(ctx, "acme", is.Key.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Update(ctx, "acme", r.Key.ID, apikey.UpdateParams{Name: ptr("n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Revoke(ctx, "acme", r.Key.ID); err != nil {
		t.Fatal(err)
	}
	// RevokeAll tells the keys it revoked by their timestamp, so it runs at
	// a later instant than the Revoke above.
	all := f.clock.Advance(time.Second)
	if _, err := f.m.RevokeAll(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	want := []apikey.Event{
		{Kind: apikey.EventCreated, At: t0, KeyID: is.Key.ID, Prefix: is.Key.Prefix, Tenant: "acme"},
		{Kind: apikey.EventRotated, At: at, KeyID: is.Key.ID, Prefix: is.Key.Prefix, Tenant: "acme", SuccessorID: r.Key.ID},
		{Kind: apikey.EventUpdated, At: at, KeyID: r.Key.ID, Prefix: r.Key.Prefix, Tenant: "acme"},
		{Kind: apikey.EventRevoked, At: at, KeyID: r.Key.ID, Prefix: r.Key.Prefix, Tenant: "acme"},
		// The rotated-out key is still in grace, not revoked: RevokeAll revokes it.
		{Kind: apikey.EventRevokedAll, At: all, Tenant: "acme", KeyIDs: []string{is.Key.ID}},
	}
	got := f.events.take()
	if !slices.EqualFunc(got, want, eventEqual) {
		t.Errorf("events:\n got %+v\nwant %+v", got, want)
	}
}

func eventEqual(a, b apikey.Event) bool {
	return a.Kind == b.Kind && a.At.Equal(b.At) && a.KeyID == b.KeyID && a.Prefix == b.Prefix &&
		a.Tenant == b.Tenant && a.Reason == b.Reason && a.SuccessorID == b.SuccessorID && slices.Equal(a.KeyIDs, b.KeyIDs)
}

// Without a hook or a debug logger, a failed verify still gives its error.
func TestVerifyFailedWithoutHook(t *testing.T) {
	m, err := apikey.New(newCountingStore(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(context.Background(), "garbage"); !errors.Is(err, apikey.ErrMalformed) {
		t.Errorf("Verify = %v, want ErrMalformed", err)
	}
}
