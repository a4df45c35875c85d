package secretscan_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/secretscan"
	"github.com/apikit/apikey/storetest/faultstore"
)

// scanner is a test secret scanner: its own ECDSA key pair, published
// the way GitHub publishes its keys.
type scanner struct {
	id   string
	priv *ecdsa.PrivateKey
}

func newScanner(t *testing.T, id string) scanner {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return scanner{id: id, priv: priv}
}

// keysJSON is the scanners' keys in GitHub's meta format.
func keysJSON(t *testing.T, ss ...scanner) []byte {
	t.Helper()
	type entry struct {
		ID      string `json:"key_identifier"`
		Key     string `json:"key"`
		Current bool   `json:"is_current"`
	}
	var doc struct {
		PublicKeys []entry `json:"public_keys"`
	}
	for _, s := range ss {
		der, err := x509.MarshalPKIXPublicKey(&s.priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		doc.PublicKeys = append(doc.PublicKeys, entry{ID: s.id, Key: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Current: true})
	}
	b, _ := json.Marshal(doc)
	return b
}

// sign returns the signature header value of body.
func (s scanner) sign(t *testing.T, body []byte) string {
	t.Helper()
	d := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

type rig struct {
	m      *apikey.Manager
	store  *faultstore.Store
	srv    *httptest.Server
	gh     scanner
	logs   *bytes.Buffer
	mu     sync.Mutex
	events []apikey.Event
	leaks  []secretscan.Leak
}

func newRig(t *testing.T, policy secretscan.Policy) *rig {
	t.Helper()
	r := &rig{store: faultstore.New(memstore.New()), gh: newScanner(t, "gh-key-1"), logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(lockedWriter{&r.mu, r.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := apikey.New(r.store, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", []byte("secretscan-test-pepper-0123456789ab")),
		apikey.WithLogger(logger), apikey.WithEventHook(func(_ context.Context, e apikey.Event) {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	keys, err := secretscan.ParseGitHubKeys(keysJSON(t, newScanner(t, "gh-key-0"), r.gh))
	if err != nil {
		t.Fatal(err)
	}
	h, err := secretscan.New(secretscan.Config{Manager: m, Keys: keys, Policy: policy, Logger: logger,
		OnLeak: func(_ context.Context, l secretscan.Leak) {
			r.mu.Lock()
			r.leaks = append(r.leaks, l)
			r.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type answer struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// post sends body signed by s (keyID overrides the identifier when set).
func (r *rig) post(t *testing.T, s scanner, body []byte, sig string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", r.srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(secretscan.KeyIDHeader, s.id)
	if sig == "" {
		sig = s.sign(t, body)
	}
	req.Header.Set(secretscan.SignatureHeader, sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func hashOf(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

func TestRevokePolicy(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, secretscan.Revoke)
	live, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := r.m.Create(ctx, apikey.CreateParams{Tenant: "globex"})
	if _, err := r.m.Revoke(ctx, "globex", old.Key.ID); err != nil {
		t.Fatal(err)
	}
	bystander, _ := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	liveTok, oldTok := live.Token.Reveal(), old.Token.Reveal()
	// A well-formed token of no key: right prefix and checksum, unknown selector.
	unknown, _ := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", []byte("another-pepper-0123456789abcdefghij")))
	stranger, _ := unknown.Create(ctx, apikey.CreateParams{Tenant: "x"})
	reports := []map[string]string{
		{"token": liveTok, "type": "pgk_api_key", "url": "https://github.com/o/r/blob/abc/.env", "source": "content"},
		{"token": oldTok, "type": "pgk_api_key", "url": "https://github.com/o/r/blob/abc/x", "source": "commit"},
		{"token": stranger.Token.Reveal(), "type": "pgk_api_key", "url": "https://gist.github.com/1", "source": "gist"},
		{"token": liveTok[:len(liveTok)-1] + "x", "type": "pgk_api_key", "url": "u", "source": "content"}, // bad checksum
		{"token": "not a token at all", "type": "pgk_api_key", "url": "u", "source": "content"},
	}
	body, _ := json.Marshal(reports)
	r.store.ResetCalls()
	status, resp := r.post(t, r.gh, body, "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, resp)
	}
	var got []answer
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{secretscan.TruePositive, secretscan.TruePositive, secretscan.FalsePositive, secretscan.FalsePositive, secretscan.FalsePositive}
	if len(got) != len(want) {
		t.Fatalf("answer %s", resp)
	}
	for i, a := range got {
		if a.Label != want[i] || a.TokenHash != hashOf(reports[i]["token"]) || a.TokenType != "pgk_api_key" {
			t.Errorf("answer %d = %+v, want label %s and the token's SHA-256", i, a, want[i])
		}
	}
	// The checksum gate: only the three well-formed tokens reached the store.
	if n := r.store.Calls(faultstore.GetByLookup); n != 3 {
		t.Errorf("%d lookups for 3 well-formed tokens of 5", n)
	}
	if _, err := r.m.Verify(ctx, liveTok); !errors.Is(err, apikey.ErrRevoked) {
		t.Errorf("leaked key after the report: %v, want revoked", err)
	}
	if _, err := r.m.Verify(ctx, bystander.Token.Reveal()); err != nil {
		t.Errorf("a key not reported was touched: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var leaked, revoked int
	for _, e := range r.events {
		switch e.Kind {
		case apikey.EventLeaked:
			leaked++
			if e.Reason != "secret_scanning:content" && e.Reason != "secret_scanning:commit" {
				t.Errorf("leak event reason %q", e.Reason)
			}
		case apikey.EventRevoked:
			revoked++
		}
	}
	if leaked != 2 || revoked != 2 { // one revocation by the test, one by the report
		t.Errorf("%d leaked and %d revoked events, want 2 and 2", leaked, revoked)
	}
	if len(r.leaks) != 2 || r.leaks[0].Key.ID != live.Key.ID || r.leaks[0].URL != reports[0]["url"] || r.leaks[0].Key.RevokedAt.IsZero() {
		t.Errorf("OnLeak got %+v", r.leaks)
	}
	for _, tok := range []string{liveTok, oldTok, stranger.Token.Reveal()} {
		if strings.Contains(r.logs.String(), tok) || strings.Contains(string(resp), tok) {
			t.Fatal("a reported token reached the logs or the answer")
		}
	}
}

func TestFlagPolicy(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, secretscan.Flag)
	live, _ := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	body, _ := json.Marshal([]map[string]string{{"token": live.Token.Reveal(), "type": "t", "url": "u", "source": "npm"}})
	if status, resp := r.post(t, r.gh, body, ""); status != 200 || !strings.Contains(string(resp), secretscan.TruePositive) {
		t.Fatalf("status %d: %s", status, resp)
	}
	if _, err := r.m.Verify(ctx, live.Token.Reveal()); err != nil {
		t.Errorf("flag policy revoked the key: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.leaks) != 1 || !r.leaks[0].Key.RevokedAt.IsZero() || r.leaks[0].Source != "npm" {
		t.Errorf("OnLeak got %+v", r.leaks)
	}
}

// Nothing is read, nor any key touched, without a valid signature by a
// configured key.
func TestSignatureRequired(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, secretscan.Revoke)
	live, _ := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	body, _ := json.Marshal([]map[string]string{{"token": live.Token.Reveal(), "type": "t", "url": "u", "source": "content"}})
	other := newScanner(t, "gh-key-1") // right identifier, wrong key pair
	unknownID := scanner{id: "gh-key-9", priv: r.gh.priv}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = 'X'
	r.store.ResetCalls()
	for name, c := range map[string]struct {
		s    scanner
		body []byte
		sig  string
	}{
		"wrong key pair":     {other, body, ""},
		"unknown identifier": {unknownID, body, ""},
		"tampered body":      {r.gh, tampered, r.gh.sign(t, body)},
		"garbage signature":  {r.gh, body, "bm90IGEgc2lnbmF0dXJl"},
		"not base64":         {r.gh, body, "%%%"},
	} {
		if status, resp := r.post(t, c.s, c.body, c.sig); status != http.StatusUnauthorized || strings.Contains(string(resp), "true_positive") {
			t.Errorf("%s: status %d %s, want 401", name, status, resp)
		}
	}
	if n := r.store.TotalCalls(); n != 0 {
		t.Errorf("%d store calls for unsigned reports", n)
	}
	if _, err := r.m.Verify(ctx, live.Token.Reveal()); err != nil {
		t.Errorf("key after forged reports: %v", err)
	}
	// Malformed but signed bodies are 400; other methods 405.
	for _, b := range [][]byte{[]byte(`{"token":"x"}`), []byte(`not json`)} {
		if status, _ := r.post(t, r.gh, b, ""); status != http.StatusBadRequest {
			t.Errorf("signed body %q: status %d, want 400", b, status)
		}
	}
	resp, err := http.Get(r.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// A store failure is a 503 (the scanner retries), never a false positive.
func TestStoreDown(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, secretscan.Revoke)
	live, _ := r.m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	r.store.Fail(errors.New("connection refused"))
	body, _ := json.Marshal([]map[string]string{{"token": live.Token.Reveal(), "type": "t", "url": "u", "source": "content"}})
	if status, resp := r.post(t, r.gh, body, ""); status != http.StatusServiceUnavailable {
		t.Errorf("status %d %s, want 503", status, resp)
	}
}

func TestConfigRefused(t *testing.T) {
	if _, err := secretscan.ParseGitHubKeys([]byte(`{"public_keys":[]}`)); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := secretscan.ParseGitHubKeys([]byte(`{"public_keys":[{"key_identifier":"a","key":"nope"}]}`)); err == nil {
		t.Error("a non-PEM key accepted")
	}
	if _, err := secretscan.New(secretscan.Config{}); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("empty config: %v", err)
	}
}
