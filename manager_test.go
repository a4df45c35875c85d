package apikey_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

func TestNewRefusesBadConfig(t *testing.T) {
	store := memstore.New()
	v1 := apikey.WithPepper("v1", pepperV1)
	tests := []struct {
		name  string
		store apikey.Store
		opts  []apikey.Option
	}{
		{"nil store", nil, []apikey.Option{v1}},
		{"no hash version", store, nil},
		{"short pepper", store, []apikey.Option{apikey.WithPepper("v1", pepperV1[:31])}},
		{"version twice", store, []apikey.Option{v1, apikey.WithPepper("v1", pepperV2)}},
		{"several versions, none current", store, []apikey.Option{v1, apikey.WithPepper("v2", pepperV2)}},
		{"current not registered", store, []apikey.Option{v1, apikey.WithCurrentHashVersion("v9")}},
		{"bad prefix", store, []apikey.Option{v1, apikey.WithPrefix("pg_k")}},
		{"prefix too long", store, []apikey.Option{v1, apikey.WithPrefix(strings.Repeat("p", 17))}},
		{"no environment", store, []apikey.Option{v1, apikey.WithEnvironments()}},
		{"bad environment", store, []apikey.Option{v1, apikey.WithEnvironments("live", "te st")}},
		{"nil clock", store, []apikey.Option{v1, apikey.WithClock(nil)}},
		{"bad catalogue scope", store, []apikey.Option{v1, apikey.WithScopeCatalog("jobs")}},
		{"negative lifetime", store, []apikey.Option{v1, apikey.WithDefaultLifetime(-time.Hour)}},
		{"negative max lifetime", store, []apikey.Option{v1, apikey.WithMaxLifetime(-time.Hour)}},
		{"grace default above max", store, []apikey.Option{v1, apikey.WithGrace(2*time.Hour, time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := apikey.New(tt.store, tt.opts...); !errors.Is(err, apikey.ErrInvalid) || m != nil {
				t.Fatalf("New = %v, %v; want nil, ErrInvalid", m, err)
			}
		})
	}
}

func TestCreateVerify(t *testing.T) {
	f := newFixture(t)
	// A clock off UTC and below the microsecond: stored times are UTC and
	// truncated to microseconds.
	f.clock.Set(t0.Add(123456789 * time.Nanosecond).In(time.FixedZone("X", 5*3600)))
	wantAt := t0.Add(123456 * time.Microsecond)
	ctx := context.Background()
	is, err := f.m.Create(ctx, apikey.CreateParams{
		Tenant:    "acme",
		Name:      "deploy bot",
		Scopes:    []string{"jobs:write", "jobs:read", "jobs:read"},
		CreatedBy: "user_1",
		Metadata:  map[string]string{"team": "infra"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := is.Token.Reveal()
	k := is.Key
	switch {
	case len(k.ID) != 26:
		t.Errorf("ID %q is not a ULID", k.ID)
	case k.Tenant != "acme" || k.Name != "deploy bot" || k.CreatedBy != "user_1" || k.Environment != "live":
		t.Errorf("record fields: %+v", *k)
	case !slices.Equal(k.Scopes, []string{"jobs:read", "jobs:write"}):
		t.Errorf("Scopes = %v, want sorted and deduplicated", k.Scopes)
	case k.Prefix != apikey.DisplayPrefix(tok) || !strings.HasPrefix(tok, "pgk_live_"):
		t.Errorf("Prefix %q does not match the token", k.Prefix)
	case k.HashVersion != "v1" || len(k.Hash) != 32:
		t.Errorf("hash version %q, %d hash bytes", k.HashVersion, len(k.Hash))
	case !k.CreatedAt.Equal(wantAt) || k.CreatedAt.Location() != time.UTC:
		t.Errorf("CreatedAt = %v, want %v UTC", k.CreatedAt, wantAt)
	case !k.ExpiresAt.IsZero() || !k.RevokedAt.IsZero():
		t.Errorf("a fresh key without expiry has ExpiresAt %v, RevokedAt %v", k.ExpiresAt, k.RevokedAt)
	case k.Metadata["team"] != "infra":
		t.Errorf("Metadata = %v", k.Metadata)
	}

	got := f.mustVerify(t, tok)
	if got.ID != k.ID || got.Tenant != "acme" || !slices.Equal(got.Scopes, k.Scopes) || !got.HasScope("jobs:write") {
		t.Errorf("Verify returned %+v, want the created key", *got)
	}
	// The returned key is the caller's own: changing it changes nothing.
	got.Scopes[0] = "*"
	got.Metadata["team"] = "x"
	if again := f.mustVerify(t, tok); again.Scopes[0] != "jobs:read" || again.Metadata["team"] != "infra" {
		t.Errorf("mutating a verified key changed the store: %v %v", again.Scopes, again.Metadata)
	}
	// A test-environment key works on the same manager.
	test := f.create(t, "acme", apikey.CreateParams{Environment: "test"})
	if !strings.HasPrefix(test.Token.Reveal(), "pgk_test_") {
		t.Errorf("test key prefix %q", test.Key.Prefix)
	}
	f.mustVerify(t, test.Token.Reveal())
}

func TestCreateRefusesBadParams(t *testing.T) {
	f := newFixture(t, apikey.WithScopeCatalog("jobs:read", "jobs:write"))
	tests := []struct {
		name string
		p    apikey.CreateParams
	}{
		{"empty tenant", apikey.CreateParams{}},
		{"reserved tenant", apikey.CreateParams{Tenant: "*"}},
		{"tenant too long", apikey.CreateParams{Tenant: strings.Repeat("t", 129)}},
		{"name too long", apikey.CreateParams{Tenant: "acme", Name: strings.Repeat("n", 257)}},
		{"unknown environment", apikey.CreateParams{Tenant: "acme", Environment: "dev"}},
		{"malformed scope", apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs"}}},
		{"scope outside catalogue", apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:delete"}}},
		{"wildcard outside catalogue", apikey.CreateParams{Tenant: "acme", Scopes: []string{"*"}}},
		{"negative rotation interval", apikey.CreateParams{Tenant: "acme", RotationInterval: -time.Hour}},
		{"expiry now", apikey.CreateParams{Tenant: "acme", ExpiresAt: t0}},
		{"expiry in the past", apikey.CreateParams{Tenant: "acme", ExpiresAt: t0.Add(-time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.store.reset()
			if is, err := f.m.Create(context.Background(), tt.p); !errors.Is(err, apikey.ErrInvalid) || is != nil {
				t.Fatalf("Create = %v, %v; want ErrInvalid", is, err)
			}
			if n := f.store.total(); n != 0 {
				t.Errorf("a refused Create made %d store calls", n)
			}
		})
	}
}

func TestExpiryOptions(t *testing.T) {
	const day = 24 * time.Hour
	twoYears := func(t time.Time) time.Time { return t.AddDate(2, 0, 0) }
	tests := []struct {
		name    string
		opts    []apikey.Option
		expires time.Time // requested
		want    time.Time // stored; zero: never
		invalid bool
	}{
		{"no expiry", nil, time.Time{}, time.Time{}, false},
		{"explicit", nil, t0.Add(day), t0.Add(day), false},
		{"explicit, truncated to microseconds, UTC", nil, t0.Add(day + 1500*time.Nanosecond).In(time.FixedZone("Y", -3600)), t0.Add(day + time.Microsecond), false},
		{"default lifetime", []apikey.Option{apikey.WithDefaultLifetime(30 * day)}, time.Time{}, t0.Add(30 * day), false},
		{"explicit beats default lifetime", []apikey.Option{apikey.WithDefaultLifetime(30 * day)}, t0.Add(day), t0.Add(day), false},
		{"default expiry two calendar years", []apikey.Option{apikey.WithDefaultExpiry(twoYears)}, time.Time{}, time.Date(2028, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{"max lifetime gives keys exactly the max", []apikey.Option{apikey.WithMaxLifetime(90 * day)}, time.Time{}, t0.Add(90 * day), false},
		{"max lifetime allows the max", []apikey.Option{apikey.WithMaxLifetime(90 * day)}, t0.Add(90 * day), t0.Add(90 * day), false},
		{"max lifetime refuses a microsecond more", []apikey.Option{apikey.WithMaxLifetime(90 * day)}, t0.Add(90*day + time.Microsecond), time.Time{}, true},
		{"default within max", []apikey.Option{apikey.WithDefaultLifetime(30 * day), apikey.WithMaxLifetime(90 * day)}, time.Time{}, t0.Add(30 * day), false},
		{"past", nil, t0.Add(-day), time.Time{}, true},
		{"now", nil, t0, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts...)
			is, err := f.m.Create(context.Background(), apikey.CreateParams{Tenant: "acme", ExpiresAt: tt.expires})
			if tt.invalid {
				if !errors.Is(err, apikey.ErrInvalid) {
					t.Fatalf("Create = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := is.Key.ExpiresAt; !got.Equal(tt.want) || (!got.IsZero() && got.Location() != time.UTC) {
				t.Fatalf("ExpiresAt = %v, want %v", got, tt.want)
			}
			if tt.want.IsZero() {
				return
			}
			// Works a microsecond before the expiry, expired at it.
			f.clock.Set(tt.want.Add(-time.Microsecond))
			f.mustVerify(t, is.Token.Reveal())
			f.clock.Set(tt.want)
			f.verifyErr(t, is.Token.Reveal(), apikey.ErrExpired)
		})
	}
}

func TestVerifyOutcomes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok := f.create(t, "acme", apikey.CreateParams{}).Token.Reveal()
	head, sel, sec, _ := tokenParts(t, tok)

	// A known selector with another secret and a valid checksum.
	f.store.reset()
	f.verifyErr(t, sealed(head+sel+flip(sec, 10)), apikey.ErrNotFound)
	// An unknown selector with the real secret.
	f.verifyErr(t, sealed(head+flip(sel, 3)+sec), apikey.ErrNotFound)
	// The real selector and secret under the manager's other environment,
	// with the checksum recomputed: the hash covers the whole token, so the
	// environment cannot be swapped.
	f.verifyErr(t, sealed("pgk_test_"+sel+sec), apikey.ErrNotFound)
	if got := f.store.snapshot(); !maps.Equal(got, map[string]int{"GetByLookup": 3}) {
		t.Errorf("store calls = %v, want one GetByLookup per verify", got)
	}
	f.mustVerify(t, tok)

	revoked := f.create(t, "acme", apikey.CreateParams{})
	if _, err := f.m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	f.verifyErr(t, revoked.Token.Reveal(), apikey.ErrRevoked)

	expiring := f.create(t, "acme", apikey.CreateParams{ExpiresAt: t0.Add(time.Minute)})
	f.clock.Advance(time.Minute)
	f.verifyErr(t, expiring.Token.Reveal(), apikey.ErrExpired)
	f.mustVerify(t, tok)
}

func TestTenantGuard(t *testing.T) {
	ctx := context.Background()
	name := "renamed"
	ops := []struct {
		name string
		call func(m *apikey.Manager, tenant, id string) error
	}{
		{"Get", func(m *apikey.Manager, tenant, id string) error { _, err := m.Get(ctx, tenant, id); return err }},
		{"Update", func(m *apikey.Manager, tenant, id string) error {
			_, err := m.Update(ctx, tenant, id, apikey.UpdateParams{Name: &name})
			return err
		}},
		{"Rotate", func(m *apikey.Manager, tenant, id string) error {
			_, err := m.Rotate(ctx, tenant, id, time.Minute)
			return err
		}},
		{"Revoke", func(m *apikey.Manager, tenant, id string) error { _, err := m.Revoke(ctx, tenant, id); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			f := newFixture(t)
			is := f.create(t, "acme", apikey.CreateParams{})
			id := is.Key.ID
			tests := []struct {
				tenant, id string
				want       error
			}{
				{"other", id, apikey.ErrNotFound},
				{"", id, apikey.ErrInvalid},
				{strings.Repeat("t", 129), id, apikey.ErrInvalid},
				{"acme", "not-a-ulid", apikey.ErrNotFound},
				{"acme", "01ARZ3NDEKTSV4RRFFQ69G5FAV", apikey.ErrNotFound},
			}
			for _, tt := range tests {
				if err := op.call(f.m, tt.tenant, tt.id); !errors.Is(err, tt.want) {
					t.Errorf("%s(%q, %q) = %v, want %v", op.name, tt.tenant, tt.id, err, tt.want)
				}
			}
			// Nothing changed: the key still verifies, unrotated, unrevoked.
			if k := f.mustVerify(t, is.Token.Reveal()); k.Name != "" || k.ReplacedBy != "" {
				t.Errorf("a refused %s changed the key: %+v", op.name, *k)
			}
			// The old any-tenant marker is refused, never a way round.
			if err := op.call(f.m, "*", id); !errors.Is(err, apikey.ErrInvalid) {
				t.Errorf("%s(\"*\") = %v, want ErrInvalid", op.name, err)
			}
			// The operator path: GetByID, then the key's own tenant.
			k, err := f.m.GetByID(context.Background(), id)
			if err != nil || k.Tenant != "acme" {
				t.Fatalf("GetByID = %v, %v", k, err)
			}
			if err := op.call(f.m, k.Tenant, id); err != nil {
				t.Errorf("%s(key's tenant) = %v", op.name, err)
			}
			// And the owner's own path works too (on a fresh key).
			own := f.create(t, "acme", apikey.CreateParams{})
			if err := op.call(f.m, "acme", own.Key.ID); err != nil {
				t.Errorf("%s(owner) = %v", op.name, err)
			}
		})
	}
}

func TestListTenantAndMalformedIDs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.create(t, "acme", apikey.CreateParams{})
	f.create(t, "other", apikey.CreateParams{})
	keys, err := f.m.ListAll(ctx, "acme", apikey.ListAny)
	if err != nil || len(keys) != 1 || keys[0].ID != a.Key.ID {
		t.Fatalf("ListAll(acme) = %v, %v", keys, err)
	}
	for _, tenant := range []string{"", "*"} {
		if _, err := f.m.List(ctx, tenant, apikey.ListOptions{}); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("List(%q) = %v, want ErrInvalid", tenant, err)
		}
	}
	f.store.reset()
	if _, err := f.m.Get(ctx, "acme", "'; DROP TABLE keys; --"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Get(malformed ID) = %v, want ErrNotFound", err)
	}
	if n := f.store.total(); n != 0 {
		t.Errorf("a malformed ID reached the store (%d calls)", n)
	}
}

func TestRevokeIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	is := f.create(t, "acme", apikey.CreateParams{})
	f.events.take()
	first := f.clock.Advance(time.Minute)
	k, err := f.m.Revoke(ctx, "acme", is.Key.ID)
	if err != nil || !k.RevokedAt.Equal(first) {
		t.Fatalf("Revoke = %v, %v; want RevokedAt %v", k, err, first)
	}
	f.clock.Advance(time.Hour)
	k, err = f.m.Revoke(ctx, "acme", is.Key.ID)
	if err != nil || !k.RevokedAt.Equal(first) {
		t.Fatalf("second Revoke = %v, %v; want the first RevokedAt %v kept", k, err, first)
	}
	// Again at the very instant of the first revocation: still nothing new.
	f.clock.Set(first)
	if k, err = f.m.Revoke(ctx, "acme", is.Key.ID); err != nil || !k.RevokedAt.Equal(first) {
		t.Fatalf("third Revoke = %v, %v", k, err)
	}
	if got := kinds(f.events.take()); !slices.Equal(got, []apikey.EventKind{apikey.EventRevoked}) {
		t.Errorf("events = %v, want one revoked", got)
	}
	f.verifyErr(t, is.Token.Reveal(), apikey.ErrRevoked)
	if ch, err := f.store.inner.Changes(ctx, 0, 0); err != nil || len(ch) != 1 {
		t.Errorf("change feed = %v, %v; want one entry", ch, err)
	}
}

func TestRevokeAll(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var acme []*apikey.Issued
	for range 3 {
		acme = append(acme, f.create(t, "acme", apikey.CreateParams{}))
	}
	other := f.create(t, "other", apikey.CreateParams{})
	early := f.clock.Advance(time.Minute)
	if _, err := f.m.Revoke(ctx, "acme", acme[0].Key.ID); err != nil {
		t.Fatal(err)
	}
	f.events.take()
	at := f.clock.Advance(time.Minute)
	keys, err := f.m.RevokeAll(ctx, "acme")
	if err != nil || len(keys) != 3 {
		t.Fatalf("RevokeAll = %d keys, %v; want 3", len(keys), err)
	}
	want := map[string]time.Time{acme[0].Key.ID: early, acme[1].Key.ID: at, acme[2].Key.ID: at}
	for i, k := range keys {
		if !k.RevokedAt.Equal(want[k.ID]) {
			t.Errorf("key %s RevokedAt = %v, want %v", k.ID, k.RevokedAt, want[k.ID])
		}
		if i > 0 && keys[i-1].ID < k.ID {
			t.Errorf("RevokeAll keys are not newest first")
		}
	}
	ev := f.events.take()
	if len(ev) != 1 || ev[0].Kind != apikey.EventRevokedAll || ev[0].Tenant != "acme" || !ev[0].At.Equal(at) {
		t.Fatalf("events = %+v, want one revoked_all", ev)
	}
	if got, want := slices.Sorted(slices.Values(ev[0].KeyIDs)), []string{acme[1].Key.ID, acme[2].Key.ID}; !slices.Equal(got, want) {
		t.Errorf("revoked_all KeyIDs = %v, want %v (not the key revoked earlier)", got, want)
	}
	for _, is := range acme {
		f.verifyErr(t, is.Token.Reveal(), apikey.ErrRevoked)
	}
	f.mustVerify(t, other.Token.Reveal())
	for _, tenant := range []string{"", "*"} {
		if _, err := f.m.RevokeAll(ctx, tenant); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("RevokeAll(%q) = %v, want ErrInvalid", tenant, err)
		}
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t, apikey.WithScopeCatalog("jobs:read", "jobs:write", "jobs:*"))
	ctx := context.Background()
	is := f.create(t, "acme", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	id := is.Key.ID
	f.events.take()

	bad := []struct {
		name string
		u    apikey.UpdateParams
	}{
		{"scope outside catalogue", apikey.UpdateParams{Scopes: &[]string{"jobs:delete"}}},
		{"star outside catalogue", apikey.UpdateParams{Scopes: &[]string{"*"}}},
		{"malformed scope", apikey.UpdateParams{Scopes: &[]string{"jobs"}}},
		{"name too long", apikey.UpdateParams{Name: ptr(strings.Repeat("n", 257))}},
	}
	for _, tt := range bad {
		if _, err := f.m.Update(ctx, "acme", id, tt.u); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("Update(%s) = %v, want ErrInvalid", tt.name, err)
		}
	}
	if ev := f.events.take(); len(ev) != 0 {
		t.Errorf("refused updates emitted %v", kinds(ev))
	}

	at := f.clock.Advance(time.Minute)
	k, err := f.m.Update(ctx, "acme", id, apikey.UpdateParams{
		Name:     ptr("ci"),
		Scopes:   &[]string{"jobs:write", "jobs:*", "jobs:write"},
		Metadata: &map[string]string{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "ci" || !slices.Equal(k.Scopes, []string{"jobs:*", "jobs:write"}) || k.Metadata["k"] != "v" {
		t.Errorf("Update gave %+v", *k)
	}
	ev := f.events.take()
	if len(ev) != 1 || ev[0].Kind != apikey.EventUpdated || ev[0].KeyID != id || !ev[0].At.Equal(at) {
		t.Errorf("events = %+v, want one updated", ev)
	}
	if v := f.mustVerify(t, is.Token.Reveal()); !v.HasScope("jobs:delete") || v.Name != "ci" {
		t.Errorf("verify after update: %+v", *v)
	}
	// Only the named fields change.
	k, err = f.m.Update(ctx, "acme", id, apikey.UpdateParams{Name: ptr("ci2")})
	if err != nil || k.Name != "ci2" || len(k.Scopes) != 2 || k.Metadata["k"] != "v" {
		t.Errorf("partial Update = %+v, %v", k, err)
	}
}

func TestStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	name := "x"
	f := newFixture(t)
	is := f.create(t, "acme", apikey.CreateParams{})
	tok, id := is.Token.Reveal(), is.Key.ID
	f.store.setFail(errBroken)
	f.events.take()
	calls := []struct {
		name string
		call func() error
	}{
		{"Verify", func() error { _, err := f.m.Verify(ctx, tok); return err }},
		{"Create", func() error { _, err := f.m.Create(ctx, apikey.CreateParams{Tenant: "acme"}); return err }},
		{"Get", func() error { _, err := f.m.Get(ctx, "acme", id); return err }},
		{"List", func() error { _, err := f.m.List(ctx, "acme", apikey.ListOptions{}); return err }},
		{"Revoke", func() error { _, err := f.m.Revoke(ctx, "acme", id); return err }},
		{"RevokeAll", func() error { _, err := f.m.RevokeAll(ctx, "acme"); return err }},
		{"Rotate", func() error { _, err := f.m.Rotate(ctx, "acme", id, f.m.DefaultGrace()); return err }},
		{"Update", func() error { _, err := f.m.Update(ctx, "acme", id, apikey.UpdateParams{Name: &name}); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, apikey.ErrStoreUnavailable) || errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("%s on a failing store = %v, want ErrStoreUnavailable only", c.name, err)
		}
		if apikey.Reason(err) != "store_unavailable" {
			t.Errorf("%s: Reason = %q", c.name, apikey.Reason(err))
		}
	}
	ev := f.events.take()
	if len(ev) != 1 || ev[0].Kind != apikey.EventVerifyFailed || ev[0].Reason != "store_unavailable" {
		t.Errorf("events = %+v, want one verify_failed/store_unavailable", ev)
	}
	// A cancelled context is also "could not answer", never "not found".
	f.store.setFail(nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.m.Verify(cctx, tok); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Errorf("Verify with a cancelled context = %v, want ErrStoreUnavailable", err)
	}
	f.mustVerify(t, tok)
}

func ptr[T any](v T) *T { return &v }

// kinds lists the kinds of events.
func kinds(ev []apikey.Event) []apikey.EventKind {
	out := make([]apikey.EventKind, len(ev))
	for i, e := range ev {
		out[i] = e.Kind
	}
	return out
}
