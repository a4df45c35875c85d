package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apikit/apikey"
)

// TakeCredits implements apikey.Store.
func (s *Store) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	if err := ctxErr(ctx); err != nil {
		return apikey.CreditLease{}, err
	}
	if want < 0 {
		return apikey.CreditLease{}, fmt.Errorf("%w: negative credit take", apikey.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return apikey.CreditLease{}, fmt.Errorf("%w: key %q", apikey.ErrNotFound, id)
	}
	if k.Credits == nil {
		return apikey.CreditLease{Unlimited: true}, nil
	}
	c := k.Credits.Refilled(now)
	got := min(want, c.Remaining)
	c.Remaining -= got
	if c != *k.Credits {
		s.put(withCredits(k, c))
	}
	return apikey.CreditLease{Granted: got, Left: c.Remaining, Period: c.LastRefill, Expires: c.NextRefill()}, nil
}

// ReturnCredits implements apikey.Store.
func (s *Store) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if n <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok || k.Credits == nil || !k.Credits.LastRefill.Equal(period) {
		return nil
	}
	c := *k.Credits
	c.Remaining = min(apikey.MaxCredits, c.Remaining+n)
	s.put(withCredits(k, c))
	return nil
}

// withCredits returns a copy of the record k with credits c. Records are
// immutable (replaced, never changed in place), so the copy shares k's
// slices and maps: a take of credits, once per lease, copies one struct
// instead of the whole record.
func withCredits(k *apikey.Key, c apikey.Credits) *apikey.Key {
	nk := *k
	nk.Credits = &c
	return &nk
}

// updateControls applies the control fields of u to k (a fresh clone).
func updateControls(k *apikey.Key, u apikey.Update) {
	if u.Disabled != nil {
		k.Disabled = *u.Disabled
	}
	if u.RateLimits != nil {
		k.RateLimits = slices.Clone(*u.RateLimits)
	}
	if u.Credits != nil {
		k.Credits = nil
		if c := *u.Credits; c != nil {
			cp := *c
			k.Credits = &cp
		}
	}
	if u.IPAllowlist != nil {
		k.IPAllowlist = slices.Clone(*u.IPAllowlist)
	}
}
