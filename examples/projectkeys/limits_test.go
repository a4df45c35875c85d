package main

import (
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/apikit/apikey/examples/internal/sqltest"
)

// With -max-keys N, a project holding N active keys cannot create another
// (409 conflict) until it revokes one; other projects are not affected.
func TestMaxKeysPerProject(t *testing.T) {
	c := testConfig()
	c.MaxKeys = 2
	e := newEnv(t, sqltest.SQLiteMemory, &c)
	body := map[string]any{"project_id": "p1", "name": "k", "scopes": []string{"jobs:read"}}
	k1 := e.create(t, testAdmin, body)
	e.create(t, testAdmin, body)
	e.do(t, "POST", "/v1/api-keys", testAdmin, body).wantError(t, http.StatusConflict, "conflict")
	e.create(t, testAdmin, map[string]any{"project_id": "p2", "name": "k"})
	e.do(t, "DELETE", "/v1/api-keys/"+k1.ID, testAdmin, nil).want(t, http.StatusNoContent)
	e.create(t, testAdmin, body)
}

var nextLink = regexp.MustCompile(`^<(/v1/api-keys\?[^>]+)>; rel="next"$`)

// GET /v1/api-keys pages with limit and after, the next page named by a
// Link header; without them it is the whole array, as in seed 003.
func TestListPagination(t *testing.T) {
	e := newEnv(t, sqltest.SQLiteMemory, nil)
	for range 5 {
		e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "k"})
	}
	var all []string
	for _, k := range e.list(t, "p1") {
		all = append(all, k.ID)
	}
	if len(all) != 5 {
		t.Fatalf("whole list: %d keys", len(all))
	}
	var paged []string
	path, pages := "/v1/api-keys?project_id=p1&limit=2", 0
	for path != "" {
		r := e.do(t, "GET", path, testAdmin, nil).want(t, http.StatusOK)
		for _, k := range decode[[]wireKey](t, r) {
			paged = append(paged, k.ID)
		}
		pages++
		path = ""
		if l := r.header.Get("Link"); l != "" {
			m := nextLink.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q", l)
			}
			path = m[1]
		}
	}
	if pages != 3 || !slices.Equal(paged, all) {
		t.Fatalf("%d pages holding %v, want 3 pages holding %v", pages, paged, all)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "after=", "after=a%2Fb", "limit="} {
		e.do(t, "GET", "/v1/api-keys?project_id=p1&"+q, testAdmin, nil).wantError(t, http.StatusBadRequest, "bad_request")
	}
}
