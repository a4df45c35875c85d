package sqlstore

import (
	"context"
	"database/sql"
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
		_, err = tx.ExecContext(ctx, s.lq.deleteKey, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
