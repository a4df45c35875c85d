package apikey

import (
	"errors"
	"fmt"
	"time"
)

// ErrOutlivesGranter: a key asked to create (or change) a key that would
// work longer than the granting key itself.
var ErrOutlivesGranter = errors.New("apikey: a key cannot grant a lifetime beyond its own")

// CanGrantExpiry checks that a key issued (or changed) by granter with the
// given expiry (zero: never) does not outlive granter. A granter without an
// end (no expiry, not in a rotation grace) may grant any expiry; one with
// an end may grant only an expiry at or before it, so "never" is refused.
// The error wraps ErrOutlivesGranter and names granter's end. Use it, or
// CanIssue, whenever a key creates or updates other keys: otherwise a key
// manager that expires in an hour could mint a key that never does.
func CanGrantExpiry(granter *Key, expiresAt time.Time) error {
	end := keyEnd(granter)
	if end.IsZero() {
		return nil
	}
	if expiresAt.IsZero() || expiresAt.After(end) {
		return fmt.Errorf("%w: expiry must be set, at or before %s", ErrOutlivesGranter, end.UTC().Format(time.RFC3339))
	}
	return nil
}

// CanIssue checks that granter may create a key with p: every scope must be
// granted by granter (CanGrant, ErrInsufficientScope) and the key must not
// outlive granter (CanGrantExpiry, ErrOutlivesGranter). A zero p.ExpiresAt
// counts as "never", even when the manager has a default lifetime: set
// ExpiresAt explicitly for keys created by an expiring key.
//
// Key controls (rate limits, credits; SPEC D1) are not yet part of the
// check: when CreateParams gains them, a granter must not lift a limit it
// is itself under, and that check belongs here so every caller gets it.
func CanIssue(granter *Key, p CreateParams) error {
	if err := CanGrant(granter.Scopes, p.Scopes); err != nil {
		return err
	}
	return CanGrantExpiry(granter, p.ExpiresAt)
}

// keyEnd returns the instant k stops working at the latest (the earlier of
// its expiry and its rotation grace end), or zero when it has none.
func keyEnd(k *Key) time.Time {
	end := k.ExpiresAt
	if g := k.GraceExpiresAt; !g.IsZero() && (end.IsZero() || g.Before(end)) {
		end = g
	}
	return end
}
