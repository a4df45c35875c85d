package apikey

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxOwnerLen bounds Key.Owner.
const maxOwnerLen = 256

// checkOwner validates an owner: up to 256 bytes of valid UTF-8 without
// control characters. Empty means none.
func checkOwner(owner string) error {
	if len(owner) > maxOwnerLen || !utf8.ValidString(owner) {
		return fmt.Errorf("%w: owner must be at most %d bytes of UTF-8", ErrInvalid, maxOwnerLen)
	}
	for _, r := range owner {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: owner holds a control character", ErrInvalid)
		}
	}
	return nil
}

// checkNotBefore checks a not-before time against the key's expiry: a key
// must be able to work at some instant.
func checkNotBefore(notBefore, expires time.Time) error {
	if !notBefore.IsZero() && !expires.IsZero() && !notBefore.Before(expires) {
		return fmt.Errorf("%w: not-before time must be before the expiry", ErrInvalid)
	}
	return nil
}

// checkLifecycleUpdate validates the expiry, not-before and owner fields
// of u against the stored key old at now, and normalises their times.
//
// A new expiry must be in the future and, with WithMaxLifetime, within the
// maximum lifetime counted from the key's creation; removing the expiry is
// refused when there is a maximum. A key that has stopped working
// (revoked, expired, out of grace) cannot have its expiry changed: an
// expired key stays dead, as a revoked one does. The not-before time must
// stay before the (new) expiry.
func (m *Manager) checkLifecycleUpdate(old *Key, u *Update, now time.Time) error {
	expires := old.ExpiresAt
	if u.ExpiresAt != nil {
		exp := normTime(*u.ExpiresAt)
		switch {
		case old.StateAt(now) != StateActive:
			return fmt.Errorf("%w: key %s is %s; its expiry cannot change", ErrConflict, old.ID, old.StateAt(now))
		case exp.IsZero() && m.cfg.maxLifetime > 0:
			return fmt.Errorf("%w: keys must expire within the maximum lifetime of %v", ErrInvalid, m.cfg.maxLifetime)
		case !exp.IsZero() && !exp.After(now):
			return fmt.Errorf("%w: expiry must be in the future", ErrInvalid)
		case !exp.IsZero() && m.cfg.maxLifetime > 0 && exp.Sub(old.CreatedAt) > m.cfg.maxLifetime:
			return fmt.Errorf("%w: expiry is beyond the maximum lifetime of %v from the key's creation", ErrInvalid, m.cfg.maxLifetime)
		}
		u.ExpiresAt, expires = &exp, exp
	}
	notBefore := old.NotBefore
	if u.NotBefore != nil {
		nb := normTime(*u.NotBefore)
		u.NotBefore, notBefore = &nb, nb
	}
	if u.Owner != nil {
		if err := checkOwner(*u.Owner); err != nil {
			return err
		}
	}
	return checkNotBefore(notBefore, expires)
}
