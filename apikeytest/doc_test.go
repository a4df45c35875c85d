package apikeytest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/apikeytest"
)

// listJobs is the handler under test in the package documentation.
func listJobs(w http.ResponseWriter, r *http.Request) {
	k, _ := apikey.FromContext(r.Context())
	fmt.Fprintf(w, "jobs of %s\n", k.Tenant)
}

func TestListJobs(t *testing.T) {
	m := apikeytest.New(t)
	h := m.MustAuthenticator(t).Require("jobs:read")(http.HandlerFunc(listJobs))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, apikeytest.Request("GET", "/jobs", m.MustToken(t, "jobs:read")))
	if rec.Code != http.StatusOK {
		t.Fatalf("with jobs:read: %d %s", rec.Code, rec.Body)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, apikeytest.Request("GET", "/jobs", m.MustToken(t, "jobs:write")))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("without jobs:read: %d", rec.Code)
	}
}

// The handler test in the package documentation is TestListJobs above,
// character for character, and stays under 20 lines.
func TestDocExampleIsCode(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	in := false
	for _, l := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(l, "//\tfunc TestListJobs"):
			in = true
		case in && !strings.HasPrefix(l, "//\t") && l != "//":
			in = false
		}
		if in {
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, "//"), "\t"))
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 || len(lines) >= 20 {
		t.Fatalf("doc example has %d lines, want 1-19", len(lines))
	}
	src, err := os.ReadFile("doc_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if snippet := strings.Join(lines, "\n") + "\n"; !strings.Contains(string(src), snippet) {
		t.Fatalf("doc example is not the code of TestListJobs:\n%s", snippet)
	}
}
