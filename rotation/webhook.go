package rotation

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/apikit/apikey"
)

// Webhook wire format constants.
const (
	// EventType is the "event" field of a rotation webhook.
	EventType = "api_key.rotated"
	// SignatureHeader carries "sha256=<hex HMAC-SHA-256 of the raw body>".
	SignatureHeader = "X-Signature"
	// signaturePrefix starts the SignatureHeader value.
	signaturePrefix = "sha256="
	// DefaultWebhookMaxAge is the age VerifyWebhook accepts when given none.
	DefaultWebhookMaxAge = 5 * time.Minute
	// webhookFutureSkew is how far in the future a timestamp may be (clock
	// skew between sender and receiver).
	webhookFutureSkew = time.Minute
	// maxWebhookBody bounds what VerifyWebhook parses and what the delivery
	// reads of a receiver's answer.
	maxWebhookBody = 64 << 10
)

// Webhook verification errors, returned (wrapped) by VerifyWebhook.
var (
	// ErrWebhookSignature: the signature header is missing, malformed or
	// does not match the body under the secret.
	ErrWebhookSignature = errors.New("apikey: webhook signature invalid")
	// ErrWebhookStale: the signed timestamp is older than the accepted age
	// or too far in the future (a replay, or a badly wrong clock).
	ErrWebhookStale = errors.New("apikey: webhook timestamp out of range")
)

// Event is what a scheduled rotation delivers: the successor of a
// key, with its plaintext token. Key prints as "[redacted]"; the plaintext
// appears only in Body.
type Event struct {
	// Type is EventType.
	Type string
	// OldKeyID is the rotated key; NewKeyID its successor.
	OldKeyID string
	NewKeyID string
	// Key is the successor's token.
	Key apikey.Secret
	// KeyPrefix is the successor's display prefix.
	KeyPrefix string
	// Tenant owns both keys ("project_id" on the wire).
	Tenant string
	// RotatedAt is when the rotation happened.
	RotatedAt time.Time
	// GraceExpiresAt is when the old key stops working, if the delivery
	// succeeds.
	GraceExpiresAt time.Time
	// Timestamp is the Unix time (seconds) the payload was signed for;
	// receivers refuse old ones (see VerifyWebhook).
	Timestamp int64
	// URL is where the event is delivered (the key's rotation webhook URL).
	// It is not part of the payload, and VerifyWebhook leaves it empty.
	URL string
}

// webhookPayload is the JSON body of a rotation webhook.
type webhookPayload struct {
	Event          string    `json:"event"`
	OldKeyID       string    `json:"old_key_id"`
	NewKeyID       string    `json:"new_key_id"`
	Key            string    `json:"key"`
	KeyPrefix      string    `json:"key_prefix"`
	ProjectID      string    `json:"project_id"`
	RotatedAt      time.Time `json:"rotated_at"`
	GraceExpiresAt time.Time `json:"grace_expires_at,omitzero"`
	Timestamp      int64     `json:"timestamp"`
}

// Body returns the JSON body of the webhook, plaintext token included:
//
//	{"event":"api_key.rotated","old_key_id":"...","new_key_id":"...",
//	 "key":"<token>","key_prefix":"...","project_id":"<tenant>",
//	 "rotated_at":"<RFC 3339>","grace_expires_at":"<RFC 3339>",
//	 "timestamp":<unix seconds>}
//
// Custom deliveries send exactly these bytes, signed with SignWebhook.
func (e Event) Body() ([]byte, error) {
	return json.Marshal(webhookPayload{
		Event: e.Type, OldKeyID: e.OldKeyID, NewKeyID: e.NewKeyID, Key: e.Key.Reveal(),
		KeyPrefix: e.KeyPrefix, ProjectID: e.Tenant, RotatedAt: e.RotatedAt.UTC(),
		GraceExpiresAt: e.GraceExpiresAt.UTC(), Timestamp: e.Timestamp,
	})
}

// LogValue implements slog.LogValuer: IDs and prefix only, never the token.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("old_key_id", e.OldKeyID), slog.String("new_key_id", e.NewKeyID),
		slog.String("prefix", e.KeyPrefix), slog.String("tenant", e.Tenant),
	)
}

// SignWebhook returns the SignatureHeader value for body: "sha256=" and the
// hex HMAC-SHA-256 of body keyed with the secret's bytes (the whole
// "whsec_..." string, as Create returned it).
func SignWebhook(secret apikey.Secret, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret.Reveal()))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a received rotation webhook and returns its event.
// secret is the key's webhook secret as Create returned it, body the raw
// request body, signatureHeader the X-Signature value. The signature is
// compared in constant time; then the signed timestamp must be at most
// maxAge before now (DefaultWebhookMaxAge if maxAge <= 0) and at most one
// minute after it. Pass the receiver's clock as now.
//
// Errors wrap ErrWebhookSignature or ErrWebhookStale; a correctly signed
// body that is not a rotation event gives apikey.ErrInvalid. A valid event can
// still be a replay within maxAge: a receiver that must act once per event
// remembers NewKeyID.
func VerifyWebhook(secret string, body []byte, signatureHeader string, maxAge time.Duration, now time.Time) (Event, error) {
	if maxAge <= 0 {
		maxAge = DefaultWebhookMaxAge
	}
	if len(body) > maxWebhookBody {
		return Event{}, fmt.Errorf("%w: webhook body over %d bytes", apikey.ErrInvalid, maxWebhookBody)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signatureHeader), signaturePrefix)
	if !ok || secret == "" {
		return Event{}, fmt.Errorf("%w: missing or not sha256", ErrWebhookSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return Event{}, fmt.Errorf("%w: malformed", ErrWebhookSignature)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Event{}, fmt.Errorf("%w: mismatch", ErrWebhookSignature)
	}
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return Event{}, fmt.Errorf("%w: webhook body is not JSON", apikey.ErrInvalid)
	}
	if p.Event != EventType || p.Timestamp == 0 {
		return Event{}, fmt.Errorf("%w: not a %s event", apikey.ErrInvalid, EventType)
	}
	signed := time.Unix(p.Timestamp, 0)
	switch {
	case now.Sub(signed) > maxAge:
		return Event{}, fmt.Errorf("%w: signed %v before now", ErrWebhookStale, now.Sub(signed).Truncate(time.Second))
	case signed.Sub(now) > webhookFutureSkew:
		return Event{}, fmt.Errorf("%w: signed %v in the future", ErrWebhookStale, signed.Sub(now).Truncate(time.Second))
	}
	return Event{
		Type: p.Event, OldKeyID: p.OldKeyID, NewKeyID: p.NewKeyID, Key: apikey.NewSecret(p.Key),
		KeyPrefix: p.KeyPrefix, Tenant: p.ProjectID, RotatedAt: p.RotatedAt,
		GraceExpiresAt: p.GraceExpiresAt, Timestamp: p.Timestamp,
	}, nil
}

// Delivery hands the successor of a scheduled rotation to its owner. It
// returns nil only when the owner has it (for HTTP: a 2xx answer); any
// error makes the scheduler revoke the successor and retry later. secret
// is the key's unsealed webhook secret. A Delivery must not log e.Key or
// secret, and should honour ctx.
type Delivery func(ctx context.Context, e Event, secret apikey.Secret) error

// DefaultDeliveryTimeout bounds one webhook delivery.
const DefaultDeliveryTimeout = 10 * time.Second

// NewWebhookClient returns the HTTP client the default delivery uses: it
// connects only to addresses p allows (checked after DNS resolution, at
// connect time), ignores proxy settings from the environment (a proxy would
// hide the real target), follows no redirect, and gives up after timeout
// (DefaultDeliveryTimeout if timeout <= 0).
func NewWebhookClient(p WebhookPolicy, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultDeliveryTimeout
	}
	d := &net.Dialer{Timeout: timeout, Control: p.dialControl}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// HTTPDelivery returns a Delivery that POSTs e.Body() to e.URL with
// Content-Type application/json and the SignatureHeader, through c (build
// it with NewWebhookClient to keep the address checks). Only a 2xx answer
// counts as delivered; a redirect does not. At most 64 KiB of the answer is
// read. Errors never hold the URL (it may carry credentials) or the token.
func HTTPDelivery(c *http.Client) Delivery {
	return func(ctx context.Context, e Event, secret apikey.Secret) error {
		if e.URL == "" {
			return errors.New("apikey: key has no rotation webhook URL")
		}
		if secret.IsZero() {
			return errors.New("apikey: key has no webhook secret")
		}
		body, err := e.Body()
		if err != nil {
			return fmt.Errorf("apikey: encoding webhook: %w", err)
		}
		return postSigned(ctx, c, e.URL, "rotation", secret, body)
	}
}

// postSigned POSTs body to url with the webhook's headers and its
// X-Signature under secret, and succeeds only on a 2xx answer. kind names
// the webhook in errors and the User-Agent ("rotation", "expiry"). At most
// maxWebhookBody bytes of the answer are read. Errors never hold the URL
// (it may carry credentials).
func postSigned(ctx context.Context, c *http.Client, url string, kind string, secret apikey.Secret, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("apikey: building %s webhook request failed", kind)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "apikey-"+kind+"/1")
	req.Header.Set(SignatureHeader, SignWebhook(secret, body))
	resp, err := c.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL
		}
		return fmt.Errorf("apikey: %s webhook delivery: %w", kind, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("apikey: %s webhook answered %d", kind, resp.StatusCode)
	}
	return nil
}
