// Package memstore is an in-memory apikey.Store: safe for concurrent use,
// O(1) lookups, no persistence. It is the store to use in unit tests of code
// that uses apikey, and for demos; it passes the same conformance suite
// (apikey/storetest) as the SQL store.
package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apikit/apikey"
)

var _ apikey.SharedLookupStore = (*Store)(nil)

// maxChanges bounds the in-memory change feed; older entries are trimmed.
const maxChanges = 100_000

// Store is an in-memory apikey.Store. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	byID     map[string]*apikey.Key // records are immutable: replaced, never mutated
	byLookup map[string]*apikey.Key
	byTenant map[string][]string // IDs, ascending
	changes  []apikey.Change
	seq      int64
	trimmed  int64                         // highest Seq removed from changes
	counts   map[string]map[countKey]int64 // per-day usage counts by key ID (lifecycle.go)
	notices  map[string]map[string]bool    // claimed notices by key ID (lifecycle.go)
}

// New returns an empty store.
func New() *Store {
	return &Store{
		byID:     map[string]*apikey.Key{},
		byLookup: map[string]*apikey.Key{},
		byTenant: map[string][]string{},
	}
}

// Len returns the number of keys stored.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// out copies a record for a caller. The copy is deep, hash and sealed
// webhook secret included: the Store contract gives returned keys to the
// caller, so a caller writing to them must not reach the stored record.
func out(k *apikey.Key) *apikey.Key { return k.Clone() }

// put stores a new version of a record (already cloned by the caller).
func (s *Store) put(k *apikey.Key) {
	s.byID[k.ID] = k
	s.byLookup[k.Lookup] = k
}

func (s *Store) appendChange(k *apikey.Key, kind apikey.ChangeKind, at time.Time) {
	s.seq++
	s.changes = append(s.changes, apikey.Change{Seq: s.seq, KeyID: k.ID, Lookup: k.Lookup, Tenant: k.Tenant, Kind: kind, At: at})
	if len(s.changes) > maxChanges {
		n := len(s.changes) - maxChanges
		s.trimmed = s.changes[n-1].Seq
		s.changes = slices.Delete(s.changes, 0, n)
	}
}

func ctxErr(ctx context.Context) error { return ctx.Err() }

// Create implements apikey.Store.
func (s *Store) Create(ctx context.Context, k *apikey.Key) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if k == nil || k.ID == "" || k.Lookup == "" {
		return fmt.Errorf("%w: key needs an ID and a lookup value", apikey.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.create(k)
}

func (s *Store) create(k *apikey.Key) error {
	if _, dup := s.byID[k.ID]; dup {
		return fmt.Errorf("%w: key %s", apikey.ErrAlreadyExists, k.ID)
	}
	if _, dup := s.byLookup[k.Lookup]; dup {
		return fmt.Errorf("%w: lookup value", apikey.ErrAlreadyExists)
	}
	s.put(k.Clone())
	ids := s.byTenant[k.Tenant]
	i := sort.SearchStrings(ids, k.ID)
	s.byTenant[k.Tenant] = slices.Insert(ids, i, k.ID)
	return nil
}

// Get implements apikey.Store.
func (s *Store) Get(ctx context.Context, id string) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	k, ok := s.byID[id]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	return out(k), nil
}

// GetByLookup implements apikey.Store.
func (s *Store) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	k, ok := s.byLookup[lookup]
	s.mu.RUnlock()
	if !ok {
		return nil, apikey.ErrNotFound
	}
	return out(k), nil
}

// GetByLookupShared implements apikey.SharedLookupStore: it returns the
// stored record itself, without a copy. Records are never modified in
// place (every change stores a new one), so the result stays consistent;
// callers must not modify it.
func (s *Store) GetByLookupShared(ctx context.Context, lookup string) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	k, ok := s.byLookup[lookup]
	s.mu.RUnlock()
	if !ok {
		return nil, apikey.ErrNotFound
	}
	return k, nil
}

// SharedStore implements apikey.SharedLookupStore: it returns s.
func (s *Store) SharedStore() apikey.Store { return s }

// List implements apikey.Store.
func (s *Store) List(ctx context.Context, tenant string, opts apikey.ListOptions) (apikey.Page, error) {
	if err := ctxErr(ctx); err != nil {
		return apikey.Page{}, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byTenant[tenant]
	end := len(ids)
	if opts.After != "" {
		end = sort.SearchStrings(ids, opts.After) // IDs strictly below the cursor
	}
	var p apikey.Page
	for i := end - 1; i >= 0; i-- {
		k := s.byID[ids[i]]
		if !match(k, opts) {
			continue
		}
		if len(p.Keys) == limit {
			p.Next = p.Keys[len(p.Keys)-1].ID
			break
		}
		p.Keys = append(p.Keys, out(k))
	}
	return p, nil
}

func match(k *apikey.Key, o apikey.ListOptions) bool {
	if o.Owner != "" && k.Owner != o.Owner {
		return false
	}
	switch o.Filter {
	case apikey.ListActive:
		return k.StateAt(o.At) == apikey.StateActive
	case apikey.ListRevoked:
		return !k.RevokedAt.IsZero()
	}
	return true
}

// Revoke implements apikey.Store.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	if k.RevokedAt.IsZero() {
		k = k.Clone()
		k.RevokedAt = at
		s.put(k)
		s.appendChange(k, apikey.ChangeRevoked, at)
	}
	return out(k), nil
}

// RevokeAll implements apikey.Store.
func (s *Store) RevokeAll(ctx context.Context, tenant string, at time.Time) ([]*apikey.Key, []string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.byTenant[tenant]
	keys := make([]*apikey.Key, 0, len(ids))
	var revoked []string
	for i := len(ids) - 1; i >= 0; i-- {
		k := s.byID[ids[i]]
		if k.RevokedAt.IsZero() {
			k = k.Clone()
			k.RevokedAt = at
			s.put(k)
			s.appendChange(k, apikey.ChangeRevoked, at)
			revoked = append(revoked, k.ID)
		}
		keys = append(keys, out(k))
	}
	return keys, revoked, nil
}

// Rotate implements apikey.Store.
func (s *Store) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[r.OldID]
	if !ok {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, r.OldID)
	}
	if old.ReplacedBy != "" || !old.RevokedAt.IsZero() {
		return nil, fmt.Errorf("%w: key %s is already revoked or replaced", apikey.ErrConflict, r.OldID)
	}
	if r.Successor != nil {
		if r.Successor.ID != r.SuccessorID {
			return nil, fmt.Errorf("%w: successor ID mismatch", apikey.ErrInvalid)
		}
		if err := s.create(r.Successor); err != nil {
			return nil, err
		}
	}
	k := old.Clone()
	k.ReplacedBy = r.SuccessorID
	k.GraceExpiresAt = r.GraceExpiresAt
	k.NextRotationAt = time.Time{}
	if !r.RevokedAt.IsZero() {
		k.RevokedAt = r.RevokedAt
	}
	s.put(k)
	s.appendChange(k, apikey.ChangeRotated, r.At)
	return out(k), nil
}

// Update implements apikey.Store.
func (s *Store) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	k = k.Clone()
	if u.Name != nil {
		k.Name = *u.Name
	}
	if u.Scopes != nil {
		k.Scopes = slices.Clone(*u.Scopes)
	}
	if u.Metadata != nil {
		k.Metadata = maps.Clone(*u.Metadata)
	}
	updateControls(k, u)
	applyLifecycle(k, u)
	s.put(k)
	s.appendChange(k, apikey.ChangeUpdated, u.At)
	return out(k), nil
}

// UpgradeHash implements apikey.Store.
func (s *Store) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	if k.HashVersion != from {
		return nil
	}
	k = k.Clone()
	k.HashVersion, k.Hash = version, slices.Clone(hash)
	s.put(k)
	s.appendChange(k, apikey.ChangeHashUpgrade, at)
	return nil
}

// RecordUsage implements apikey.Store.
func (s *Store) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range batch {
		k, ok := s.byID[u.KeyID]
		if ok {
			s.addCounts(u.KeyID, u.Counts)
		}
		if !ok || !u.At.After(k.LastUsedAt) {
			continue
		}
		k = k.Clone()
		k.LastUsedAt, k.LastUsedIP, k.LastUsedClient = u.At, u.IP, u.Client
		s.put(k)
	}
	return nil
}

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
		return cmpString(a.ID, b.ID)
	})
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	for i, k := range due {
		due[i] = out(k)
	}
	return due, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
