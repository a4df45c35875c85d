package apikey_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// tokenFuzzRig is one manager (prefix "pgk", environments live and test) on
// a memstore seeded with a few issued keys, shared by every fuzz input.
type tokenFuzzRig struct {
	m      *apikey.Manager
	cached *apikey.Manager // the same store behind the verification cache
	issued []string        // tokens of active keys
	dead   []string        // tokens of a revoked key and of a rotated-out key
}

var (
	tokenRigOnce sync.Once
	tokenRig     *tokenFuzzRig
)

func sharedTokenRig(t testing.TB) *tokenFuzzRig {
	tokenRigOnce.Do(func() {
		store := memstore.New()
		opts := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithEnvironments("live", "test"),
			apikey.WithPepper("v1", pepperV1), apikey.WithClock(apikey.NewManualClock(t0))}
		m, err := apikey.New(store, opts...)
		if err != nil {
			panic(err)
		}
		ctx := context.Background()
		r := &tokenFuzzRig{m: m}
		mk := func(env string) *apikey.Issued {
			is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Environment: env})
			if err != nil {
				panic(err)
			}
			return is
		}
		for _, env := range []string{"live", "live", "test"} {
			r.issued = append(r.issued, mk(env).Token.Reveal())
		}
		rev := mk("live")
		if _, err := m.Revoke(ctx, "acme", rev.Key.ID); err != nil {
			panic(err)
		}
		rot := mk("live")
		succ, err := m.Rotate(ctx, "acme", rot.Key.ID, 0)
		if err != nil {
			panic(err)
		}
		r.dead = []string{rev.Token.Reveal(), rot.Token.Reveal()}
		r.issued = append(r.issued, succ.Token.Reveal())
		// Made after every change, so its cache holds nothing stale.
		if r.cached, err = apikey.New(store, append(opts, apikey.WithCache(apikey.CacheOptions{MaxEntries: 64, MaxNegative: 64}))...); err != nil {
			panic(err)
		}
		tokenRig = r
	})
	return tokenRig
}

// FuzzParseToken feeds arbitrary strings to the token parser through every
// public door (ValidChecksum, DisplayPrefix, Redact, Manager.Verify) and
// checks: nothing panics; Redact leaves nothing token-shaped and no issued
// secret; and Verify (with and without the verification cache) succeeds
// exactly for the tokens of active keys. The mode byte turns the raw input
// into near-misses of issued tokens so the fuzzer reaches the store path:
// 1 reseals its checksum, 2 splices it into an issued token and reseals,
// 3 redacts it around an issued token.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{
		"",
		"pgk_live_",
		"pgk_live_" + strings.Repeat("0", 60) + "1Hl5NV",
		"pgk_live_" + strings.Repeat("0", 60) + "1Hl5NW",
		"pgk_test_" + strings.Repeat("z", 66),
		"pgk_staging_" + strings.Repeat("A", 66),
		"Bearer pgk_live_" + strings.Repeat("a", 66),
		"a_b_" + strings.Repeat("9", 63) + "pgk_live_",
		strings.Repeat("_", 300),
		"pgk_live_\x00\xff" + strings.Repeat("é", 33),
	} {
		for mode := range byte(4) {
			f.Add(s, mode, byte(0))
		}
	}
	r := sharedTokenRig(f)
	f.Fuzz(func(t *testing.T, s string, mode, pick byte) {
		issued := r.issued[int(pick)%len(r.issued)]
		switch mode % 4 {
		case 1:
			if len(s) > 6 {
				s = sealed(s[:len(s)-6])
			}
		case 2:
			// Overwrite part of an issued token's body with s, then fix
			// the checksum: a well-formed token near a real one.
			body := []byte(unsealed(issued))
			at := int(pick) % len(body)
			copy(body[at:], s)
			s = sealed(string(body))
		}
		checkParsers(t, s)
		if mode%4 == 3 {
			checkRedactAround(t, r, s, issued)
		}

		want := slices.Contains(r.issued, s)
		checkVerify(t, r.m, s, want)
		checkVerify(t, r.cached, s, want)
	})
}

// checkVerify verifies s with m and checks it succeeds exactly when want.
func checkVerify(t *testing.T, m *apikey.Manager, s string, want bool) {
	t.Helper()
	k, err := m.Verify(context.Background(), s)
	switch {
	case want && err != nil:
		t.Fatalf("an issued token did not verify: %v", err)
	case !want && err == nil:
		t.Fatalf("Verify accepted %q, which is not an issued token (key %s)", apikey.Redact(s), k.ID)
	case err == nil && k.Prefix != apikey.DisplayPrefix(s):
		t.Fatalf("Verify returned key %s for another token", k.ID)
	case err != nil && apikey.Reason(err) == "store_unavailable":
		t.Fatalf("memstore cannot be unavailable: %v", err)
	}
}

// checkParsers runs the offline parsers on s and checks they agree.
func checkParsers(t *testing.T, s string) {
	t.Helper()
	valid := apikey.ValidChecksum(s)
	dp := apikey.DisplayPrefix(s)
	shaped := apikey.TokenPattern.FindString(s) == s && s != ""
	if valid && !shaped {
		t.Fatalf("ValidChecksum accepts %q, which is not token-shaped", s)
	}
	if (dp != "") != shaped {
		t.Fatalf("DisplayPrefix(%q) = %q; token-shaped: %v", s, dp, shaped)
	}
	if dp != "" && (!strings.HasPrefix(s, dp) || len(s)-len(dp) != 62) {
		t.Fatalf("DisplayPrefix(%q) = %q is not the token's start minus 62 characters", s, dp)
	}
	red := apikey.Redact(s)
	if m := apikey.TokenPattern.FindString(red); m != "" {
		t.Fatalf("Redact left a token-shaped substring %q in %q", m, red)
	}
	if apikey.Redact(red) != red {
		t.Fatalf("Redact is not idempotent on %q", s)
	}
}

// checkRedactAround redacts an issued token surrounded by s and checks that
// no part of its secret survives.
func checkRedactAround(t *testing.T, r *tokenFuzzRig, s, issued string) {
	t.Helper()
	secret := unsealed(issued)[len(issued)-66+17:] // the 43 secret characters
	if strings.Contains(s, secret[:8]) {
		return // s itself carries the secret's start: nothing to learn
	}
	for _, in := range []string{s + issued, issued + s, s + issued + s, s + " " + issued} {
		if out := apikey.Redact(in); strings.Contains(out, secret[:8]) {
			t.Fatalf("Redact(%q + token) kept the secret: %q", s, out)
		}
	}
}

// A token right after text that itself ends like a token loses its prefix
// to the first match; what is left ("_live_<body>") must still be masked.
// Found by FuzzParseToken.
func TestRedactGluedToken(t *testing.T) {
	r := sharedTokenRig(t)
	tok := r.issued[0]
	glued := "a_b_" + strings.Repeat("0", 63) + tok
	out := apikey.Redact(glued)
	if strings.Contains(out, tok[len(tok)-50:]) {
		t.Fatalf("Redact kept the token's body: %q", out)
	}
	if want := "a_b_0000****_live_" + tok[9:13] + "****"; out != want {
		t.Fatalf("Redact = %q, want %q", out, want)
	}
}
