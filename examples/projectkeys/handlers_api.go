package main

import (
	"net/http"

	"github.com/apikit/apikey/examples/internal/kit"
)

// whoamiHandler handles GET /v1/whoami: the calling key's identity, or
// {"admin":true} for the operator token. It needs no scope.
func (a *app) whoamiHandler(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	if p.admin {
		kit.WriteJSON(w, http.StatusOK, whoamiAdmin{Admin: true})
		return
	}
	k := p.key
	kit.WriteJSON(w, http.StatusOK, whoami{
		KeyID:         k.ID,
		ProjectID:     k.Tenant,
		EnvironmentID: optString(k.Metadata[metaEnvironment]),
		Scopes:        recordOf(k).Scopes,
	})
}
