package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/apikit/apikey"
)

// Delete implements apikey.Store in one transaction: a read of the key
// (ErrNotFound if missing), its feed entry (written while the row still
// exists, since the entry copies its lookup value and tenant), and the
// DELETE.
func (s *Store) Delete(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	var out *apikey.Key
	err := s.inTx(ctx, "delete", func(tx *sql.Tx) error {
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		var err error
		if out, err = s.readKey(ctx, tx, id); err != nil {
			return err
		}
		if err := s.feed(ctx, tx, string(apikey.ChangeDeleted), s.timeArg(at), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.lq.deleteUsage, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.lq.deleteNotices, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.lq.deleteKey, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateLifecycle applies the key-lifecycle fields of u (expiry,
// not-before, owner) inside tx, with one UPDATE when any is set.
func (s *Store) updateLifecycle(ctx context.Context, tx *sql.Tx, id string, u apikey.Update) error {
	if u.ExpiresAt == nil && u.NotBefore == nil && u.Owner == nil {
		return nil
	}
	var setExp, setNB int
	var exp, nb, owner any
	if u.ExpiresAt != nil {
		setExp, exp = 1, s.timeArg(*u.ExpiresAt)
	}
	if u.NotBefore != nil {
		setNB, nb = 1, s.timeArg(*u.NotBefore)
	}
	if u.Owner != nil {
		owner = *u.Owner
	}
	_, err := tx.ExecContext(ctx, s.lq.updateLifecycle, setExp, exp, setNB, nb, owner, id)
	return err
}

// ownerList returns the List statement and arguments for a list by owner
// (ListOptions.Owner), with filter already resolved as List resolves it.
func (s *Store) ownerList(tenant string, opts apikey.ListOptions, filter apikey.ListFilter, fetch int) (string, []any) {
	f := 0
	switch filter {
	case apikey.ListActive:
		f = 1
	case apikey.ListRevoked:
		f = 2
	}
	args := []any{tenant, opts.Owner}
	a := 0
	if opts.After != "" {
		a = 1
		args = append(args, opts.After)
	}
	if f == 1 {
		at := s.timeArg(opts.At)
		args = append(args, at, at, at)
	}
	return s.lq.listOwner[f][a], append(args, fetch)
}

// ListUnused implements apikey.Store: a scan in primary-key order from
// after, filtered on revoked_at and COALESCE(last_used_at, created_at). A
// limit of zero or less means no limit.
func (s *Store) ListUnused(ctx context.Context, cutoff time.Time, after string, limit int) ([]*apikey.Key, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := s.db.QueryContext(ctx, s.lq.listUnused, after, s.timeArg(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list unused: %w", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list unused: %w", err)
	}
	return keys, nil
}
