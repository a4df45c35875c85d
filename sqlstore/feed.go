package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apikit/apikey"
)

// Purge implements apikey.Store in one transaction: it deletes the keys
// that stopped working before cutoff, then the change-feed entries up to
// the newest one older than cutoff, and records that seq as trimmed so
// that Changes can tell a follower it fell behind.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	c := s.timeArg(cutoff)
	var n int64
	err := s.inTx(ctx, "purge", func(tx *sql.Tx) error {
		for _, q := range []string{s.lq.purgeUsage, s.lq.purgeNotices} { // lifecycle tables (003)
			if _, err := tx.ExecContext(ctx, q, c, c, c); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.q.purgeKeys, c, c, c)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		var upTo sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q.maxPurgeable, c).Scan(&upTo); err != nil {
			return err
		}
		if !upTo.Valid {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q.purgeChanges, upTo.Int64); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q.setTrimmed, upTo.Int64, upTo.Int64)
		return err
	})
	return int(n), err
}

// Changes implements apikey.Store: WHERE seq > after ORDER BY seq LIMIT n.
// It reads the entries first and the trimmed mark second, so a Purge
// running in between is noticed. A limit of zero or less means no limit.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]apikey.Change, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := s.db.QueryContext(ctx, s.q.changes, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: changes: %w", err)
	}
	defer rows.Close()
	var out []apikey.Change
	for rows.Next() {
		var c apikey.Change
		var kind string
		if err := rows.Scan(&c.Seq, &c.KeyID, &c.Lookup, &c.Tenant, &kind, timeCol{&c.At}); err != nil {
			return nil, fmt.Errorf("sqlstore: changes: %w", err)
		}
		c.Kind = apikey.ChangeKind(kind)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: changes: %w", err)
	}
	rows.Close()
	var trimmed int64
	err = s.db.QueryRowContext(ctx, s.q.trimmed).Scan(&trimmed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errMetaMissing
	case err != nil:
		return nil, fmt.Errorf("sqlstore: changes: %w", err)
	case after < trimmed:
		return nil, fmt.Errorf("%w: entries up to %d were purged", apikey.ErrChangesTrimmed, trimmed)
	}
	return out, nil
}

// LastChange implements apikey.Store: the highest seq written, counting
// purged entries.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, s.q.lastChange).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: last change: %w", err)
	}
	return n, nil
}
