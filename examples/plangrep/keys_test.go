package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	keyIDRe  = regexp.MustCompile(`^key_[0-9a-hjkmnp-tv-z]{26}$`)
	tokenRe  = regexp.MustCompile(`^pgk_live_[0-9A-Za-z]{66}$`)
	openKeys = []string{"id", "label", "keyPrefix", "scopes", "createdByUserId", "hashVersion",
		"createdAt", "expiresAt", "lastUsedAt", "lastUsedIp", "revokedAt"}
)

func TestCreateKey(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		r := s.do("POST", "/api/open-api/keys", map[string]any{
			"label": "Production Integration", "scopes": []string{"jobs:write", "jobs:read", "jobs:read"},
			"expiresAt": exp.Format(time.RFC3339),
		}, withCookie(sess))
		r.expect(t, http.StatusCreated, "")

		// Exactly the OpenApiKey fields, absent values null.
		var raw struct {
			Key          map[string]json.RawMessage `json:"key"`
			PlaintextKey string                     `json:"plaintextKey"`
		}
		r.decode(t, &raw)
		var names []string
		for n := range raw.Key {
			names = append(names, n)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(openKeys))
		if !slices.Equal(names, want) {
			t.Fatalf("OpenApiKey fields %v, want %v", names, want)
		}
		for _, n := range []string{"lastUsedAt", "lastUsedIp", "revokedAt"} {
			if string(raw.Key[n]) != "null" {
				t.Errorf("%s = %s, want null", n, raw.Key[n])
			}
		}

		var b struct {
			Key          wireKey
			PlaintextKey string
		}
		r.decode(t, &b)
		k := b.Key
		switch {
		case !keyIDRe.MatchString(k.ID):
			t.Errorf("id %q is not key_<ulid>", k.ID)
		case !tokenRe.MatchString(b.PlaintextKey):
			t.Errorf("plaintextKey %q is not pgk_live_<66>", b.PlaintextKey)
		case !strings.HasPrefix(b.PlaintextKey, k.KeyPrefix) || len(k.KeyPrefix) != len("pgk_live_")+4:
			t.Errorf("keyPrefix %q is not the first 4 body characters of the token", k.KeyPrefix)
		case k.Label != "Production Integration" || k.CreatedByUserID != "usr_1" || k.HashVersion != "v1":
			t.Errorf("label/createdBy/hashVersion: %+v", k)
		case !slices.Equal(k.Scopes, []string{"jobs:read", "jobs:write"}):
			t.Errorf("scopes %v, want normalised [jobs:read jobs:write]", k.Scopes)
		case k.ExpiresAt == nil || *k.ExpiresAt != exp.Format(time.RFC3339):
			t.Errorf("expiresAt %v, want %s", k.ExpiresAt, exp.Format(time.RFC3339))
		case !strings.HasSuffix(k.CreatedAt, "Z"):
			t.Errorf("createdAt %q is not UTC", k.CreatedAt)
		}
		if strings.Contains(string(s.do("GET", "/api/open-api/keys", nil, withCookie(sess)).body), b.PlaintextKey[9:]) {
			t.Error("the list shows the token")
		}

		// No expiresAt, or null: never expires.
		for _, body := range []string{`{"label":"a","scopes":["artifacts:read"]}`, `{"label":"b","scopes":["artifacts:read"],"expiresAt":null}`} {
			r := s.do("POST", "/api/open-api/keys", body, withCookie(sess))
			r.expect(t, http.StatusCreated, "")
			var b struct{ Key wireKey }
			r.decode(t, &b)
			if b.Key.ExpiresAt != nil {
				t.Errorf("%s: expiresAt %v, want null", body, *b.Key.ExpiresAt)
			}
		}
		// 120 characters (2-byte runes) are fine.
		s.createKey(sess, strings.Repeat("é", 120), "jobs:read")
	})
}

func TestCreateKeyInvalid(t *testing.T) {
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name string
		body string
		ct   string
		want int
	}{
		{"empty label", `{"label":"","scopes":["jobs:read"]}`, "", 400},
		{"blank label", `{"label":"   ","scopes":["jobs:read"]}`, "", 400},
		{"121-char label", `{"label":"` + strings.Repeat("x", 121) + `","scopes":["jobs:read"]}`, "", 400},
		{"121 2-byte chars", `{"label":"` + strings.Repeat("é", 121) + `","scopes":["jobs:read"]}`, "", 400},
		{"control char in label", `{"label":"a\u0007b","scopes":["jobs:read"]}`, "", 400},
		{"missing label", `{"scopes":["jobs:read"]}`, "", 400},
		{"label null", `{"label":null,"scopes":["jobs:read"]}`, "", 400},
		{"missing scopes", `{"label":"a"}`, "", 400},
		{"empty scopes", `{"label":"a","scopes":[]}`, "", 400},
		{"unknown scope", `{"label":"a","scopes":["jobs:read","jobs:delete"]}`, "", 400},
		{"wildcard scope", `{"label":"a","scopes":["*"]}`, "", 400},
		{"expiresAt in the past", `{"label":"a","scopes":["jobs:read"],"expiresAt":"` + past + `"}`, "", 400},
		{"expiresAt not RFC 3339", `{"label":"a","scopes":["jobs:read"],"expiresAt":"tomorrow"}`, "", 400},
		{"expiresAt date only", `{"label":"a","scopes":["jobs:read"],"expiresAt":"2099-01-01"}`, "", 400},
		{"expiresAt a number", `{"label":"a","scopes":["jobs:read"],"expiresAt":1}`, "", 400},
		{"label a number", `{"label":1,"scopes":["jobs:read"]}`, "", 400},
		{"scopes a string", `{"label":"a","scopes":"jobs:read"}`, "", 400},
		{"unknown field", `{"label":"a","scopes":["jobs:read"],"admin":true}`, "", 400},
		{"malformed JSON", `{"label":"a",`, "", 400},
		{"two values", `{"label":"a","scopes":["jobs:read"]}{}`, "", 400},
		{"empty body", ``, "", 400},
		{"wrong content type", `{"label":"a","scopes":["jobs:read"]}`, "text/plain", 415},
		{"no content type", `{"label":"a","scopes":["jobs:read"]}`, "none", 415},
		{"2 MiB body", `{"label":"` + strings.Repeat("x", 2<<20) + `","scopes":["jobs:read"]}`, "", 413},
	}
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				opts := []reqOpt{withCookie(sess)}
				switch tc.ct {
				case "":
				case "none":
					opts = append(opts, withoutHeader("Content-Type"))
				default:
					opts = append(opts, withHeader("Content-Type", tc.ct))
				}
				s.do("POST", "/api/open-api/keys", tc.body, opts...).expect(t, tc.want, "")
			})
		}
		if n := len(s.listKeys(sess)); n != 0 {
			t.Fatalf("%d keys created by invalid requests", n)
		}
	})
}

func TestKeyManagementNeedsSession(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		k, tok := s.createKey(sess, "ci", "jobs:read")
		routes := []struct{ method, path string }{
			{"GET", "/api/open-api/keys"},
			{"POST", "/api/open-api/keys"},
			{"POST", "/api/open-api/keys/" + k.ID + "/revoke"},
			{"POST", "/api/open-api/keys/revoke-all"},
		}
		creds := []struct {
			name string
			opts []reqOpt
		}{
			{"none", nil},
			{"unknown cookie", []reqOpt{withCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}},
			{"odd cookie", []reqOpt{withCookie("x")}},
			{"valid bearer key", []reqOpt{withBearer(tok)}},
		}
		for _, rt := range routes {
			for _, c := range creds {
				t.Run(rt.method+" "+rt.path+" "+c.name, func(t *testing.T) {
					body := any(nil)
					if rt.path == "/api/open-api/keys" && rt.method == "POST" {
						body = map[string]any{"label": "x", "scopes": []string{"jobs:read"}}
					}
					s.do(rt.method, rt.path, body, c.opts...).expect(t, http.StatusUnauthorized, "unauthorized")
				})
			}
		}
		// Nothing changed.
		if got := s.listKeys(sess); len(got) != 1 || got[0].RevokedAt != nil {
			t.Fatalf("keys after refused calls: %+v", got)
		}
	})
}

func TestListKeys(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		a := s.bootstrap("ws_a", "usr_1")
		b := s.bootstrap("ws_b", "usr_2")
		if got := s.listKeys(a); got == nil || len(got) != 0 {
			t.Fatalf("empty workspace: %+v, want []", got)
		}
		if body := string(s.do("GET", "/api/open-api/keys", nil, withCookie(a)).body); !strings.Contains(body, `"keys":[]`) {
			t.Fatalf("empty list body %s, want keys: []", body)
		}
		var ids []string
		for _, l := range []string{"one", "two", "three"} {
			k, _ := s.createKey(a, l, "jobs:read")
			ids = append(ids, k.ID)
		}
		kb, _ := s.createKey(b, "other", "jobs:read")
		got := s.listKeys(a)
		var gotIDs []string
		for _, k := range got {
			gotIDs = append(gotIDs, k.ID)
		}
		slices.Reverse(ids)
		if !slices.Equal(gotIDs, ids) {
			t.Fatalf("list %v, want newest first %v", gotIDs, ids)
		}
		if bs := s.listKeys(b); len(bs) != 1 || bs[0].ID != kb.ID {
			t.Fatalf("ws_b list %+v", bs)
		}
		// Another session of the same workspace sees the same keys.
		if n := len(s.listKeys(s.bootstrap("ws_a", "usr_3"))); n != 3 {
			t.Fatalf("second member sees %d keys", n)
		}
	})
}

func TestRevokeKey(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		a := s.bootstrap("ws_a", "usr_1")
		b := s.bootstrap("ws_b", "usr_2")
		k, tok := s.createKey(a, "ci", "jobs:read")
		kb, tokB := s.createKey(b, "other", "jobs:read")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, http.StatusOK, "")

		// Another workspace's key, unknown and malformed ids: 404.
		for _, id := range []string{kb.ID, "key_01arz3ndektsv4rrffq69g5fav", "key_nope", "01ARZ3NDEKTSV4RRFFQ69G5FAV", strings.TrimPrefix(k.ID, "key_")} {
			s.do("POST", "/api/open-api/keys/"+id+"/revoke", nil, withCookie(a)).expect(t, http.StatusNotFound, "not_found")
		}
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tokB)).expect(t, http.StatusOK, "")

		r := s.do("POST", "/api/open-api/keys/"+k.ID+"/revoke", nil, withCookie(a))
		r.expect(t, http.StatusOK, "")
		var got struct{ Key wireKey }
		r.decode(t, &got)
		if got.Key.ID != k.ID || got.Key.RevokedAt == nil {
			t.Fatalf("revoke answered %s", r.body)
		}
		// Rejected on the very next request.
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, http.StatusUnauthorized, "unauthorized")

		// Idempotent: the first timestamp stays; {} is an accepted body;
		// the ID is accepted in upper case too.
		r = s.do("POST", "/api/open-api/keys/key_"+strings.ToUpper(k.ID[4:])+"/revoke", `{}`, withCookie(a))
		r.expect(t, http.StatusOK, "")
		var again struct{ Key wireKey }
		r.decode(t, &again)
		if again.Key.RevokedAt == nil || *again.Key.RevokedAt != *got.Key.RevokedAt {
			t.Fatalf("second revoke moved revokedAt: %v -> %v", *got.Key.RevokedAt, again.Key.RevokedAt)
		}
		s.do("POST", "/api/open-api/keys/"+k.ID+"/revoke", `{"x":1}`, withCookie(a)).expect(t, http.StatusBadRequest, "invalid_request")
		if l := findKey(t, s.listKeys(a), k.ID); l.RevokedAt == nil || *l.RevokedAt != *got.Key.RevokedAt {
			t.Fatalf("list shows revokedAt %v", l.RevokedAt)
		}
	})
}

func TestRevokeAll(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		a := s.bootstrap("ws_a", "usr_1")
		b := s.bootstrap("ws_b", "usr_2")
		early, _ := s.createKey(a, "early", "jobs:read")
		k1, tok1 := s.createKey(a, "one", "jobs:read")
		k2, tok2 := s.createKey(a, "two", "jobs:read", "artifacts:read")
		_, tokB := s.createKey(b, "other", "jobs:read")
		r := s.do("POST", "/api/open-api/keys/"+early.ID+"/revoke", nil, withCookie(a))
		var er struct{ Key wireKey }
		r.decode(t, &er)
		s.do("POST", "/dev/clock", `{"advance":"1m"}`).expect(t, http.StatusOK, "")

		r = s.do("POST", "/api/open-api/keys/revoke-all", nil, withCookie(a))
		r.expect(t, http.StatusOK, "")
		var got struct{ Keys []wireKey }
		r.decode(t, &got)
		if len(got.Keys) != 3 || got.Keys[0].ID != k2.ID || got.Keys[1].ID != k1.ID || got.Keys[2].ID != early.ID {
			t.Fatalf("revoke-all answered %s", r.body)
		}
		at := got.Keys[0].RevokedAt
		if at == nil || got.Keys[1].RevokedAt == nil || *got.Keys[1].RevokedAt != *at {
			t.Fatalf("keys revoked by one call have different timestamps: %s", r.body)
		}
		if got.Keys[2].RevokedAt == nil || *got.Keys[2].RevokedAt != *er.Key.RevokedAt || *at == *er.Key.RevokedAt {
			t.Fatalf("earlier revocation did not keep its timestamp: %s", r.body)
		}
		for _, tok := range []string{tok1, tok2} {
			s.do("GET", "/api/open/v1/projects", nil, withBearer(tok)).expect(t, http.StatusUnauthorized, "unauthorized")
		}
		// The other workspace is untouched.
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tokB)).expect(t, http.StatusOK, "")
		if kb := s.listKeys(b); kb[0].RevokedAt != nil {
			t.Fatalf("ws_b key revoked: %+v", kb)
		}
		// Again: nothing changes; an empty workspace gives [].
		r = s.do("POST", "/api/open-api/keys/revoke-all", `{}`, withCookie(a))
		var again struct{ Keys []wireKey }
		r.decode(t, &again)
		for i := range again.Keys {
			if *again.Keys[i].RevokedAt != *got.Keys[i].RevokedAt {
				t.Fatalf("second revoke-all changed timestamps: %s", r.body)
			}
		}
		r = s.do("POST", "/api/open-api/keys/revoke-all", nil, withCookie(s.bootstrap("ws_empty", "usr_9")))
		r.expect(t, http.StatusOK, "")
		if !strings.Contains(string(r.body), `"keys":[]`) {
			t.Fatalf("empty workspace: %s", r.body)
		}
	})
}
