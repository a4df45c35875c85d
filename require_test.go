package apikey_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apikit/apikey"
)

// Require authenticates and checks scopes in one handler, over real HTTP.
func TestRequire(t *testing.T) {
	f := newFixture(t)
	reader := f.create(t, "ws", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	writer := f.create(t, "ws", apikey.CreateParams{Scopes: []string{"jobs:write"}})
	revoked := f.create(t, "ws", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	if _, err := f.m.Revoke(t.Context(), "ws", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}
	for _, optional := range []bool{false, true} {
		var opts []apikey.MiddlewareOption
		if optional {
			opts = append(opts, apikey.WithOptional()) // Require still needs a key
		}
		auth, err := apikey.NewAuthenticator(f.m, opts...)
		if err != nil {
			t.Fatal(err)
		}
		echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, ok := apikey.FromContext(r.Context())
			if !ok {
				t.Error("no key in context")
				return
			}
			fmt.Fprint(w, k.ID)
		})
		mux := http.NewServeMux()
		mux.Handle("GET /read", auth.Require("jobs:read")(echo))
		mux.Handle("GET /both", auth.Require("jobs:read", "jobs:write")(echo))
		mux.Handle("GET /any", auth.Require()(echo))
		srv := httptest.NewServer(mux)
		defer srv.Close()

		cases := []struct {
			path, token string
			code        int
			body        string
		}{
			{"/read", reader.Token.Reveal(), 200, reader.Key.ID},
			{"/read", writer.Token.Reveal(), 403, bodyForbidden},
			{"/read", revoked.Token.Reveal(), 401, bodyInvalid},
			{"/read", "pgk_live_nope", 401, bodyInvalid},
			{"/read", "", 401, bodyNoCreds},
			{"/both", reader.Token.Reveal(), 403, bodyForbidden},
			{"/any", writer.Token.Reveal(), 200, writer.Key.ID},
			{"/any", "", 401, bodyNoCreds},
		}
		for _, c := range cases {
			req, _ := http.NewRequest("GET", srv.URL+c.path, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.code || string(body) != c.body {
				t.Errorf("optional=%v %s %.12q: %d %q, want %d %q", optional, c.path, c.token, res.StatusCode, body, c.code, c.body)
			}
			if c.code == 403 && res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 403 without a challenge", c.path)
			}
		}
	}
}

// Fail gives the configured answer: custom codes, or a custom handler.
func TestFail(t *testing.T) {
	f := newFixture(t)
	auth, err := apikey.NewAuthenticator(f.m, apikey.WithRealm("jobs"), apikey.WithErrorCodes(apikey.ErrorCodes{Forbidden: "no_scope"}))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err  error
		code int
		want string
	}{
		{nil, 401, `{"error":{"code":"unauthorized","message":"authentication required"}}` + "\n"},
		{apikey.ErrNoCredentials, 401, `{"error":{"code":"unauthorized","message":"authentication required"}}` + "\n"},
		{apikey.ErrRevoked, 401, bodyInvalid},
		{&apikey.ScopeError{Scopes: []string{"jobs:read"}}, 403, `{"error":{"code":"no_scope","message":"the API key lacks a required scope"}}` + "\n"},
		{fmt.Errorf("%w: db down", apikey.ErrStoreUnavailable), 503, bodyUnavailable},
		{errors.New("something else"), 401, bodyInvalid},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		auth.Fail(rec, httptest.NewRequest("GET", "/", nil), c.err)
		if rec.Code != c.code || rec.Body.String() != c.want {
			t.Errorf("Fail(%v): %d %q, want %d %q", c.err, rec.Code, rec.Body, c.code, c.want)
		}
		if ch := rec.Header().Get("WWW-Authenticate"); c.code != 503 && ch == "" {
			t.Errorf("Fail(%v): no challenge", c.err)
		}
	}

	var got error
	custom, err := apikey.NewAuthenticator(f.m, apikey.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	custom.Fail(rec, httptest.NewRequest("GET", "/", nil), apikey.ErrExpired)
	if rec.Code != http.StatusTeapot || !errors.Is(got, apikey.ErrExpired) {
		t.Errorf("custom handler: %d %v", rec.Code, got)
	}
}

func TestKeyRequire(t *testing.T) {
	k := &apikey.Key{Scopes: []string{"jobs:read", "billing:*"}}
	for _, ok := range [][]string{nil, {"jobs:read"}, {"jobs:read", "billing:write"}} {
		if err := k.Require(ok...); err != nil {
			t.Errorf("Require(%v): %v", ok, err)
		}
	}
	err := k.Require("jobs:read", "jobs:write")
	var se *apikey.ScopeError
	if !errors.As(err, &se) || !errors.Is(err, apikey.ErrInsufficientScope) || se.Any || len(se.Scopes) != 2 {
		t.Fatalf("Require: %#v", err)
	}
	if err := (&apikey.Key{}).Require("jobs:read"); err == nil {
		t.Error("a key without scopes granted jobs:read")
	}
}

// Require checks scopes before a key's credits are spent: requests
// refused for their scopes leave the credit for an allowed one.
func TestRequireSpendsNothingOnScopeRefusal(t *testing.T) {
	f := newFixture(t)
	tok := f.create(t, "ws", apikey.CreateParams{Scopes: []string{"a:read"}, Credits: &apikey.Credits{Remaining: 1}}).Token.Reveal()
	auth, err := apikey.NewAuthenticator(f.m)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	write, read := auth.Require("b:write")(ok), auth.Require("a:read")(ok)
	for range 3 {
		if rec := serve(write, bearer(tok)); rec.Code != http.StatusForbidden {
			t.Fatalf("b:write: %d, want 403", rec.Code)
		}
	}
	if rec := serve(read, bearer(tok)); rec.Code != http.StatusOK {
		t.Fatalf("a:read with the credit left: %d, want 200", rec.Code)
	}
	if rec := serve(read, bearer(tok)); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a:read with no credit left: %d, want 429", rec.Code)
	}
}
