package apikey_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/storetest/faultstore"
)

var errConnRefused = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

// While the store cannot answer, Verify says so for every well-formed token:
// never success, never ErrNotFound (a 401 would tell a valid client its key
// is bad), never a state error it could not have read.
func TestVerifyStoreDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(*faultstore.Store)
	}{
		{"every method fails", func(s *faultstore.Store) { s.Fail(errConnRefused) }},
		{"lookups fail", func(s *faultstore.Store) { s.Fail(errConnRefused, faultstore.GetByLookup) }},
		{"context canceled error", func(s *faultstore.Store) { s.Fail(context.Canceled) }},
		{"lookups hang", func(s *faultstore.Store) { s.Hang(faultstore.GetByLookup) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFaultRig(t)
			tc.inject(r.fs)
			for _, tok := range []string{r.valid.Token.Reveal(), r.revoked.Token.Reveal(), r.wrong, r.unknown} {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
				k, err := r.m.Verify(ctx, tok)
				cancel()
				if k != nil || !errors.Is(err, apikey.ErrStoreUnavailable) || errors.Is(err, apikey.ErrNotFound) {
					t.Fatalf("Verify(%s) = %v, %v; want nil, ErrStoreUnavailable", apikey.Redact(tok), k, err)
				}
				if apikey.Reason(err) != "store_unavailable" {
					t.Fatalf("Reason = %q", apikey.Reason(err))
				}
			}
			// Malformed input is refused without the store, down or not.
			if _, err := r.m.Verify(t.Context(), "pgk_live_nope"); !errors.Is(err, apikey.ErrMalformed) {
				t.Fatalf("malformed: %v", err)
			}

			// Recovery: no restart, no state to reset.
			r.fs.Clear()
			mustVerifyOn(t, r.m, r.valid)
			for tok, want := range map[string]error{
				r.revoked.Token.Reveal(): apikey.ErrRevoked,
				r.wrong:                  apikey.ErrNotFound,
				r.unknown:                apikey.ErrNotFound,
			} {
				if k, err := r.m.Verify(t.Context(), tok); k != nil || !errors.Is(err, want) {
					t.Fatalf("after recovery Verify(%s) = %v, %v; want %v", apikey.Redact(tok), k, err, want)
				}
			}
		})
	}
}

// A hung store does not hold a verify past its context's deadline: the call
// returns with ErrStoreUnavailable wrapping the deadline error.
func TestVerifyHungStoreHonoursDeadline(t *testing.T) {
	r := newFaultRig(t)
	r.fs.Hang()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	k, err := r.m.Verify(ctx, r.valid.Token.Reveal())
	if k != nil || !errors.Is(err, apikey.ErrStoreUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify = %v, %v; want ErrStoreUnavailable wrapping the deadline", k, err)
	}
	if ctx.Err() == nil {
		t.Fatal("Verify returned before the deadline without an answer from the store")
	}
}

// Garbage from the store never makes a token verify: a damaged hash, a hash
// under an unknown version, or another key's record all give ErrNotFound
// for every token, the valid one included.
func TestVerifyGarbageRecords(t *testing.T) {
	r := newFaultRig(t)
	other := r.other.Key.Clone()
	for _, tc := range []struct {
		name string
		c    faultstore.Corruption
	}{
		{"wrong hash", faultstore.WrongHash},
		{"empty hash", faultstore.EmptyHash},
		{"truncated hash", faultstore.TruncatedHash},
		{"unknown hash version", faultstore.UnknownHashVersion},
		{"another key's record", faultstore.Substitute(other)},
		{"another key's record, unknown version", faultstore.Chain(faultstore.Substitute(other), faultstore.UnknownHashVersion)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.fs.Corrupt(tc.c, faultstore.GetByLookup)
			defer r.fs.Clear()
			for _, tok := range []string{r.valid.Token.Reveal(), r.revoked.Token.Reveal(), r.wrong} {
				if k, err := r.m.Verify(t.Context(), tok); k != nil || !errors.Is(err, apikey.ErrNotFound) {
					t.Fatalf("Verify(%s) = %v, %v; want ErrNotFound", apikey.Redact(tok), k, err)
				}
			}
		})
	}
	mustVerifyOn(t, r.m, r.valid)
}

// Management calls report an unavailable store as such and change nothing;
// once the store is back they work, and a revoke made then takes effect.
func TestManagementStoreDown(t *testing.T) {
	r := newFaultRig(t)
	ctx := t.Context()
	r.fs.Fail(errConnRefused)
	id := r.valid.Key.ID
	calls := map[string]func() error{
		"Create":    func() error { _, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"}); return err },
		"Get":       func() error { _, err := r.m.Get(ctx, "acme", id); return err },
		"List":      func() error { _, err := r.m.List(ctx, "acme", apikey.ListOptions{}); return err },
		"Revoke":    func() error { _, err := r.m.Revoke(ctx, "acme", id); return err },
		"RevokeAll": func() error { _, err := r.m.RevokeAll(ctx, "acme"); return err },
		"Rotate":    func() error { _, err := r.m.Rotate(ctx, "acme", id, time.Hour); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, apikey.ErrStoreUnavailable) {
			t.Errorf("%s with the store down: %v, want ErrStoreUnavailable", name, err)
		}
	}
	r.fs.Clear()
	mustVerifyOn(t, r.m, r.valid) // nothing above reached the store
	if _, err := r.m.Revoke(ctx, "acme", id); err != nil {
		t.Fatalf("Revoke after recovery: %v", err)
	}
	if k, err := r.m.Verify(ctx, r.valid.Token.Reveal()); k != nil || !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("Verify after revoke: %v, %v", k, err)
	}
}

// TestFaultCampaign injects random faults between verifies of tokens in
// every state and checks the one invariant that matters: a verify succeeds
// only for the active key's own token, read from a healthy store. It
// reports how many faults it injected and how many stale accepts it saw
// (any is a failure).
func TestFaultCampaign(t *testing.T) {
	r := newFaultRig(t)
	rng := rand.New(rand.NewPCG(1, 2))
	other := r.other.Key.Clone()
	corruptions := []faultstore.Corruption{
		faultstore.WrongHash, faultstore.EmptyHash, faultstore.TruncatedHash,
		faultstore.UnknownHashVersion, faultstore.Substitute(other),
	}
	type tokenCase struct {
		tok    string
		active bool
	}
	tokens := []tokenCase{
		{r.valid.Token.Reveal(), true}, {r.revoked.Token.Reveal(), false}, {r.wrong, false}, {r.unknown, false},
	}
	const rounds = 3000
	var injected, staleAccepts, unavailable, refused, accepted int
	for range rounds {
		healthy := false
		switch rng.IntN(4) {
		case 0:
			r.fs.Clear()
			healthy = true
		case 1:
			r.fs.Fail(errConnRefused, faultstore.GetByLookup)
		case 2:
			r.fs.Hang(faultstore.GetByLookup)
		case 3:
			r.fs.Corrupt(corruptions[rng.IntN(len(corruptions))], faultstore.GetByLookup)
		}
		if !healthy {
			injected++
		}
		tc := tokens[rng.IntN(len(tokens))]
		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		k, err := r.m.Verify(ctx, tc.tok)
		cancel()
		switch {
		case err == nil && (!healthy || !tc.active || k.ID != r.valid.Key.ID):
			staleAccepts++
			t.Errorf("stale accept: %s verified (healthy store: %v)", apikey.Redact(tc.tok), healthy)
		case err == nil:
			accepted++
		case errors.Is(err, apikey.ErrStoreUnavailable):
			unavailable++
		default:
			refused++
			if healthy && tc.active {
				t.Errorf("the active key was refused by a healthy store: %v", err)
			}
		}
	}
	r.fs.Clear()
	mustVerifyOn(t, r.m, r.valid)
	t.Logf("fault campaign: %d verifies, %d faults injected, %d accepted, %d refused, %d store-unavailable, %d stale accepts",
		rounds, injected, accepted, refused, unavailable, staleAccepts)
}

func mustVerifyOn(t *testing.T, m *apikey.Manager, is *apikey.Issued) {
	t.Helper()
	k, err := m.Verify(t.Context(), is.Token.Reveal())
	if err != nil || k.ID != is.Key.ID {
		t.Fatalf("Verify of a valid key: %v, %v", k, err)
	}
}
