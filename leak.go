package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// EventLeaked is the audit event of Manager.ReportLeak: a key's token was
// found where it should not be (a public repository, a paste...). Reason
// names where, as the reporter said (such as "github:content").
const EventLeaked EventKind = "leaked"

// Identify returns the key a presented token belongs to, whatever the key's
// state (revoked, expired, disabled...), for leak reports: it checks the
// token's format and checksum first (a malformed token gives ErrMalformed
// without touching the store), then does one store read (never the
// verification cache) and compares the keyed hash in constant time. A token
// of no key, or a wrong secret, gives ErrNotFound. Unlike Verify it emits
// no verify event, records no use and never re-hashes.
func (m *Manager) Identify(ctx context.Context, token string) (*Key, error) {
	prefix, env, selector, ok := splitToken(token)
	if ok {
		ok = prefix == m.cfg.prefix && m.knownEnv(env)
	} else {
		selector, ok = m.legacyLookup(token)
	}
	if !ok {
		return nil, ErrMalformed
	}
	k, err := m.store.GetByLookup(ctx, selector)
	if errors.Is(err, ErrNotFound) {
		m.current.Verify(token, m.dummy)
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, storeErr("identify", err)
	}
	h := m.hasher(k.HashVersion)
	if h == nil || !h.Verify(token, k.Hash) {
		if h == nil {
			m.current.Verify(token, m.dummy)
		}
		return nil, ErrNotFound
	}
	return k, nil
}

// ReportLeak records that key id of tenant leaked (use the tenant of the
// key Identify returned),
// found at where (a short label such as "github:content"; never the
// token). It logs the report, emits EventLeaked and, when revoke is set,
// revokes the key (emitting EventRevoked as Revoke does). It returns the
// key as stored afterwards.
func (m *Manager) ReportLeak(ctx context.Context, tenant, id, where string, revoke bool) (*Key, error) {
	k, err := m.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if len(where) > 128 {
		return nil, fmt.Errorf("%w: leak location label over 128 bytes", ErrInvalid)
	}
	m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: leaked key reported",
		append(keyAttrs(k), slog.String("where", where), slog.Bool("revoke", revoke))...)
	m.emit(ctx, Event{Kind: EventLeaked, At: m.Now(), KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant, Reason: where})
	if !revoke {
		return k, nil
	}
	return m.Revoke(ctx, k.Tenant, id)
}
