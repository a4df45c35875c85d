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
