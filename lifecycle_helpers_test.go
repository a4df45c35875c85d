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
