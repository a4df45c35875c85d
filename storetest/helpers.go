package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/oklog/ulid/v2"
)

// base is the instant every stored time derives from: UTC, microsecond
// precision, far from the wall clock so that a store reading its own clock
// is caught.
var base = time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)

// at returns base+d.
func at(d time.Duration) time.Time { return base.Add(d) }

// fixture is one subtest's store and helpers.
type fixture struct {
	*testing.T
	s   apikey.Store
	ctx context.Context
	n   atomic.Uint64 // IDs minted so far: later IDs sort higher
}

func newFixture(t *testing.T, newStore func(t *testing.T) apikey.Store) *fixture {
	t.Helper()
	s := newStore(t)
	if s == nil {
		t.Fatal("newStore returned nil")
	}
	return &fixture{T: t, s: s, ctx: t.Context()}
}

// newID returns a ULID greater than every ID the fixture returned before.
func (f *fixture) newID() string {
	n := f.n.Add(1)
	return ulid.MustNew(ulid.Timestamp(base)+n, rand.Reader).String()
}

const lookupAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newLookup returns a random 17-character base62 lookup value, like a
// token selector.
func newLookup() string {
	b := make([]byte, 17)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = lookupAlphabet[int(b[i])%len(lookupAlphabet)]
	}
	return string(b)
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// key builds (without storing) a minimal key of tenant with a fresh ID
// and lookup value, then applies mods.
func (f *fixture) key(tenant string, mods ...func(*apikey.Key)) *apikey.Key {
	lookup := newLookup()
	k := &apikey.Key{
		ID:          f.newID(),
		Tenant:      tenant,
		Environment: "live",
		Name:        "test key",
		Prefix:      "pgk_live_" + lookup[:4],
		Lookup:      lookup,
		HashVersion: "v1",
		Hash:        randomBytes(32),
		Scopes:      []string{"read"},
		CreatedAt:   base,
	}
	for _, m := range mods {
		m(k)
	}
	return k
}

// create builds a key like key, stores it and returns a copy of what was
// stored.
func (f *fixture) create(tenant string, mods ...func(*apikey.Key)) *apikey.Key {
	f.Helper()
	k := f.key(tenant, mods...)
	if err := f.s.Create(f.ctx, k.Clone()); err != nil {
		f.Fatalf("Create(%s): %v", k.ID, err)
	}
	return k
}

// get returns the stored key id, failing the test if it cannot.
func (f *fixture) get(id string) *apikey.Key {
	f.Helper()
	k, err := f.s.Get(f.ctx, id)
	if err != nil {
		f.Fatalf("Get(%s): %v", id, err)
	}
	if k == nil {
		f.Fatalf("Get(%s) returned nil and no error", id)
	}
	return k
}

// wantKey checks that the stored key want.ID equals want.
func (f *fixture) wantKey(what string, want *apikey.Key) {
	f.Helper()
	checkKey(f.T, what, f.get(want.ID), want)
}

// wantGone checks that neither the ID nor the lookup value of k is found.
func (f *fixture) wantGone(what string, k *apikey.Key) {
	f.Helper()
	if _, err := f.s.Get(f.ctx, k.ID); !errors.Is(err, apikey.ErrNotFound) {
		f.Errorf("%s: Get(%s) error = %v, want ErrNotFound", what, k.ID, err)
	}
	if _, err := f.s.GetByLookup(f.ctx, k.Lookup); !errors.Is(err, apikey.ErrNotFound) {
		f.Errorf("%s: GetByLookup of key %s error = %v, want ErrNotFound", what, k.ID, err)
	}
}

// list returns every key of tenant matching opts, following all pages.
func (f *fixture) list(tenant string, opts apikey.ListOptions) []*apikey.Key {
	f.Helper()
	var all []*apikey.Key
	for range 2000 {
		p, err := f.s.List(f.ctx, tenant, opts)
		if err != nil {
			f.Fatalf("List(%q, %+v): %v", tenant, opts, err)
		}
		all = append(all, p.Keys...)
		if p.Next == "" {
			return all
		}
		if p.Next == opts.After {
			f.Fatalf("List(%q, %+v): Next did not move", tenant, opts)
		}
		opts.After = p.Next
	}
	f.Fatalf("List(%q): too many pages", tenant)
	return nil
}

// changes returns every change-feed entry after seq.
func (f *fixture) changes(after int64) []apikey.Change {
	f.Helper()
	var all []apikey.Change
	for range 1000 {
		cs, err := f.s.Changes(f.ctx, after, 100)
		if err != nil {
			f.Fatalf("Changes(%d, 100): %v", after, err)
		}
		if len(cs) == 0 {
			return all
		}
		all = append(all, cs...)
		after = cs[len(cs)-1].Seq
	}
	f.Fatal("Changes: too many entries")
	return nil
}

// lastChange returns LastChange, failing the test on error.
func (f *fixture) lastChange() int64 {
	f.Helper()
	seq, err := f.s.LastChange(f.ctx)
	if err != nil {
		f.Fatalf("LastChange: %v", err)
	}
	return seq
}

// wantNoChanges checks that the feed has no entry after seq.
func (f *fixture) wantNoChanges(what string, after int64) {
	f.Helper()
	if cs := f.changes(after); len(cs) != 0 {
		f.Errorf("%s appended %d change-feed entries, want none: %s", what, len(cs), fmtChanges(cs))
	}
}

// change is an expected change-feed entry (Seq aside).
type change struct {
	kind apikey.ChangeKind
	key  *apikey.Key
	at   time.Time
}

// wantChanges checks that the feed after seq holds exactly want, in order,
// with growing Seq values. Entries of one call that affects several keys
// (RevokeAll) may come in any order among themselves: pass them with
// unordered set, in any order.
func (f *fixture) wantChanges(what string, after int64, want []change, unordered bool) {
	f.Helper()
	got := f.changes(after)
	if len(got) != len(want) {
		f.Errorf("%s: change feed after %d has %d entries, want %d: %s", what, after, len(got), len(want), fmtChanges(got))
		return
	}
	prev := after
	for _, c := range got {
		if c.Seq <= prev {
			f.Errorf("%s: change Seq %d follows %d: Seq must grow", what, c.Seq, prev)
		}
		prev = c.Seq
	}
	if unordered {
		got = slices.Clone(got)
		slices.SortFunc(got, func(a, b apikey.Change) int { return cmpStr(a.KeyID, b.KeyID) })
		want = slices.Clone(want)
		slices.SortFunc(want, func(a, b change) int { return cmpStr(a.key.ID, b.key.ID) })
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.KeyID != w.key.ID || g.Lookup != w.key.Lookup || g.Tenant != w.key.Tenant {
			f.Errorf("%s: change %d = {Kind:%s KeyID:%s Tenant:%q Lookup ok:%t}, want {Kind:%s KeyID:%s Tenant:%q}",
				what, i, g.Kind, g.KeyID, g.Tenant, g.Lookup == w.key.Lookup, w.kind, w.key.ID, w.key.Tenant)
		}
		if msg := diffTime(w.at, g.At); msg != "" {
			f.Errorf("%s: change %d (%s of %s): At %s", what, i, g.Kind, g.KeyID, msg)
		}
	}
}

func fmtChanges(cs []apikey.Change) string {
	var b bytes.Buffer
	for _, c := range cs {
		fmt.Fprintf(&b, "[%d %s %s %s] ", c.Seq, c.Kind, c.KeyID, c.At.Format(time.RFC3339Nano))
	}
	return b.String()
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wantErr checks that err matches target with errors.Is.
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// noErr fails the test now if err is not nil.
func noErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ids returns the IDs of keys, in order.
func ids(keys []*apikey.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if k == nil {
			out[i] = "<nil>"
			continue
		}
		out[i] = k.ID
	}
	return out
}

// newestFirst returns the IDs of keys sorted by ID, descending.
func newestFirst(keys ...*apikey.Key) []string {
	s := ids(keys)
	slices.Sort(s)
	slices.Reverse(s)
	return s
}

// wantIDs checks that got lists exactly the keys want, in order.
func wantIDs(t testing.TB, what string, got []*apikey.Key, want []string) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) {
		t.Errorf("%s: got IDs\n\t%v\nwant\n\t%v", what, g, want)
	}
}

// checkKey reports every field of got that differs from want.
func checkKey(t testing.TB, what string, got, want *apikey.Key) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil key, want %s", what, want.ID)
		return
	}
	for _, d := range diffKey(want, got) {
		t.Errorf("%s: key %s: %s", what, want.ID, d)
	}
}

// diffKey lists the differences between two keys. Nil and empty slices
// and maps are equal; times must be equal instants in UTC. Secret-ish
// bytes (hash, webhook secret, lookup value) are never printed.
func diffKey(want, got *apikey.Key) []string {
	var d []string
	str := func(name, w, g string) {
		if w != g {
			d = append(d, fmt.Sprintf("%s = %q, want %q", name, g, w))
		}
	}
	secret := func(name string, w, g []byte) {
		if !bytes.Equal(w, g) {
			d = append(d, fmt.Sprintf("%s differs (%d bytes, want %d)", name, len(g), len(w)))
		}
	}
	tm := func(name string, w, g time.Time) {
		if msg := diffTime(w, g); msg != "" {
			d = append(d, name+" "+msg)
		}
	}
	str("ID", want.ID, got.ID)
	str("Tenant", want.Tenant, got.Tenant)
	str("Environment", want.Environment, got.Environment)
	str("Name", want.Name, got.Name)
	str("Prefix", want.Prefix, got.Prefix)
	if want.Lookup != got.Lookup {
		d = append(d, "Lookup differs")
	}
	str("HashVersion", want.HashVersion, got.HashVersion)
	secret("Hash", want.Hash, got.Hash)
	if !slices.Equal(want.Scopes, got.Scopes) {
		d = append(d, fmt.Sprintf("Scopes = %q, want %q", got.Scopes, want.Scopes))
	}
	str("CreatedBy", want.CreatedBy, got.CreatedBy)
	tm("CreatedAt", want.CreatedAt, got.CreatedAt)
	tm("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	tm("LastUsedAt", want.LastUsedAt, got.LastUsedAt)
	str("LastUsedIP", want.LastUsedIP, got.LastUsedIP)
	str("LastUsedClient", want.LastUsedClient, got.LastUsedClient)
	tm("RevokedAt", want.RevokedAt, got.RevokedAt)
	str("ReplacedBy", want.ReplacedBy, got.ReplacedBy)
	tm("GraceExpiresAt", want.GraceExpiresAt, got.GraceExpiresAt)
	if want.RotationInterval != got.RotationInterval {
		d = append(d, fmt.Sprintf("RotationInterval = %v, want %v", got.RotationInterval, want.RotationInterval))
	}
	tm("NextRotationAt", want.NextRotationAt, got.NextRotationAt)
	str("RotationWebhookURL", want.RotationWebhookURL, got.RotationWebhookURL)
	secret("WebhookSecret", want.WebhookSecret, got.WebhookSecret)
	if !maps.Equal(want.Metadata, got.Metadata) {
		d = append(d, fmt.Sprintf("Metadata = %q, want %q", got.Metadata, want.Metadata))
	}
	// Key lifecycle fields (issue 18).
	tm("NotBefore", want.NotBefore, got.NotBefore)
	str("Owner", want.Owner, got.Owner)
	return append(d, diffControls(want, got)...)
}

// diffTime describes how g differs from w, or returns "".
func diffTime(w, g time.Time) string {
	switch {
	case w.IsZero() && g.IsZero():
		return ""
	case w.IsZero():
		return fmt.Sprintf("= %s, want the zero time", g.Format(time.RFC3339Nano))
	case !g.Equal(w):
		return fmt.Sprintf("= %s, want %s", g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
	case g.Location() != time.UTC:
		return fmt.Sprintf("is in location %q, want UTC", g.Location())
	}
	return ""
}

// with returns a copy of k changed by mod, for expectations.
func with(k *apikey.Key, mod func(*apikey.Key)) *apikey.Key {
	c := k.Clone()
	mod(c)
	return c
}

// unusedID returns a random ULID that names no stored key (for ReplacedBy).
func unusedID() string {
	return ulid.MustNew(ulid.Timestamp(base.Add(1000*time.Hour)), rand.Reader).String()
}
