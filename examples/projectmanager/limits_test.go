package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

func limitEnv(t *testing.T, maxKeys int) *env {
	b, err := kit.OpenStore(context.Background(), "memory")
	if err != nil {
		t.Fatal(err)
	}
	clock := manualClock{apikey.NewManualClock(start)}
	a, err := newApp(context.Background(), appConfig{
		Backend: b, Secrets: kit.EphemeralSecrets(), Clock: clock, Dev: true, UsageInterval: time.Hour, MaxKeys: maxKeys,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	e := &env{t: t, app: a, srv: srv, base: srv.URL, clock: clock}
	t.Cleanup(e.stop)
	return e
}

// With -max-keys N, a workspace holding N active keys cannot create
// another (409, statusCode "Conflict") until it revokes one.
func TestMaxKeysPerWorkspace(t *testing.T) {
	e := limitEnv(t, 2)
	boot := e.bootstrap("ws_a").APIKey // the first active key
	k2 := e.create(boot, "two")
	r := e.do(req{method: "POST", path: "/api/data/api-keys", token: boot, body: map[string]string{"tokenName": "three"}}).want(t, http.StatusConflict)
	if r.Error == nil || r.Error.Message == "" {
		t.Fatalf("409 without a message: %+v", r.Error)
	}
	e.do(req{method: "DELETE", path: "/api/data/api-keys/" + k2.ID + "/revoke", token: boot}).want(t, http.StatusOK)
	e.create(boot, "three")
}

// GET /api/data/api-keys pages with limit and after (Link rel="next");
// without them it is the whole list, as in the seed.
func TestListPagination(t *testing.T) {
	e := limitEnv(t, 0)
	boot := e.bootstrap("ws_a").APIKey
	for range 4 {
		e.create(boot, "k")
	}
	var all, paged []string
	for _, k := range e.list(boot, nil) {
		all = append(all, k.ID)
	}
	link := regexp.MustCompile(`^<(/api/data/api-keys\?[^>]+)>; rel="next"$`)
	path, pages := "/api/data/api-keys?limit=2", 0
	for path != "" {
		r := e.do(req{method: "GET", path: path, token: boot}).want(t, http.StatusOK)
		var ks []keyItem
		r.into(t, &ks)
		for _, k := range ks {
			paged = append(paged, k.ID)
		}
		pages++
		path = ""
		if l := r.Header.Get("Link"); l != "" {
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
	e.do(req{method: "GET", path: "/api/data/api-keys?limit=0", token: boot}).want(t, http.StatusBadRequest)
}
