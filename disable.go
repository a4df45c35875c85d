package apikey

import (
	"context"
	"net/netip"
	"slices"
)

// Disable disables key id of tenant and returns it:
// every verify refuses it with ErrDisabled (HTTP 401, like any invalid key)
// until Enable. This manager refuses it on its next verify; other
// processes on the same store when their follow.Follower reads the feed.
// Disabling a disabled key changes nothing. It emits EventDisabled.
func (m *Manager) Disable(ctx context.Context, tenant, id string) (*Key, error) {
	return m.setDisabled(ctx, tenant, id, true)
}

// Enable undoes Disable (a revoked or expired key stays refused). Enabling
// an enabled key changes nothing. It emits EventEnabled.
func (m *Manager) Enable(ctx context.Context, tenant, id string) (*Key, error) {
	return m.setDisabled(ctx, tenant, id, false)
}

func (m *Manager) setDisabled(ctx context.Context, tenant, id string, disabled bool) (*Key, error) {
	old, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if old.Disabled == disabled {
		return old, nil
	}
	u := Update{At: m.Now(), Disabled: &disabled}
	k, err := m.store.Update(ctx, id, u)
	m.changed(ctx, old.Lookup)
	if err != nil {
		return nil, storeErr("update", err)
	}
	kind, msg := EventEnabled, "apikey: key enabled"
	if disabled {
		kind, msg = EventDisabled, "apikey: key disabled"
	}
	m.cfg.logger.LogAttrs(ctx, levelInfo, msg, keyAttrs(k)...)
	m.emit(ctx, Event{Kind: kind, At: u.At, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	return k, nil
}

// checkUpdateControls validates and normalises the controls of u (copies,
// so the caller's slices are not modified). New credits start a period at
// u.At.
func checkUpdateControls(u *Update) error {
	var limits []RateLimit
	var credits *Credits
	var ips []netip.Prefix
	if u.RateLimits != nil {
		limits = slices.Clone(*u.RateLimits)
		u.RateLimits = &limits
	}
	if u.Credits != nil {
		credits = cloneCredits(*u.Credits)
		if credits != nil {
			credits.LastRefill = u.At
		}
		u.Credits = &credits
	}
	if u.IPAllowlist != nil {
		ips = slices.Clone(*u.IPAllowlist)
		u.IPAllowlist = &ips
	}
	return checkControls(limits, credits, ips)
}

// cloneCredits copies c (nil stays nil).
func cloneCredits(c *Credits) *Credits {
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}
