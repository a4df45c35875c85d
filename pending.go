package apikey

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/oklog/ulid/v2"
)

// pendingSuccessorID is the ID of the successor a scheduled rotation
// creates after claiming old with ClaimRotation(..., claimed): derived from
// the old key's ID and the claimed NextRotationAt (to the microsecond, the
// precision the stores keep), so that the claim itself records which
// successor is pending. Whoever takes the key next (it is due again only
// if that attempt neither committed nor was undone, for instance because
// its process died in between) sees the same NextRotationAt, recomputes
// the ID and revokes that successor before rotating. Successive claims of
// one key write strictly later times, so each attempt gets its own ID. The
// ID is not secret (no key ID is); its time part is the claimed instant.
func pendingSuccessorID(oldID string, claimed time.Time) string {
	var micros [8]byte
	binary.BigEndian.PutUint64(micros[:], uint64(claimed.UnixMicro()))
	h := sha256.New()
	h.Write([]byte("apikey pending successor\x00"))
	h.Write([]byte(oldID))
	h.Write([]byte{0})
	h.Write(micros[:])
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(claimed))
	_ = id.SetEntropy(h.Sum(nil)[:10])
	return id.String()
}

// RevokePendingSuccessor is the other hook of package rotation's
// Scheduler (see DeliverRotation): it revokes the successor that an
// earlier DeliverRotation of old, claimed at old.NextRotationAt, may have
// left behind because its process died before committing or revoking it.
// A successor that was never created, or was revoked already, is fine
// (nil). The Scheduler calls it before claiming a due key again, so that a
// store failure here leaves the key due, with the same pending successor,
// for the next check.
func (m *Manager) RevokePendingSuccessor(ctx context.Context, old *Key) error {
	if old.NextRotationAt.IsZero() {
		return nil
	}
	k, err := m.store.Revoke(ctx, pendingSuccessorID(old.ID, old.NextRotationAt), m.Now())
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return storeErr("revoke pending successor", err)
	}
	m.changed(ctx, k.Lookup)
	return nil
}
