package rotation_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// realDelivery rotates one key through a loopback receiver and returns the
// webhook secret and what the receiver got.
func realDelivery(t *testing.T) (string, delivered, time.Time) {
	t.Helper()
	r := newRig(t)
	rc := newReceiver(t)
	is := r.create(t, day, rc.srv.URL)
	now := r.clock.Advance(day)
	if rep := runOnce(t, newScheduler(t, r.m)); rep.Count(rotation.Committed) != 1 {
		t.Fatalf("%+v", rep.Results)
	}
	return is.WebhookSecret.Reveal(), rc.last(t), now
}

func TestVerifyWebhook(t *testing.T) {
	secret, d, now := realDelivery(t)
	tampered := bytes.Replace(d.body, []byte(`"project_id":"p1"`), []byte(`"project_id":"p2"`), 1)
	if bytes.Equal(tampered, d.body) {
		t.Fatal("tampering did not change the body")
	}
	cases := []struct {
		name   string
		secret string
		body   []byte
		sig    string
		now    time.Time
		want   error
	}{
		{"real payload", secret, d.body, d.sig, now, nil},
		{"real payload, 4 min later", secret, d.body, d.sig, now.Add(4 * time.Minute), nil},
		{"tampered body", secret, tampered, d.sig, now, rotation.ErrWebhookSignature},
		{"wrong secret", secret + "x", d.body, d.sig, now, rotation.ErrWebhookSignature},
		{"empty secret", "", d.body, d.sig, now, rotation.ErrWebhookSignature},
		{"missing header", secret, d.body, "", now, rotation.ErrWebhookSignature},
		{"not sha256", secret, d.body, "sha1=" + strings.TrimPrefix(d.sig, "sha256="), now, rotation.ErrWebhookSignature},
		{"bad hex", secret, d.body, "sha256=zz", now, rotation.ErrWebhookSignature},
		{"truncated", secret, d.body, d.sig[:len(d.sig)-2], now, rotation.ErrWebhookSignature},
		{"stale", secret, d.body, d.sig, now.Add(6 * time.Minute), rotation.ErrWebhookStale},
		{"from the future", secret, d.body, d.sig, now.Add(-2 * time.Minute), rotation.ErrWebhookStale},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := rotation.VerifyWebhook(c.secret, c.body, c.sig, 0, c.now)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if c.want == nil && (ev.Type != rotation.EventType || ev.Key.IsZero() || ev.Tenant != "p1") {
				t.Errorf("event %+v", ev)
			}
			if err != nil && strings.Contains(err.Error(), c.secret+"\x00") {
				t.Error("error holds the secret")
			}
		})
	}
}

func TestVerifyWebhookRefusesSignedNonEvents(t *testing.T) {
	s := apikey.NewSecret("whsec_test")
	for _, body := range []string{`not json`, `{"event":"other","timestamp":1}`, `{"event":"api_key.rotated"}`} {
		_, err := rotation.VerifyWebhook(s.Reveal(), []byte(body), rotation.SignWebhook(s, []byte(body)), 0, time.Unix(1, 0))
		if !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", body, err)
		}
	}
}

func TestWebhookPayloadShape(t *testing.T) {
	_, d, _ := realDelivery(t)
	for _, field := range []string{`"event":"api_key.rotated"`, `"old_key_id":`, `"new_key_id":`, `"key":"prk_live_`,
		`"key_prefix":"prk_live_`, `"project_id":"p1"`, `"rotated_at":"2026-03-02T12:00:00Z"`, `"timestamp":`} {
		if !bytes.Contains(d.body, []byte(field)) {
			t.Errorf("body lacks %s: %s", field, d.body)
		}
	}
	if !strings.HasPrefix(d.sig, "sha256=") || len(d.sig) != len("sha256=")+64 {
		t.Errorf("signature header %q", d.sig)
	}
}

func TestCreateWebhookURLPolicy(t *testing.T) {
	cases := []struct {
		url            string
		strict, dev    bool // accepted by default, with AllowLoopback
		privateAllowed bool // accepted with AllowPrivate
	}{
		{"https://hooks.example.com/rotate", true, true, true},
		{"https://93.184.216.34/rotate", true, true, true},
		{"http://hooks.example.com/rotate", false, false, false},
		{"ftp://hooks.example.com/", false, false, false},
		{"https://10.0.0.1/hook", false, false, true},
		{"https://192.168.1.5/hook", false, false, true},
		{"https://[fd00::1]/hook", false, false, true},
		{"https://127.0.0.1/hook", false, true, false},
		{"http://127.0.0.1:8080/hook", false, true, false},
		{"http://localhost:8080/hook", false, true, false},
		{"https://LOCALHOST./hook", false, true, false},
		{"http://api.localhost/hook", false, true, false},
		{"http://[::1]:9000/hook", false, true, false},
		{"https://[::ffff:127.0.0.1]/hook", false, true, false},
		{"https://169.254.169.254/latest/meta-data", false, false, false},
		{"https://[fe80::1]/hook", false, false, false},
		{"https://0.0.0.0/hook", false, false, false},
		{"https://[::]/hook", false, false, false},
		{"https://224.0.0.1/hook", false, false, false},
		{"https://user:pass@hooks.example.com/", false, false, false},
		{"https:///nohost", false, false, false},
		{"/relative", false, false, false},
		{"https://hooks.example.com/" + strings.Repeat("a", 2100), false, false, false},
	}
	strict := newRig(t, webhooks(t, testWebhookKey, rotation.WebhookPolicy{}))
	dev := newRig(t)
	private := newRig(t, webhooks(t, testWebhookKey, rotation.WebhookPolicy{AllowPrivate: true}))
	for _, c := range cases {
		for _, m := range []struct {
			name string
			r    *rig
			want bool
		}{{"strict", strict, c.strict}, {"dev", dev, c.dev}, {"private", private, c.privateAllowed}} {
			_, err := m.r.m.Create(context.Background(), apikey.CreateParams{Tenant: "p1", RotationWebhookURL: c.url})
			if got := err == nil; got != m.want {
				t.Errorf("%s %.60s: err %v, want accepted=%v", m.name, c.url, err, m.want)
			}
			if err != nil && !errors.Is(err, apikey.ErrInvalid) {
				t.Errorf("%s %.60s: %v is not ErrInvalid", m.name, c.url, err)
			}
		}
	}
}

func TestWebhookNeedsWebhookKey(t *testing.T) {
	m, err := apikey.New(newRig(t).store, apikey.WithPepper("v1", testPepper))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Create(context.Background(), apikey.CreateParams{Tenant: "p1", RotationWebhookURL: "https://hooks.example.com/"})
	if !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("create without webhook key: %v", err)
	}
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := rotation.NewWebhooks(make([]byte, n), rotation.WebhookPolicy{}); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%d-byte webhook key: %v", n, err)
		}
	}
}

func TestWebhookSecretIsSealed(t *testing.T) {
	r := newRig(t)
	is := r.create(t, day, "https://hooks.example.com/rotate")
	secret := is.WebhookSecret.Reveal()
	if !strings.HasPrefix(secret, rotation.WebhookSecretPrefix) || len(secret) != len(rotation.WebhookSecretPrefix)+43 {
		t.Errorf("secret shape %d bytes", len(secret))
	}
	stored, err := r.store.Get(context.Background(), is.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.WebhookSecret) == 0 || bytes.Contains(stored.WebhookSecret, []byte(secret)) ||
		bytes.Contains(stored.WebhookSecret, []byte(secret[len(rotation.WebhookSecretPrefix):])) {
		t.Error("stored webhook secret is empty or holds the plaintext")
	}
	other := r.create(t, day, "https://hooks.example.com/rotate")
	if other.WebhookSecret.Reveal() == secret {
		t.Error("two keys share a webhook secret")
	}
	if no := r.create(t, 0, ""); !no.WebhookSecret.IsZero() || no.Key.WebhookSecret != nil {
		t.Error("a key without webhook got a secret")
	}
	// Unsealing is proven by the scheduler tests: deliveries verify under
	// is.WebhookSecret. The record's printed forms never show it.
	for _, s := range []string{is.Key.String(), is.WebhookSecret.String()} {
		if strings.Contains(s, secret) {
			t.Error("printed form holds the secret")
		}
	}
	r.assertNoSecrets(t, secret, is.Token.Reveal())
}

func TestWebhookSealedSecretIsBoundToItsKey(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	ctx := context.Background()
	a := r.create(t, day, rc.srv.URL)
	b := r.create(t, day, rc.srv.URL)
	// Someone with write access to the store copies a's sealed secret onto b.
	ka, _ := r.store.Get(ctx, a.Key.ID)
	kb, _ := r.store.Get(ctx, b.Key.ID)
	kb.WebhookSecret = ka.WebhookSecret
	kb.ID, kb.Lookup = "01J00000000000000000000000", "copied-lookup"
	kb.NextRotationAt = t0.Add(time.Hour)
	if err := r.store.Create(ctx, kb); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Hour)
	rep := runOnce(t, newScheduler(t, r.m))
	if len(rep.Results) != 1 || rep.Results[0].Status != rotation.Failed {
		t.Fatalf("%+v", rep.Results)
	}
	if len(rc.deliveries()) != 0 {
		t.Error("delivered with a secret sealed for another key")
	}
}

func TestWebhookClientChecksAddressAtConnect(t *testing.T) {
	rc := newReceiver(t) // listens on 127.0.0.1
	deliver := rotation.HTTPDelivery(rotation.NewWebhookClient(rotation.WebhookPolicy{}, time.Second))
	ev := rotation.Event{Type: rotation.EventType, Key: apikey.NewSecret("prk_live_x"), Timestamp: 1,
		URL: rc.srv.URL + "/hook?token=url-credential"}
	err := deliver(context.Background(), ev, apikey.NewSecret("whsec_x"))
	if err == nil || !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("delivery to loopback under the strict policy: %v", err)
	}
	if strings.Contains(err.Error(), "url-credential") || strings.Contains(err.Error(), "prk_live_x") {
		t.Errorf("error holds the URL or token: %v", err)
	}
	if len(rc.deliveries()) != 0 {
		t.Error("the request reached the loopback receiver")
	}
	allowed := rotation.HTTPDelivery(rotation.NewWebhookClient(rotation.WebhookPolicy{AllowLoopback: true}, time.Second))
	if err := allowed(context.Background(), ev, apikey.NewSecret("whsec_x")); err != nil {
		t.Fatalf("loopback allowed: %v", err)
	}
}

func TestWebhookPolicyCheckAddr(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"8.8.8.8", true}, {"2606:4700::1111", true},
		{"127.0.0.2", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false},
		{"100.64.0.1", false}, {"169.254.169.254", false}, {"fe80::1", false}, {"0.0.0.0", false},
		{"0.1.2.3", false}, {"255.255.255.255", false}, {"ff02::1", false}, {"::ffff:10.0.0.1", false},
	}
	for _, c := range cases {
		err := rotation.WebhookPolicy{}.CheckAddr(netip.MustParseAddr(c.addr))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.addr, err, c.ok)
		}
	}
}
