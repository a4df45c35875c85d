package main

import (
	"context"
	"net/http"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// devClock handles POST /dev/clock {"advance":"48h"} (-dev only): it moves
// the server's clock forward, runs one rotation check at once so that keys
// the jump made due are rotated (or their delivery attempted) before the
// answer, and answers {"now":"..."}.
func (a *app) devClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	d, err := kit.ParseAdvance(req.Advance)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	if _, err := a.clock.Advance(d); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	// A client hanging up must not fail the deliveries under way.
	if _, err := a.scheduler.RunOnce(context.WithoutCancel(r.Context())); err != nil {
		a.log.Warn("rotation check after clock advance failed", "error", err.Error())
	}
	kit.WriteJSON(w, http.StatusOK, clockResponse{Now: jsonTime(a.m.Now())})
}

// devBootstrap handles POST /dev/bootstrap {"project_id":"p1"} (-dev only):
// it creates a key of the project holding every scope of the catalogue and
// answers 201 {"key":"..."}.
func (a *app) devBootstrap(w http.ResponseWriter, r *http.Request) {
	var req bootstrapRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	if err := checkProjectID(req.ProjectID); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	iss, err := a.m.Create(r.Context(), apikey.CreateParams{
		Tenant:    req.ProjectID,
		Name:      "bootstrap",
		Scopes:    a.m.Catalog().Scopes(),
		CreatedBy: "dev-bootstrap",
	})
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	kit.WriteJSON(w, http.StatusCreated, bootstrapResponse{Key: iss.Token.Reveal()})
}
