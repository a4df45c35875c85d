package rotation_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// A receiver of rotation webhooks: it checks the signature and the age of
// the event before storing the new key, and answers 2xx only once the key
// is safely stored (a non-2xx answer makes the sender revoke the new key
// and retry later).
func ExampleVerifyWebhook() {
	// The secret Create returned in Issued.WebhookSecret for this key.
	const webhookSecret = "whsec_4ZpQ8vXr2mN7kT1cY6bH3jL9wS5fD0gA8eR2uI7oP1q"
	now := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC) // use time.Now() in real code

	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := rotation.VerifyWebhook(webhookSecret, body, r.Header.Get(rotation.SignatureHeader), 5*time.Minute, now)
		if err != nil {
			http.Error(w, "invalid webhook", http.StatusUnauthorized)
			return
		}
		// Store ev.Key.Reveal() in your secret manager here; replace the old
		// key before ev.GraceExpiresAt.
		fmt.Println("new key", ev.NewKeyID, "replaces", ev.OldKeyID, "for", ev.Tenant, "prefix", ev.KeyPrefix)
		w.WriteHeader(http.StatusNoContent)
	})

	// What the library's scheduler sends (built here by hand).
	sent := rotation.Event{
		Type: rotation.EventType, OldKeyID: "01JOLD", NewKeyID: "01JNEW",
		Key: apikey.NewSecret("prk_live_example"), KeyPrefix: "prk_live_exam", Tenant: "p1",
		RotatedAt: now.Add(-30 * time.Second), Timestamp: now.Add(-30 * time.Second).Unix(),
	}
	body, _ := sent.Body()
	for _, sig := range []string{rotation.SignWebhook(apikey.NewSecret(webhookSecret), body), "sha256=forged"} {
		req := httptest.NewRequest(http.MethodPost, "/hooks/api-key-rotated", strings.NewReader(string(body)))
		req.Header.Set(rotation.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// new key 01JNEW replaces 01JOLD for p1 prefix prk_live_exam
	// 204
	// 401
}
