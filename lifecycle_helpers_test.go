package apikey_test

import (
	"context"
	"time"

	"github.com/apikit/apikey"
)

func (s *countingStore) Delete(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	if err := s.count("Delete"); err != nil {
		return nil, err
	}
	return s.inner.Delete(ctx, id, at)
}

func (s *countingStore) UsageCounts(ctx context.Context, id string, from, to time.Time) ([]apikey.UsageCount, error) {
	if err := s.count("UsageCounts"); err != nil {
		return nil, err
	}
	return s.inner.UsageCounts(ctx, id, from, to)
}

func (s *countingStore) ListUnused(ctx context.Context, cutoff time.Time, after string, limit int) ([]*apikey.Key, error) {
	if err := s.count("ListUnused"); err != nil {
		return nil, err
	}
	return s.inner.ListUnused(ctx, cutoff, after, limit)
}

func (s *countingStore) ListExpiring(ctx context.Context, o apikey.ExpiringOptions) ([]*apikey.Key, error) {
	if err := s.count("ListExpiring"); err != nil {
		return nil, err
	}
	return s.inner.ListExpiring(ctx, o)
}

func (s *countingStore) ClaimNotice(ctx context.Context, id, notice string, at time.Time) (bool, error) {
	if err := s.count("ClaimNotice"); err != nil {
		return false, err
	}
	return s.inner.ClaimNotice(ctx, id, notice, at)
}

func (s *countingStore) ReleaseNotice(ctx context.Context, id, notice string) error {
	if err := s.count("ReleaseNotice"); err != nil {
		return err
	}
	return s.inner.ReleaseNotice(ctx, id, notice)
}
