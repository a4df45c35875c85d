package main

import (
	"encoding/json"
	"time"

	"github.com/apikit/apikey"
)

// metaEnvironment is the Metadata entry holding seed 003's free-form
// environment_id (the token environment is always "live").
const metaEnvironment = "environment_id"

// day is the unit of rotation_interval_days.
const day = 24 * time.Hour

// jsonTime is an instant on the wire: RFC 3339 in UTC with "Z", or null
// when zero.
type jsonTime time.Time

// MarshalJSON implements json.Marshaler.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(tt.UTC().Format(time.RFC3339))
}

// optString is a string on the wire that is null when empty.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// keyRecord is seed 003's API key record.
type keyRecord struct {
	ID                   string   `json:"id"`
	ProjectID            string   `json:"project_id"`
	Name                 string   `json:"name"`
	KeyPrefix            string   `json:"key_prefix"`
	Scopes               []string `json:"scopes"`
	ExpiresAt            jsonTime `json:"expires_at"`
	LastUsedAt           jsonTime `json:"last_used_at"`
	CreatedAt            jsonTime `json:"created_at"`
	RevokedAt            jsonTime `json:"revoked_at"`
	ReplacedByKeyID      *string  `json:"replaced_by_key_id"`
	GraceExpiresAt       jsonTime `json:"grace_expires_at"`
	EnvironmentID        *string  `json:"environment_id"`
	RotationIntervalDays *int     `json:"rotation_interval_days"`
	NextRotationAt       jsonTime `json:"next_rotation_at"`
	RotationWebhookURL   *string  `json:"rotation_webhook_url"`
	// Controls (SPEC D2).
	Enabled     bool            `json:"enabled"`
	RateLimits  []wireRateLimit `json:"ratelimits"`
	Credits     *wireCreditsOut `json:"credits"`
	IPAllowlist []string        `json:"ip_allowlist"`
}

// recordOf renders a stored key.
func recordOf(k *apikey.Key) keyRecord {
	r := keyRecord{
		ID:                 k.ID,
		ProjectID:          k.Tenant,
		Name:               k.Name,
		KeyPrefix:          k.Prefix,
		Scopes:             k.Scopes,
		ExpiresAt:          jsonTime(k.ExpiresAt),
		LastUsedAt:         jsonTime(k.LastUsedAt),
		CreatedAt:          jsonTime(k.CreatedAt),
		RevokedAt:          jsonTime(k.RevokedAt),
		ReplacedByKeyID:    optString(k.ReplacedBy),
		GraceExpiresAt:     jsonTime(k.GraceExpiresAt),
		EnvironmentID:      optString(k.Metadata[metaEnvironment]),
		NextRotationAt:     jsonTime(k.NextRotationAt),
		RotationWebhookURL: optString(k.RotationWebhookURL),
	}
	if r.Scopes == nil {
		r.Scopes = []string{}
	}
	if k.RotationInterval > 0 {
		d := int(k.RotationInterval / day)
		r.RotationIntervalDays = &d
	}
	recordControls(k, &r)
	return r
}

// createRequest is the body of POST /v1/api-keys.
type createRequest struct {
	ProjectID            string   `json:"project_id"`
	Name                 string   `json:"name"`
	Scopes               []string `json:"scopes"`
	ExpiresAt            *string  `json:"expires_at"`
	EnvironmentID        *string  `json:"environment_id"`
	RotationIntervalDays *int     `json:"rotation_interval_days"`
	RotationWebhookURL   *string  `json:"rotation_webhook_url"`
	controlsRequest
}

// patchRequest is the body of PATCH /v1/api-keys/{keyID}: absent fields
// are left alone.
type patchRequest struct {
	Name   *string   `json:"name"`
	Scopes *[]string `json:"scopes"`
	controlsRequest
}

// createdKey is the answer to POST /v1/api-keys: the record, the
// plaintext token (shown once) and, for keys with a rotation webhook, its
// signing secret (shown once).
type createdKey struct {
	keyRecord
	Key                   string `json:"key"`
	RotationWebhookSecret string `json:"rotation_webhook_secret,omitempty"`
}

// rotateRequest is the body of POST /v1/api-keys/{keyID}/rotate.
type rotateRequest struct {
	GracePeriodSeconds *int64 `json:"grace_period_seconds"`
}

// rotatedKey is seed 003's rotate response.
type rotatedKey struct {
	OldKeyID       string   `json:"old_key_id"`
	NewKeyID       string   `json:"new_key_id"`
	ProjectID      string   `json:"project_id"`
	Name           string   `json:"name"`
	Key            string   `json:"key"`
	KeyPrefix      string   `json:"key_prefix"`
	Scopes         []string `json:"scopes"`
	ExpiresAt      jsonTime `json:"expires_at"`
	CreatedAt      jsonTime `json:"created_at"`
	GraceExpiresAt jsonTime `json:"grace_expires_at"`
}

// whoami is the answer to GET /v1/whoami for a project key.
type whoami struct {
	KeyID         string   `json:"key_id"`
	ProjectID     string   `json:"project_id"`
	EnvironmentID *string  `json:"environment_id"`
	Scopes        []string `json:"scopes"`
}

// whoamiAdmin is the answer to GET /v1/whoami for the operator token.
type whoamiAdmin struct {
	Admin bool `json:"admin"`
}

// bootstrapRequest is the body of POST /dev/bootstrap.
type bootstrapRequest struct {
	ProjectID string `json:"project_id"`
}

// bootstrapResponse is the answer to POST /dev/bootstrap.
type bootstrapResponse struct {
	Key string `json:"key"`
}

// clockRequest is the body of POST /dev/clock.
type clockRequest struct {
	Advance string `json:"advance"`
}

// clockResponse is the answer to POST /dev/clock.
type clockResponse struct {
	Now jsonTime `json:"now"`
}
