package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apikit/apikey"
)

// Create implements apikey.Store. A duplicate ID or lookup value gives
// apikey.ErrAlreadyExists and leaves the store unchanged.
func (s *Store) Create(ctx context.Context, k *apikey.Key) error {
	if k == nil || k.ID == "" || k.Lookup == "" {
		return fmt.Errorf("%w: sqlstore: key needs an ID and a lookup value", apikey.ErrInvalid)
	}
	args, err := s.keyArgs(k)
	if err != nil {
		return fmt.Errorf("sqlstore: create %s: %w", k.ID, err)
	}
	if _, err := s.db.ExecContext(ctx, s.q.insertKey, args...); err != nil {
		return s.insertFailed(ctx, "create", k, err)
	}
	return nil
}

// insertFailed classifies a failed insert of k without reading driver
// error codes: if a row with k's ID or lookup value exists, the insert hit
// a unique index and the answer is ErrAlreadyExists; otherwise the original
// error is returned, wrapped. It must run outside any transaction (which a
// failed statement may have aborted).
func (s *Store) insertFailed(ctx context.Context, op string, k *apikey.Key, err error) error {
	if n, cerr := count(ctx, s.db, s.q.dupCount, k.ID, k.Lookup); cerr == nil && n > 0 {
		return fmt.Errorf("%w: key %s or its lookup value", apikey.ErrAlreadyExists, k.ID)
	}
	return fmt.Errorf("sqlstore: %s %s: %w", op, k.ID, err)
}

// unstorable reports whether v cannot be in a text column of the dialect:
// PostgreSQL text holds only valid UTF-8 without NUL, and a query binding
// anything else fails instead of finding nothing.
func (s *Store) unstorable(v string) bool {
	return s.dialect == Postgres && (!utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0)
}

// Get implements apikey.Store.
func (s *Store) Get(ctx context.Context, id string) (*apikey.Key, error) {
	if s.unstorable(id) {
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	st, err := s.prepared(ctx, s.q.getByID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get %q: %w", id, err)
	}
	k, err := scanKey(st.QueryRowContext(ctx, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	case err != nil:
		return nil, fmt.Errorf("sqlstore: get %q: %w", id, err)
	}
	return k, nil
}

// GetByLookup implements apikey.Store: one read on the unique lookup index.
func (s *Store) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	if s.unstorable(lookup) {
		return nil, apikey.ErrNotFound
	}
	st, err := s.prepared(ctx, s.q.getByLookup)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get by lookup: %w", err)
	}
	k, err := scanKey(st.QueryRowContext(ctx, lookup))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, apikey.ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("sqlstore: get by lookup: %w", err)
	}
	return k, nil
}

// List page sizes.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// List implements apikey.Store with keyset pagination on (tenant, id): each
// page is one range read of the (tenant, id) index below the cursor, newest
// first, whatever the page number. ListActive with a zero At lists every
// key (no stored instant is at or before the zero time).
func (s *Store) List(ctx context.Context, tenant string, opts apikey.ListOptions) (apikey.Page, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	fetch := limit + 1 // one more tells whether there is a next page

	var query string
	var args []any
	filter := opts.Filter
	if filter == apikey.ListActive && opts.At.IsZero() {
		filter = apikey.ListAny
	}
	after := opts.After != ""
	switch filter {
	case apikey.ListActive:
		at := s.timeArg(opts.At)
		if after {
			query, args = s.q.listActiveAfter, []any{tenant, opts.After, at, at, at, fetch}
		} else {
			query, args = s.q.listActive, []any{tenant, at, at, at, fetch}
		}
	case apikey.ListRevoked:
		if after {
			query, args = s.q.listRevokedAfter, []any{tenant, opts.After, fetch}
		} else {
			query, args = s.q.listRevoked, []any{tenant, fetch}
		}
	default:
		if after {
			query, args = s.q.listAllAfter, []any{tenant, opts.After, fetch}
		} else {
			query, args = s.q.listAll, []any{tenant, fetch}
		}
	}
	if opts.Owner != "" {
		query, args = s.ownerList(tenant, opts, filter, fetch)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return apikey.Page{}, fmt.Errorf("sqlstore: list %q: %w", tenant, err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return apikey.Page{}, fmt.Errorf("sqlstore: list %q: %w", tenant, err)
	}
	var p apikey.Page
	if len(keys) > limit {
		keys = keys[:limit]
		p.Next = keys[limit-1].ID
	}
	p.Keys = keys
	return p, nil
}
