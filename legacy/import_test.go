package legacy_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/legacy"
)

func importRig(t *testing.T) *legacyRig {
	t.Helper()
	bs, err := legacy.Bcrypt("bcrypt", legacy.LookupBefore("."))
	if err != nil {
		t.Fatal(err)
	}
	// Most specific first: SHA-256 claims every token, bcrypt only those with a ".".
	return newLegacyRig(t, apikey.WithLegacyImport(bs), apikey.WithLegacyImport(legacy.SHA256("sha256")),
		apikey.WithEnvironments("live", "test"))
}

func TestImportValidation(t *testing.T) {
	r := importRig(t)
	d := sha256.Sum256([]byte("x"))
	digest := []byte(hex.EncodeToString(d[:]))
	bh, err := bcrypt.GenerateFromPassword([]byte("ab.cd"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	costly := []byte("$2a$17$" + string(bh[7:])) // cost above the cap
	now := r.clock.Now()
	valid := apikey.ImportParams{Tenant: "ws_1", HashVersion: "sha256", Hash: digest}
	tests := []struct {
		name string
		edit func(p *apikey.ImportParams)
	}{
		{"no tenant", func(p *apikey.ImportParams) { p.Tenant = "" }},
		{"reserved tenant", func(p *apikey.ImportParams) { p.Tenant = "*" }},
		{"long name", func(p *apikey.ImportParams) { p.Name = strings.Repeat("n", 257) }},
		{"long display prefix", func(p *apikey.ImportParams) { p.Prefix = strings.Repeat("p", 33) }},
		{"unknown environment", func(p *apikey.ImportParams) { p.Environment = "staging" }},
		{"unregistered version", func(p *apikey.ImportParams) { p.HashVersion = "md5" }},
		{"current version", func(p *apikey.ImportParams) { p.HashVersion = "v1" }},
		{"no hash", func(p *apikey.ImportParams) { p.Hash = nil }},
		{"short digest", func(p *apikey.ImportParams) { p.Hash = digest[:62] }},
		{"not hex", func(p *apikey.ImportParams) { p.Hash = []byte(strings.Repeat("z", 64)) }},
		{"lookup for a derived scheme", func(p *apikey.ImportParams) { p.Lookup = "abc" }},
		{"scope outside catalogue", func(p *apikey.ImportParams) { p.Scopes = []string{"admin:all"} }},
		{"malformed scope", func(p *apikey.ImportParams) { p.Scopes = []string{"jobs"} }},
		{"ID not a ULID", func(p *apikey.ImportParams) { p.ID = "key_123" }},
		{"created in the future", func(p *apikey.ImportParams) { p.CreatedAt = now.Add(time.Hour) }},
		{"expiry before creation", func(p *apikey.ImportParams) {
			p.CreatedAt, p.ExpiresAt = now.Add(-time.Hour), now.Add(-2*time.Hour)
		}},
		{"bcrypt without lookup", func(p *apikey.ImportParams) { p.HashVersion, p.Hash = "bcrypt", bh }},
		{"bcrypt with a long lookup", func(p *apikey.ImportParams) {
			p.HashVersion, p.Hash, p.Lookup = "bcrypt", bh, strings.Repeat("l", 65)
		}},
		{"bcrypt lookup with a space", func(p *apikey.ImportParams) { p.HashVersion, p.Hash, p.Lookup = "bcrypt", bh, "a b" }},
		{"bcrypt, not a bcrypt hash", func(p *apikey.ImportParams) { p.HashVersion, p.Hash, p.Lookup = "bcrypt", digest, "ab" }},
		{"bcrypt cost too high", func(p *apikey.ImportParams) { p.HashVersion, p.Hash, p.Lookup = "bcrypt", costly, "ab" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid
			tt.edit(&p)
			if _, err := r.m.Import(context.Background(), p); !errors.Is(err, apikey.ErrInvalid) {
				t.Fatalf("Import: %v, want ErrInvalid", err)
			}
		})
	}
	if r.store.Len() != 0 {
		t.Fatalf("%d keys stored after invalid imports", r.store.Len())
	}
	if _, err := r.m.Import(context.Background(), valid); err != nil {
		t.Fatalf("the valid base case fails: %v", err)
	}
}

func TestImportDigestForms(t *testing.T) {
	tok := "sk_" + randomText(t, 40)
	d := sha256.Sum256([]byte(tok))
	forms := map[string][]byte{
		"raw":            d[:],
		"hex":            []byte(hex.EncodeToString(d[:])),
		"HEX":            []byte(strings.ToUpper(hex.EncodeToString(d[:]))),
		"base64":         []byte(base64.StdEncoding.EncodeToString(d[:])),
		"base64 raw":     []byte(base64.RawStdEncoding.EncodeToString(d[:])),
		"base64url":      []byte(base64.URLEncoding.EncodeToString(d[:])),
		"base64url raw":  []byte(base64.RawURLEncoding.EncodeToString(d[:])),
		"hex, spaced":    []byte(" " + hex.EncodeToString(d[:]) + "\n"),
		"base64, spaced": []byte(base64.StdEncoding.EncodeToString(d[:]) + " "),
	}
	for name, h := range forms {
		t.Run(name, func(t *testing.T) {
			r := importRig(t)
			if _, err := r.m.Import(context.Background(), apikey.ImportParams{Tenant: "ws_1", HashVersion: "sha256", Hash: h}); err != nil {
				t.Fatalf("Import: %v", err)
			}
			if _, err := r.m.Verify(context.Background(), tok); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestImportRecord(t *testing.T) {
	r := importRig(t)
	ctx := context.Background()
	created := r.clock.Now().Add(-30 * 24 * time.Hour)
	expires := r.clock.Now().Add(24 * time.Hour)
	d := sha256.Sum256([]byte("sk_" + randomText(t, 40)))
	k, err := r.m.Import(ctx, apikey.ImportParams{
		Tenant: "ws_1", Name: "ci", Scopes: []string{"jobs:write", "jobs:read", "jobs:read"},
		Environment: "test", Prefix: "sk_1a2b", CreatedBy: "import", CreatedAt: created.Add(123 * time.Nanosecond),
		ExpiresAt: expires, HashVersion: "sha256", Hash: d[:], Metadata: map[string]string{"legacy_id": "key_1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := ulid.ParseStrict(k.ID)
	if err != nil || ulid.Time(id.Time()).UnixMilli() != created.UnixMilli() {
		t.Fatalf("generated ID %q (%v) is not a ULID stamped with the creation time", k.ID, err)
	}
	got, err := r.m.Get(ctx, "ws_1", k.ID)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"Name", got.Name, "ci"},
		{"Environment", got.Environment, "test"},
		{"Prefix", got.Prefix, "sk_1a2b"},
		{"Scopes", strings.Join(got.Scopes, ","), "jobs:read,jobs:write"},
		{"CreatedBy", got.CreatedBy, "import"},
		{"CreatedAt", got.CreatedAt, created},
		{"ExpiresAt", got.ExpiresAt, expires},
		{"HashVersion", got.HashVersion, "sha256"},
		{"Hash", hex.EncodeToString(got.Hash), hex.EncodeToString(d[:])},
		{"Lookup", got.Lookup, "l:sha256:" + base64.RawURLEncoding.EncodeToString(d[:16])},
		{"Metadata", got.Metadata["legacy_id"], "key_1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

func TestImportIDsAndDuplicates(t *testing.T) {
	r := importRig(t)
	ctx := context.Background()
	digest := func() []byte { d := sha256.Sum256([]byte(randomText(t, 40))); return d[:] }
	given := ulid.Make().String()
	k, err := r.m.Import(ctx, apikey.ImportParams{ID: strings.ToLower(given), Tenant: "ws_1", HashVersion: "sha256", Hash: digest()})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != given {
		t.Fatalf("ID %q, want the given ULID in canonical form %q", k.ID, given)
	}
	same := digest()
	if _, err := r.m.Import(ctx, apikey.ImportParams{Tenant: "ws_1", HashVersion: "sha256", Hash: same}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    apikey.ImportParams
	}{
		{"same ID", apikey.ImportParams{ID: given, Tenant: "ws_1", HashVersion: "sha256", Hash: digest()}},
		{"same hash", apikey.ImportParams{Tenant: "ws_2", HashVersion: "sha256", Hash: same}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.m.Import(ctx, tt.p); !errors.Is(err, apikey.ErrAlreadyExists) {
				t.Fatalf("Import: %v, want ErrAlreadyExists", err)
			}
		})
	}
}

func TestImportedLookupsCannotCollideWithSelectors(t *testing.T) {
	r := importRig(t)
	ctx := context.Background()
	is, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
	if err != nil {
		t.Fatal(err)
	}
	native, err := r.m.Get(ctx, "ws_1", is.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A bcrypt key whose old lookup part equals a native selector.
	bh, err := bcrypt.GenerateFromPassword([]byte(native.Lookup+".secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	k, err := r.m.Import(ctx, apikey.ImportParams{Tenant: "ws_1", HashVersion: "bcrypt", Hash: bh, Lookup: native.Lookup})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if k.Lookup == native.Lookup {
		t.Fatal("imported lookup equals a native selector")
	}
	for _, tok := range []string{is.Token.Reveal(), native.Lookup + ".secret"} {
		if _, err := r.m.Verify(ctx, tok); err != nil {
			t.Fatalf("Verify %s: %v", apikey.DisplayPrefix(tok), err)
		}
	}
}
