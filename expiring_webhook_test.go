package apikey_test

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
	"github.com/apikit/apikey/memstore"
)

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
		sigs = append(sigs, r.Header.Get(apikey.SignatureHeader))
	}))
	defer srv.Close()

	clock := apikey.NewManualClock(t0)
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", pepperV1), apikey.WithClock(clock),
		apikey.WithWebhookKey([]byte("expiry-webhook-key-0123456789abc")), apikey.WithInsecureLoopbackWebhooks())
	if err != nil {
		t.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "p1", ExpiresAt: t0.Add(3 * oneDay), RotationWebhookURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Create(ctx, apikey.CreateParams{Tenant: "p1", ExpiresAt: t0.Add(3 * oneDay)}) // no webhook
	if err != nil {
		t.Fatal(err)
	}
	n, err := apikey.NewExpiryNotifier(m, apikey.ExpiryWebhook(m, apikey.NewWebhookClient(apikey.WebhookPolicy{AllowLoopback: true}, 5*time.Second)), 7*oneDay)
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
	if want := apikey.SignWebhook(is.WebhookSecret, bodies[0]); sigs[0] != want {
		t.Errorf("signature %q, want %q", sigs[0], want)
	}
	var p map[string]any
	if err := json.Unmarshal(bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p["event"] != apikey.ExpiringEventType || p["key_id"] != is.Key.ID || p["project_id"] != "p1" ||
		p["lead_seconds"] != float64(7*24*3600) || p["expires_at"] != t0.Add(3*oneDay).Format(time.RFC3339) {
		t.Errorf("payload %s", bodies[0])
	}
	if strings.Contains(string(bodies[0]), is.Token.Reveal()) || strings.Contains(string(bodies[0]), plain.Key.ID) {
		t.Errorf("payload holds a token or another key: %s", bodies[0])
	}
}
