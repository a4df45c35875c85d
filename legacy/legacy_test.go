package legacy_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/legacy"
	"github.com/apikit/apikey/memstore"
)

// legacyCountStore counts GetByLookup calls on a memstore.
type legacyCountStore struct {
	*memstore.Store
	reads atomic.Int64
}

func (s *legacyCountStore) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	s.reads.Add(1)
	return s.Store.GetByLookup(ctx, lookup)
}

// legacyCountHasher counts Verify calls on a Hasher.
type legacyCountHasher struct {
	apikey.Hasher
	verifies atomic.Int64
}

func (h *legacyCountHasher) Verify(token string, stored []byte) bool {
	h.verifies.Add(1)
	return h.Hasher.Verify(token, stored)
}

// legacyCountScheme wraps a LegacyScheme so its hasher's comparisons are counted.
type legacyCountScheme struct {
	apikey.LegacyScheme
	h *legacyCountHasher
}

func countScheme(s apikey.LegacyScheme) *legacyCountScheme {
	return &legacyCountScheme{LegacyScheme: s, h: &legacyCountHasher{Hasher: s.Hasher()}}
}

func (s *legacyCountScheme) Hasher() apikey.Hasher { return s.h }

// legacyRig is a manager with counted store reads and comparisons.
type legacyRig struct {
	m       *apikey.Manager
	store   *legacyCountStore
	current *legacyCountHasher
	clock   *apikey.ManualClock
}

func newLegacyRig(t *testing.T, opts ...apikey.Option) *legacyRig {
	t.Helper()
	hm, err := apikey.NewHMACHasher(testPepper)
	if err != nil {
		t.Fatal(err)
	}
	r := &legacyRig{
		store:   &legacyCountStore{Store: memstore.New()},
		current: &legacyCountHasher{Hasher: hm},
		clock:   apikey.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
	}
	opts = append([]apikey.Option{
		apikey.WithPrefix("pgk"),
		apikey.WithHasher("v1", r.current),
		apikey.WithClock(r.clock),
		apikey.WithScopeCatalog("jobs:read", "jobs:write"),
	}, opts...)
	if r.m, err = apikey.New(r.store, opts...); err != nil {
		t.Fatal(err)
	}
	return r
}

// counts returns the store reads and comparisons (all hashers) so far.
func (r *legacyRig) counts(schemes ...*legacyCountScheme) (reads, compares int64) {
	compares = r.current.verifies.Load()
	for _, s := range schemes {
		compares += s.h.verifies.Load()
	}
	return r.store.reads.Load(), compares
}

// randomText returns n random lowercase hex characters: a stand-in for an
// old system's token, generated per test so no secret is committed.
func randomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

var legacyHMACSecret = []byte("old system's hmac secret")

func hmacHex(token string) string {
	mac := hmac.New(sha256.New, legacyHMACSecret)
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// legacyCase is one legacy scheme and how its old system stored a token.
type legacyCase struct {
	name   string
	scheme func(t *testing.T) apikey.LegacyScheme
	// stored returns what the old system stored for token: hash and lookup.
	stored func(t *testing.T, token string) (hash []byte, lookup string)
	// token draws a token of the old system's format.
	token func(t *testing.T) string
	// wrong returns another token of the same format that the old system
	// would look up under the same record, if the format allows it.
	wrong func(t *testing.T, token string) string
}

func legacyCases() []legacyCase {
	plainToken := func(t *testing.T) string { return "sk_" + randomText(t, 40) }
	otherToken := func(t *testing.T, _ string) string { return "sk_" + randomText(t, 40) }
	bcryptScheme := func(t *testing.T) apikey.LegacyScheme {
		s, err := legacy.Bcrypt("bcrypt", legacy.LookupBefore("."))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []legacyCase{
		{
			name:   "sha256 hex",
			scheme: func(*testing.T) apikey.LegacyScheme { return legacy.SHA256("sha256") },
			stored: func(_ *testing.T, tok string) ([]byte, string) {
				d := sha256.Sum256([]byte(tok))
				return []byte(hex.EncodeToString(d[:])), ""
			},
			token: plainToken, wrong: otherToken,
		},
		{
			name:   "sha256 base64",
			scheme: func(*testing.T) apikey.LegacyScheme { return legacy.SHA256("unkey") },
			stored: func(_ *testing.T, tok string) ([]byte, string) {
				d := sha256.Sum256([]byte(tok))
				return []byte(base64.StdEncoding.EncodeToString(d[:])), ""
			},
			token: plainToken, wrong: otherToken,
		},
		{
			name: "hmac-sha256",
			scheme: func(t *testing.T) apikey.LegacyScheme {
				s, err := legacy.HMAC("oldhmac", legacyHMACSecret)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			stored: func(_ *testing.T, tok string) ([]byte, string) { return []byte(hmacHex(tok)), "" },
			token:  plainToken, wrong: otherToken,
		},
		{
			name:   "bcrypt with lookup part",
			scheme: bcryptScheme,
			stored: func(t *testing.T, tok string) ([]byte, string) {
				h, err := bcrypt.GenerateFromPassword([]byte(tok), bcrypt.MinCost)
				if err != nil {
					t.Fatal(err)
				}
				lookup, _, _ := strings.Cut(tok, ".")
				return h, lookup
			},
			token: func(t *testing.T) string { return "ak" + randomText(t, 8) + "." + randomText(t, 32) },
			// Same lookup part, wrong secret part: the record is found.
			wrong: func(t *testing.T, tok string) string {
				lookup, _, _ := strings.Cut(tok, ".")
				return lookup + "." + randomText(t, 32)
			},
		},
	}
}

func TestImportedKeyVerifiesUpgradesAndVerifiesUnderCurrent(t *testing.T) {
	for _, tc := range legacyCases() {
		t.Run(tc.name, func(t *testing.T) {
			scheme := countScheme(tc.scheme(t))
			var events []apikey.EventKind
			r := newLegacyRig(t, apikey.WithLegacyImport(scheme),
				apikey.WithEventHook(func(_ context.Context, e apikey.Event) { events = append(events, e.Kind) }))
			ctx := context.Background()
			tok := tc.token(t)
			hash, lookup := tc.stored(t, tok)

			k, err := r.m.Import(ctx, apikey.ImportParams{
				Tenant: "ws_1", Name: "imported", Scopes: []string{"jobs:read"},
				Prefix: tok[:4], HashVersion: scheme.Version(), Hash: hash, Lookup: lookup,
			})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if k.HashVersion != scheme.Version() || !strings.HasPrefix(k.Lookup, "l:"+scheme.Version()+":") {
				t.Fatalf("imported record: version %q lookup %q", k.HashVersion, k.Lookup)
			}

			// First verify: one read, one legacy comparison, then the upgrade.
			got, err := r.m.Verify(ctx, tok)
			if err != nil {
				t.Fatalf("first Verify: %v", err)
			}
			if got.ID != k.ID || !got.HasScope("jobs:read") {
				t.Fatalf("first Verify returned %v", got)
			}
			if reads, cmp := r.counts(scheme); reads != 1 || cmp != 1 || scheme.h.verifies.Load() != 1 {
				t.Fatalf("first Verify: %d reads, %d comparisons (%d legacy), want 1, 1, 1", reads, cmp, scheme.h.verifies.Load())
			}
			stored, err := r.m.Get(ctx, "ws_1", k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.HashVersion != "v1" || stored.Lookup != k.Lookup {
				t.Fatalf("after first verify: version %q lookup changed %v, want v1 and same lookup", stored.HashVersion, stored.Lookup != k.Lookup)
			}

			// Second verify: one read, one comparison under the current version.
			if _, err := r.m.Verify(ctx, tok); err != nil {
				t.Fatalf("second Verify: %v", err)
			}
			reads, cmp := r.counts(scheme)
			if reads != 2 || cmp != 2 || scheme.h.verifies.Load() != 1 || r.current.verifies.Load() != 1 {
				t.Fatalf("second Verify: %d reads, %d comparisons (%d legacy), want 2, 2, 1", reads, cmp, scheme.h.verifies.Load())
			}
			want := []apikey.EventKind{apikey.EventImported, apikey.EventRehashed}
			if len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
				t.Fatalf("events %v, want %v", events, want)
			}
		})
	}
}

func TestWrongTokenForImportedKeyFailsInOneReadAndOneComparison(t *testing.T) {
	for _, tc := range legacyCases() {
		for _, upgraded := range []bool{false, true} {
			name := tc.name + "/legacy hash"
			if upgraded {
				name = tc.name + "/upgraded"
			}
			t.Run(name, func(t *testing.T) {
				scheme := countScheme(tc.scheme(t))
				r := newLegacyRig(t, apikey.WithLegacyImport(scheme))
				ctx := context.Background()
				tok := tc.token(t)
				hash, lookup := tc.stored(t, tok)
				if _, err := r.m.Import(ctx, apikey.ImportParams{Tenant: "ws_1", HashVersion: scheme.Version(), Hash: hash, Lookup: lookup}); err != nil {
					t.Fatal(err)
				}
				if upgraded {
					if _, err := r.m.Verify(ctx, tok); err != nil {
						t.Fatal(err)
					}
				}
				reads0, cmp0 := r.counts(scheme)
				_, err := r.m.Verify(ctx, tc.wrong(t, tok))
				if !errors.Is(err, apikey.ErrNotFound) {
					t.Fatalf("wrong token: %v, want ErrNotFound", err)
				}
				reads, cmp := r.counts(scheme)
				if reads-reads0 != 1 || cmp-cmp0 != 1 {
					t.Fatalf("wrong token: %d reads, %d comparisons, want 1 and 1", reads-reads0, cmp-cmp0)
				}
			})
		}
	}
}

// nativeVariants returns tokens of the manager's own format derived from a
// valid one: the token itself, a wrong secret with a valid checksum, a bad
// checksum, and garbage after "pgk_live_".
func nativeVariants(tok string) map[string]string {
	n := len(tok)
	flip := func(c byte) byte {
		if c == 'a' {
			return 'b'
		}
		return 'a'
	}
	wrongSecret := []byte(tok[:n-6])
	wrongSecret[n-10] = flip(wrongSecret[n-10])
	badSum := []byte(tok)
	badSum[n-1] = flip(badSum[n-1])
	return map[string]string{
		"valid":          tok,
		"wrong secret":   withChecksum(string(wrongSecret)),
		"bad checksum":   string(badSum),
		"short":          tok[:n-1],
		"own prefix":     "pgk_live_" + "not-a-token.at-all",
		"other prefix":   withChecksum("zzz_live_" + tok[len("pgk_live_"):n-6]),
		"unknown env":    withChecksum("pgk_test_" + tok[len("pgk_live_"):n-6]),
		"token, spaced":  " " + tok,
		"non-ascii junk": "clé" + tok,
	}
}

// withChecksum appends the base62 CRC-32 of s, as the token format does.
func withChecksum(s string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	x := uint64(crc32.ChecksumIEEE([]byte(s)))
	var out [6]byte
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[x%62]
		x /= 62
	}
	return s + string(out[:])
}

func TestBcryptNeverRunsForOwnFormat(t *testing.T) {
	bs, err := legacy.Bcrypt("bcrypt", legacy.LookupFirst(4)) // claims almost anything
	if err != nil {
		t.Fatal(err)
	}
	scheme := countScheme(bs)
	r := newLegacyRig(t, apikey.WithLegacyImport(scheme))
	ctx := context.Background()
	is, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
	if err != nil {
		t.Fatal(err)
	}
	tok := is.Token.Reveal()
	tests := []struct {
		name  string
		want  error
		reads int64
	}{
		{"valid", nil, 1},
		{"wrong secret", apikey.ErrNotFound, 1},
		{"bad checksum", apikey.ErrMalformed, 0},
		{"short", apikey.ErrMalformed, 0},
		{"own prefix", apikey.ErrMalformed, 0},
		{"other prefix", apikey.ErrMalformed, 0},
		{"unknown env", apikey.ErrMalformed, 0},
	}
	variants := nativeVariants(tok)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads0 := r.store.reads.Load()
			_, err := r.m.Verify(ctx, variants[tt.name])
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if got := r.store.reads.Load() - reads0; got != tt.reads {
				t.Fatalf("%d store reads, want %d", got, tt.reads)
			}
			if n := scheme.h.verifies.Load(); n != 0 {
				t.Fatalf("bcrypt ran %d times for a token of our own format", n)
			}
		})
	}
}

func TestNonNativeTokensWithoutLegacySchemeAreMalformed(t *testing.T) {
	r := newLegacyRig(t)
	ctx := context.Background()
	is, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range nativeVariants(is.Token.Reveal()) {
		if name == "valid" || name == "wrong secret" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if _, err := r.m.Verify(ctx, tok); !errors.Is(err, apikey.ErrMalformed) {
				t.Fatalf("Verify: %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := r.m.Verify(ctx, "sk_"+randomText(t, 40)); !errors.Is(err, apikey.ErrMalformed) {
		t.Fatalf("foreign token: %v, want ErrMalformed", err)
	}
	if n := r.store.reads.Load(); n != 0 {
		t.Fatalf("%d store reads for malformed tokens, want 0", n)
	}
}

func TestLegacyTokensRefusedBeforeStore(t *testing.T) {
	bs, err := legacy.Bcrypt("bcrypt", legacy.LookupBefore("."))
	if err != nil {
		t.Fatal(err)
	}
	r := newLegacyRig(t, apikey.WithLegacyImport(bs))
	tests := map[string]string{
		"empty":          "",
		"no separator":   "abcdef",
		"empty lookup":   ".secret",
		"empty secret":   "lookup.",
		"space":          "look up.secret",
		"control byte":   "lookup.sec\x00ret",
		"too long":       "lookup." + strings.Repeat("s", 300),
		"lookup too big": strings.Repeat("l", 65) + ".secret",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := r.m.Verify(context.Background(), tok); !errors.Is(err, apikey.ErrMalformed) {
				t.Fatalf("Verify: %v, want ErrMalformed", err)
			}
		})
	}
	if n := r.store.reads.Load(); n != 0 {
		t.Fatalf("%d store reads, want 0", n)
	}
}

func TestImportedKeyStateChecks(t *testing.T) {
	ctx := context.Background()
	r := newLegacyRig(t, apikey.WithLegacyImport(legacy.SHA256("sha256")))
	imp := func(expires time.Time) (string, *apikey.Key) {
		tok := "sk_" + randomText(t, 40)
		d := sha256.Sum256([]byte(tok))
		k, err := r.m.Import(ctx, apikey.ImportParams{
			Tenant: "ws_1", HashVersion: "sha256", Hash: d[:],
			CreatedAt: r.clock.Now().Add(-48 * time.Hour), ExpiresAt: expires,
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok, k
	}
	expiredTok, expired := imp(r.clock.Now().Add(-time.Hour))
	revokedTok, revoked := imp(time.Time{})
	if _, err := r.m.Revoke(ctx, "ws_1", revoked.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tok  string
		id   string
		want error
	}{
		{"expired", expiredTok, expired.ID, apikey.ErrExpired},
		{"revoked", revokedTok, revoked.ID, apikey.ErrRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.m.Verify(ctx, tt.tok); !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			k, err := r.m.Get(ctx, "ws_1", tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if k.HashVersion != "sha256" {
				t.Fatalf("a refused key was re-hashed to %q", k.HashVersion)
			}
		})
	}
}

func TestLegacyImportOptionValidation(t *testing.T) {
	hm, err := legacy.HMAC("dup", []byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []apikey.Option
	}{
		{"nil scheme", []apikey.Option{apikey.WithLegacyImport(nil)}},
		{"empty version", []apikey.Option{apikey.WithLegacyImport(legacy.SHA256(""))}},
		{"colon in version", []apikey.Option{apikey.WithLegacyImport(legacy.SHA256("a:b"))}},
		{"same as pepper, after", []apikey.Option{apikey.WithPepper("dup", testPepper), apikey.WithLegacyImport(hm)}},
		{"same as pepper, before", []apikey.Option{apikey.WithLegacyImport(hm), apikey.WithPepper("dup", testPepper)}},
		{"twice", []apikey.Option{apikey.WithLegacyImport(hm), apikey.WithLegacyImport(legacy.SHA256("dup"))}},
		{"legacy as current", []apikey.Option{apikey.WithLegacyImport(hm), apikey.WithCurrentHashVersion("dup")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]apikey.Option{apikey.WithPepper("v1", testPepper)}, tt.opts...)
			if _, err := apikey.New(memstore.New(), opts...); !errors.Is(err, apikey.ErrInvalid) {
				t.Fatalf("New: %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := legacy.HMAC("x", nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("LegacyHMAC with no secret: %v, want ErrInvalid", err)
	}
	if _, err := legacy.Bcrypt("x", nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("LegacyBcrypt with no lookup: %v, want ErrInvalid", err)
	}
	// One pepper plus legacy schemes needs no WithCurrentHashVersion.
	if _, err := apikey.New(memstore.New(), apikey.WithPepper("v1", testPepper), apikey.WithLegacyImport(hm)); err != nil {
		t.Fatalf("pepper + legacy: %v", err)
	}
}

func TestLegacyHashersAreVerifyOnly(t *testing.T) {
	hm, _ := legacy.HMAC("h", []byte("s"))
	bs, _ := legacy.Bcrypt("b", legacy.LookupFirst(4))
	for _, s := range []apikey.LegacyScheme{legacy.SHA256("s"), hm, bs} {
		t.Run(s.Version(), func(t *testing.T) {
			if h, err := s.Hasher().Hash("anything"); err == nil || h != nil {
				t.Fatalf("Hash = %x, %v; want an error", h, err)
			}
		})
	}
}

func TestLookupFuncs(t *testing.T) {
	tests := []struct {
		name   string
		f      legacy.Lookup
		token  string
		want   string
		wantOK bool
	}{
		{"first", legacy.LookupFirst(4), "abcdefgh", "abcd", true},
		{"first, nothing left", legacy.LookupFirst(4), "abcd", "", false},
		{"first, zero", legacy.LookupFirst(0), "abcd", "", false},
		{"before", legacy.LookupBefore("."), "ab.cd.ef", "ab", true},
		{"before, multi-byte sep", legacy.LookupBefore("::"), "ab::cd", "ab", true},
		{"before, missing", legacy.LookupBefore("."), "abcd", "", false},
		{"before, empty sep", legacy.LookupBefore(""), "a.b", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.f(tt.token)
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// BenchmarkVerifyImported verifies an imported SHA-256 key after its
// upgrade: the legacy lookup (one SHA-256) plus the usual HMAC path.
func BenchmarkVerifyImported(b *testing.B) {
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper),
		apikey.WithLegacyImport(legacy.SHA256("sha256")))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tok := "sk_bench_0123456789abcdef0123456789abcdef"
	d := sha256.Sum256([]byte(tok))
	if _, err := m.Import(ctx, apikey.ImportParams{Tenant: "t", HashVersion: "sha256", Hash: d[:]}); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Verify(ctx, tok); err != nil { // the upgrade
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyNativeWithLegacy verifies a native key on a manager that
// also has a legacy scheme: the legacy branch must cost nothing here.
func BenchmarkVerifyNativeWithLegacy(b *testing.B) {
	bs, err := legacy.Bcrypt("bcrypt", legacy.LookupFirst(8))
	if err != nil {
		b.Fatal(err)
	}
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper), apikey.WithLegacyImport(bs))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "t"})
	if err != nil {
		b.Fatal(err)
	}
	tok := is.Token.Reveal()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLegacyBcryptCompare is the one-time cost of an imported bcrypt
// key (its first verify), at bcrypt's default cost.
func BenchmarkLegacyBcryptCompare(b *testing.B) {
	bs, err := legacy.Bcrypt("bcrypt", legacy.LookupFirst(8))
	if err != nil {
		b.Fatal(err)
	}
	tok := "ak12345678.0123456789abcdef0123456789abcdef"
	h, err := bcrypt.GenerateFromPassword([]byte(tok), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	hasher := bs.Hasher()
	for b.Loop() {
		if !hasher.Verify(tok, h) {
			b.Fatal("no match")
		}
	}
}
