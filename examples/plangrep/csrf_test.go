package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apikit/apikey/examples/internal/kit"
)

func TestCrossSiteRefused(t *testing.T) {
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no Origin, no Sec-Fetch-Site (curl)", nil, 0},
		{"Sec-Fetch-Site same-origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 0},
		{"Sec-Fetch-Site none", map[string]string{"Sec-Fetch-Site": "none"}, 0},
		{"same Origin", map[string]string{"Origin": "SELF"}, 0},
		{"same Origin and same-origin", map[string]string{"Origin": "SELF", "Sec-Fetch-Site": "same-origin"}, 0},
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"same Origin but cross-site", map[string]string{"Origin": "SELF", "Sec-Fetch-Site": "cross-site"}, 403},
		{"foreign Origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"foreign Origin, same-origin claimed", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"}, 403},
		{"Origin null", map[string]string{"Origin": "null"}, 403},
		{"Origin https of this host", map[string]string{"Origin": "SELF-HTTPS"}, 403},
		{"Origin other port", map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"Origin with a path", map[string]string{"Origin": "SELF/x"}, 403},
	}
	forEngines(t, func(t *testing.T, s *testServer) {
		self := s.srv.URL
		sess := s.bootstrap("ws_a", "usr_1")
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var opts []reqOpt
				for k, v := range tc.hdr {
					switch v {
					case "SELF":
						v = self
					case "SELF/x":
						v = self + "/x"
					case "SELF-HTTPS":
						v = "https" + self[len("http"):]
					}
					opts = append(opts, withHeader(k, v))
				}
				k, _ := s.createKey(sess, "victim", "jobs:read")
				calls := []struct {
					path string
					body any
					ok   int
				}{
					{"/api/open-api/keys", map[string]any{"label": "x", "scopes": []string{"jobs:read"}}, 201},
					{"/api/open-api/keys/" + k.ID + "/revoke", nil, 200},
					{"/api/open-api/keys/revoke-all", nil, 200},
				}
				for _, c := range calls {
					want, code := c.ok, ""
					if tc.want != 0 {
						want, code = tc.want, "forbidden"
					}
					s.do("POST", c.path, c.body, append(opts, withCookie(sess))...).expect(t, want, code)
				}
				// Reading is not a state change: served whatever the headers.
				s.do("GET", "/api/open-api/keys", nil, append(opts, withCookie(sess))...).expect(t, 200, "")
			})
		}
	})
}

func TestSameOriginOverTLS(t *testing.T) {
	s := newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), true)
	tlsSrv := httptest.NewTLSServer(s.app.handler)
	defer tlsSrv.Close()
	ts := &testServer{t: t, app: s.app, srv: tlsSrv}
	// The bootstrap cookie is Secure over TLS.
	r := ts.do("POST", "/dev/bootstrap", `{"workspaceId":"ws_a","userId":"usr_1"}`)
	r.expect(t, 200, "")
	c := (&http.Response{Header: r.header}).Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("cookie over TLS: %+v", c)
	}
	var b struct{ Session string }
	r.decode(t, &b)
	body := map[string]any{"label": "x", "scopes": []string{"jobs:read"}}
	ts.do("POST", "/api/open-api/keys", body, withCookie(b.Session), withHeader("Origin", tlsSrv.URL)).expect(t, 201, "")
	ts.do("POST", "/api/open-api/keys", body, withCookie(b.Session), withHeader("Origin", "http"+tlsSrv.URL[len("https"):])).expect(t, 403, "forbidden")
}
