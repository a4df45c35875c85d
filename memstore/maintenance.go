package memstore

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apikit/apikey"
)

// The Store methods of scheduled rotation, purging and the change feed.

// DueForRotation implements apikey.Store. It scans every key: fine for the
// sizes an in-memory store holds.
func (s *Store) DueForRotation(ctx context.Context, now time.Time, limit int) ([]*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var due []*apikey.Key
	for _, k := range s.byID {
		if !k.NextRotationAt.IsZero() && !k.NextRotationAt.After(now) && k.RevokedAt.IsZero() && k.ReplacedBy == "" {
			due = append(due, k)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(due, func(a, b *apikey.Key) int {
		if c := a.NextRotationAt.Compare(b.NextRotationAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	for i, k := range due {
		due[i] = out(k)
	}
	return due, nil
}

// ClaimRotation implements apikey.Store.
func (s *Store) ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error) {
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok || !k.NextRotationAt.Equal(due) {
		return false, nil
	}
	k = k.Clone()
	k.NextRotationAt = next
	s.put(k)
	return true, nil
}

// Purge implements apikey.Store.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.byID {
		if deadBefore(k, cutoff) {
			s.remove(k)
			delete(s.counts, k.ID)
			delete(s.notices, k.ID)
			n++
		}
	}
	i := 0
	for i < len(s.changes) && s.changes[i].At.Before(cutoff) {
		i++
	}
	if i > 0 {
		s.trimmed = s.changes[i-1].Seq
		s.changes = slices.Delete(s.changes, 0, i)
	}
	return n, nil
}

// deadBefore reports whether k stopped working before cutoff.
func deadBefore(k *apikey.Key, cutoff time.Time) bool {
	end := time.Time{}
	for _, t := range []time.Time{k.RevokedAt, k.GraceExpiresAt, k.ExpiresAt} {
		if !t.IsZero() && (end.IsZero() || t.Before(end)) {
			end = t
		}
	}
	return !end.IsZero() && end.Before(cutoff)
}

// Changes implements apikey.Store.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]apikey.Change, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if after < s.trimmed {
		return nil, apikey.ErrChangesTrimmed
	}
	i := sort.Search(len(s.changes), func(i int) bool { return s.changes[i].Seq > after })
	end := len(s.changes)
	if limit > 0 {
		end = min(end, i+limit)
	}
	return slices.Clone(s.changes[i:end]), nil
}

// LastChange implements apikey.Store.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq, nil
}
