package apikey_test

import (
	"errors"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/storetest/faultstore"
)

// A verify that read a key just before it was revoked (or rotated, or
// updated) must not leave the pre-change record in the verification cache:
// the next verify, begun after the change returned, sees the change. The
// store read is held open (a Corruption that waits) while the change runs,
// so the interleaving is exact rather than left to the scheduler.
func TestCacheFillRacesWithChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*faultRig, string) error
		want   error
	}{
		{"revoke", func(r *faultRig, id string) error { _, err := r.m.Revoke(t.Context(), "acme", id); return err }, apikey.ErrRevoked},
		{"revoke all", func(r *faultRig, _ string) error { _, err := r.m.RevokeAll(t.Context(), "acme"); return err }, apikey.ErrRevoked},
		{"rotate without grace", func(r *faultRig, id string) error { _, err := r.m.Rotate(t.Context(), "acme", id, 0); return err }, apikey.ErrRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFaultRig(t, apikey.WithCache(apikey.CacheOptions{}))
			read, release := make(chan struct{}), make(chan struct{})
			r.fs.Corrupt(func(k *apikey.Key) *apikey.Key {
				close(read)
				<-release
				return k
			}, faultstore.GetByLookup)

			first := make(chan error, 1)
			go func() { _, err := r.m.Verify(t.Context(), r.valid.Token.Reveal()); first <- err }()
			<-read // the verify holds the record as it was before the change
			r.fs.Pass(faultstore.GetByLookup)
			if err := tc.change(r, r.valid.Key.ID); err != nil {
				t.Fatalf("change: %v", err)
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatalf("the verify begun before the change: %v (it may succeed)", err)
			}
			if k, err := r.m.Verify(t.Context(), r.valid.Token.Reveal()); !errors.Is(err, tc.want) {
				t.Fatalf("stale accept: the verify begun after the change got %v, %v; want %v", k, err, tc.want)
			}
		})
	}
}

// Store failures are never cached: a key that could not be read while the
// store was down verifies as soon as it is back, and a key refused while the
// store lied (a damaged record) is not refused for longer than the lie.
func TestCacheDoesNotKeepFaults(t *testing.T) {
	r := newFaultRig(t, apikey.WithCache(apikey.CacheOptions{TTL: time.Hour}))
	r.fs.Fail(errConnRefused)
	if _, err := r.m.Verify(t.Context(), r.valid.Token.Reveal()); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("store down: %v", err)
	}
	r.fs.Clear()
	mustVerifyOn(t, r.m, r.valid)

	// A cached key keeps verifying while the store is down (that is what
	// the cache is for), and a revoked one keeps being refused.
	if _, err := r.m.Verify(t.Context(), r.revoked.Token.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	r.fs.Fail(errConnRefused)
	mustVerifyOn(t, r.m, r.valid)
	if _, err := r.m.Verify(t.Context(), r.revoked.Token.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
		t.Fatalf("revoked, store down: %v", err)
	}
	// An uncached key still gets 503, never a guess.
	if _, err := r.m.Verify(t.Context(), r.other.Token.Reveal()); !errors.Is(err, apikey.ErrStoreUnavailable) {
		t.Fatalf("uncached key, store down: %v", err)
	}
	r.fs.Clear()
}
