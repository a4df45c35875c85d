package apikey_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

// recordingStore is a countingStore that also keeps every key record and
// hash the manager hands it.
type recordingStore struct {
	*countingStore
	mu   sync.Mutex
	seen []any
}

func (s *recordingStore) keep(v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, v)
}

func (s *recordingStore) Create(ctx context.Context, k *apikey.Key) error {
	s.keep(k.Clone())
	return s.countingStore.Create(ctx, k)
}

func (s *recordingStore) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	s.keep(r.Successor.Clone())
	s.keep(r)
	return s.countingStore.Rotate(ctx, r)
}

func (s *recordingStore) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	s.keep(u)
	return s.countingStore.Update(ctx, id, u)
}

func (s *recordingStore) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	s.keep(string(hash))
	s.keep(hex.EncodeToString(hash))
	return s.countingStore.UpgradeHash(ctx, id, from, version, hash, at)
}

// dumpFields prints every field of a struct (or pointer to one) by
// reflection, bypassing any Format or String method of the value itself.
func dumpFields(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "<nil>"
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Sprintf("%v", v)
	}
	var b strings.Builder
	for i := range rv.NumField() {
		f := rv.Field(i)
		fmt.Fprintf(&b, "%s=", rv.Type().Field(i).Name)
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8:
			fmt.Fprintf(&b, "%s|%x ", f.Bytes(), f.Bytes())
		case f.CanInterface():
			fmt.Fprintf(&b, "%v ", f.Interface())
		}
	}
	return b.String()
}

// TestNoPlaintext runs every operation with debug logging and an event hook
// and checks that no plaintext token, nor its secret part, appears in
// anything the library wrote or returned, except Secret.Reveal.
func TestNoPlaintext(t *testing.T) {
	ctx := context.Background()
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	events := &eventLog{}
	store := &recordingStore{countingStore: newCountingStore()}
	clock := apikey.NewManualClock(t0)
	newM := func(current string, versions ...string) *apikey.Manager {
		opts := []apikey.Option{
			apikey.WithPrefix("pgk"), apikey.WithClock(clock), apikey.WithLogger(logger),
			apikey.WithEventHook(events.hook), apikey.WithCurrentHashVersion(current),
			testWebhooks(t),
		}
		for _, v := range versions {
			opts = append(opts, apikey.WithPepper(v, map[string][]byte{"v1": pepperV1, "v2": pepperV2}[v]))
		}
		m, err := apikey.New(store, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newM("v1", "v1")

	var (
		returned []any // everything the library returned
		tokens   []string
		// webhookSecrets are the rotation-webhook signing secrets handed out.
		webhookSecrets []string
	)
	keep := func(v any, err error) {
		returned = append(returned, v)
		if err != nil {
			returned = append(returned, err, err.Error())
		}
	}
	issue := func(is *apikey.Issued) {
		tokens = append(tokens, is.Token.Reveal())
		if !is.WebhookSecret.IsZero() {
			webhookSecrets = append(webhookSecrets, is.WebhookSecret.Reveal())
		}
		returned = append(returned, is, *is, is.Key, is.Token, is.WebhookSecret)
	}

	a, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "a", Scopes: []string{"jobs:read"},
		RotationInterval: time.Hour, RotationWebhookURL: "https://example.com/hook", Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	issue(a)
	b, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	issue(b)
	ta := a.Token.Reveal()
	head, sel, sec, sum := tokenParts(t, ta)

	// Successes and every kind of failure, with near-copies of a real token.
	for _, tok := range []string{
		ta,
		ta[:len(ta)-1] + flip(sum, 5)[5:], // bad checksum
		sealed(head + sel + flip(sec, 7)), // wrong secret
		sealed(head + flip(sel, 7) + sec), // unknown selector, real secret
		" " + ta,                          // malformed
		sealed("pgk_test_" + sel + sec),   // unknown environment
	} {
		keep(m.Verify(ctx, tok))
	}
	clock.Advance(time.Minute)
	r, err := m.Rotate(ctx, "acme", a.Key.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	issue(&r.Issued)
	returned = append(returned, r, *r, r.Old)
	keep(m.Verify(ctx, ta))
	keep(m.Verify(ctx, r.Token.Reveal()))
	keep(m.Update(ctx, "acme", b.Key.ID, apikey.UpdateParams{Name: ptr("b2"), Scopes: &[]string{"x:y"}}))
	keep(m.Revoke(ctx, "acme", b.Key.ID))
	keep(m.Verify(ctx, b.Token.Reveal()))
	clock.Advance(time.Hour)
	keep(m.Verify(ctx, ta)) // grace ended
	// A re-hash under a second version.
	m2 := newM("v2", "v1", "v2")
	keep(m2.Verify(ctx, r.Token.Reveal()))
	// A failing store.
	store.setFail(errBroken)
	keep(m.Verify(ctx, r.Token.Reveal()))
	keep(m.Rotate(ctx, "acme", r.Key.ID, 0))
	store.setFail(nil)
	keep(m.RevokeAll(ctx, "acme"))

	// Build the haystack.
	var hay strings.Builder
	hay.WriteString(logs.String())
	dump := func(v any) {
		fmt.Fprintf(&hay, "\n%v\n%+v\n%#v\n%s\n", v, v, v, v)
		if j, err := json.Marshal(v); err == nil {
			hay.Write(j)
		}
		if _, isErr := v.(error); !isErr {
			hay.WriteString(dumpFields(v))
		}
	}
	for _, v := range returned {
		dump(v)
	}
	for _, e := range events.take() {
		dump(e)
		dump(&e)
	}
	store.mu.Lock()
	for _, v := range store.seen {
		dump(v)
	}
	store.mu.Unlock()
	page, err := store.inner.List(ctx, "acme", apikey.ListOptions{})
	if err != nil || len(page.Keys) != 3 {
		t.Fatalf("store holds %d keys (%v), want 3", len(page.Keys), err)
	}
	for _, k := range page.Keys {
		dump(k)
		dump(*k)
	}
	changes, err := store.inner.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		dump(c)
	}

	out := hay.String()
	// The haystack is not empty: it holds the logs and the display prefixes.
	for _, want := range []string{"verify failed", "key created", "key rotated", "key re-hashed", "mismatch", a.Key.Prefix, "[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("the captured output lacks %q: the test is not looking at what it should", want)
		}
	}
	if len(tokens) != 3 {
		t.Fatalf("issued %d tokens, want 3", len(tokens))
	}
	if len(webhookSecrets) != 1 {
		t.Fatalf("issued %d webhook secrets, want 1", len(webhookSecrets))
	}
	for _, ws := range webhookSecrets {
		if strings.Contains(out, ws) {
			t.Error("a webhook secret leaked")
		}
	}
	for _, tok := range tokens {
		secret := tok[len(tok)-66+17 : len(tok)-6]
		if strings.Contains(out, tok) {
			t.Errorf("a plaintext token (%s...) leaked", apikey.DisplayPrefix(tok))
		}
		if strings.Contains(out, secret) {
			t.Errorf("the secret part of %s... leaked", apikey.DisplayPrefix(tok))
		}
	}
}
