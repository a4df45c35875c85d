package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// maxWorkspaceID bounds the workspace ID of /dev/bootstrap, in bytes.
const maxWorkspaceID = 128

// bootstrap answers POST /dev/bootstrap {"workspaceId":"ws_a"} with a new
// key of that workspace (name and createdBy "bootstrap"): the first key a
// demo or a test needs, since every other endpoint wants one.
func (a *app) bootstrap(w http.ResponseWriter, r *http.Request) {
	var req bootstrapRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	switch {
	case req.WorkspaceID == nil || strings.TrimSpace(*req.WorkspaceID) == "":
		writeValidation(w, map[string]string{"workspaceId": "workspaceId is required"})
		return
	case len(*req.WorkspaceID) > maxWorkspaceID || *req.WorkspaceID == "*" ||
		!printable(*req.WorkspaceID):
		writeValidation(w, map[string]string{"workspaceId": "workspaceId must be 1-128 printable characters"})
		return
	}
	iss, err := a.mgr.Create(r.Context(), apikey.CreateParams{
		Tenant:    *req.WorkspaceID,
		Name:      "bootstrap",
		CreatedBy: "bootstrap",
	})
	if err != nil {
		managerError(w, r, a.log, err)
		return
	}
	writeData(w, http.StatusCreated, bootstrapDto{
		ID:          uuidOf(iss.Key.ID),
		WorkspaceID: iss.Key.Tenant,
		APIKey:      iss.Token.Reveal(),
	})
}

// printable reports whether s has no control characters.
func printable(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// advanceClock answers POST /dev/clock {"advance":"48h"} with the moved
// clock's time.
func (a *app) advanceClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	if req.Advance == nil {
		writeValidation(w, map[string]string{"advance": `advance is required, such as "48h"`})
		return
	}
	d, err := kit.ParseAdvance(*req.Advance)
	if err != nil {
		writeValidation(w, map[string]string{"advance": err.Error()})
		return
	}
	if _, err := a.clock.Advance(d); err != nil {
		writeValidation(w, map[string]string{"advance": err.Error()})
		return
	}
	writeData(w, http.StatusOK, clockDto{Now: a.mgr.Now().UTC().Truncate(time.Microsecond)})
}
