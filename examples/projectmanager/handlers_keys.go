package main

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// maxTokenName bounds tokenName, in characters.
const maxTokenName = 100

// caller returns the verified key of the request (the authenticator put it
// there; a missing one is answered 401, failing closed).
func caller(w http.ResponseWriter, r *http.Request) (*apikey.Key, bool) {
	k, ok := apikey.FromContext(r.Context())
	if !ok {
		authError(w, r, apikey.ErrNoCredentials)
	}
	return k, ok
}

// listKeys answers GET /api/data/api-keys: the workspace's keys that still
// work (not revoked, not expired), newest first.
func (a *app) listKeys(w http.ResponseWriter, r *http.Request) {
	k, ok := caller(w, r)
	if !ok {
		return
	}
	page, err := kit.ParsePage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error(), nil)
		return
	}
	keys, err := page.List(r.Context(), w, r, a.mgr, k.Tenant, apikey.ListActive)
	if err != nil {
		managerError(w, r, a.log, err)
		return
	}
	out := make([]apiKeyDto, 0, len(keys))
	for _, key := range keys {
		out = append(out, keyDto(key))
	}
	writeData(w, http.StatusOK, out)
}

// createKey answers POST /api/data/api-keys {"tokenName":"..."} with the
// new key and its plaintext, shown this once.
func (a *app) createKey(w http.ResponseWriter, r *http.Request) {
	k, ok := caller(w, r)
	if !ok {
		return
	}
	var req createRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	name, msg := checkTokenName(req.TokenName)
	if msg != "" {
		writeValidation(w, map[string]string{"tokenName": msg})
		return
	}
	if err := kit.CheckKeyLimit(r.Context(), a.mgr, k.Tenant, a.maxKeys); err != nil {
		managerError(w, r, a.log, err)
		return
	}
	iss, err := a.mgr.Create(r.Context(), apikey.CreateParams{
		Tenant:    k.Tenant,
		Name:      name,
		CreatedBy: uuidOf(k.ID),
	})
	if err != nil {
		managerError(w, r, a.log, err)
		return
	}
	writeData(w, http.StatusCreated, createdKeyDto{
		ID:          uuidOf(iss.Key.ID),
		Name:        iss.Key.Name,
		CreatedBy:   iss.Key.CreatedBy,
		CreatedDate: ts(iss.Key.CreatedAt),
		Expires:     ts(iss.Key.ExpiresAt),
		APIKey:      iss.Token.Reveal(),
	})
}

// checkTokenName returns the trimmed name, or a message saying what is
// wrong with it.
func checkTokenName(p *string) (string, string) {
	if p == nil {
		return "", "tokenName is required"
	}
	name := strings.TrimSpace(*p)
	switch {
	case name == "":
		return "", "tokenName must not be empty"
	case utf8.RuneCountInString(name) > maxTokenName:
		return "", "tokenName must be at most 100 characters"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", "tokenName must not contain control characters"
	}
	return name, ""
}

// revokeKey answers DELETE /api/data/api-keys/{id}/revoke with the revoked
// key. Revoking a revoked key changes nothing and answers the same. A key
// of another workspace is not found.
func (a *app) revokeKey(w http.ResponseWriter, r *http.Request) {
	k, ok := caller(w, r)
	if !ok {
		return
	}
	id, ok := ulidOfUUID(r.PathValue("id"))
	if !ok {
		writeValidation(w, map[string]string{"id": "id must be a UUID such as 0193a8e2-5c4e-7d3a-9b1f-2a6c0e8d4f71"})
		return
	}
	revoked, err := a.mgr.Revoke(r.Context(), k.Tenant, id)
	if err != nil {
		managerError(w, r, a.log, err)
		return
	}
	writeData(w, http.StatusOK, revokedDto(revoked))
}

// revokeAll answers DELETE /api/data/api-keys/revoke-all: every key of the
// workspace not revoked yet, the calling key included, is revoked at one
// timestamp (keys revoked earlier keep theirs). The answer lists every key
// of the workspace afterwards, newest first, with its revokedDate.
func (a *app) revokeAll(w http.ResponseWriter, r *http.Request) {
	k, ok := caller(w, r)
	if !ok {
		return
	}
	keys, err := a.mgr.RevokeAll(r.Context(), k.Tenant)
	if err != nil {
		managerError(w, r, a.log, err)
		return
	}
	out := make([]revokedKeyDto, 0, len(keys))
	for _, key := range keys {
		out = append(out, revokedDto(key))
	}
	writeData(w, http.StatusOK, out)
}
