// Package chi shows apikey with go-chi/chi: the Authenticator's middleware
// has net/http's shape, so chi takes Require as is.
package chi

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/apikit/apikey"
)

// NewRouter returns the routes of a small jobs API protected by auth:
// GET /jobs/{id} needs jobs:read, POST /jobs needs jobs:write.
func NewRouter(auth *apikey.Authenticator) http.Handler {
	r := chi.NewRouter()
	r.With(auth.Require("jobs:read")).Get("/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		key, _ := apikey.FromContext(r.Context())
		fmt.Fprintf(w, "job %s of %s\n", chi.URLParam(r, "id"), key.Tenant)
	})
	r.With(auth.Require("jobs:write")).Post("/jobs", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	return r
}
