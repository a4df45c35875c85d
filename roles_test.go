package apikey_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

func rolesFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixture(t,
		apikey.WithScopeCatalog("jobs:read", "jobs:write", "runs:read", "api-keys:manage"),
		apikey.WithRole("reader", "jobs:read", "runs:read"),
		apikey.WithRole("admin", "jobs:read", "jobs:write", "runs:read", "api-keys:manage"),
	)
}

func TestRoleOptionsRefused(t *testing.T) {
	pepper := apikey.WithPepper("v1", pepperV1)
	for name, opts := range map[string][]apikey.Option{
		"scope-like name":   {apikey.WithRole("jobs:read", "jobs:read")},
		"wildcard name":     {apikey.WithRole("*", "jobs:read")},
		"empty name":        {apikey.WithRole("", "jobs:read")},
		"name with a space": {apikey.WithRole("read only", "jobs:read")},
		"no scopes":         {apikey.WithRole("reader")},
		"malformed scope":   {apikey.WithRole("reader", "jobs")},
		"defined twice":     {apikey.WithRole("reader", "jobs:read"), apikey.WithRole("reader", "runs:read")},
		"outside the catalogue, role first": {apikey.WithRole("reader", "jobs:delete"),
			apikey.WithScopeCatalog("jobs:read")},
		"outside the catalogue, catalogue first": {apikey.WithScopeCatalog("jobs:read"),
			apikey.WithRole("reader", "jobs:delete")},
	} {
		if _, err := apikey.New(memstore.New(), append(opts, pepper)...); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: New error = %v, want ErrInvalid", name, err)
		}
	}
}

func TestRolesExpandAtCreateAndUpdate(t *testing.T) {
	ctx := context.Background()
	f := rolesFixture(t)
	is := f.create(t, "p1", apikey.CreateParams{Scopes: []string{"reader", "jobs:write", "jobs:read"}})
	if want := []string{"jobs:read", "jobs:write", "runs:read"}; !slices.Equal(is.Key.Scopes, want) {
		t.Errorf("created with reader + jobs:write: scopes %v, want %v", is.Key.Scopes, want)
	}
	k := f.mustVerify(t, is.Token.Reveal())
	if !k.HasScope("runs:read") || k.HasScope("api-keys:manage") {
		t.Errorf("verified scopes %v", k.Scopes)
	}
	scopes := []string{"admin"}
	up, err := f.m.Update(ctx, "p1", is.Key.ID, apikey.UpdateParams{Scopes: &scopes})
	if err != nil {
		t.Fatalf("Update to admin: %v", err)
	}
	if want := []string{"api-keys:manage", "jobs:read", "jobs:write", "runs:read"}; !slices.Equal(up.Scopes, want) {
		t.Errorf("updated to admin: scopes %v, want %v", up.Scopes, want)
	}
	for _, bad := range [][]string{{"owner"}, {"reader", "jobs:delete"}} {
		if _, err := f.m.Create(ctx, apikey.CreateParams{Tenant: "p1", Scopes: bad}); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("Create with %v: %v, want ErrInvalid", bad, err)
		}
	}
	got, err := f.m.ExpandScopes([]string{"reader"})
	if err != nil || !slices.Equal(got, []string{"jobs:read", "runs:read"}) {
		t.Errorf("ExpandScopes(reader) = %v, %v", got, err)
	}
	roles := f.m.Roles()
	roles["reader"][0] = "tampered"
	if again := f.m.Roles()["reader"]; again[0] != "jobs:read" {
		t.Errorf("Roles returned the manager's own slice: %v", again)
	}
}

// Anti-escalation looks through roles: a key may hand out a role only if it
// holds every scope of it.
func TestRolesCanGrant(t *testing.T) {
	f := rolesFixture(t)
	for _, tc := range []struct {
		granter, requested []string
		want               error
	}{
		{[]string{"jobs:read", "runs:read"}, []string{"reader"}, nil},
		{[]string{"jobs:read"}, []string{"reader"}, apikey.ErrInsufficientScope},
		{[]string{"jobs:*", "runs:read"}, []string{"reader", "jobs:write"}, nil},
		{[]string{"jobs:*", "runs:read"}, []string{"admin"}, apikey.ErrInsufficientScope},
		{[]string{"*"}, []string{"admin"}, nil},
		{[]string{"*"}, []string{"nosuchrole"}, apikey.ErrInvalid},
	} {
		err := f.m.CanGrant(tc.granter, tc.requested)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CanGrant(%v, %v) = %v, want %v", tc.granter, tc.requested, err, tc.want)
		}
	}
}
