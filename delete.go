package apikey

import (
	"context"
	"errors"
)

// Delete removes key id of tenant for good, as a user
// deleting a key expects, and returns the record as it was last stored
// (revoked). It first revokes the key, so that a failure halfway leaves it
// refused rather than working, then deletes it; the store's change feed
// tells other processes' caches and followers to drop it. The key is
// refused by this manager's next verify like any unknown token
// (ErrNotFound). Deleting a key that is already gone gives ErrNotFound.
// It emits EventDeleted.
//
// Prefer Revoke when the record is still useful (audit, "revoked" in a
// list); Delete is for records that must not stay, such as a key created
// by mistake or one whose name leaked personal data.
func (m *Manager) Delete(ctx context.Context, tenant, id string) (*Key, error) {
	before, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	if before.RevokedAt.IsZero() {
		if _, err := m.store.Revoke(ctx, id, now); err != nil && !errors.Is(err, ErrNotFound) {
			m.changed(ctx, before.Lookup)
			return nil, storeErr("delete: revoke", err)
		}
	}
	k, err := m.store.Delete(ctx, id, now)
	m.changed(ctx, before.Lookup)
	if err != nil {
		return nil, storeErr("delete", err)
	}
	m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key deleted", keyAttrs(k)...)
	m.emit(ctx, Event{Kind: EventDeleted, At: now, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	return k, nil
}
