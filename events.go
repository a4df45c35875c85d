package apikey

import (
	"context"
	"log/slog"
	"time"
)

// EventKind names an audit event.
type EventKind string

// Audit event kinds.
const (
	EventCreated      EventKind = "created"
	EventRevoked      EventKind = "revoked"
	EventRevokedAll   EventKind = "revoked_all"
	EventRotated      EventKind = "rotated"
	EventUpdated      EventKind = "updated"
	EventDisabled     EventKind = "disabled"
	EventEnabled      EventKind = "enabled"
	EventRehashed     EventKind = "rehashed"
	EventDeleted      EventKind = "deleted"
	EventVerifyFailed EventKind = "verify_failed"
)

// Event is an audit record. It never holds a plaintext token or secret:
// keys are named by ID and display prefix only.
type Event struct {
	Kind EventKind
	At   time.Time
	// KeyID and Prefix name the key concerned, when known.
	KeyID  string
	Prefix string
	Tenant string
	// Reason is set on EventVerifyFailed: "malformed", "not_found",
	// "mismatch" (a known selector with a wrong secret), "revoked",
	// "expired", "grace_ended", "not_yet_valid", "store_unavailable", and
	// for the key controls "disabled", "ip_not_allowed", "insufficient_scope",
	// "rate_limited", "limiter_unavailable", "usage_exceeded". On
	// EventExpiringSoon it is the lead time (such as "168h0m0s"); on an
	// EventRevoked of Manager.RevokeUnused, "unused".
	Reason string
	// SuccessorID is set on EventRotated.
	SuccessorID string
	// KeyIDs lists the keys an EventRevokedAll or EventRevokedOwner revoked.
	KeyIDs []string
	// Owner is set on EventRevokedOwner.
	Owner string
}

// LogValue implements slog.LogValuer.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(e.Kind)), slog.Time("at", e.At)}
	for _, a := range [...]struct{ k, v string }{
		{"key_id", e.KeyID}, {"prefix", e.Prefix}, {"tenant", e.Tenant},
		{"reason", e.Reason}, {"successor_id", e.SuccessorID}, {"owner", e.Owner},
	} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	if len(e.KeyIDs) > 0 {
		attrs = append(attrs, slog.Int("keys", len(e.KeyIDs)))
	}
	return slog.GroupValue(attrs...)
}

// EventHook receives audit events synchronously, on the goroutine of the
// operation. Keep it fast; hand work to a queue if it is not.
type EventHook func(context.Context, Event)
