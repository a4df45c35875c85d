package apikey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Webhook signing secrets are stored sealed: AES-256-GCM under the
// manager's webhook key (WithWebhookKey), with the key's ID as associated
// data, so a database dump alone reveals no secret and a sealed value copied
// onto another key record does not open. Layout: one version byte, the
// 12-byte nonce, then the ciphertext and its tag.
const (
	sealVersion    = 1
	webhookKeyLen  = 32
	sealAADContext = "apikey webhook secret v1\x00"
	// WebhookSecretPrefix starts every webhook signing secret, so secret
	// scanners and humans can tell it from an API token.
	WebhookSecretPrefix = "whsec_"
	webhookSecretBytes  = 32
	webhookSecretLen    = 43 // base62 characters of 32 bytes
)

// errNoWebhookKey reports a sealing operation on a manager without a
// webhook key.
var errNoWebhookKey = fmt.Errorf("%w: rotation webhooks need a webhook key (WithWebhookKey)", ErrInvalid)

// WithWebhookKey sets the 32-byte key that seals webhook signing secrets in
// the store (AES-256-GCM). It is required to create keys with a rotation
// webhook and to deliver scheduled rotations. Keep it outside the database,
// like the pepper: with the key and a dump, an attacker can forge rotation
// webhooks. Losing it makes every stored webhook secret unusable.
func WithWebhookKey(key []byte) Option {
	return func(c *config) error {
		if len(key) != webhookKeyLen {
			return fmt.Errorf("%w: webhook key must be %d bytes, got %d", ErrInvalid, webhookKeyLen, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return fmt.Errorf("%w: webhook key: %w", ErrInvalid, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return fmt.Errorf("%w: webhook key: %w", ErrInvalid, err)
		}
		c.webhookAEAD = aead
		return nil
	}
}

// newWebhookSecret draws a fresh signing secret: the prefix and 43 base62
// characters (256 random bits).
func newWebhookSecret() (string, error) {
	var raw [webhookSecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("apikey: reading randomness: %w", err)
	}
	b := make([]byte, 0, len(WebhookSecretPrefix)+webhookSecretLen)
	b = append(b, WebhookSecretPrefix...)
	b = encodeBase62(b, raw[:], webhookSecretLen)
	clear(raw[:])
	return string(b), nil
}

// sealAAD binds a sealed secret to the key it belongs to.
func sealAAD(keyID string) []byte { return []byte(sealAADContext + keyID) }

// sealWebhookSecret encrypts secret for storage on key keyID.
func (m *Manager) sealWebhookSecret(keyID, secret string) ([]byte, error) {
	aead := m.cfg.webhookAEAD
	if aead == nil {
		return nil, errNoWebhookKey
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(secret)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("apikey: reading randomness: %w", err)
	}
	return aead.Seal(out, out[1:], []byte(secret), sealAAD(keyID)), nil
}

// openWebhookSecret decrypts the sealed webhook secret of k. The error never
// holds secret material.
func (m *Manager) openWebhookSecret(k *Key) (Secret, error) {
	aead := m.cfg.webhookAEAD
	switch {
	case aead == nil:
		return Secret{}, errNoWebhookKey
	case len(k.WebhookSecret) == 0:
		return Secret{}, fmt.Errorf("%w: key %s has no webhook secret", ErrInvalid, k.ID)
	case len(k.WebhookSecret) < 1+aead.NonceSize()+aead.Overhead() || k.WebhookSecret[0] != sealVersion:
		return Secret{}, fmt.Errorf("apikey: webhook secret of key %s is not a sealed value of a known version", k.ID)
	}
	n := 1 + aead.NonceSize()
	plain, err := aead.Open(nil, k.WebhookSecret[1:n], k.WebhookSecret[n:], sealAAD(k.ID))
	if err != nil {
		return Secret{}, errors.New("apikey: webhook secret of key " + k.ID + " does not open with this webhook key")
	}
	return NewSecret(string(plain)), nil
}

// resealWebhookSecret moves the sealed secret of old onto the successor
// succID (a rotation keeps the signing secret). A key without one gives nil.
func (m *Manager) resealWebhookSecret(old *Key, succID string) ([]byte, error) {
	if len(old.WebhookSecret) == 0 {
		return nil, nil
	}
	s, err := m.openWebhookSecret(old)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot carry the webhook secret to the successor: %w", ErrInvalid, err)
	}
	return m.sealWebhookSecret(succID, s.Reveal())
}
