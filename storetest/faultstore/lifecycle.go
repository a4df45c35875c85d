package faultstore

import (
	"context"
	"time"

	"github.com/apikit/apikey"
)

// Delete implements apikey.Store.
func (s *Store) Delete(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	c, err := s.enter(ctx, Delete)
	if err != nil {
		return nil, err
	}
	k, err := s.inner.Delete(ctx, id, at)
	return key(c, k), err
}

// UsageCounts implements apikey.Store.
func (s *Store) UsageCounts(ctx context.Context, id string, from, to time.Time) ([]apikey.UsageCount, error) {
	if _, err := s.enter(ctx, UsageCounts); err != nil {
		return nil, err
	}
	return s.inner.UsageCounts(ctx, id, from, to)
}

// ListUnused implements apikey.Store.
func (s *Store) ListUnused(ctx context.Context, cutoff time.Time, after string, limit int) ([]*apikey.Key, error) {
	c, err := s.enter(ctx, ListUnused)
	if err != nil {
		return nil, err
	}
	ks, err := s.inner.ListUnused(ctx, cutoff, after, limit)
	return keys(c, ks), err
}

// ListExpiring implements apikey.Store.
func (s *Store) ListExpiring(ctx context.Context, o apikey.ExpiringOptions) ([]*apikey.Key, error) {
	c, err := s.enter(ctx, ListExpiring)
	if err != nil {
		return nil, err
	}
	ks, err := s.inner.ListExpiring(ctx, o)
	return keys(c, ks), err
}

// ClaimNotice implements apikey.Store.
func (s *Store) ClaimNotice(ctx context.Context, id, notice string, at time.Time) (bool, error) {
	if _, err := s.enter(ctx, ClaimNotice); err != nil {
		return false, err
	}
	return s.inner.ClaimNotice(ctx, id, notice, at)
}

// ReleaseNotice implements apikey.Store.
func (s *Store) ReleaseNotice(ctx context.Context, id, notice string) error {
	if _, err := s.enter(ctx, ReleaseNotice); err != nil {
		return err
	}
	return s.inner.ReleaseNotice(ctx, id, notice)
}
