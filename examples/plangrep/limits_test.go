package main

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
)

func limitServer(t *testing.T, maxKeys int) *testServer {
	b, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	return startApp(t, appConfig{
		Backend: b, Secrets: kit.EphemeralSecrets(), Clock: &kit.DevClock{}, Dev: true,
		UsageInterval: time.Hour, MaxKeys: maxKeys,
	})
}

// With -max-keys N, a workspace holding N active keys cannot create
// another (409 conflict) until it revokes one.
func TestMaxKeysPerWorkspace(t *testing.T) {
	s := limitServer(t, 2)
	sess := s.bootstrap("ws_a", "usr_1")
	k1, _ := s.createKey(sess, "one", "jobs:read")
	s.createKey(sess, "two", "jobs:read")
	s.do("POST", "/api/open-api/keys", map[string]any{"label": "three", "scopes": []string{"jobs:read"}},
		withCookie(sess)).expect(t, http.StatusConflict, "conflict")
	s.createKey(s.bootstrap("ws_b", "usr_2"), "other", "jobs:read")
	s.do("POST", "/api/open-api/keys/"+k1.ID+"/revoke", nil, withCookie(sess)).expect(t, http.StatusOK, "")
	s.createKey(sess, "three", "jobs:read")
}

// GET /api/open-api/keys pages with limit and after (Link rel="next");
// without them it is the whole list, as in the seed.
func TestListKeysPagination(t *testing.T) {
	s := limitServer(t, 0)
	sess := s.bootstrap("ws_a", "usr_1")
	for range 5 {
		s.createKey(sess, "k", "jobs:read")
	}
	var all, paged []string
	for _, k := range s.listKeys(sess) {
		all = append(all, k.ID)
	}
	link := regexp.MustCompile(`^<(/api/open-api/keys\?[^>]+)>; rel="next"$`)
	path, pages := "/api/open-api/keys?limit=2", 0
	for path != "" {
		r := s.do("GET", path, nil, withCookie(sess))
		r.expect(t, http.StatusOK, "")
		var b struct{ Keys []wireKey }
		r.decode(t, &b)
		for _, k := range b.Keys {
			paged = append(paged, k.ID)
		}
		pages++
		path = ""
		if l := r.header.Get("Link"); l != "" {
			m := link.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q", l)
			}
			path = m[1]
		}
	}
	if len(all) != 5 || pages != 3 || !slices.Equal(paged, all) {
		t.Fatalf("%d pages holding %v, want 3 holding %v", pages, paged, all)
	}
	s.do("GET", "/api/open-api/keys?limit=0", nil, withCookie(sess)).expect(t, http.StatusBadRequest, "invalid_request")
}

// The settings page applies the same cap: the create form answers 409 with
// the reason next to the form, and nothing is created.
func TestSettingsMaxKeys(t *testing.T) {
	s := limitServer(t, 1)
	b := newBrowserless(t, s)
	b.signIn("ws_a", "usr_1")
	b.create("one", "", "jobs:read").page(t, http.StatusCreated)
	r := b.create("two", "", "jobs:read")
	r.page(t, http.StatusConflict)
	r.has(t, "already holds 1 active keys")
	r.lacks(t, "pgk_live_")
	if n := len(s.listKeys(s.bootstrap("ws_a", "usr_1"))); n != 1 {
		t.Fatalf("%d keys after a refused create, want 1", n)
	}
}
