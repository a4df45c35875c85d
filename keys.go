package apikey

import (
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// Key is the stored record of an API key. It never holds the plaintext
// token: only its display prefix, a non-secret lookup value and a keyed hash.
// Absent times are the zero time.Time.
//
// Printing a Key (fmt, slog, JSON) shows no hash, lookup value or sealed
// webhook secret.
type Key struct {
	// ID is a ULID, unique across tenants.
	ID string `json:"id"`
	// Tenant is the workspace or project that owns the key.
	Tenant string `json:"tenant"`
	// Environment is the token environment, such as "live" or "test".
	Environment string `json:"environment"`
	// Name is a human label.
	Name string `json:"name"`
	// Prefix is the display prefix, such as "pgk_live_abc1": safe in UIs and logs.
	Prefix string `json:"prefix"`
	// Lookup is the non-secret value verify finds the record by (the token's
	// selector, or for imported keys a value derived by their legacy scheme).
	// Stores must index it uniquely.
	Lookup string `json:"-"`
	// HashVersion names the Hasher that produced Hash, such as "v1".
	HashVersion string `json:"hashVersion"`
	// Hash is the stored form of the token under HashVersion.
	Hash []byte `json:"-"`
	// Scopes are the scopes granted to the key; empty grants nothing.
	Scopes []string `json:"scopes"`
	// CreatedBy identifies who created the key (a user or key ID).
	CreatedBy string `json:"createdBy,omitempty"`
	// CreatedAt is when the key was created.
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// LastUsedAt is the last recorded use (coalesced, so it may lag).
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// LastUsedIP is the client address of the last recorded use.
	LastUsedIP string `json:"lastUsedIp,omitempty"`
	// LastUsedClient names the calling system of the last recorded use
	// (such as an integration name header), when the application records one.
	LastUsedClient string `json:"lastUsedClient,omitempty"`
	// RevokedAt is when the key was revoked; zero means not revoked.
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// ReplacedBy is the ID of the successor after a rotation.
	ReplacedBy string `json:"replacedBy,omitempty"`
	// GraceExpiresAt is when a rotated-out key stops working.
	GraceExpiresAt time.Time `json:"graceExpiresAt,omitzero"`
	// RotationInterval schedules automatic rotation; zero means none.
	RotationInterval time.Duration `json:"rotationInterval,omitempty"`
	// NextRotationAt is when the scheduler will next rotate the key.
	NextRotationAt time.Time `json:"nextRotationAt,omitzero"`
	// RotationWebhookURL receives the successor of a scheduled rotation.
	RotationWebhookURL string `json:"rotationWebhookUrl,omitempty"`
	// WebhookSecret is the webhook signing secret, sealed with the manager's
	// webhook key: a database dump alone does not reveal it.
	WebhookSecret []byte `json:"-"`
	// Metadata is free-form application data.
	Metadata map[string]string `json:"metadata,omitempty"`
	// RateLimits are the key's rate limits, enforced on every verify that
	// the Manager runs with a RateLimiter; empty means none.
	RateLimits []RateLimit `json:"rateLimits,omitempty"`
	// Disabled refuses the key (ErrDisabled) until it is enabled again;
	// unlike a revocation it can be undone. The zero value is enabled.
	Disabled bool `json:"disabled,omitempty"`
	// Credits, when non-nil, bounds the number of successful requests (see
	// Credits); nil means unlimited.
	Credits *Credits `json:"credits,omitempty"`
	// IPAllowlist, when non-empty, is the set of client addresses the key
	// is accepted from; empty means any address.
	IPAllowlist []netip.Prefix `json:"ipAllowlist,omitempty"`

	// Key lifecycle fields (issue 18), grouped for merges.

	// NotBefore, when set, is when the key starts working: a verify before
	// it fails with ErrNotYetValid (like the notBefore of Cloudflare
	// tokens). Zero means at once. It is not a State: StateAt and
	// ListActive count a key waiting for its NotBefore as active (pending,
	// not dead).
	NotBefore time.Time `json:"notBefore,omitzero"`
	// Owner names who the key belongs to, such as a user ID or an external
	// identity; stores index it per tenant (ListOptions.Owner,
	// Manager.RevokeOwner). Empty means none.
	Owner string `json:"owner,omitempty"`
}

// Clone returns a deep copy of k.
func (k *Key) Clone() *Key {
	if k == nil {
		return nil
	}
	c := *k
	c.Hash = slices.Clone(k.Hash)
	c.Scopes = slices.Clone(k.Scopes)
	c.WebhookSecret = slices.Clone(k.WebhookSecret)
	c.RateLimits = slices.Clone(k.RateLimits)
	c.IPAllowlist = slices.Clone(k.IPAllowlist)
	if k.Credits != nil {
		cr := *k.Credits
		c.Credits = &cr
	}
	if k.Metadata != nil {
		c.Metadata = maps.Clone(k.Metadata)
	}
	return &c
}

// State is the verification state of a key at an instant.
type State int

// The states of a key, in the order a verify checks them.
const (
	StateActive     State = iota // usable
	StateRevoked                 // revoked, or rotated with no grace
	StateGraceEnded              // rotated, and the grace period is over
	StateExpired                 // past ExpiresAt
)

// String returns "active", "revoked", "grace_ended" or "expired".
func (s State) String() string {
	switch s {
	case StateActive:
		return "active"
	case StateRevoked:
		return "revoked"
	case StateGraceEnded:
		return "grace_ended"
	case StateExpired:
		return "expired"
	}
	return "unknown"
}

// StateAt returns the key's state at t. Revocation wins over the end of a
// grace period, which wins over expiry; boundaries are exclusive (a key with
// ExpiresAt == t is expired).
func (k *Key) StateAt(t time.Time) State {
	switch {
	case !k.RevokedAt.IsZero() && !t.Before(k.RevokedAt):
		return StateRevoked
	case !k.GraceExpiresAt.IsZero() && !t.Before(k.GraceExpiresAt):
		return StateGraceEnded
	case !k.ExpiresAt.IsZero() && !t.Before(k.ExpiresAt):
		return StateExpired
	}
	return StateActive
}

// NotYetValidAt reports whether t is before the key's NotBefore time.
func (k *Key) NotYetValidAt(t time.Time) bool {
	return !k.NotBefore.IsZero() && t.Before(k.NotBefore)
}

// timeless reports whether the key's state cannot depend on the time: none
// of the instants StateAt reads is set, so StateAt gives the same answer at
// any t and Verify need not read the clock (it still calls StateAt, with
// the zero time). It must test every time field StateAt reads
// (TestTimelessMatchesStateAt sets each time field in turn).
func (k *Key) timeless() bool {
	return k.RevokedAt.IsZero() && k.GraceExpiresAt.IsZero() && k.ExpiresAt.IsZero() && k.NotBefore.IsZero()
}

// stateErr maps a state to its verify error.
func stateErr(s State) error {
	switch s {
	case StateRevoked:
		return ErrRevoked
	case StateGraceEnded:
		return ErrGraceEnded
	case StateExpired:
		return ErrExpired
	}
	return nil
}

// HasScope reports whether the key's scopes grant scope (see Grants).
func (k *Key) HasScope(scope string) bool { return Grants(k.Scopes, scope) }

// String returns a one-line description with no secret material.
func (k Key) String() string {
	return fmt.Sprintf("Key{ID:%s Tenant:%s Prefix:%s Name:%q Scopes:%v}", k.ID, k.Tenant, k.Prefix, k.Name, k.Scopes)
}

// Format implements fmt.Formatter so that %v, %#v and %s print String,
// and %+v String followed by the key's non-secret times (Created, Expires,
// LastUsed, Revoked, absent ones left out), for a Key and a *Key alike:
// never the hash, the lookup value or the sealed webhook secret.
func (k Key) Format(f fmt.State, verb rune) {
	if verb != 'v' || !f.Flag('+') {
		fmt.Fprint(f, k.String())
		return
	}
	s := k.String()
	b := []byte(s[:len(s)-1]) // without the closing brace
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"Created", k.CreatedAt}, {"Expires", k.ExpiresAt}, {"LastUsed", k.LastUsedAt}, {"Revoked", k.RevokedAt}} {
		if !t.at.IsZero() {
			b = append(b, ' ')
			b = append(b, t.name...)
			b = append(b, ':')
			b = t.at.UTC().AppendFormat(b, time.RFC3339)
		}
	}
	b = append(b, '}')
	f.Write(b)
}

// LogValue implements slog.LogValuer with the non-secret fields.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.ID),
		slog.String("tenant", k.Tenant),
		slog.String("prefix", k.Prefix),
	)
}
