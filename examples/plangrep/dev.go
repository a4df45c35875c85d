package main

import (
	"net/http"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
)

// The /dev endpoints exist only with -dev (otherwise the routes are not
// registered and answer 404). They are exempt from the cross-site check:
// they are for demos and tests, never for production.

// bootstrapRequest is the body of POST /dev/bootstrap.
type bootstrapRequest struct {
	WorkspaceID *string `json:"workspaceId"`
	UserID      *string `json:"userId"`
}

// maxIdentLen bounds workspace and user IDs.
const maxIdentLen = 64

// devBootstrap handles POST /dev/bootstrap: it opens a session for the
// given workspace and user, answers 200 {"session":"<value>"} and sets the
// session cookie (HttpOnly, SameSite=Lax, Secure over TLS).
func (a *app) devBootstrap(w http.ResponseWriter, r *http.Request) {
	var req bootstrapRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"workspaceId", req.WorkspaceID}, {"userId", req.UserID}} {
		if f.v == nil || !validIdent(*f.v) {
			writeError(w, http.StatusBadRequest, codeInvalidRequest,
				`"`+f.name+`" is required: 1-64 characters of A-Z, a-z, 0-9, "_" and "-"`)
			return
		}
	}
	v, err := a.sessions.open(session{WorkspaceID: *req.WorkspaceID, UserID: *req.UserID})
	if err != nil {
		a.writeLibError(w, r, err)
		return
	}
	setSessionCookie(w, r, v)
	kit.WriteJSON(w, http.StatusOK, map[string]string{"session": v})
}

// validIdent accepts 1-64 ASCII letters, digits, '_' and '-'.
func validIdent(s string) bool {
	if s == "" || len(s) > maxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// clockRequest is the body of POST /dev/clock.
type clockRequest struct {
	Advance *string `json:"advance"`
}

// devClock handles POST /dev/clock {"advance":"48h"} -> {"now":"<RFC 3339>"}.
func (a *app) devClock(w http.ResponseWriter, r *http.Request) {
	var req clockRequest
	if err := kit.DecodeJSON(w, r, &req, false); err != nil {
		writeBodyError(w, err)
		return
	}
	if req.Advance == nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, `"advance" is required, such as "48h" or "3d"`)
		return
	}
	d, err := kit.ParseAdvance(*req.Advance)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
		return
	}
	now, err := a.clock.Advance(d)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, err.Error())
		return
	}
	kit.WriteJSON(w, http.StatusOK, map[string]string{"now": now.UTC().Format(time.RFC3339)})
}
