package main

import (
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/oklog/ulid/v2"
)

// keyIDPrefix starts every key ID on the wire: "key_" + the lowercase ULID
// of the library's record.
const keyIDPrefix = "key_"

// openAPIKey is Plangrep's OpenApiKey: the record of a key as the
// management API shows it. Absent times and lastUsedIp are null. It never
// holds the token or its hash.
type openAPIKey struct {
	ID              string    `json:"id"`
	Label           string    `json:"label"`
	KeyPrefix       string    `json:"keyPrefix"`
	Scopes          []string  `json:"scopes"`
	CreatedByUserID string    `json:"createdByUserId"`
	HashVersion     string    `json:"hashVersion"`
	CreatedAt       wireTime  `json:"createdAt"`
	ExpiresAt       *wireTime `json:"expiresAt"`
	LastUsedAt      *wireTime `json:"lastUsedAt"`
	LastUsedIP      *string   `json:"lastUsedIp"`
	RevokedAt       *wireTime `json:"revokedAt"`
}

// toOpenAPIKey renders a library record.
func toOpenAPIKey(k *apikey.Key) openAPIKey {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	o := openAPIKey{
		ID:              wireKeyID(k.ID),
		Label:           k.Name,
		KeyPrefix:       k.Prefix,
		Scopes:          scopes,
		CreatedByUserID: k.CreatedBy,
		HashVersion:     k.HashVersion,
		CreatedAt:       wireTime(k.CreatedAt),
		ExpiresAt:       optTime(k.ExpiresAt),
		LastUsedAt:      optTime(k.LastUsedAt),
		RevokedAt:       optTime(k.RevokedAt),
	}
	if k.LastUsedIP != "" {
		ip := k.LastUsedIP
		o.LastUsedIP = &ip
	}
	return o
}

// toOpenAPIKeys renders a list, never null.
func toOpenAPIKeys(keys []*apikey.Key) []openAPIKey {
	out := make([]openAPIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, toOpenAPIKey(k))
	}
	return out
}

// wireKeyID turns a library ID (an uppercase ULID) into "key_<ulid>".
func wireKeyID(id string) string { return keyIDPrefix + strings.ToLower(id) }

// libKeyID turns "key_<ulid>" (either case) back into the library's ID, and
// reports false for anything else.
func libKeyID(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, keyIDPrefix)
	if !ok || len(rest) != ulid.EncodedSize {
		return "", false
	}
	id, err := ulid.ParseStrict(rest)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

// wireTime is an instant rendered as RFC 3339 in UTC with a "Z", with as
// many fractional digits as it has (the store keeps microseconds).
type wireTime time.Time

// MarshalText implements encoding.TextMarshaler.
func (t wireTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(time.RFC3339Nano)), nil
}

// optTime is nil for the zero time.
func optTime(t time.Time) *wireTime {
	if t.IsZero() {
		return nil
	}
	w := wireTime(t)
	return &w
}

// createKeyRequest is the body of POST /api/open-api/keys.
type createKeyRequest struct {
	Label     *string  `json:"label"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expiresAt"`
}

// createKeyResponse is the answer to POST /api/open-api/keys: the record
// and, this once, the plaintext token.
type createKeyResponse struct {
	Key          openAPIKey `json:"key"`
	PlaintextKey string     `json:"plaintextKey"`
}

// keyResponse is {"key":OpenApiKey}.
type keyResponse struct {
	Key openAPIKey `json:"key"`
}

// keysResponse is {"keys":[OpenApiKey...]}.
type keysResponse struct {
	Keys []openAPIKey `json:"keys"`
}
