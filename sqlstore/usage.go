package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apikit/apikey"
)

// RecordUsage implements apikey.Store: one transaction, one statement
// prepared once for the batch, and per record a forward-only UPDATE
// (WHERE last_used_at IS NULL OR last_used_at < ?). Records are applied in
// key-ID order, so concurrent flushes lock rows in the same order and
// cannot deadlock each other. Records with a zero time move nothing. The
// records' Counts are then added to the usage table in the same
// transaction (usage_counts.go).
func (s *Store) RecordUsage(ctx context.Context, batch []apikey.Usage) error {
	recs := make([]apikey.Usage, 0, len(batch))
	for _, u := range batch {
		if (!u.At.IsZero() || len(u.Counts) > 0) && u.KeyID != "" {
			recs = append(recs, u)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	slices.SortFunc(recs, func(a, b apikey.Usage) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), a.At.Compare(b.At))
	})
	return s.inTx(ctx, "record usage", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.q.recordUsage)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, u := range recs {
			if u.At.IsZero() {
				continue
			}
			at := s.timeArg(u.At)
			if _, err := st.ExecContext(ctx, at, u.IP, u.Client, u.KeyID, at); err != nil {
				return fmt.Errorf("key %s: %w", u.KeyID, err)
			}
		}
		return s.addUsageCounts(ctx, tx, recs)
	})
}

// DueForRotation implements apikey.Store, reading the next_rotation_at
// index. A limit of zero or less means no limit.
func (s *Store) DueForRotation(ctx context.Context, now time.Time, limit int) ([]*apikey.Key, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := s.db.QueryContext(ctx, s.q.dueForRotation, s.timeArg(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: due for rotation: %w", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: due for rotation: %w", err)
	}
	return keys, nil
}

// ClaimRotation implements apikey.Store with one conditional UPDATE
// (next_rotation_at null-safely equal to due); the row count says who won.
func (s *Store) ClaimRotation(ctx context.Context, id string, due, next time.Time) (bool, error) {
	dueArg, nextArg := s.timeArg(due), s.timeArg(next)
	if normalize(due).Equal(normalize(next)) {
		// Nothing to move; MySQL would report 0 changed rows for a match.
		n, err := count(ctx, s.db, s.q.rotationIs, id, dueArg)
		if err != nil {
			return false, fmt.Errorf("sqlstore: claim rotation %q: %w", id, err)
		}
		return n > 0, nil
	}
	res, err := s.db.ExecContext(ctx, s.q.claimRotation, nextArg, id, dueArg)
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim rotation %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: claim rotation %q: %w", id, err)
	}
	return n > 0, nil
}

// normalize is an instant as the store keeps it.
func normalize(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
