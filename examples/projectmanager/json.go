package main

import (
	"time"

	"github.com/apikit/apikey"
)

// apiKeyDto is one key in GET /api/data/api-keys. Absent times are null.
type apiKeyDto struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	CreatedBy           string     `json:"createdBy"`
	CreatedDate         *time.Time `json:"createdDate"`
	Expires             *time.Time `json:"expires"`
	LastUsed            *time.Time `json:"lastUsed"`
	LastIntegrationName *string    `json:"lastIntegrationName"`
}

// revokedKeyDto is a key in the answers of the revoke endpoints: the list
// fields plus when it was revoked.
type revokedKeyDto struct {
	apiKeyDto
	RevokedDate *time.Time `json:"revokedDate"`
}

// createdKeyDto is the answer of POST /api/data/api-keys: the only time
// the plaintext key (apiKey) is ever shown.
type createdKeyDto struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	CreatedBy   string     `json:"createdBy"`
	CreatedDate *time.Time `json:"createdDate"`
	Expires     *time.Time `json:"expires"`
	APIKey      string     `json:"apiKey"`
}

// createRequest is the body of POST /api/data/api-keys.
type createRequest struct {
	TokenName *string `json:"tokenName"`
}

// bootstrapRequest is the body of POST /dev/bootstrap.
type bootstrapRequest struct {
	WorkspaceID *string `json:"workspaceId"`
}

// bootstrapDto is the answer of POST /dev/bootstrap.
type bootstrapDto struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId"`
	APIKey      string `json:"apiKey"`
}

// clockRequest is the body of POST /dev/clock.
type clockRequest struct {
	Advance *string `json:"advance"`
}

// clockDto is the answer of POST /dev/clock.
type clockDto struct {
	Now time.Time `json:"now"`
}

// ts returns t in UTC, or nil (JSON null) for the zero time.
func ts(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// keyDto converts a key record for the list.
func keyDto(k *apikey.Key) apiKeyDto {
	d := apiKeyDto{
		ID:          uuidOf(k.ID),
		Name:        k.Name,
		CreatedBy:   k.CreatedBy,
		CreatedDate: ts(k.CreatedAt),
		Expires:     ts(k.ExpiresAt),
		LastUsed:    ts(k.LastUsedAt),
	}
	if k.LastUsedClient != "" {
		c := k.LastUsedClient
		d.LastIntegrationName = &c
	}
	return d
}

// revokedDto converts a key record for the revoke answers.
func revokedDto(k *apikey.Key) revokedKeyDto {
	return revokedKeyDto{apiKeyDto: keyDto(k), RevokedDate: ts(k.RevokedAt)}
}
