package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/apikit/apikey"
)

// rateLimitsText encodes rate limits as a JSON array, or NULL when none.
func rateLimitsText(l []apikey.RateLimit) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// ipAllowlistText encodes an allowlist as a JSON array of CIDR strings, or
// NULL when empty.
func ipAllowlistText(l []netip.Prefix) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// creditsArgs are the bound values of the credit columns.
type creditsArgs struct{ remaining, amount, interval, last any }

func (s *Store) creditsArgs(c *apikey.Credits) creditsArgs {
	if c == nil {
		return creditsArgs{nil, int64(0), int64(0), nil}
	}
	return creditsArgs{c.Remaining, c.RefillAmount, int64(c.RefillInterval), s.timeArg(c.LastRefill)}
}

// creditsCols are the scanned credit columns.
type creditsCols struct {
	remaining        sql.NullInt64
	amount, interval int64
	last             time.Time
}

func (c creditsCols) credits() *apikey.Credits {
	if !c.remaining.Valid {
		return nil
	}
	return &apikey.Credits{Remaining: c.remaining.Int64, RefillAmount: c.amount,
		RefillInterval: time.Duration(c.interval), LastRefill: c.last}
}

// scanControls fills k's controls from their columns.
func scanControls(k *apikey.Key, limits, ips sql.NullString, cr creditsCols) error {
	if limits.Valid && limits.String != "" {
		if err := json.Unmarshal([]byte(limits.String), &k.RateLimits); err != nil {
			return fmt.Errorf("sqlstore: key %s: bad rate_limits column: %w", k.ID, err)
		}
	}
	if len(k.RateLimits) == 0 {
		k.RateLimits = nil
	}
	if ips.Valid && ips.String != "" {
		if err := json.Unmarshal([]byte(ips.String), &k.IPAllowlist); err != nil {
			return fmt.Errorf("sqlstore: key %s: bad ip_allowlist column: %w", k.ID, err)
		}
	}
	if len(k.IPAllowlist) == 0 {
		k.IPAllowlist = nil
	}
	k.Credits = cr.credits()
	return nil
}

// updateControls applies the control fields of u inside tx.
func (s *Store) updateControls(ctx context.Context, tx *sql.Tx, id string, u apikey.Update) error {
	if u.Disabled != nil || u.RateLimits != nil || u.IPAllowlist != nil {
		var disabled, limits, ips any
		if u.Disabled != nil {
			disabled = *u.Disabled
		}
		if u.RateLimits != nil {
			v, err := rateLimitsText(*u.RateLimits)
			if err != nil {
				return err
			}
			limits = v
			if v == nil {
				limits = "[]" // NULL would keep the column
			}
		}
		if u.IPAllowlist != nil {
			v, err := ipAllowlistText(*u.IPAllowlist)
			if err != nil {
				return err
			}
			ips = v
			if v == nil {
				ips = "[]"
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.updateControls, disabled, limits, ips, id); err != nil {
			return err
		}
	}
	if u.Credits != nil {
		a := s.creditsArgs(*u.Credits)
		if _, err := tx.ExecContext(ctx, s.q.updateCredits, a.remaining, a.amount, a.interval, a.last, id); err != nil {
			return err
		}
	}
	return nil
}

// maxCASAttempts bounds the retries of TakeCredits under contention.
const maxCASAttempts = 100

// TakeCredits implements apikey.Store: a read, then one conditional UPDATE
// (compare-and-set on the remaining credits and the period) that applies
// the refill and the take atomically; retried when another process changed
// the row in between. No lock is held across round trips. A take that
// changes nothing (no credits left, no refill due) writes nothing.
func (s *Store) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	if want < 0 {
		return apikey.CreditLease{}, fmt.Errorf("%w: sqlstore: negative credit take", apikey.ErrInvalid)
	}
	for range maxCASAttempts {
		var cr creditsCols
		err := s.db.QueryRowContext(ctx, s.q.readCredits, id).Scan(&cr.remaining, &cr.amount, &cr.interval, timeCol{&cr.last})
		if errors.Is(err, sql.ErrNoRows) {
			return apikey.CreditLease{}, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
		}
		if err != nil {
			return apikey.CreditLease{}, fmt.Errorf("sqlstore: take credits %s: %w", id, err)
		}
		old := cr.credits()
		if old == nil {
			return apikey.CreditLease{Unlimited: true}, nil
		}
		c := old.Refilled(now.UTC().Truncate(time.Microsecond))
		got := min(want, c.Remaining)
		c.Remaining -= got
		lease := apikey.CreditLease{Granted: got, Left: c.Remaining, Period: c.LastRefill, Expires: c.NextRefill()}
		if c.Remaining == old.Remaining && c.LastRefill.Equal(old.LastRefill) {
			return lease, nil // nothing to write
		}
		res, err := s.db.ExecContext(ctx, s.q.casCredits, c.Remaining, s.timeArg(c.LastRefill), id, old.Remaining, s.timeArg(old.LastRefill))
		if err != nil {
			return apikey.CreditLease{}, fmt.Errorf("sqlstore: take credits %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return apikey.CreditLease{}, fmt.Errorf("sqlstore: take credits %s: %w", id, err)
		} else if n == 1 {
			return lease, nil
		}
		if err := ctx.Err(); err != nil {
			return apikey.CreditLease{}, err
		}
	}
	return apikey.CreditLease{}, fmt.Errorf("sqlstore: take credits %s: still contended after %d attempts", id, maxCASAttempts)
}

// ReturnCredits implements apikey.Store: one UPDATE conditional on the
// credit period.
func (s *Store) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	if n <= 0 {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, s.q.returnCredits, n, id, s.timeArg(period)); err != nil {
		return fmt.Errorf("sqlstore: return credits %s: %w", id, err)
	}
	return nil
}
