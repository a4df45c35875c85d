package apikey_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// miniRouter has the middleware shape of go-chi/chi, gorilla/mux and most
// Go routers: Use(func(http.Handler) http.Handler). It stands in for them
// here so the library does not depend on any router.
type miniRouter struct {
	mux *http.ServeMux
	mws []func(http.Handler) http.Handler
}

func (r *miniRouter) Use(mw func(http.Handler) http.Handler) { r.mws = append(r.mws, mw) }

func (r *miniRouter) Get(pattern string, h http.HandlerFunc) {
	var handler http.Handler = h
	for i := len(r.mws) - 1; i >= 0; i-- {
		handler = r.mws[i](handler)
	}
	r.mux.Handle("GET "+pattern, handler)
}

// The middleware has the standard shape, so a router's Use takes it as is:
// with chi, r.Use(auth.Middleware) and r.With(auth.RequireAll("jobs:read")).
func ExampleAuthenticator_Middleware_router() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{"jobs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m)
	if err != nil {
		log.Fatal(err)
	}

	r := &miniRouter{mux: http.NewServeMux()}
	r.Use(auth.Middleware)                   // every route needs a valid key
	r.Use(auth.RequireAny("jobs:read", "*")) // and one of these scopes
	r.Get("/jobs/{id}", func(w http.ResponseWriter, req *http.Request) {
		key, _ := apikey.FromContext(req.Context())
		fmt.Fprintf(w, "job %s of %s\n", req.PathValue("id"), key.Tenant)
	})

	for _, token := range []string{is.Token.Reveal(), ""} {
		req := httptest.NewRequest("GET", "/jobs/42", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		r.mux.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 job 42 of ws_a
	// 401 {"error":{"code":"unauthorized","message":"authentication required"}}
}
