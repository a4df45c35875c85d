package memstore

import (
	"cmp"
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
	delete(s.counts, k.ID)
	delete(s.notices, k.ID)
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

// countKey names one per-day usage counter of a key.
type countKey struct {
	day     int64 // Unix seconds of the UTC midnight
	outcome string
}

// addCounts adds cs to the counters of key id (the caller holds s.mu).
func (s *Store) addCounts(id string, cs []apikey.UsageCount) {
	for _, c := range cs {
		if c.N <= 0 {
			continue
		}
		if s.counts == nil {
			s.counts = map[string]map[countKey]int64{}
		}
		m := s.counts[id]
		if m == nil {
			m = map[countKey]int64{}
			s.counts[id] = m
		}
		m[countKey{day: c.Day.Unix(), outcome: c.Outcome}] += c.N
	}
}

// UsageCounts implements apikey.Store.
func (s *Store) UsageCounts(ctx context.Context, id string, from, to time.Time) ([]apikey.UsageCount, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []apikey.UsageCount
	for k, n := range s.counts[id] {
		day := time.Unix(k.day, 0).UTC()
		if !day.Before(from) && day.Before(to) {
			out = append(out, apikey.UsageCount{Day: day, Outcome: k.outcome, N: n})
		}
	}
	slices.SortFunc(out, func(a, b apikey.UsageCount) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out, nil
}

// ListUnused implements apikey.Store with a scan of every key.
func (s *Store) ListUnused(ctx context.Context, cutoff time.Time, after string, limit int) ([]*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var found []*apikey.Key
	for id, k := range s.byID {
		last := k.LastUsedAt
		if last.IsZero() {
			last = k.CreatedAt
		}
		if id > after && k.RevokedAt.IsZero() && last.Before(cutoff) {
			found = append(found, k)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b *apikey.Key) int { return cmp.Compare(a.ID, b.ID) })
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	for i, k := range found {
		found[i] = out(k)
	}
	return found, nil
}

// ListExpiring implements apikey.Store with a scan of every key.
func (s *Store) ListExpiring(ctx context.Context, o apikey.ExpiringOptions) ([]*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var found []*apikey.Key
	for _, k := range s.byID {
		e := k.ExpiresAt
		switch {
		case e.IsZero() || e.Before(o.From) || !e.Before(o.Before):
		case !k.RevokedAt.IsZero() || k.ReplacedBy != "":
		case o.Tenant != "" && k.Tenant != o.Tenant:
		case !o.AfterExpires.IsZero() && (e.Before(o.AfterExpires) || e.Equal(o.AfterExpires) && k.ID <= o.AfterID):
		default:
			found = append(found, k)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(found, func(a, b *apikey.Key) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
	})
	if o.Limit > 0 && len(found) > o.Limit {
		found = found[:o.Limit]
	}
	for i, k := range found {
		found[i] = out(k)
	}
	return found, nil
}

// ClaimNotice implements apikey.Store.
func (s *Store) ClaimNotice(ctx context.Context, id, notice string, _ time.Time) (bool, error) {
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok || s.notices[id][notice] {
		return false, nil
	}
	if s.notices == nil {
		s.notices = map[string]map[string]bool{}
	}
	if s.notices[id] == nil {
		s.notices[id] = map[string]bool{}
	}
	s.notices[id][notice] = true
	return true, nil
}

// ReleaseNotice implements apikey.Store.
func (s *Store) ReleaseNotice(ctx context.Context, id, notice string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.notices[id], notice)
	return nil
}
