package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browserless is a client of the settings page as a browser without
// JavaScript is: a cookie jar, forms posted urlencoded, redirects not
// followed (so that tests see each 303).
type browserless struct {
	t      *testing.T
	s      *testServer
	client *http.Client
}

func newBrowserless(t *testing.T, s *testServer) *browserless {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *s.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browserless{t: t, s: s, client: &c}
}

// get fetches path.
func (b *browserless) get(path string) response {
	b.t.Helper()
	return b.send("GET", path, nil)
}

// post posts form to path with extra headers (name, value pairs).
func (b *browserless) post(path string, form url.Values, hdr ...string) response {
	b.t.Helper()
	return b.send("POST", path, form, hdr...)
}

func (b *browserless) send(method, path string, form url.Values, hdr ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// session returns the jar's plangrep_session cookie value ("" if none).
func (b *browserless) session() string {
	u, _ := url.Parse(b.s.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

// signIn signs in with the -dev form as ws/user and returns the list page.
func (b *browserless) signIn(ws, user string) response {
	b.t.Helper()
	p := b.get(settingsPath)
	p.status200(b.t)
	r := b.post("/settings/signin", url.Values{"csrf": {field(b.t, p, "csrf")}, "workspace": {ws}, "user": {user}})
	r.redirect(b.t, settingsPath)
	list := b.get(settingsPath)
	list.status200(b.t)
	return list
}

// createForm opens the create form and returns its hidden fields
// (csrf, nonce).
func (b *browserless) createForm() url.Values {
	b.t.Helper()
	p := b.get(settingsPath + "/new")
	p.status200(b.t)
	return url.Values{"csrf": {field(b.t, p, "csrf")}, "nonce": {field(b.t, p, "nonce")}}
}

// csrf returns the session's token as the list page's forms carry it.
func (b *browserless) csrf() string {
	b.t.Helper()
	return field(b.t, b.get(settingsPath), "csrf")
}

// create posts the create form with the fields given and returns the
// answer.
func (b *browserless) create(label, expires string, scopes ...string) response {
	b.t.Helper()
	f := b.createForm()
	f.Set("label", label)
	f.Set("expires", expires)
	f["scopes"] = scopes
	return b.post(settingsPath+"/keys", f)
}

// plaintextOf reads the key shown once on the created page.
func plaintextOf(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`id="plaintext" name="plaintext" type="text" readonly value="([^"]+)"`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no plaintext field in the page:\n%s", r.body)
	}
	return string(m[1])
}

// field returns the value of the first input named name in the page.
func field(t *testing.T, r response, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no field %q in the page:\n%s", name, r.body)
	}
	return string(m[1])
}

// status200 fails t unless the answer is a 200 HTML page.
func (r response) status200(t *testing.T) {
	t.Helper()
	r.page(t, http.StatusOK)
}

// page fails t unless the answer is an HTML page with status.
func (r response) page(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q, want text/html; charset=utf-8", ct)
	}
}

// redirect fails t unless the answer is 303 to location.
func (r response) redirect(t *testing.T, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Fatalf("got %d Location %q, want 303 to %q; body:\n%s", r.status, r.header.Get("Location"), location, r.body)
	}
}

// has fails t unless the body contains each of want.
func (r response) has(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(r.body), w) {
			t.Fatalf("page lacks %q:\n%s", w, r.body)
		}
	}
}

// lacks fails t if the body contains any of bad.
func (r response) lacks(t *testing.T, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(string(r.body), w) {
			t.Fatalf("page holds %q:\n%s", w, r.body)
		}
	}
}
