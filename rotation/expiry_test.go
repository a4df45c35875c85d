package rotation_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// An expiry notice goes to the key's webhook, signed like a rotation; a
// failed delivery is retried by the next run; keys without a webhook are
// skipped (the audit event alone reports them).
func TestExpiryWebhook(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		bodies = append(bodies, b)
		sigs = append(sigs, r.Header.Get(rotation.SignatureHeader))
	}))
	defer srv.Close()

	r := newRig(t)
	is, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "p1", ExpiresAt: t0.Add(3 * day), RotationWebhookURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "p1", ExpiresAt: t0.Add(3 * day)})
	if err != nil {
		t.Fatal(err)
	}
	client := rotation.NewWebhookClient(rotation.WebhookPolicy{AllowLoopback: true}, 5*time.Second)
	n, err := apikey.NewExpiryNotifier(r.m, rotation.ExpiryWebhook(r.m, client), 7*day)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := n.RunOnce(ctx); err != nil || rep.Sent != 1 || rep.Failed != 1 {
		t.Fatalf("first run: %+v, %v; want the plain key's notice sent and the webhook one failed", rep, err)
	}
	if rep, err := n.RunOnce(ctx); err != nil || rep.Sent != 1 || rep.Failed != 0 {
		t.Fatalf("second run: %+v, %v; want the webhook notice retried", rep, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("%d deliveries, want 1", len(bodies))
	}
	if want := rotation.SignWebhook(is.WebhookSecret, bodies[0]); sigs[0] != want {
		t.Errorf("signature %q, want %q", sigs[0], want)
	}
	var p map[string]any
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p["event"] != rotation.ExpiringEventType || p["key_id"] != is.Key.ID || p["project_id"] != "p1" ||
		p["lead_seconds"] != float64(7*24*3600) || p["expires_at"] != t0.Add(3*day).Format(time.RFC3339) {
		t.Errorf("payload %s", bodies[0])
	}
	if strings.Contains(string(bodies[0]), is.Token.Reveal()) || strings.Contains(string(bodies[0]), plain.Key.ID) {
		t.Errorf("payload holds a token or another key: %s", bodies[0])
	}
}
