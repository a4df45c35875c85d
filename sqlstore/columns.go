package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apikit/apikey"
)

// timeArg binds t the way the dialect stores instants: NULL for the zero
// time, integer microseconds since the epoch on SQLite, and a UTC
// time.Time truncated to microseconds elsewhere.
func (s *Store) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if s.dialect == SQLite {
		return t.UnixMicro()
	}
	return t
}

// timeCol scans a time column written by timeArg: NULL is the zero time.
// It accepts what the drivers return: time.Time, integer microseconds
// (SQLite), or text (MySQL without parseTime, read as UTC).
type timeCol struct{ t *time.Time }

// mysqlTimeLayout is how MySQL prints a DATETIME(6) as text.
const mysqlTimeLayout = "2006-01-02 15:04:05.999999"

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case []byte:
		return c.parse(string(v))
	case string:
		return c.parse(v)
	default:
		return fmt.Errorf("sqlstore: cannot read a time from %T", v)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.ParseInLocation(mysqlTimeLayout, s, time.UTC)
	if err != nil {
		return fmt.Errorf("sqlstore: cannot read time %q: %w", s, err)
	}
	*c.t = t
	return nil
}

// bytesArg binds b, with an empty value as NULL.
func bytesArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// scopesText encodes scopes as a JSON array ("[]" when there are none).
func scopesText(scopes []string) (string, error) {
	if len(scopes) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(scopes)
	return string(b), err
}

// metadataText encodes metadata as a JSON object ("{}" when empty).
func metadataText(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// keyArgs returns the values of k in keyCols order.
func (s *Store) keyArgs(k *apikey.Key) ([]any, error) {
	scopes, err := scopesText(k.Scopes)
	if err != nil {
		return nil, err
	}
	meta, err := metadataText(k.Metadata)
	if err != nil {
		return nil, err
	}
	limits, err := rateLimitsText(k.RateLimits)
	if err != nil {
		return nil, err
	}
	ips, err := ipAllowlistText(k.IPAllowlist)
	if err != nil {
		return nil, err
	}
	cr := s.creditsArgs(k.Credits)
	return []any{
		k.ID, k.Tenant, k.Environment, k.Name, k.Prefix, k.Lookup, k.HashVersion, k.Hash, scopes, k.CreatedBy,
		s.timeArg(k.CreatedAt), s.timeArg(k.ExpiresAt), s.timeArg(k.LastUsedAt), k.LastUsedIP, k.LastUsedClient,
		s.timeArg(k.RevokedAt), k.ReplacedBy, s.timeArg(k.GraceExpiresAt), int64(k.RotationInterval),
		s.timeArg(k.NextRotationAt), k.RotationWebhookURL, bytesArg(k.WebhookSecret), meta,
		k.Disabled, limits, ips, cr.remaining, cr.amount, cr.interval, cr.last,
		s.timeArg(k.NotBefore), k.Owner,
	}, nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// scanKey reads one key in keyCols order.
func scanKey(r rowScanner) (*apikey.Key, error) {
	var (
		k              apikey.Key
		scopes, meta   string
		interval       int64
		hash, whSecret []byte
		limits, ips    sql.NullString
		cr             creditsCols
	)
	err := r.Scan(&k.ID, &k.Tenant, &k.Environment, &k.Name, &k.Prefix, &k.Lookup, &k.HashVersion, &hash, &scopes,
		&k.CreatedBy, timeCol{&k.CreatedAt}, timeCol{&k.ExpiresAt}, timeCol{&k.LastUsedAt}, &k.LastUsedIP,
		&k.LastUsedClient, timeCol{&k.RevokedAt}, &k.ReplacedBy, timeCol{&k.GraceExpiresAt}, &interval,
		timeCol{&k.NextRotationAt}, &k.RotationWebhookURL, &whSecret, &meta,
		&k.Disabled, &limits, &ips, &cr.remaining, &cr.amount, &cr.interval, timeCol{&cr.last},
		timeCol{&k.NotBefore}, &k.Owner)
	if err != nil {
		return nil, err
	}
	k.Hash = hash
	if len(whSecret) > 0 {
		k.WebhookSecret = whSecret
	}
	k.RotationInterval = time.Duration(interval)
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: bad scopes column: %w", k.ID, err)
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	if err := json.Unmarshal([]byte(meta), &k.Metadata); err != nil {
		return nil, fmt.Errorf("sqlstore: key %s: bad metadata column: %w", k.ID, err)
	}
	if len(k.Metadata) == 0 {
		k.Metadata = nil
	}
	if err := scanControls(&k, limits, ips, cr); err != nil {
		return nil, err
	}
	return &k, nil
}

// scanKeys reads every row of rows and closes it.
func scanKeys(rows *sql.Rows) ([]*apikey.Key, error) {
	defer rows.Close()
	var keys []*apikey.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
