package apikey

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Webhooks is what the Manager needs for keys with a rotation webhook:
// the URL policy Create applies and the sealing of each key's webhook
// signing secret in the store. Package rotation implements it
// (rotation.NewWebhooks); install it with WithWebhooks. Without it, Create
// refuses a RotationWebhookURL.
type Webhooks interface {
	// CheckURL reports whether raw is an acceptable rotation webhook URL;
	// the error wraps ErrInvalid and says why not.
	CheckURL(raw string) error
	// Seal encrypts secret for storage on key keyID, bound to that ID.
	Seal(keyID string, secret Secret) ([]byte, error)
	// Open decrypts sealed, the stored webhook secret of key keyID. Its
	// error holds no secret material.
	Open(keyID string, sealed []byte) (Secret, error)
}

// WithWebhooks enables rotation webhooks: Create accepts a
// RotationWebhookURL that w allows and stores the key's signing secret
// sealed by w; Rotate carries it to the successor. Use
// rotation.NewWebhooks(webhookKey, policy).
func WithWebhooks(w Webhooks) Option {
	return func(c *config) error {
		if w == nil {
			return fmt.Errorf("%w: nil Webhooks", ErrInvalid)
		}
		c.webhooks = w
		return nil
	}
}

// webhookSecretPrefix starts every webhook signing secret, so secret
// scanners and humans can tell it from an API token.
const (
	webhookSecretPrefix = "whsec_"
	webhookSecretBytes  = 32
	webhookSecretLen    = 43 // base62 characters of 32 bytes
)

// errNoWebhooks reports a webhook operation on a manager without WithWebhooks.
var errNoWebhooks = fmt.Errorf("%w: rotation webhooks need WithWebhooks (rotation.NewWebhooks)", ErrInvalid)

// Webhooks returns the manager's Webhooks, or nil without WithWebhooks.
func (m *Manager) Webhooks() Webhooks { return m.cfg.webhooks }

// CheckWebhookURL reports whether raw is a rotation webhook URL this manager
// accepts; the error (wrapping ErrInvalid) says why not. Create runs it.
func (m *Manager) CheckWebhookURL(raw string) error {
	if m.cfg.webhooks == nil {
		return errNoWebhooks
	}
	return m.cfg.webhooks.CheckURL(raw)
}

// newWebhookSecret draws a fresh signing secret: the prefix and 43 base62
// characters (256 random bits).
func newWebhookSecret() (string, error) {
	var raw [webhookSecretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("apikey: reading randomness: %w", err)
	}
	b := make([]byte, 0, len(webhookSecretPrefix)+webhookSecretLen)
	b = append(b, webhookSecretPrefix...)
	b = encodeBase62(b, raw[:], webhookSecretLen)
	clear(raw[:])
	return string(b), nil
}

// sealWebhookSecret encrypts secret for storage on key keyID.
func (m *Manager) sealWebhookSecret(keyID, secret string) ([]byte, error) {
	if m.cfg.webhooks == nil {
		return nil, errNoWebhooks
	}
	return m.cfg.webhooks.Seal(keyID, NewSecret(secret))
}

// openWebhookSecret decrypts the sealed webhook secret of k.
func (m *Manager) openWebhookSecret(k *Key) (Secret, error) {
	switch {
	case m.cfg.webhooks == nil:
		return Secret{}, errNoWebhooks
	case len(k.WebhookSecret) == 0:
		return Secret{}, fmt.Errorf("%w: key %s has no webhook secret", ErrInvalid, k.ID)
	}
	return m.cfg.webhooks.Open(k.ID, k.WebhookSecret)
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

// DeliverRotation is the hook package rotation's Scheduler rotates through;
// applications call Rotate. It rotates old (a key as read from the store,
// such as one Store.DueForRotation returned and the caller claimed) with
// grace, like Rotate, but commits only after deliver accepted the
// successor. deliver gets the rotation as Rotate would return it: r.Old as
// the commit will store it (ReplacedBy, GraceExpiresAt), r.Key and r.Token
// the successor, r.WebhookSecret the key's unsealed webhook secret (zero if
// it has none).
//
// If deliver or the commit fails, the successor is revoked, old stays as it
// was, and the error says why; successorID names the successor whenever
// one was created. Only deliver sees ctx's cancellation: once a successor
// exists, its commit or revocation completes even if ctx ends. The caller
// checks that old can be rotated (active, not replaced).
//
// old.NextRotationAt is taken as the value the caller claimed
// (Store.ClaimRotation's next): the successor's ID derives from it, so
// that a successor this call leaves behind if its process dies can be
// revoked by the next claimer with RevokePendingSuccessor. A key with no
// NextRotationAt gets a random successor ID.
func (m *Manager) DeliverRotation(ctx context.Context, old *Key, grace time.Duration, deliver func(context.Context, *Rotated) error) (successorID string, err error) {
	if deliver == nil {
		return "", fmt.Errorf("%w: nil deliver", ErrInvalid)
	}
	var secret Secret
	if len(old.WebhookSecret) > 0 {
		if secret, err = m.openWebhookSecret(old); err != nil {
			return "", err
		}
	}
	now := m.Now()
	succID, err := m.newID(now)
	if !old.NextRotationAt.IsZero() {
		// The claim records the pending successor (see RevokePendingSuccessor).
		succID = pendingSuccessorID(old.ID, old.NextRotationAt)
	}
	if err != nil {
		return "", err
	}
	succ, token, err := m.successorAs(old, now, succID)
	if err != nil {
		return "", err
	}
	bg := context.WithoutCancel(ctx)
	err = m.store.Create(bg, succ)
	m.Invalidate(succ.Lookup) // a negative cache entry must not hide the successor
	if err != nil {
		return "", storeErr("create successor", err)
	}
	r := Rotation{OldID: old.ID, SuccessorID: succ.ID, At: now}
	r.GraceExpiresAt, r.RevokedAt = graceEnd(old, now, grace)
	pending := old.Clone()
	pending.ReplacedBy, pending.GraceExpiresAt = succ.ID, r.GraceExpiresAt
	if !r.RevokedAt.IsZero() {
		pending.RevokedAt = r.RevokedAt
	}
	pending.NextRotationAt = time.Time{}
	out := &Rotated{Old: pending, Issued: Issued{Key: succ.Clone(), Token: NewSecret(token), WebhookSecret: secret}}
	if err := deliver(ctx, out); err != nil {
		return succ.ID, m.undoSuccessor(bg, old, succ.ID, fmt.Errorf("delivery: %w", err))
	}
	stored, err := m.store.Rotate(bg, r)
	m.changed(bg, old.Lookup)
	if err != nil {
		return succ.ID, m.undoSuccessor(bg, old, succ.ID, storeErr("commit rotation", err))
	}
	m.rotated(bg, stored, succ, now)
	return succ.ID, nil
}

// undoSuccessor revokes the successor of a rotation that did not commit
// (a successor is never left valid without one) and returns cause, joined
// with the revocation's failure if it failed.
func (m *Manager) undoSuccessor(ctx context.Context, old *Key, succID string, cause error) error {
	k, err := m.store.Revoke(ctx, succID, m.Now())
	if err == nil {
		m.changed(ctx, k.Lookup)
		return cause
	}
	m.cfg.logger.LogAttrs(ctx, slog.LevelError, "apikey: undelivered successor could not be revoked",
		append(keyAttrs(old), slogSuccessor(succID), slog.String("error", cause.Error()), slog.String("revoke_error", err.Error()))...)
	return errors.Join(cause, fmt.Errorf("revoking successor %s: %w", succID, storeErr("revoke", err)))
}
