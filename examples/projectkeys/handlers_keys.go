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

// Field bounds of POST /v1/api-keys.
const (
	maxProjectIDLen         = 128
	maxNameLen              = 256
	maxEnvironmentIDLen     = 128
	maxRotationIntervalDays = 3650
)

// Rotation grace bounds of POST /v1/api-keys/{keyID}/rotate: the default
// when the body gives none, and the longest accepted.
const (
	defaultGrace = time.Hour
	maxGrace     = 30 * 24 * time.Hour
)

// checkText reports whether s is 1 to max bytes of valid UTF-8 without
// control characters.
func checkText(field, s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("%s must be 1-%d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s must be valid UTF-8", field)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s must not hold control characters", field)
		}
	}
	return nil
}

// checkProjectID validates a project_id.
func checkProjectID(id string) error {
	if id == "*" { // refused by apikey as a tenant
		return fmt.Errorf("project_id %q is reserved", id)
	}
	return checkText("project_id", id, maxProjectIDLen)
}

// notFoundProject answers a project the caller may not see: a project key
// learns nothing about other projects, not even whether they exist.
func notFoundProject(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, codeNotFound, "project not found")
}

// createKey handles POST /v1/api-keys.
func (a *app) createKey(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req createRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	if err := checkProjectID(req.ProjectID); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	if !p.canSeeProject(req.ProjectID) {
		notFoundProject(w)
		return
	}
	params, err := a.createParams(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	ctl, err := parseControls(req.controlsRequest)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	ctl.apply(&params)
	if !p.admin {
		if params.ExpiresAt.IsZero() {
			params.ExpiresAt = p.key.ExpiresAt // a managed key never outlives its manager
		}
		if !canIssue(w, p.key, params) {
			return
		}
		if err := withinManager(p.key, params.ExpiresAt, params.RateLimits, params.Credits, params.IPAllowlist); err != nil {
			writeError(w, http.StatusForbidden, codeForbidden, err.Error())
			return
		}
		params.CreatedBy = p.key.ID
	} else {
		params.CreatedBy = "admin"
	}
	if err := kit.CheckKeyLimit(r.Context(), a.m, params.Tenant, a.maxKeys); err != nil {
		writeLibError(w, a.log, err)
		return
	}
	iss, err := a.m.Create(r.Context(), params)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	kit.WriteJSON(w, http.StatusCreated, createdKey{
		keyRecord:             recordOf(iss.Key),
		Key:                   iss.Token.Reveal(),
		RotationWebhookSecret: iss.WebhookSecret.Reveal(),
	})
}

// canIssue applies anti-escalation to a key manager: no scope it lacks, no
// lifetime beyond its own (expires_at must be given, at or before the
// manager's). It answers 403 and returns false when params go too far.
func canIssue(w http.ResponseWriter, manager *apikey.Key, params apikey.CreateParams) bool {
	err := apikey.CanIssue(manager, params)
	switch {
	case err == nil:
		return true
	case errors.Is(err, apikey.ErrOutlivesGranter):
		writeError(w, http.StatusForbidden, codeForbidden,
			strings.Replace(libMessage(err, apikey.ErrOutlivesGranter), "expiry", "expires_at", 1)+" (the managing key's expiry)")
	default:
		writeError(w, http.StatusForbidden, codeForbidden, libMessage(err, apikey.ErrInsufficientScope))
	}
	return false
}

// createParams validates the fields of a create request other than
// project_id and turns them into library parameters.
func (a *app) createParams(req createRequest) (apikey.CreateParams, error) {
	params := apikey.CreateParams{Tenant: req.ProjectID, Name: req.Name, Scopes: req.Scopes}
	if err := checkText("name", req.Name, maxNameLen); err != nil {
		return params, err
	}
	scopes, err := apikey.NormalizeScopes(req.Scopes)
	if err == nil {
		err = a.m.Catalog().Validate(scopes)
	}
	if err != nil {
		return params, errors.New(libMessage(err, apikey.ErrInvalid))
	}
	params.Scopes = scopes
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			return params, errors.New("expires_at must be an RFC 3339 time such as 2030-01-02T15:04:05Z")
		}
		if !t.After(a.m.Now()) {
			return params, errors.New("expires_at must be in the future")
		}
		params.ExpiresAt = t
	}
	if req.EnvironmentID != nil {
		if err := checkText("environment_id", *req.EnvironmentID, maxEnvironmentIDLen); err != nil {
			return params, err
		}
		params.Metadata = map[string]string{metaEnvironment: *req.EnvironmentID}
	}
	if d := req.RotationIntervalDays; d != nil {
		if *d < 1 || *d > maxRotationIntervalDays {
			return params, fmt.Errorf("rotation_interval_days must be between 1 and %d", maxRotationIntervalDays)
		}
		params.RotationInterval = time.Duration(*d) * day
	}
	if u := req.RotationWebhookURL; u != nil {
		if params.RotationInterval == 0 {
			return params, errors.New("rotation_webhook_url needs rotation_interval_days")
		}
		if err := a.m.CheckWebhookURL(*u); err != nil {
			return params, fmt.Errorf("rotation_webhook_url: %s", libMessage(err, apikey.ErrInvalid))
		}
		params.RotationWebhookURL = *u
	}
	return params, nil
}

// listKeys handles GET /v1/api-keys?project_id=...: every key of the
// project, newest first, revoked and rotated ones included; with limit
// (and after), one page, the next one named by a Link header.
func (a *app) listKeys(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	pid := r.URL.Query().Get("project_id")
	if pid == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "project_id query parameter is required")
		return
	}
	if err := checkProjectID(pid); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	if !p.canSeeProject(pid) {
		notFoundProject(w)
		return
	}
	page, err := kit.ParsePage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	keys, err := page.List(r.Context(), w, r, a.m, pid, apikey.ListAny)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	out := make([]keyRecord, 0, len(keys))
	for _, k := range keys {
		out = append(out, recordOf(k))
	}
	kit.WriteJSON(w, http.StatusOK, out)
}

// revokeKey handles DELETE /v1/api-keys/{keyID}. Revoking a revoked key
// again is a 204 that changes nothing.
func (a *app) revokeKey(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	id := r.PathValue("keyID")
	tenant, err := p.tenantOf(r.Context(), a.m, id)
	if err == nil {
		_, err = a.m.Revoke(r.Context(), tenant, id)
	}
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// rotateKey handles POST /v1/api-keys/{keyID}/rotate.
func (a *app) rotateKey(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req rotateRequest
	if err := kit.DecodeJSON(w, r, &req, true); err != nil {
		writeBodyError(w, err)
		return
	}
	grace := a.m.DefaultGrace()
	if s := req.GracePeriodSeconds; s != nil {
		if *s < 0 || *s > int64(maxGrace/time.Second) {
			writeError(w, http.StatusBadRequest, codeBadRequest,
				fmt.Sprintf("grace_period_seconds must be between 0 and %d", int64(maxGrace/time.Second)))
			return
		}
		grace = time.Duration(*s) * time.Second
	}
	id := r.PathValue("keyID")
	tenant, err := p.tenantOf(r.Context(), a.m, id)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	old, err := a.m.Get(r.Context(), tenant, id)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	// A rotation hands out a token with the old key's scopes and expiry: a
	// project key may rotate only keys it could have created.
	if !p.admin && !canIssue(w, p.key, apikey.CreateParams{Scopes: old.Scopes, ExpiresAt: old.ExpiresAt}) {
		return
	}
	rot, err := a.m.Rotate(r.Context(), tenant, id, grace)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	succ := rot.Key
	kit.WriteJSON(w, http.StatusOK, rotatedKey{
		OldKeyID:       rot.Old.ID,
		NewKeyID:       succ.ID,
		ProjectID:      succ.Tenant,
		Name:           succ.Name,
		Key:            rot.Token.Reveal(),
		KeyPrefix:      succ.Prefix,
		Scopes:         recordOf(succ).Scopes,
		ExpiresAt:      jsonTime(succ.ExpiresAt),
		CreatedAt:      jsonTime(succ.CreatedAt),
		GraceExpiresAt: jsonTime(rot.Old.GraceExpiresAt),
	})
}
