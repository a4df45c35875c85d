package apikey_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/apikit/apikey"
)

// seen is what a downstream handler saw of a request.
type seen struct {
	header     http.Header
	rawQuery   string
	requestURI string
	keyID      string
}

func TestHideCredentials(t *testing.T) {
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{})
	tok := is.Token.Reveal()

	cases := []struct {
		name  string
		build func(base string) *http.Request
	}{
		{"bearer", func(base string) *http.Request {
			r, _ := http.NewRequest("GET", base+"/p?a=1", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			return r
		}},
		{"named header", func(base string) *http.Request {
			r, _ := http.NewRequest("GET", base+"/p?a=1", nil)
			r.Header.Set("X-API-Key", tok)
			return r
		}},
		{"query parameter", func(base string) *http.Request {
			r, _ := http.NewRequest("GET", base+"/p?a=1&api_key="+url.QueryEscape(tok), nil)
			return r
		}},
	}
	for _, hide := range []bool{false, true} {
		opts := []apikey.MiddlewareOption{apikey.WithHeader("X-API-Key"), apikey.WithQueryParam("api_key")}
		if hide {
			opts = append(opts, apikey.WithHideCredentials())
		}
		auth, err := apikey.NewAuthenticator(f.m, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got seen
		srv := httptest.NewServer(auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, _ := apikey.FromContext(r.Context())
			mu.Lock()
			got = seen{header: r.Header.Clone(), rawQuery: r.URL.RawQuery, requestURI: r.RequestURI, keyID: k.ID}
			mu.Unlock()
		})))
		for _, tc := range cases {
			t.Run(tc.name+map[bool]string{false: "/shown", true: "/hidden"}[hide], func(t *testing.T) {
				req := tc.build(srv.URL)
				req.Header.Set("X-Other", "kept")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				mu.Lock()
				s := got
				mu.Unlock()
				if s.keyID != is.Key.ID {
					t.Errorf("handler saw key %q, want %s", s.keyID, is.Key.ID)
				}
				dump := strings.Join([]string{s.header.Get("Authorization"), s.header.Get("X-API-Key"), s.rawQuery, s.requestURI}, " ")
				if leaked := strings.Contains(dump, tok); leaked == hide {
					t.Errorf("hide=%v: token reached the handler: %v (header %v, query %q, URI %q)",
						hide, leaked, s.header, s.rawQuery, s.requestURI)
				}
				if s.header.Get("X-Other") != "kept" || !strings.Contains(s.rawQuery, "a=1") || !strings.Contains(s.requestURI, "a=1") {
					t.Errorf("other header or query parameter lost: header %v, query %q, URI %q", s.header, s.rawQuery, s.requestURI)
				}
			})
		}
		srv.Close()
	}
}

// The middleware hides the credentials from the request it passes on, not
// from the caller's request, and leaves another scheme's header alone.
func TestHideCredentialsCopiesRequest(t *testing.T) {
	f := newFixture(t)
	is := f.create(t, "ws_1", apikey.CreateParams{})
	auth, err := apikey.NewAuthenticator(f.m, apikey.WithHideCredentials(), apikey.WithHeader("X-API-Key"), apikey.WithOptional())
	if err != nil {
		t.Fatal(err)
	}
	var downstream http.Header
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { downstream = r.Header.Clone() }))

	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", is.Token.Reveal())
	h.ServeHTTP(httptest.NewRecorder(), r)
	if downstream.Get("X-API-Key") != "" {
		t.Errorf("handler saw the X-API-Key header")
	}
	if r.Header.Get("X-API-Key") != is.Token.Reveal() {
		t.Errorf("the caller's request lost its header")
	}

	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if downstream.Get("Authorization") != "Basic dXNlcjpwYXNz" {
		t.Errorf("a Basic Authorization header was removed: %v", downstream)
	}
}
