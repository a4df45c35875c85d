package apikey_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestStateAt(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name string
		k    apikey.Key
		now  time.Time
		want apikey.State
	}{
		{"fresh", apikey.Key{}, at(0), apikey.StateActive},
		{"before expiry", apikey.Key{ExpiresAt: at(10)}, at(9), apikey.StateActive},
		{"at expiry", apikey.Key{ExpiresAt: at(10)}, at(10), apikey.StateExpired},
		{"before revocation", apikey.Key{RevokedAt: at(5)}, at(4), apikey.StateActive},
		{"at revocation", apikey.Key{RevokedAt: at(5)}, at(5), apikey.StateRevoked},
		{"in grace", apikey.Key{ReplacedBy: "x", GraceExpiresAt: at(5)}, at(4), apikey.StateActive},
		{"at grace end", apikey.Key{ReplacedBy: "x", GraceExpiresAt: at(5)}, at(5), apikey.StateGraceEnded},
		{"revoked wins over grace and expiry", apikey.Key{RevokedAt: at(1), GraceExpiresAt: at(1), ExpiresAt: at(1)}, at(2), apikey.StateRevoked},
		{"grace end wins over expiry", apikey.Key{GraceExpiresAt: at(1), ExpiresAt: at(1)}, at(2), apikey.StateGraceEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.StateAt(tt.now); got != tt.want {
				t.Errorf("StateAt = %v, want %v", got, tt.want)
			}
		})
	}
	for s, want := range map[apikey.State]string{
		apikey.StateActive: "active", apikey.StateRevoked: "revoked",
		apikey.StateGraceEnded: "grace_ended", apikey.StateExpired: "expired", apikey.State(99): "unknown",
	} {
		if s.String() != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

// Every way of printing a Secret shows "[redacted]"; only Reveal shows it.
func TestSecretPrinting(t *testing.T) {
	const plain = "pgk_live_supersecretvalue"
	s := apikey.NewSecret(plain)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s)
	j, _ := json.Marshal(map[string]any{"s": s})
	txt, _ := s.MarshalText()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%s": fmt.Sprintf("%s", s),
		"%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s), "%#v": fmt.Sprintf("%#v", s),
		"pointer %v": fmt.Sprintf("%v", &s), "in a struct %+v": fmt.Sprintf("%+v", struct{ S apikey.Secret }{s}),
		"String": s.String(), "GoString": s.GoString(), "JSON": string(j), "text": string(txt), "slog": logs.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "supersecret") || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s prints %q", name, out)
		}
	}
	if s.Reveal() != plain || s.IsZero() || !apikey.NewSecret("").IsZero() {
		t.Error("Reveal or IsZero is wrong")
	}
}

// Printing a Key shows neither its hash nor its lookup value nor its sealed
// webhook secret.
func TestKeyPrinting(t *testing.T) {
	k := apikey.Key{
		ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Tenant: "acme", Prefix: "pgk_live_abcd", Name: "n",
		Lookup: "LOOKUPVALUE", Hash: []byte("HASHBYTES"), WebhookSecret: []byte("SEALEDSECRET"),
		Scopes: []string{"jobs:read"},
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "key", k, "ptr", &k)
	j, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", k), "%+v": fmt.Sprintf("%+v", k), "%#v": fmt.Sprintf("%#v", k),
		"%s": fmt.Sprintf("%s", k), "*Key %+v": fmt.Sprintf("%+v", &k), "*Key %#v": fmt.Sprintf("%#v", &k),
		"String": k.String(), "JSON": string(j), "slog": logs.String(),
	}
	for name, out := range outputs {
		for _, secret := range []string{"LOOKUPVALUE", "HASHBYTES", "SEALEDSECRET", "SEFTSEJZVEVT" /* base64 of HASHBYTES */} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %s: %q", name, secret, out)
			}
		}
		if !strings.Contains(out, "pgk_live_abcd") {
			t.Errorf("%s does not show the display prefix: %q", name, out)
		}
	}
}

// TestKeyPlusVShowsTimes checks that %+v adds the non-secret times that are
// set (and only %+v: %v stays the one-line String).
func TestKeyPlusVShowsTimes(t *testing.T) {
	k := &apikey.Key{
		ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Tenant: "acme", Prefix: "pgk_live_abcd", Hash: []byte("HASHBYTES"),
		CreatedAt: t0, ExpiresAt: t0.Add(48 * time.Hour), RevokedAt: t0.Add(time.Hour),
	}
	got := fmt.Sprintf("%+v", k)
	want := k.String()[:len(k.String())-1] +
		" Created:2026-03-01T12:00:00Z Expires:2026-03-03T12:00:00Z Revoked:2026-03-01T13:00:00Z}"
	if got != want {
		t.Errorf("%%+v = %q\nwant   %q", got, want)
	}
	k.LastUsedAt = t0.Add(30 * time.Minute)
	if got := fmt.Sprintf("%+v", *k); !strings.Contains(got, "LastUsed:2026-03-01T12:30:00Z Revoked:") {
		t.Errorf("%%+v with last use = %q", got)
	}
	if got := fmt.Sprintf("%v", k); got != k.String() {
		t.Errorf("%%v = %q, want String %q", got, k.String())
	}
}
