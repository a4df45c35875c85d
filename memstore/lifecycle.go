package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apikit/apikey"
)

// Delete implements apikey.Store.
func (s *Store) Delete(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	s.appendChange(k, apikey.ChangeDeleted, at)
	s.remove(k)
	return out(k), nil
}

// remove drops k from every index.
func (s *Store) remove(k *apikey.Key) {
	delete(s.byID, k.ID)
	delete(s.byLookup, k.Lookup)
	ids := s.byTenant[k.Tenant]
	if i, found := slices.BinarySearch(ids, k.ID); found {
		s.byTenant[k.Tenant] = slices.Delete(ids, i, i+1)
	}
}

// applyLifecycle applies the key-lifecycle fields of u to k (a copy).
func applyLifecycle(k *apikey.Key, u apikey.Update) {
	if u.ExpiresAt != nil {
		k.ExpiresAt = *u.ExpiresAt
	}
	if u.NotBefore != nil {
		k.NotBefore = *u.NotBefore
	}
	if u.Owner != nil {
		k.Owner = *u.Owner
	}
}
