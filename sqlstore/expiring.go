package sqlstore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apikit/apikey"
)

// ListExpiring implements apikey.Store: one range read of the
// (expires_at, id) index from the cursor.
func (s *Store) ListExpiring(ctx context.Context, o apikey.ExpiringOptions) ([]*apikey.Key, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = math.MaxInt32
	}
	afterExp := o.AfterExpires
	if afterExp.IsZero() || afterExp.Before(o.From) {
		afterExp, o.AfterID = o.From, ""
	}
	a := s.timeArg(afterExp)
	args := []any{s.timeArg(o.From), s.timeArg(o.Before), a, a, o.AfterID}
	query := s.lq.listExpiring[0]
	if o.Tenant != "" {
		query = s.lq.listExpiring[1]
		args = append(args, o.Tenant)
	}
	rows, err := s.db.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list expiring: %w", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list expiring: %w", err)
	}
	return keys, nil
}

// ClaimNotice implements apikey.Store: an insert-if-absent on the
// notices' primary key, for an existing key; the row count says who won.
func (s *Store) ClaimNotice(ctx context.Context, id, notice string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.lq.claimNotice, notice, s.timeArg(at), id)
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim notice %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim notice %q: %w", id, err)
	}
	return n > 0, nil
}

// ReleaseNotice implements apikey.Store.
func (s *Store) ReleaseNotice(ctx context.Context, id, notice string) error {
	if _, err := s.db.ExecContext(ctx, s.lq.releaseNotice, id, notice); err != nil {
		return fmt.Errorf("sqlstore: release notice %q: %w", id, err)
	}
	return nil
}
