package apikey_test

import (
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/storetest/faultstore"
)

// faultRig is a manager (prefix "pgk", hash version v1, manual clock) on a
// fault-injecting memstore, with keys in every verify-relevant state.
type faultRig struct {
	m     *apikey.Manager
	fs    *faultstore.Store
	clock *apikey.ManualClock

	valid, revoked, other *apikey.Issued
	// wrong is valid's token with one secret character changed (checksum
	// fixed up); unknown is a well-formed token of a key never stored.
	wrong, unknown string
}

func newFaultRig(t testing.TB, opts ...apikey.Option) *faultRig {
	t.Helper()
	r := &faultRig{fs: faultstore.New(memstore.New()), clock: apikey.NewManualClock(t0)}
	base := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1), apikey.WithClock(r.clock)}
	m, err := apikey.New(r.fs, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.m = m
	ctx := t.Context()
	mk := func() *apikey.Issued {
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:read"}})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		return is
	}
	r.valid, r.revoked, r.other = mk(), mk(), mk()
	if _, err := m.Revoke(ctx, "acme", r.revoked.Key.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	r.wrong = wrongSecret(r.valid.Token.Reveal())
	// A token minted by another manager with the same prefix: well-formed,
	// never stored here.
	stranger, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1))
	if err != nil {
		t.Fatal(err)
	}
	is, err := stranger.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	r.unknown = is.Token.Reveal()
	r.fs.ResetCalls()
	return r
}

// wrongSecret changes the first secret character of tok and fixes the
// checksum, so the token is well-formed and keeps its selector.
func wrongSecret(tok string) string {
	body := unsealed(tok)
	i := len(body) - 43 // first secret character
	c := byte('A')
	if body[i] == 'A' {
		c = 'B'
	}
	return sealed(body[:i] + string(c) + body[i+1:])
}
