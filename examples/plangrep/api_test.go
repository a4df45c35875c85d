package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOpenAPIAuth(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		_, tok := s.createKey(sess, "ci", "jobs:read")
		paths := []struct{ method, path string }{
			{"GET", "/api/open/v1/projects"},
			{"GET", "/api/open/v1/jobs"},
			{"POST", "/api/open/v1/jobs"},
			{"GET", "/api/open/v1/artifacts/art_x"},
		}
		creds := []struct {
			name      string
			opts      []reqOpt
			challenge string
		}{
			{"none", nil, `Bearer realm="plangrep"`},
			{"session cookie only", []reqOpt{withCookie(sess)}, `Bearer realm="plangrep"`},
			{"basic auth", []reqOpt{withHeader("Authorization", "Basic dXNlcjpwYXNz")}, `Bearer realm="plangrep"`},
			{"malformed token", []reqOpt{withBearer("pgk_live_nope")}, `Bearer realm="plangrep", error="invalid_token"`},
			{"checksum typo", []reqOpt{withBearer(tok[:len(tok)-1] + flip(tok[len(tok)-1]))}, `Bearer realm="plangrep", error="invalid_token"`},
			{"two tokens", []reqOpt{withHeader("Authorization", "Bearer "+tok+" "+tok)}, `Bearer realm="plangrep", error="invalid_token"`},
		}
		for _, p := range paths {
			for _, c := range creds {
				t.Run(p.method+" "+p.path+" "+c.name, func(t *testing.T) {
					r := s.do(p.method, p.path, `{"name":"x"}`, c.opts...)
					r.expect(t, http.StatusUnauthorized, "unauthorized")
					if got := r.header.Get("WWW-Authenticate"); got != c.challenge {
						t.Fatalf("WWW-Authenticate %q, want %q", got, c.challenge)
					}
				})
			}
		}
	})
}

// flip returns a different base62 character.
func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestOpenAPIScopes(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		_, read := s.createKey(sess, "read", "jobs:read")
		_, write := s.createKey(sess, "write", "jobs:write")
		_, art := s.createKey(sess, "art", "artifacts:read")
		tests := []struct {
			name, method, path, tok string
			want                    int
			scope                   string
		}{
			{"projects with any key", "GET", "/api/open/v1/projects", art, 200, ""},
			{"list jobs with jobs:read", "GET", "/api/open/v1/jobs", read, 200, ""},
			{"list jobs with jobs:write", "GET", "/api/open/v1/jobs", write, 403, "jobs:read"},
			{"create job with jobs:read", "POST", "/api/open/v1/jobs", read, 403, "jobs:write"},
			{"create job with jobs:write", "POST", "/api/open/v1/jobs", write, 201, ""},
			{"artifact with jobs:read", "GET", "/api/open/v1/artifacts/art_0", read, 403, "artifacts:read"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := s.do(tc.method, tc.path, `{"name":"Takeoff"}`, withBearer(tc.tok))
				if tc.want == 403 {
					r.expect(t, 403, "forbidden")
					want := `Bearer realm="plangrep", error="insufficient_scope", scope="` + tc.scope + `"`
					if got := r.header.Get("WWW-Authenticate"); got != want {
						t.Fatalf("WWW-Authenticate %q, want %q", got, want)
					}
					return
				}
				r.expect(t, tc.want, "")
			})
		}
	})
}

func TestProjectsJobsArtifacts(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		a := s.bootstrap("ws_a", "usr_1")
		b := s.bootstrap("ws_b", "usr_2")
		ka, ta := s.createKey(a, "all", "jobs:read", "jobs:write", "artifacts:read")
		_, tb := s.createKey(b, "all", "jobs:read", "jobs:write", "artifacts:read")

		type project struct{ ID, WorkspaceID, Name string }
		var pa, pb struct{ Projects []project }
		r := s.do("GET", "/api/open/v1/projects", nil, withBearer(ta))
		r.expect(t, 200, "")
		r.decode(t, &pa)
		s.do("GET", "/api/open/v1/projects", nil, withBearer(tb)).decode(t, &pb)
		if len(pa.Projects) == 0 || pa.Projects[0].WorkspaceID != "ws_a" || pa.Projects[0].ID == pb.Projects[0].ID {
			t.Fatalf("projects: ws_a %+v, ws_b %+v", pa, pb)
		}
		var again struct{ Projects []project }
		s.do("GET", "/api/open/v1/projects", nil, withBearer(ta)).decode(t, &again)
		if again.Projects[1] != pa.Projects[1] {
			t.Fatal("projects are not deterministic")
		}

		// Jobs: created per workspace, listed newest first.
		type job struct{ ID, ProjectID, Name, Status, CreatedAt, CreatedByKeyID string }
		var created []job
		for _, body := range []string{`{"name":"Floor 1"}`, `{"name":"Floor 2","projectId":"` + pa.Projects[2].ID + `"}`} {
			r := s.do("POST", "/api/open/v1/jobs", body, withBearer(ta))
			r.expect(t, 201, "")
			var j struct{ Job job }
			r.decode(t, &j)
			if !strings.HasPrefix(j.Job.ID, "job_") || j.Job.Status != "queued" || j.Job.CreatedByKeyID != ka.ID {
				t.Fatalf("job %s", r.body)
			}
			created = append(created, j.Job)
		}
		if created[1].ProjectID != pa.Projects[2].ID || created[0].ProjectID != pa.Projects[0].ID {
			t.Fatalf("job projects %+v", created)
		}
		var la, lb struct{ Jobs []job }
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(ta)).decode(t, &la)
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tb)).decode(t, &lb)
		if len(la.Jobs) != 2 || la.Jobs[0] != created[1] || la.Jobs[1] != created[0] {
			t.Fatalf("ws_a jobs %+v", la.Jobs)
		}
		if lb.Jobs == nil || len(lb.Jobs) != 0 {
			t.Fatalf("ws_b sees jobs %+v", lb.Jobs)
		}

		// Bad job bodies.
		for _, body := range []string{`{}`, `{"name":""}`, `{"name":"  "}`, `{"name":1}`, `{"name":"x","extra":1}`,
			`{"name":"` + strings.Repeat("x", 201) + `"}`, `{"name":"x","projectId":"` + pb.Projects[0].ID + `"}`, `[`, ``} {
			s.do("POST", "/api/open/v1/jobs", body, withBearer(ta)).expect(t, 400, "invalid_request")
		}
		s.do("POST", "/api/open/v1/jobs", `{"name":"x"}`, withBearer(ta), withHeader("Content-Type", "text/plain")).expect(t, 415, "")
		s.do("POST", "/api/open/v1/jobs", `{"name":"`+strings.Repeat("x", 2<<20)+`"}`, withBearer(ta)).expect(t, 413, "")

		// Artifacts: the workspace's own, 404 for others' and unknown ones.
		artA := demoID("art", "ws_a", 0)
		r = s.do("GET", "/api/open/v1/artifacts/"+artA, nil, withBearer(ta))
		r.expect(t, 200, "")
		var art struct {
			Artifact struct{ ID, URL, ExpiresAt string }
		}
		r.decode(t, &art)
		if art.Artifact.ID != artA || !strings.HasPrefix(art.Artifact.URL, "https://") || !strings.HasSuffix(art.Artifact.ExpiresAt, "Z") {
			t.Fatalf("artifact %s", r.body)
		}
		s.do("GET", "/api/open/v1/artifacts/"+artA, nil, withBearer(tb)).expect(t, 404, "not_found")
		s.do("GET", "/api/open/v1/artifacts/art_0000000000000000", nil, withBearer(ta)).expect(t, 404, "not_found")
	})
}

func TestExpiredKey(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r := s.do("POST", "/api/open-api/keys", `{"label":"short","scopes":["jobs:read"],"expiresAt":"`+exp+`"}`, withCookie(sess))
		r.expect(t, 201, "")
		var c struct {
			Key          wireKey
			PlaintextKey string
		}
		r.decode(t, &c)
		_, forever := s.createKey(sess, "forever", "jobs:read")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(c.PlaintextKey)).expect(t, 200, "")

		r = s.do("POST", "/dev/clock", `{"advance":"48h"}`)
		r.expect(t, 200, "")
		var now struct{ Now string }
		r.decode(t, &now)
		if n, err := time.Parse(time.RFC3339, now.Now); err != nil || n.Before(time.Now().Add(47*time.Hour)) || !strings.HasSuffix(now.Now, "Z") {
			t.Fatalf("now %q", now.Now)
		}
		// Expired behaves like revoked: 401, same answer.
		r = s.do("GET", "/api/open/v1/jobs", nil, withBearer(c.PlaintextKey))
		r.expect(t, 401, "unauthorized")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(forever)).expect(t, 200, "")
		// expiresAt must now be after the moved clock.
		s.do("POST", "/api/open-api/keys", `{"label":"x","scopes":["jobs:read"],"expiresAt":"`+exp+`"}`, withCookie(sess)).expect(t, 400, "invalid_request")
		if k := findKey(t, s.listKeys(sess), c.Key.ID); k.ExpiresAt == nil || *k.ExpiresAt != exp || k.RevokedAt != nil {
			t.Fatalf("expired key in list: %+v", k)
		}
	})
}

func TestLastUsed(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		sess := s.bootstrap("ws_a", "usr_1")
		k, tok := s.createKey(sess, "ci", "jobs:read")
		other, _ := s.createKey(sess, "unused", "jobs:read")
		for range 3 {
			s.do("GET", "/api/open/v1/projects", nil, withBearer(tok)).expect(t, 200, "")
		}
		if err := s.app.tracker.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		keys := s.listKeys(sess)
		got := findKey(t, keys, k.ID)
		if got.LastUsedAt == nil || got.LastUsedIP == nil || *got.LastUsedIP != "127.0.0.1" {
			t.Fatalf("after use: lastUsedAt %v lastUsedIp %v", got.LastUsedAt, got.LastUsedIP)
		}
		if at, err := time.Parse(time.RFC3339Nano, *got.LastUsedAt); err != nil || at.Before(time.Now().Add(-time.Minute)) {
			t.Fatalf("lastUsedAt %q", *got.LastUsedAt)
		}
		if u := findKey(t, keys, other.ID); u.LastUsedAt != nil || u.LastUsedIP != nil {
			t.Fatalf("unused key shows use: %+v", u)
		}
	})
}
