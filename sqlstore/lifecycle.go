package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/apikit/apikey"
)

// readKey reads key id inside tx; a missing key is apikey.ErrNotFound.
func (s *Store) readKey(ctx context.Context, tx *sql.Tx, id string) (*apikey.Key, error) {
	k, err := scanKey(tx.QueryRowContext(ctx, s.q.getByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	return k, err
}

// Revoke implements apikey.Store: a conditional UPDATE (revoked_at IS NULL),
// its feed entry when it changed the key, and a read of the result, in one
// transaction.
func (s *Store) Revoke(ctx context.Context, id string, at time.Time) (*apikey.Key, error) {
	var out *apikey.Key
	err := s.inTx(ctx, "revoke", func(tx *sql.Tx) error {
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.revoke, s.timeArg(at), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			if err := s.feed(ctx, tx, string(apikey.ChangeRevoked), s.timeArg(at), id); err != nil {
				return err
			}
		}
		out, err = s.readKey(ctx, tx, id)
		return err
	})
	return out, err
}

// RevokeAll implements apikey.Store: one UPDATE at one timestamp
// (WHERE tenant = ? AND revoked_at IS NULL), the feed entries and IDs of
// exactly the keys it revoked, and a read of every key of the tenant, in
// one transaction.
func (s *Store) RevokeAll(ctx context.Context, tenant string, at time.Time) ([]*apikey.Key, []string, error) {
	keys := []*apikey.Key{}
	var revoked []string
	err := s.inTx(ctx, "revoke all", func(tx *sql.Tx) error {
		revoked = nil // a retried transaction starts over
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		t := s.timeArg(at)
		if s.q.feedRevokeAll != "" {
			if _, err := tx.ExecContext(ctx, s.q.feedRevokeAll, t, tenant); err != nil {
				return err
			}
		}
		var err error
		if s.q.revokedIDs != "" {
			if revoked, err = queryIDs(ctx, tx, s.q.revokedIDs, tenant); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q.revokeAll, t, tenant); err != nil {
				return err
			}
		} else if revoked, err = queryIDs(ctx, tx, s.q.revokeAll, t, tenant); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q.listTenant, tenant)
		if err != nil {
			return err
		}
		got, err := scanKeys(rows)
		if err != nil {
			return err
		}
		keys = append(keys, got...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return keys, revoked, nil
}

// queryIDs runs query (one string column) in tx and returns its values.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// errInsert marks a failed successor insert inside Rotate, classified after
// the rollback.
var errInsert = errors.New("insert failed")

// Rotate implements apikey.Store in one transaction: a conditional UPDATE of
// the old key (not replaced, revoked_at IS NULL) whose row
// count decides the race (0 rows: ErrNotFound if the key is missing,
// ErrConflict otherwise), the insert of the successor, and the feed entry.
func (s *Store) Rotate(ctx context.Context, r apikey.Rotation) (*apikey.Key, error) {
	switch {
	case r.OldID == "" || r.SuccessorID == "":
		return nil, fmt.Errorf("%w: sqlstore: rotation needs the old and successor IDs", apikey.ErrInvalid)
	case r.Successor != nil && r.Successor.ID != r.SuccessorID:
		return nil, fmt.Errorf("%w: sqlstore: successor ID mismatch", apikey.ErrInvalid)
	case r.Successor != nil && r.Successor.Lookup == "":
		return nil, fmt.Errorf("%w: sqlstore: successor needs a lookup value", apikey.ErrInvalid)
	}
	var succArgs []any
	if r.Successor != nil {
		var err error
		if succArgs, err = s.keyArgs(r.Successor); err != nil {
			return nil, fmt.Errorf("sqlstore: rotate %s: %w", r.OldID, err)
		}
	}
	var out *apikey.Key
	var insertErr error
	err := s.inTx(ctx, "rotate", func(tx *sql.Tx) error {
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.rotate, r.SuccessorID, s.timeArg(r.GraceExpiresAt), s.timeArg(r.RevokedAt), r.OldID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			exists, err := count(ctx, tx, s.q.keyExists, r.OldID)
			switch {
			case err != nil:
				return err
			case exists == 0:
				return fmt.Errorf("%w: key %q", apikey.ErrNotFound, r.OldID)
			}
			return fmt.Errorf("%w: key %s is already revoked or replaced", apikey.ErrConflict, r.OldID)
		}
		if succArgs != nil {
			if _, err := tx.ExecContext(ctx, s.q.insertKey, succArgs...); err != nil {
				insertErr = err
				return errInsert
			}
		}
		if err := s.feed(ctx, tx, string(apikey.ChangeRotated), s.timeArg(r.At), r.OldID); err != nil {
			return err
		}
		out, err = s.readKey(ctx, tx, r.OldID)
		return err
	})
	if errors.Is(err, errInsert) {
		return nil, s.insertFailed(ctx, "rotate: insert successor", r.Successor, insertErr)
	}
	return out, err
}

// Update implements apikey.Store: one UPDATE whose NULL arguments keep the
// column (COALESCE), the feed entry and a read, in one transaction.
func (s *Store) Update(ctx context.Context, id string, u apikey.Update) (*apikey.Key, error) {
	var name, scopes, meta any
	if u.Name != nil {
		name = *u.Name
	}
	if u.Scopes != nil {
		text, err := scopesText(*u.Scopes)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: update %q: %w", id, err)
		}
		scopes = text
	}
	if u.Metadata != nil {
		text, err := metadataText(*u.Metadata)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: update %q: %w", id, err)
		}
		meta = text
	}
	var out *apikey.Key
	err := s.inTx(ctx, "update", func(tx *sql.Tx) error {
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.update, name, scopes, meta, id); err != nil {
			return err
		}
		if err := s.updateControls(ctx, tx, id, u); err != nil {
			return err
		}
		if err := s.updateLifecycle(ctx, tx, id, u); err != nil {
			return err
		}
		// Inserts nothing for a missing key; readKey then fails and the
		// transaction rolls back.
		if err := s.feed(ctx, tx, string(apikey.ChangeUpdated), s.timeArg(u.At), id); err != nil {
			return err
		}
		var err error
		out, err = s.readKey(ctx, tx, id)
		return err
	})
	return out, err
}

// UpgradeHash implements apikey.Store: an UPDATE conditional on the old
// hash version, and its feed entry when it changed the key.
func (s *Store) UpgradeHash(ctx context.Context, id, from, version string, hash []byte, at time.Time) error {
	return s.inTx(ctx, "upgrade hash", func(tx *sql.Tx) error {
		if err := s.lockFeed(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.upgradeHash, version, hash, id, from)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n > 0 {
			return s.feed(ctx, tx, string(apikey.ChangeHashUpgrade), s.timeArg(at), id)
		}
		exists, err := count(ctx, tx, s.q.keyExists, id)
		if err == nil && exists == 0 {
			err = fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
		}
		return err
	})
}
