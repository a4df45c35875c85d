package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/apikit/apikey"
)

// addUsageCounts adds the Counts of recs (sorted by key ID) inside tx: one
// upsert per counter, for keys that exist. Nothing is prepared when no
// record has counts.
func (s *Store) addUsageCounts(ctx context.Context, tx *sql.Tx, recs []apikey.Usage) error {
	var st *sql.Stmt
	for _, u := range recs {
		for _, c := range u.Counts {
			if c.N <= 0 {
				continue
			}
			if st == nil {
				var err error
				if st, err = tx.PrepareContext(ctx, s.lq.addUsage); err != nil {
					return err
				}
				defer st.Close()
			}
			if _, err := st.ExecContext(ctx, s.timeArg(c.Day), c.Outcome, c.N, u.KeyID); err != nil {
				return fmt.Errorf("key %s: usage count: %w", u.KeyID, err)
			}
		}
	}
	return nil
}

// UsageCounts implements apikey.Store: one range read of the usage
// table's primary key.
func (s *Store) UsageCounts(ctx context.Context, id string, from, to time.Time) ([]apikey.UsageCount, error) {
	if s.unstorable(id) {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.lq.usageCounts, id, s.timeArg(from), s.timeArg(to))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: usage counts %q: %w", id, err)
	}
	defer rows.Close()
	var out []apikey.UsageCount
	for rows.Next() {
		var c apikey.UsageCount
		if err := rows.Scan(timeCol{&c.Day}, &c.Outcome, &c.N); err != nil {
			return nil, fmt.Errorf("sqlstore: usage counts %q: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: usage counts %q: %w", id, err)
	}
	return out, nil
}
