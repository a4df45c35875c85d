package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// Bounds on a key's label: 120 characters, and the library's bound on key
// names in bytes (only labels of many 3- and 4-byte characters reach it).
const (
	maxLabelRunes = 120
	maxLabelBytes = 256
)

// createKey handles POST /api/open-api/keys.
func (a *app) createKey(w http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	var req createKeyRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	p, err := a.createParams(s, req)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
		return
	}
	if err := kit.CheckKeyLimit(r.Context(), a.manager, p.Tenant, a.maxKeys); err != nil {
		a.writeLibError(w, r, err)
		return
	}
	issued, err := a.manager.Create(r.Context(), p)
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	kit.WriteJSON(w, http.StatusCreated, createKeyResponse{
		Key:          toOpenAPIKey(issued.Key),
		PlaintextKey: issued.Token.Reveal(),
	})
}

// createParams validates a create request; its error is the message for
// the client. The settings page's form runs the same checks field by field.
func (a *app) createParams(s session, req createKeyRequest) (apikey.CreateParams, error) {
	p := apikey.CreateParams{Tenant: s.WorkspaceID, CreatedBy: s.UserID}
	if req.Label == nil {
		return p, errors.New(`"label" is required`)
	}
	if err := checkLabel(`"label"`, *req.Label); err != nil {
		return p, err
	}
	p.Name = *req.Label
	if err := a.checkScopes(`"scopes"`, req.Scopes); err != nil {
		return p, err
	}
	p.Scopes = req.Scopes
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			return p, fmt.Errorf(`"expiresAt" must be an RFC 3339 time such as "2030-01-02T15:04:05Z", or null`)
		}
		if err := a.checkExpiry(`"expiresAt"`, t); err != nil {
			return p, err
		}
		p.ExpiresAt = t
	}
	return p, nil
}

// checkLabel accepts 1 to 120 characters, not all blank, without control
// characters; field names the label in the error.
func checkLabel(field, l string) error {
	n := utf8.RuneCountInString(l)
	switch {
	case n == 0 || strings.TrimSpace(l) == "":
		return fmt.Errorf(`%s must not be empty`, field)
	case n > maxLabelRunes:
		return fmt.Errorf(`%s must be at most %d characters (got %d)`, field, maxLabelRunes, n)
	case len(l) > maxLabelBytes:
		return fmt.Errorf(`%s must be at most %d bytes of UTF-8 (got %d)`, field, maxLabelBytes, len(l))
	case strings.ContainsFunc(l, unicode.IsControl):
		return fmt.Errorf(`%s must not contain control characters`, field)
	}
	return nil
}

// checkScopes accepts one or more scopes of the catalogue; field names the
// scopes in the error.
func (a *app) checkScopes(field string, scopes []string) error {
	known := strings.Join(a.manager.Catalog().Scopes(), ", ")
	if len(scopes) == 0 {
		return fmt.Errorf(`%s must name at least one of %s`, field, known)
	}
	for _, sc := range scopes {
		if !a.manager.Catalog().Contains(sc) {
			return fmt.Errorf("unknown scope %q: known scopes are %s", sc, known)
		}
	}
	return nil
}

// checkExpiry accepts an instant after the server's now; field names it in
// the error.
func (a *app) checkExpiry(field string, t time.Time) error {
	if !t.After(a.manager.Now()) {
		return fmt.Errorf(`%s must be in the future`, field)
	}
	return nil
}

// listKeys handles GET /api/open-api/keys: every key of the workspace,
// newest first.
func (a *app) listKeys(w http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	page, err := kit.ParsePage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
		return
	}
	keys, err := page.List(r.Context(), w, r, a.manager, s.WorkspaceID, apikey.ListAny)
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	kit.WriteJSON(w, http.StatusOK, keysResponse{Keys: toOpenAPIKeys(keys)})
}

// revokeKey handles POST /api/open-api/keys/{id}/revoke. Revoking twice
// changes nothing; an unknown, malformed or other workspace's id is 404.
func (a *app) revokeKey(w http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !emptyBody(w, r) {
		return
	}
	id, ok := libKeyID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, codeNotFound, "no such key")
		return
	}
	k, err := a.manager.Revoke(r.Context(), s.WorkspaceID, id)
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	kit.WriteJSON(w, http.StatusOK, keyResponse{Key: toOpenAPIKey(k)})
}

// revokeAll handles POST /api/open-api/keys/revoke-all: every active key of
// the workspace is revoked at one timestamp (keys revoked earlier keep
// theirs), and every key of the workspace is returned.
func (a *app) revokeAll(w http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	if !emptyBody(w, r) {
		return
	}
	keys, err := a.manager.RevokeAll(r.Context(), s.WorkspaceID)
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	kit.WriteJSON(w, http.StatusOK, keysResponse{Keys: toOpenAPIKeys(keys)})
}

// emptyBody accepts no body or {} (the endpoints take no parameters) and
// answers anything else; it reports whether to go on.
func emptyBody(w http.ResponseWriter, r *http.Request) bool {
	var none struct{}
	if err := kit.DecodeJSON(w, r, &none, true); err != nil {
		writeBodyError(w, err)
		return false
	}
	return true
}
