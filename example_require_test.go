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

// Require is the common path: authentication and an all-of scope check in
// one handler wrapper.
func ExampleAuthenticator_Require() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	reader, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{"jobs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /jobs", auth.Require("jobs:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := apikey.FromContext(r.Context())
		fmt.Fprintf(w, "jobs of %s\n", key.Tenant)
	})))
	mux.Handle("POST /jobs", auth.Require("jobs:write")(http.NotFoundHandler()))

	for _, method := range []string{"GET", "POST"} {
		req := httptest.NewRequest(method, "/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+reader.Token.Reveal())
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Print(method, " ", rec.Code, " ", rec.Body.String())
	}
	// Output:
	// GET 200 jobs of ws_a
	// POST 403 {"error":{"code":"forbidden","message":"the API key lacks a required scope"}}
}

// Frameworks with their own handler types authenticate and check scopes
// with Scoped(...).Authenticate and answer refusals with Fail, so they get
// the same answers as the net/http middleware.
func ExampleAuthenticator_Fail() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	reader, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{"jobs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m, apikey.WithErrorCodes(apikey.ErrorCodes{Forbidden: "missing_scope"}))
	if err != nil {
		log.Fatal(err)
	}
	// handle is what a framework's handler would do with its request and
	// response writer (build the scoped authenticator once per route).
	handle := func(w http.ResponseWriter, r *http.Request, scope string) {
		_, err := auth.Scoped(scope).Authenticate(r)
		if err != nil {
			auth.Fail(w, r, err)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	for _, scope := range []string{"jobs:read", "jobs:write"} {
		req := httptest.NewRequest("GET", "/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+reader.Token.Reveal())
		rec := httptest.NewRecorder()
		handle(rec, req, scope)
		fmt.Print(scope, " ", rec.Code, " ", rec.Body.String())
	}
	// Output:
	// jobs:read 200 ok
	// jobs:write 403 {"error":{"code":"missing_scope","message":"the API key lacks a required scope"}}
}

// Key.Require is the all-of scope check for code that holds the key.
func ExampleKey_Require() {
	k := &apikey.Key{Scopes: []string{"jobs:read"}}
	fmt.Println(k.Require("jobs:read"))
	fmt.Println(k.Require("jobs:read", "jobs:write"))
	// Output:
	// <nil>
	// apikey: insufficient scope: needs all of [jobs:read jobs:write]
}
