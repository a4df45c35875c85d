package apikey

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// Revoke revokes key id of tenant and returns it.
// Revoking a revoked key changes nothing and returns it as it is. The key
// is refused by this manager's next verify.
func (m *Manager) Revoke(ctx context.Context, tenant, id string) (*Key, error) {
	before, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	k, err := m.store.Revoke(ctx, id, now)
	m.changed(ctx, before.Lookup)
	if err != nil {
		return nil, storeErr("revoke", err)
	}
	if before.RevokedAt.IsZero() && k.RevokedAt.Equal(now) {
		m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key revoked", keyAttrs(k)...)
		m.emit(ctx, Event{Kind: EventRevoked, At: now, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	}
	return k, nil
}

// RevokeAll revokes every key of tenant that is not revoked yet, all at one
// timestamp (keys revoked earlier keep theirs), and returns every key of the
// tenant afterwards, newest first.
func (m *Manager) RevokeAll(ctx context.Context, tenant string) ([]*Key, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, fmt.Errorf("%w: revoke-all needs one tenant", ErrInvalid)
	}
	now := m.Now()
	keys, ids, err := m.store.RevokeAll(ctx, tenant, now)
	if err != nil {
		// It may have committed, and we cannot tell which keys it touched.
		m.InvalidateAll()
		return nil, storeErr("revoke all", err)
	}
	lookups := make([]string, 0, len(keys))
	for _, k := range keys {
		lookups = append(lookups, k.Lookup) // also keys revoked elsewhere earlier
	}
	m.changed(ctx, lookups...)
	m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: tenant keys revoked", slogTenant(tenant), slogCount(len(ids)))
	m.emit(ctx, Event{Kind: EventRevokedAll, At: now, Tenant: tenant, KeyIDs: ids})
	return keys, nil
}

// Rotated is the outcome of a rotation: the old key as stored afterwards
// (ReplacedBy and GraceExpiresAt set) and the successor with its token.
type Rotated struct {
	Old *Key
	Issued
}

// Rotate replaces key id of tenant with a successor (same tenant,
// environment, name, scopes, expiry, rotation settings and metadata) in one
// atomic step. The old key keeps working for grace (m.DefaultGrace() for
// the manager's default, see WithGrace); grace 0 revokes it at once; the grace never runs past
// the old key's own expiry. A key already revoked, replaced, expired or out
// of grace cannot be rotated (ErrConflict); of two concurrent rotations of
// one key exactly one succeeds.
func (m *Manager) Rotate(ctx context.Context, tenant, id string, grace time.Duration) (*Rotated, error) {
	if grace < 0 || grace > m.cfg.maxGrace {
		return nil, fmt.Errorf("%w: grace must be between 0 and %v", ErrInvalid, m.cfg.maxGrace)
	}
	old, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	if err := rotatable(old, now); err != nil {
		return nil, err
	}
	succ, token, err := m.successor(old, now)
	if err != nil {
		return nil, err
	}
	r := Rotation{OldID: old.ID, SuccessorID: succ.ID, Successor: succ, At: now}
	r.GraceExpiresAt, r.RevokedAt = graceEnd(old, now, grace)
	stored, err := m.store.Rotate(ctx, r)
	m.Invalidate(succ.Lookup) // a negative entry must not hide the successor
	m.changed(ctx, old.Lookup)
	if err != nil {
		return nil, storeErr("rotate", err)
	}
	m.rotated(ctx, stored, succ, now)
	return &Rotated{Old: stored, Issued: Issued{Key: succ.Clone(), Token: NewSecret(token)}}, nil
}

// DefaultGrace returns the grace period to pass to Rotate for the
// manager's default (WithGrace; one hour unless set).
func (m *Manager) DefaultGrace() time.Duration { return m.cfg.defaultGrace }

// UpdateParams are the changes Manager.Update makes; nil fields are left
// as they are.
type UpdateParams struct {
	// Name replaces the key's name.
	Name *string
	// Scopes replaces the key's scopes (checked against the catalogue).
	Scopes *[]string
	// Metadata replaces the key's metadata.
	Metadata *map[string]string
	// Disabled sets Key.Disabled (Manager.Disable and Enable also emit
	// their events).
	Disabled *bool
	// RateLimits replaces the key's rate limits (see CheckRateLimits).
	RateLimits *[]RateLimit
	// Credits replaces the key's credits; a nil *Credits removes them
	// (unlimited). New credits start a new period at the update instant.
	Credits **Credits
	// IPAllowlist replaces the key's IP allowlist (see CheckIPAllowlist).
	IPAllowlist *[]netip.Prefix

	// Key lifecycle fields (issue 18), grouped for merges.

	// ExpiresAt sets the expiry; a pointer to the zero time removes it
	// (refused under WithMaxLifetime).
	ExpiresAt *time.Time
	// NotBefore sets the not-before time; a pointer to the zero time
	// removes it.
	NotBefore *time.Time
	// Owner sets the owner; a pointer to "" removes it.
	Owner *string
}

// rotatable reports why old cannot be rotated at now, if it cannot.
func rotatable(old *Key, now time.Time) error {
	switch {
	case old.ReplacedBy != "":
		return fmt.Errorf("%w: key %s was already replaced by %s", ErrConflict, old.ID, old.ReplacedBy)
	case old.StateAt(now) != StateActive:
		return fmt.Errorf("%w: key %s is %s", ErrConflict, old.ID, old.StateAt(now))
	}
	return nil
}

// graceEnd applies the grace rules: zero revokes now; otherwise the old key
// works until now+grace, but never past its own expiry.
func graceEnd(old *Key, now time.Time, grace time.Duration) (graceExpires, revokedAt time.Time) {
	if grace <= 0 {
		return now, now
	}
	end := now.Add(grace)
	if !old.ExpiresAt.IsZero() && end.After(old.ExpiresAt) {
		end = old.ExpiresAt
	}
	return end, time.Time{}
}

// successor builds and mints the successor of old.
func (m *Manager) successor(old *Key, now time.Time) (*Key, string, error) {
	id, err := m.newID(now)
	if err != nil {
		return nil, "", err
	}
	return m.successorAs(old, now, id)
}

// successorAs is successor with the given ID.
func (m *Manager) successorAs(old *Key, now time.Time, id string) (*Key, string, error) {
	var err error
	s := &Key{
		ID:                 id,
		Tenant:             old.Tenant,
		Environment:        old.Environment,
		Name:               old.Name,
		Scopes:             slices.Clone(old.Scopes),
		CreatedBy:          old.CreatedBy,
		CreatedAt:          now,
		ExpiresAt:          old.ExpiresAt,
		NotBefore:          old.NotBefore,
		Owner:              old.Owner,
		RotationInterval:   old.RotationInterval,
		RotationWebhookURL: old.RotationWebhookURL,
		Metadata:           maps.Clone(old.Metadata),
		// The controls carry over: a rotation must not lift a limit. The
		// successor starts with the old key's credits as stored (during the
		// grace both keys spend, each from its own).
		Disabled:    old.Disabled,
		RateLimits:  slices.Clone(old.RateLimits),
		Credits:     cloneCredits(old.Credits),
		IPAllowlist: slices.Clone(old.IPAllowlist),
	}
	if s.Credits != nil {
		s.Credits.LastRefill = now
	}
	if s.RotationInterval > 0 {
		s.NextRotationAt = now.Add(s.RotationInterval)
	}
	// The signing secret carries over, sealed again under the new ID.
	if s.WebhookSecret, err = m.resealWebhookSecret(old, id); err != nil {
		return nil, "", err
	}
	token, err := m.mint(s)
	if err != nil {
		return nil, "", err
	}
	return s, token, nil
}

// rotated logs and reports a committed rotation.
func (m *Manager) rotated(ctx context.Context, old, succ *Key, now time.Time) {
	m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key rotated", append(keyAttrs(old), slogSuccessor(succ.ID))...)
	m.emit(ctx, Event{Kind: EventRotated, At: now, KeyID: old.ID, Prefix: old.Prefix, Tenant: old.Tenant, SuccessorID: succ.ID})
}

// Update changes the name, scopes, metadata, controls (enabled, rate
// limits, credits, IP allowlist), expiry, not-before time or owner of key
// id of tenant (the non-nil fields of p); the change reaches this
// manager's cache at once and other processes through the change feed. New
// scopes are checked against the catalogue, with role names (WithRole)
// expanded; checking that the caller may grant them (Manager.CanGrant) is
// the caller's job, since only it knows who asks. Controls are checked as
// Create checks them; new credits start a new period at the update instant
// (LastRefill). A new expiry must be in the future and within the maximum
// lifetime counted from the key's creation (WithMaxLifetime; without one, a
// pointer to the zero time removes the expiry); a key that stopped working
// cannot have its expiry changed (ErrConflict); the not-before time must
// stay before the expiry.
func (m *Manager) Update(ctx context.Context, tenant, id string, p UpdateParams) (*Key, error) {
	u := Update{Name: p.Name, Scopes: p.Scopes, Metadata: p.Metadata,
		Disabled: p.Disabled, RateLimits: p.RateLimits, Credits: p.Credits, IPAllowlist: p.IPAllowlist,
		ExpiresAt: p.ExpiresAt, NotBefore: p.NotBefore, Owner: p.Owner}
	if u.Name != nil && len(*u.Name) > maxKeyNameLen {
		return nil, fmt.Errorf("%w: name longer than %d bytes", ErrInvalid, maxKeyNameLen)
	}
	if u.Scopes != nil {
		scopes, err := m.checkScopes(*u.Scopes)
		if err != nil {
			return nil, err
		}
		u.Scopes = &scopes
	}
	u.At = m.Now()
	if err := checkUpdateControls(&u); err != nil {
		return nil, err
	}
	old, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if err := m.checkLifecycleUpdate(old, &u, u.At); err != nil {
		return nil, err
	}
	k, err := m.store.Update(ctx, id, u)
	m.changed(ctx, old.Lookup)
	if err != nil {
		return nil, storeErr("update", err)
	}
	m.emit(ctx, Event{Kind: EventUpdated, At: u.At, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	return k, nil
}
