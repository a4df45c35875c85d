package apikey

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// CreateParams describes a key to create.
type CreateParams struct {
	// Tenant owns the key (workspace, project). Required.
	Tenant string
	// Name is a human label, up to 256 bytes.
	Name string
	// Scopes granted to the key. Checked against the catalogue, if any;
	// role names (WithRole) are replaced by their scopes.
	Scopes []string
	// Environment picks one of the manager's environments; empty means the
	// default (the first).
	Environment string
	// CreatedBy records who created the key.
	CreatedBy string
	// ExpiresAt, if set, must be in the future and within the maximum
	// lifetime. Zero means the default expiry (or never, without one).
	ExpiresAt time.Time
	// RotationInterval, if positive, schedules rotation every interval.
	RotationInterval time.Duration
	// RotationWebhookURL receives the successor of scheduled rotations.
	RotationWebhookURL string
	// Metadata is free-form application data.
	Metadata map[string]string
	// Disabled creates the key disabled (see Manager.Enable).
	Disabled bool
	// RateLimits are the key's rate limits (see CheckRateLimits).
	RateLimits []RateLimit
	// Credits, when non-nil, bounds the key's successful requests (see
	// CheckCredits); LastRefill is set to the creation instant.
	Credits *Credits
	// IPAllowlist restricts the client addresses (see ParseIPAllowlist).
	IPAllowlist []netip.Prefix

	// Key lifecycle fields (issue 18), grouped for merges.

	// NotBefore, if set, is when the key starts working (before its
	// expiry); a verify before it fails with ErrNotYetValid.
	NotBefore time.Time
	// Owner names who the key belongs to (a user ID, an external
	// identity): up to 256 bytes of UTF-8. Empty means none.
	Owner string
}

// Issued is a freshly minted key: its record and its plaintext token,
// which exists only here. Token prints as "[redacted]"; use Token.Reveal()
// to hand it to the key's owner, once.
type Issued struct {
	Key   *Key
	Token Secret
	// WebhookSecret is the signing secret of the key's rotation webhook,
	// set only when the key has one and only at creation.
	WebhookSecret Secret
}

// Create issues a new key. The plaintext token is returned once, in
// Issued.Token; the store only ever sees its hash.
func (m *Manager) Create(ctx context.Context, p CreateParams) (*Issued, error) {
	now := m.Now()
	k, err := m.newKey(p, now)
	if err != nil {
		return nil, err
	}
	var hookSecret string
	if k.RotationWebhookURL != "" {
		if hookSecret, err = newWebhookSecret(); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		token, err := m.mint(k)
		if err != nil {
			return nil, err
		}
		if hookSecret != "" {
			// Sealed under the key's ID, so sealed again when the ID changes.
			if k.WebhookSecret, err = m.sealWebhookSecret(k.ID, hookSecret); err != nil {
				return nil, err
			}
		}
		err = m.store.Create(ctx, k)
		if errors.Is(err, ErrAlreadyExists) && attempt < 3 {
			// A selector collision (2^-96 per pair) or an ID clash: draw again.
			if k.ID, err = m.newID(now); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, storeErr("create", err)
		}
		m.Invalidate(k.Lookup) // a negative entry must not hide the new key
		m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key created", keyAttrs(k)...)
		m.emit(ctx, Event{Kind: EventCreated, At: now, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
		return &Issued{Key: k.Clone(), Token: NewSecret(token), WebhookSecret: NewSecret(hookSecret)}, nil
	}
}

// newKey validates p and builds the record (without token material).
func (m *Manager) newKey(p CreateParams, now time.Time) (*Key, error) {
	if err := checkTenant(p.Tenant); err != nil || p.Tenant == reservedTenant {
		return nil, fmt.Errorf("%w: tenant must be 1-%d bytes and not %q", ErrInvalid, maxTenantLen, reservedTenant)
	}
	if len(p.Name) > maxKeyNameLen {
		return nil, fmt.Errorf("%w: name longer than %d bytes", ErrInvalid, maxKeyNameLen)
	}
	env := p.Environment
	if env == "" {
		env = m.cfg.envs[0]
	} else if !slices.Contains(m.cfg.envs, env) {
		return nil, fmt.Errorf("%w: unknown environment %q", ErrInvalid, env)
	}
	scopes, err := m.checkScopes(p.Scopes)
	if err != nil {
		return nil, err
	}
	exp, err := m.expiry(p.ExpiresAt, now)
	if err != nil {
		return nil, err
	}
	notBefore := normTime(p.NotBefore)
	if err := checkNotBefore(notBefore, exp); err != nil {
		return nil, err
	}
	if err := checkOwner(p.Owner); err != nil {
		return nil, err
	}
	if p.RotationInterval < 0 {
		return nil, fmt.Errorf("%w: negative rotation interval", ErrInvalid)
	}
	if p.RotationWebhookURL != "" {
		if err := m.CheckWebhookURL(p.RotationWebhookURL); err != nil {
			return nil, err
		}
	}
	limits, credits, ips := slices.Clone(p.RateLimits), cloneCredits(p.Credits), slices.Clone(p.IPAllowlist)
	if err := checkControls(limits, credits, ips); err != nil {
		return nil, err
	}
	if credits != nil {
		credits.LastRefill = now
	}
	id, err := m.newID(now)
	if err != nil {
		return nil, err
	}
	k := &Key{
		Disabled:           p.Disabled,
		RateLimits:         limits,
		Credits:            credits,
		IPAllowlist:        ips,
		ID:                 id,
		Tenant:             p.Tenant,
		Environment:        env,
		Name:               p.Name,
		Scopes:             scopes,
		CreatedBy:          p.CreatedBy,
		CreatedAt:          now,
		ExpiresAt:          exp,
		RotationInterval:   p.RotationInterval,
		RotationWebhookURL: p.RotationWebhookURL,
		Metadata:           maps.Clone(p.Metadata),
		NotBefore:          notBefore,
		Owner:              p.Owner,
	}
	if p.RotationInterval > 0 {
		k.NextRotationAt = now.Add(p.RotationInterval)
	}
	return k, nil
}

// mint draws a token for k and sets its lookup, display prefix and hash.
func (m *Manager) mint(k *Key) (string, error) {
	token, selector, err := newToken(m.cfg.prefix, k.Environment)
	if err != nil {
		return "", fmt.Errorf("apikey: reading randomness: %w", err)
	}
	hash, err := m.current.Hash(token)
	if err != nil {
		return "", fmt.Errorf("apikey: hashing: %w", err)
	}
	k.Lookup, k.Prefix, k.Hash, k.HashVersion = selector, displayOf(token), hash, m.cfg.current
	return token, nil
}

// checkScopes expands roles (WithRole), normalises scopes and checks them
// against the catalogue.
func (m *Manager) checkScopes(scopes []string) ([]string, error) {
	out, err := NormalizeScopes(m.expandRoles(scopes))
	if err != nil {
		return nil, err
	}
	if m.cfg.catalog != nil {
		if err := m.cfg.catalog.Validate(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// expiry applies the lifetime rules to a requested expiry.
func (m *Manager) expiry(req, now time.Time) (time.Time, error) {
	req = normTime(req)
	switch {
	case req.IsZero() && m.cfg.defaultExpiry != nil:
		req = normTime(m.cfg.defaultExpiry(now))
	case req.IsZero() && m.cfg.maxLifetime > 0:
		return now.Add(m.cfg.maxLifetime), nil
	case req.IsZero():
		return time.Time{}, nil
	}
	if !req.After(now) {
		return time.Time{}, fmt.Errorf("%w: expiry must be in the future", ErrInvalid)
	}
	if m.cfg.maxLifetime > 0 && req.Sub(now) > m.cfg.maxLifetime {
		return time.Time{}, fmt.Errorf("%w: expiry is beyond the maximum lifetime of %v", ErrInvalid, m.cfg.maxLifetime)
	}
	return req, nil
}
