package legacy_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/legacy"
	"github.com/apikit/apikey/memstore"
)

// legacyFuzzTokens are tokens of another system imported (by their SHA-256)
// into every fuzz iteration's store.
var legacyFuzzTokens = []string{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "unkey_3ZZ8sYzN5jD4Kx3m9PcLqR2T"}

// FuzzImportLegacy imports an arbitrary stored hash and lookup under the
// SHA-256 and HMAC legacy schemes, then verifies an arbitrary token. Nothing
// panics; Import fails only with ErrInvalid; and Verify succeeds only for a
// token whose digest was imported. With mode&1 the hash is the token's own
// SHA-256 (hex, base64 or raw by mode>>1), and the token must then verify,
// twice (the second time under the re-hashed record).
func FuzzImportLegacy(f *testing.F) {
	d := sha256.Sum256([]byte("x"))
	for _, seed := range []struct {
		token  string
		hash   []byte
		lookup string
		mode   byte
	}{
		{"sk_live_abc", []byte(hex.EncodeToString(d[:])), "", 0},
		{"sk_live_abc", nil, "", 1},
		{"sk_live_abc", nil, "", 3},
		{"sk_live_abc", nil, "", 5},
		{"pgk_live_" + strings.Repeat("0", 60) + "1Hl5NV", nil, "", 1},
		{"pgk_other_xyz", nil, "", 1},
		{"with space", nil, "", 1},
		{legacyFuzzTokens[0], []byte(" " + base64.StdEncoding.EncodeToString(d[:]) + " "), "", 0},
		{"x", d[:], "lookup", 0},
		{strings.Repeat("k", 257), nil, "", 1},
	} {
		f.Add(seed.token, seed.hash, seed.lookup, seed.mode)
	}
	hmacScheme, err := legacy.HMAC("hmac", []byte("old-system-secret"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string, hash []byte, lookup string, mode byte) {
		ctx := context.Background()
		m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepperV1),
			apikey.WithLegacyImport(legacy.SHA256("sha256")), apikey.WithLegacyImport(hmacScheme),
			apikey.WithClock(apikey.NewManualClock(t0)))
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range legacyFuzzTokens {
			sum := sha256.Sum256([]byte(tok))
			if _, err := m.Import(ctx, apikey.ImportParams{Tenant: "acme", HashVersion: "sha256", Hash: sum[:]}); err != nil {
				t.Fatal(err)
			}
		}
		own := mode&1 == 1
		if own {
			sum := sha256.Sum256([]byte(token))
			switch mode >> 1 % 3 {
			case 0:
				hash = []byte(hex.EncodeToString(sum[:]))
			case 1:
				hash = []byte(base64.RawURLEncoding.EncodeToString(sum[:]))
			default:
				hash = sum[:]
			}
		}
		version := "sha256"
		if mode&0x80 != 0 {
			version = "hmac"
		}
		_, ierr := m.Import(ctx, apikey.ImportParams{Tenant: "acme", HashVersion: version, Hash: hash, Lookup: lookup})
		if ierr != nil && !errors.Is(ierr, apikey.ErrInvalid) && !errors.Is(ierr, apikey.ErrAlreadyExists) {
			t.Fatalf("Import: %v", ierr)
		}
		imported := ierr == nil && version == "sha256" && digestMatches(hash, token)
		known := imported
		for _, tok := range legacyFuzzTokens {
			known = known || token == tok
		}

		k, err := m.Verify(ctx, token)
		if err == nil && !known {
			t.Fatalf("Verify accepted %q, whose digest was never imported (key %s)", token, k.ID)
		}
		if errors.Is(err, apikey.ErrStoreUnavailable) {
			t.Fatalf("Verify: %v", err)
		}
		reachable := len(token) <= 256 && isPrintable(token) && !strings.HasPrefix(token, "pgk_") && !apikey.ValidChecksum(token)
		if own && imported && reachable {
			if err != nil {
				t.Fatalf("a token whose digest was imported did not verify: %v", err)
			}
			if k2, err := m.Verify(ctx, token); err != nil || k2.ID != k.ID || k2.HashVersion != "v1" {
				t.Fatalf("second verify after the re-hash: %v, %v", k2, err)
			}
		}
	})
}

// digestMatches reports whether stored decodes to the SHA-256 of token.
func digestMatches(stored []byte, token string) bool {
	d, err := legacy.DecodeDigest(stored)
	sum := sha256.Sum256([]byte(token))
	return err == nil && string(d) == string(sum[:])
}

// isPrintable reports whether s is printable, non-space ASCII.
func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
