package rotation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/apikit/apikey"
)

// ExpiringEventType is the "event" field of an expiry-notice webhook.
const ExpiringEventType = "api_key.expiring"

// expiringPayload is the JSON body of an expiry-notice webhook.
type expiringPayload struct {
	Event       string    `json:"event"`
	KeyID       string    `json:"key_id"`
	KeyPrefix   string    `json:"key_prefix"`
	ProjectID   string    `json:"project_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	LeadSeconds int64     `json:"lead_seconds"`
	Timestamp   int64     `json:"timestamp"`
}

// ExpiryWebhook returns a notify function for apikey.NewExpiryNotifier that
// delivers each notice through the key's signed webhook, the machinery of
// scheduled rotation: a POST of
//
//	{"event":"api_key.expiring","key_id":"...","key_prefix":"...",
//	 "project_id":"<tenant>","expires_at":"<RFC 3339>","lead_seconds":N,
//	 "timestamp":<unix seconds>}
//
// to Key.RotationWebhookURL with the SignatureHeader computed by
// SignWebhook with the key's webhook secret (receivers check it as they
// check rotation webhooks). Build c with NewWebhookClient to keep the
// address checks. A key without a webhook URL is skipped (nil: the audit
// event alone reports it). Only a 2xx answer counts as delivered; the
// error of a failed one never holds the URL. The body holds no token.
func ExpiryWebhook(m *apikey.Manager, c *http.Client) func(context.Context, apikey.ExpiryNotice) error {
	return func(ctx context.Context, n apikey.ExpiryNotice) error {
		k := n.Key
		if k.RotationWebhookURL == "" {
			return nil
		}
		w := m.Webhooks()
		if w == nil {
			return fmt.Errorf("%w: the manager has no webhooks (apikey.WithWebhooks)", apikey.ErrInvalid)
		}
		secret, err := w.Open(k.ID, k.WebhookSecret)
		if err != nil {
			return err
		}
		body, err := json.Marshal(expiringPayload{
			Event: ExpiringEventType, KeyID: k.ID, KeyPrefix: k.Prefix, ProjectID: k.Tenant,
			ExpiresAt: n.ExpiresAt.UTC(), LeadSeconds: int64(n.Lead / time.Second), Timestamp: m.Now().Unix(),
		})
		if err != nil {
			return err
		}
		return postSigned(ctx, c, k.RotationWebhookURL, "expiry", secret, body)
	}
}
