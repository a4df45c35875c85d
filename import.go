package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/oklog/ulid/v2"
)

// EventImported is the audit event of Manager.Import.
const EventImported EventKind = "imported"

// maxDisplayPrefixLen bounds the display prefix of an imported key.
const maxDisplayPrefixLen = 32

// ImportParams describes a key issued by another system, to bring over
// without reissuing it. The token itself is never needed: only what the old
// system stored.
type ImportParams struct {
	// ID, if set, must be a ULID; empty means a fresh ULID stamped with
	// CreatedAt. Keep an old system's own IDs in Metadata.
	ID string
	// Tenant owns the key. Required.
	Tenant string
	// Name is a human label, up to 256 bytes.
	Name string
	// Scopes granted to the key. Checked against the catalogue, if any.
	Scopes []string
	// Environment picks one of the manager's environments; empty means the
	// default (the first). It is a label only: imported tokens carry none.
	Environment string
	// Prefix is the display prefix shown in UIs and logs, such as "sk_1a2b",
	// up to 32 bytes. It must never hold secret characters of the token.
	Prefix string
	// CreatedBy records who created the key.
	CreatedBy string
	// CreatedAt is when the old system created the key; zero means now. It
	// must not be in the future.
	CreatedAt time.Time
	// ExpiresAt is when the key stops working; zero means never. It is kept
	// as given: lifetime defaults and maximums apply to new keys only.
	ExpiresAt time.Time
	// HashVersion names the legacy scheme (registered with WithLegacyImport)
	// the old system's hash belongs to.
	HashVersion string
	// Hash is the hash the old system stored, in the form its scheme takes
	// (see legacy.SHA256, legacy.HMAC, legacy.Bcrypt).
	Hash []byte
	// Lookup is the non-secret lookup part of the token the old system
	// stored beside the hash, for schemes that need one (legacy.Bcrypt);
	// empty for schemes that derive it from the hash.
	Lookup string
	// Metadata is free-form application data.
	Metadata map[string]string
}

// Import creates a record for a key issued by another system, keeping the
// old system's hash under the legacy hash version p.HashVersion. The key
// verifies with its old token from then on; its first successful verify
// re-hashes it to the current version. Importing a key twice (same ID or
// same lookup value) gives ErrAlreadyExists. Invalid input gives ErrInvalid.
func (m *Manager) Import(ctx context.Context, p ImportParams) (*Key, error) {
	k, err := m.importKey(p)
	if err != nil {
		return nil, err
	}
	if err := m.store.Create(ctx, k); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return nil, fmt.Errorf("%w: key %s or its lookup value was already imported", ErrAlreadyExists, k.ID)
		}
		return nil, storeErr("import", err)
	}
	m.Invalidate(k.Lookup) // a negative cache entry must not hide the imported key
	m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key imported", append(keyAttrs(k), slog.String("hash_version", k.HashVersion))...)
	m.emit(ctx, Event{Kind: EventImported, At: m.Now(), KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant})
	return k.Clone(), nil
}

// importKey validates p and builds the record.
func (m *Manager) importKey(p ImportParams) (*Key, error) {
	if err := checkTenant(p.Tenant); err != nil || p.Tenant == reservedTenant {
		return nil, fmt.Errorf("%w: tenant must be 1-%d bytes and not %q", ErrInvalid, maxTenantLen, reservedTenant)
	}
	if len(p.Name) > maxKeyNameLen {
		return nil, fmt.Errorf("%w: name longer than %d bytes", ErrInvalid, maxKeyNameLen)
	}
	if len(p.Prefix) > maxDisplayPrefixLen {
		return nil, fmt.Errorf("%w: display prefix longer than %d bytes", ErrInvalid, maxDisplayPrefixLen)
	}
	env := p.Environment
	if env == "" {
		env = m.cfg.envs[0]
	} else if !slices.Contains(m.cfg.envs, env) {
		return nil, fmt.Errorf("%w: unknown environment %q", ErrInvalid, env)
	}
	scheme := m.cfg.legacyScheme(p.HashVersion)
	if scheme == nil {
		return nil, fmt.Errorf("%w: %q is not a legacy hash version registered with WithLegacyImport", ErrInvalid, p.HashVersion)
	}
	hash, lookup, err := scheme.Import(p.Hash, p.Lookup)
	if err != nil {
		return nil, err
	}
	scopes, err := m.checkScopes(p.Scopes)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	created, expires := normTime(p.CreatedAt), normTime(p.ExpiresAt)
	if created.IsZero() {
		created = now
	}
	if created.After(now) {
		return nil, fmt.Errorf("%w: creation time is in the future", ErrInvalid)
	}
	if !expires.IsZero() && !expires.After(created) {
		return nil, fmt.Errorf("%w: expiry must be after creation", ErrInvalid)
	}
	id := p.ID
	if id == "" {
		if id, err = m.newID(created); err != nil {
			return nil, err
		}
	} else if u, err := ulid.ParseStrict(id); err != nil {
		return nil, fmt.Errorf("%w: key ID %q is not a ULID", ErrInvalid, id)
	} else {
		id = u.String() // canonical upper case
	}
	return &Key{
		ID:          id,
		Tenant:      p.Tenant,
		Environment: env,
		Name:        p.Name,
		Prefix:      p.Prefix,
		Lookup:      legacyLookupValue(scheme.Version(), lookup),
		HashVersion: scheme.Version(),
		Hash:        hash,
		Scopes:      scopes,
		CreatedBy:   p.CreatedBy,
		CreatedAt:   created,
		ExpiresAt:   expires,
		Metadata:    maps.Clone(p.Metadata),
	}, nil
}
