package frameworks

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Case is one request to a router under test and the answer it must get.
type Case struct {
	Method, Path, Token string
	Code                int
	Body                string // exact body
	Challenge           string // exact WWW-Authenticate header
}

// The answers of the default error handler (apikey.WriteError, realm "api").
const (
	BodyNoCreds   = `{"error":{"code":"unauthorized","message":"authentication required"}}` + "\n"
	BodyInvalid   = `{"error":{"code":"unauthorized","message":"invalid API key"}}` + "\n"
	BodyForbidden = `{"error":{"code":"forbidden","message":"the API key lacks a required scope"}}` + "\n"
)

// JobsCases are the requests every example router must answer alike:
// reader grants jobs:read, writer jobs:write; keys are in tenant "test"
// (apikeytest.Tenant).
func JobsCases(reader, writer string) []Case {
	return []Case{
		{"GET", "/jobs/42", reader, 200, "job 42 of test\n", ""},
		{"GET", "/jobs/42", writer, 403, BodyForbidden, `Bearer realm="api", error="insufficient_scope", scope="jobs:read"`},
		{"GET", "/jobs/42", "", 401, BodyNoCreds, `Bearer realm="api"`},
		{"GET", "/jobs/42", "test_live_nope", 401, BodyInvalid, `Bearer realm="api", error="invalid_token"`},
		{"POST", "/jobs", writer, 201, "", ""},
		{"POST", "/jobs", reader, 403, BodyForbidden, `Bearer realm="api", error="insufficient_scope", scope="jobs:write"`},
	}
}

// Run serves h on a real local server and sends every case to it.
func Run(t *testing.T, h http.Handler, cases []Case) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range cases {
		req, err := http.NewRequest(c.Method, srv.URL+c.Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		tok := c.Token
		if len(tok) > 12 {
			tok = tok[:12] + "..."
		}
		if res.StatusCode != c.Code || string(body) != c.Body {
			t.Errorf("%s %s (token %q): %d %q, want %d %q", c.Method, c.Path, tok, res.StatusCode, body, c.Code, c.Body)
		}
		if got := res.Header.Get("WWW-Authenticate"); got != c.Challenge {
			t.Errorf("%s %s (token %q): WWW-Authenticate %q, want %q", c.Method, c.Path, tok, got, c.Challenge)
		}
		if c.Code >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: refusal with Content-Type %q", c.Method, c.Path, res.Header.Get("Content-Type"))
		}
	}
}
