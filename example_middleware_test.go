package apikey_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// Protect routes with a key and per-route scopes. The error codes are those
// of SPEC C1; every refusal is an RFC 6750 answer with a JSON body.
func ExampleAuthenticator_RequireAll() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	reader, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_a", Scopes: []string{"jobs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m,
		apikey.WithRealm("plangrep"),
		apikey.WithErrorCodes(apikey.ErrorCodes{Unauthorized: "unauthorized", Forbidden: "forbidden"}),
	)
	if err != nil {
		log.Fatal(err)
	}

	listJobs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := apikey.FromContext(r.Context())
		fmt.Fprintf(w, "jobs of %s\n", key.Tenant)
	})
	createJob := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /jobs", auth.Middleware(auth.RequireAll("jobs:read")(listJobs)))
	mux.Handle("POST /jobs", auth.Middleware(auth.RequireAll("jobs:write")(createJob)))

	call := func(method, token string) {
		r := httptest.NewRequest(method, "/jobs", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		fmt.Println(method, rec.Code)
		if c := rec.Header().Get("WWW-Authenticate"); c != "" {
			fmt.Println(c)
		}
		fmt.Print(rec.Body.String())
	}
	call("GET", reader.Token.Reveal())
	call("POST", reader.Token.Reveal())
	call("GET", "")
	call("GET", "pgk_live_not-a-real-token")
	// Output:
	// GET 200
	// jobs of ws_a
	// POST 403
	// Bearer realm="plangrep", error="insufficient_scope", scope="jobs:write"
	// {"error":{"code":"forbidden","message":"the API key lacks a required scope"}}
	// GET 401
	// Bearer realm="plangrep"
	// {"error":{"code":"unauthorized","message":"authentication required"}}
	// GET 401
	// Bearer realm="plangrep", error="invalid_token"
	// {"error":{"code":"unauthorized","message":"invalid API key"}}
}

// A route that serves anonymous callers too, but more to a key holding one
// of two scopes; the key may also come in an X-API-Key header.
func ExampleWithOptional() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "p1", Scopes: []string{"runs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m, apikey.WithOptional(), apikey.WithHeader("X-API-Key"))
	if err != nil {
		log.Fatal(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if key, ok := apikey.FromContext(r.Context()); ok && apikey.HasAny(key.Scopes, "jobs:read", "runs:read") {
			fmt.Fprintln(w, "full view for", key.Tenant)
			return
		}
		fmt.Fprintln(w, "public view")
	}))

	for _, hdr := range []string{"", is.Token.Reveal(), "wrong"} {
		r := httptest.NewRequest("GET", "/status", nil)
		if hdr != "" {
			r.Header.Set("X-API-Key", hdr)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 public view
	// 200 full view for p1
	// 401 {"error":{"code":"unauthorized","message":"invalid API key"}}
}

// Record last use without a store write per request: uses are coalesced
// per key and written once per interval, and on Close.
func ExampleUsageTracker() {
	ctx := context.Background()
	store := memstore.New()
	m, err := apikey.New(store, apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_a"})
	if err != nil {
		log.Fatal(err)
	}
	usage, err := apikey.NewUsageTracker(store, apikey.WithUsageInterval(time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if err := usage.Start(ctx); err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m,
		apikey.WithUsageTracker(usage),
		apikey.WithClientName(func(r *http.Request) string { return r.Header.Get("X-Integration-Name") }),
	)
	if err != nil {
		log.Fatal(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil) // from 192.0.2.1
		r.Header.Set("Authorization", "Bearer "+is.Token.Reveal())
		r.Header.Set("X-Integration-Name", "zapier")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	// On shutdown, after http.Server.Shutdown returns:
	if err := usage.Close(ctx); err != nil {
		log.Fatal(err)
	}
	k, err := m.Get(ctx, "ws_a", is.Key.ID)
	if err != nil {
		log.Fatal(err)
	}
	st := usage.Stats()
	fmt.Println(!k.LastUsedAt.IsZero(), k.LastUsedIP, k.LastUsedClient)
	fmt.Println("records written:", st.Records)
	// Output:
	// true 192.0.2.1 zapier
	// records written: 1
}
