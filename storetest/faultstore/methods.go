package faultstore

import (
	"context"
	"time"

	"github.com/apikit/apikey"
)

// The apikey.Store methods: each enters the fault machinery, then forwards.

// Create implements apikey.Store.
func (s *Store) Create(ctx context.Context, k *apikey.Key) error {
	if _, err := s.enter(ctx, Create); err != nil {
		return err
	}
	return s.inner.Create(ctx, k)
}

// Get implements apikey.Store.
func (s *Store) Get(ctx context.Context, id string) (*apikey.Key, error) {
	c, err := s.enter(ctx, Get)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Get(ctx, id)
	return key(c, k), err
}

// GetByLookup implements apikey.Store.
func (s *Store) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	c, err := s.enter(ctx, GetByLookup)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.GetByLookup(ctx, lookup)
	return key(c, k), err
}

// List implements apikey.Store.
func (s *Store) List(ctx context.Context, tenant string, opts apikey.ListOptions) (apikey.Page, error) {
	c, err := s.enter(ctx, List)
	if err != nil {
		return apikey.Page{}, err
	}
	p, err := s.inner.List(ctx, tenant, opts)
	p.Keys = keys(c, p.Keys)
	return p, err
}

// Revoke implements apikey.Store.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	c, err := s.enter(ctx, Revoke)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Revoke(ctx, id, at)
	return key(c, k), err
}

// RevokeAll implements apikey.Store.
func (s *Store) RevokeAll(ctx context.Context, tenant string, at time.Time) ([]*apikey.Key, []string, error) {
	c, err := s.enter(ctx, RevokeAll)
	if err != nil {
		return nil, nil, err
	}
	ks, revoked, err := s.inner.RevokeAll(ctx, tenant, at)
	return keys(c, ks), revoked, err
}

// Rotate implements apikey.Store.
func (s *Store) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	c, err := s.enter(ctx, Rotate)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Rotate(ctx, r)
	return key(c, k), err
}

// Update implements apikey.Store.
func (s *Store) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	c, err := s.enter(ctx, Update)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Update(ctx, id, u)
	return key(c, k), err
}

// UpgradeHash implements apikey.Store.
func (s *Store) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	if _, err := s.enter(ctx, UpgradeHash); err != nil {
		return err
	}
	return s.inner.UpgradeHash(ctx, id, from, version, hash, at)
}

// RecordUsage implements apikey.Store.
func (s *Store) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	if _, err := s.enter(ctx, RecordUsage); err != nil {
		return err
	}
	return s.inner.RecordUsage(ctx, batch)
}

// DueForRotation implements apikey.Store.
func (s *Store) DueForRotation(ctx context.Context, now time.Time, limit int) ([]*apikey.Key, error) {
	c, err := s.enter(ctx, DueForRotation)
	if err != nil {
		return nil, err
	}
	ks, err := s.inner.DueForRotation(ctx, now, limit)
	return keys(c, ks), err
}

// ClaimRotation implements apikey.Store.
func (s *Store) ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error) {
	if _, err := s.enter(ctx, ClaimRotation); err != nil {
		return false, err
	}
	return s.inner.ClaimRotation(ctx, id, due, next)
}

// Purge implements apikey.Store.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	if _, err := s.enter(ctx, Purge); err != nil {
		return 0, err
	}
	return s.inner.Purge(ctx, cutoff)
}

// Changes implements apikey.Store.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]apikey.Change, error) {
	if _, err := s.enter(ctx, Changes); err != nil {
		return nil, err
	}
	return s.inner.Changes(ctx, after, limit)
}

// LastChange implements apikey.Store.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	if _, err := s.enter(ctx, LastChange); err != nil {
		return 0, err
	}
	return s.inner.LastChange(ctx)
}

// TakeCredits implements apikey.Store.
func (s *Store) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	if _, err := s.enter(ctx, TakeCredits); err != nil {
		return apikey.CreditLease{}, err
	}
	return s.inner.TakeCredits(ctx, id, want, now)
}

// ReturnCredits implements apikey.Store.
func (s *Store) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	if _, err := s.enter(ctx, ReturnCredits); err != nil {
		return err
	}
	return s.inner.ReturnCredits(ctx, id, n, period)
}
