package rotation

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/apikit/apikey"
)

// Webhook signing secrets are stored sealed: AES-256-GCM under the
// webhook key (NewWebhooks), with the key's ID as associated data, so a
// database dump alone reveals no secret and a sealed value copied onto
// another key record does not open. Layout: one version byte, the 12-byte
// nonce, then the ciphertext and its tag.
const (
	sealVersion    = 1
	webhookKeyLen  = 32
	sealAADContext = "apikey webhook secret v1\x00"
	// WebhookSecretPrefix starts every webhook signing secret, so secret
	// scanners and humans can tell it from an API token.
	WebhookSecretPrefix = "whsec_"
)

// Webhooks is the apikey.Webhooks of this package: it checks rotation
// webhook URLs against a WebhookPolicy and seals each key's signing secret
// with a 32-byte webhook key. Install it with apikey.WithWebhooks.
type Webhooks struct {
	aead   cipher.AEAD
	policy WebhookPolicy
}

var _ apikey.Webhooks = (*Webhooks)(nil)

// NewWebhooks returns Webhooks that seal signing secrets in the store with
// key (32 bytes, AES-256-GCM) and accept the webhook URLs p allows (the
// zero WebhookPolicy is the safe default). Keep the key outside the
// database, like the pepper: with the key and a dump, an attacker can forge
// rotation webhooks. Losing it makes every stored webhook secret unusable.
func NewWebhooks(key []byte, p WebhookPolicy) (*Webhooks, error) {
	if len(key) != webhookKeyLen {
		return nil, fmt.Errorf("%w: webhook key must be %d bytes, got %d", apikey.ErrInvalid, webhookKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: webhook key: %w", apikey.ErrInvalid, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: webhook key: %w", apikey.ErrInvalid, err)
	}
	return &Webhooks{aead: aead, policy: p}, nil
}

// Policy returns the webhook URL policy.
func (w *Webhooks) Policy() WebhookPolicy { return w.policy }

// CheckURL reports whether raw is an acceptable webhook URL under the
// policy (see WebhookPolicy.CheckURL).
func (w *Webhooks) CheckURL(raw string) error { return w.policy.CheckURL(raw) }

// sealAAD binds a sealed secret to the key it belongs to.
func sealAAD(keyID string) []byte { return []byte(sealAADContext + keyID) }

// Seal encrypts secret for storage on key keyID.
func (w *Webhooks) Seal(keyID string, secret apikey.Secret) ([]byte, error) {
	plain := secret.Reveal()
	out := make([]byte, 1+w.aead.NonceSize(), 1+w.aead.NonceSize()+len(plain)+w.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("apikey: reading randomness: %w", err)
	}
	return w.aead.Seal(out, out[1:], []byte(plain), sealAAD(keyID)), nil
}

// Open decrypts sealed, the stored webhook secret of key keyID. The error
// never holds secret material.
func (w *Webhooks) Open(keyID string, sealed []byte) (apikey.Secret, error) {
	if len(sealed) < 1+w.aead.NonceSize()+w.aead.Overhead() || sealed[0] != sealVersion {
		return apikey.Secret{}, fmt.Errorf("apikey: webhook secret of key %s is not a sealed value of a known version", keyID)
	}
	n := 1 + w.aead.NonceSize()
	plain, err := w.aead.Open(nil, sealed[1:n], sealed[n:], sealAAD(keyID))
	if err != nil {
		return apikey.Secret{}, errors.New("apikey: webhook secret of key " + keyID + " does not open with this webhook key")
	}
	return apikey.NewSecret(string(plain)), nil
}
