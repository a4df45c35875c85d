package main

import (
	"net/http"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// patchKey handles PATCH /v1/api-keys/{keyID}: any of name, scopes,
// enabled, ratelimits, credits, ip_allowlist. A key manager may grant only
// scopes it holds and may not leave the key outside its own limits.
func (a *app) patchKey(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	var req patchRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	var u apikey.UpdateParams
	if req.Name != nil {
		if err := checkText("name", *req.Name, maxNameLen); err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
			return
		}
		u.Name = req.Name
	}
	if req.Scopes != nil {
		scopes, err := apikey.NormalizeScopes(*req.Scopes)
		if err == nil {
			err = a.m.Catalog().Validate(scopes)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "scopes: "+libMessage(err, apikey.ErrInvalid))
			return
		}
		u.Scopes = &scopes
	}
	ctl, err := parseControls(req.controlsRequest)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	if ctl.enabled != nil {
		disabled := !*ctl.enabled
		u.Disabled = &disabled
	}
	u.RateLimits, u.Credits, u.IPAllowlist = ctl.rateLimits, ctl.credits, ctl.ips
	id := r.PathValue("keyID")
	tenant, err := p.tenantOf(r.Context(), a.m, id)
	var old *apikey.Key
	if err == nil {
		old, err = a.m.Get(r.Context(), tenant, id)
	}
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	if !p.admin {
		// The key as it would be after the change must be within the manager.
		scopes, limits, credits, ips := old.Scopes, old.RateLimits, old.Credits, old.IPAllowlist
		if u.Scopes != nil {
			scopes = *u.Scopes
		}
		if u.RateLimits != nil {
			limits = *u.RateLimits
		}
		if u.Credits != nil {
			credits = *u.Credits
		}
		if u.IPAllowlist != nil {
			ips = *u.IPAllowlist
		}
		if err := apikey.CanGrant(p.key.Scopes, scopes); err != nil {
			writeError(w, http.StatusForbidden, codeForbidden, libMessage(err, apikey.ErrInsufficientScope))
			return
		}
		if err := withinManager(p.key, old.ExpiresAt, limits, credits, ips); err != nil {
			writeError(w, http.StatusForbidden, codeForbidden, err.Error())
			return
		}
	}
	k, err := a.m.Update(r.Context(), tenant, old.ID, u)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	kit.WriteJSON(w, http.StatusOK, recordOf(k))
}
