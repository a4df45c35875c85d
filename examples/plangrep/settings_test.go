package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
)

// The settings page as a browser without JavaScript uses it: every test
// here runs everywhere (no Chromium); browser_test.go drives a real one.

func memServer(t *testing.T, dev bool) *testServer {
	t.Helper()
	return newTestServer(t, engines()[0].open(t), kit.EphemeralSecrets(), dev)
}

func TestSettingsNoJavaScript(t *testing.T) {
	forEngines(t, func(t *testing.T, s *testServer) {
		b := newBrowserless(t, s)
		list := b.signIn("ws_a", "usr_1")
		list.has(t, "No API keys yet", "Create API key", `href="/settings/api/new"`, "ws_a", "usr_1", "Sign out")

		// Create: the plaintext is in this answer only, which is no-store.
		r := b.create("CI deploy", time.Now().UTC().AddDate(0, 0, 30).Format(dateLayout), "jobs:read", "jobs:write")
		r.page(t, http.StatusCreated)
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("created page Cache-Control %q, want no-store", cc)
		}
		tok := plaintextOf(t, r)
		if !s.app.manager.TokenRegexp().MatchString(tok) {
			t.Fatalf("plaintext %q is not a plangrep token", tok)
		}
		r.has(t, "shown only once", ">Copy</button>", "CI deploy", "jobs:read", "jobs:write")
		for _, h := range []string{"Location", "Set-Cookie"} {
			if v := r.header.Get(h); strings.Contains(v, tok) || (h == "Location" && v != "") {
				t.Fatalf("%s %q on the created page", h, v)
			}
		}
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 200, "")

		// The list: every audit field, never the plaintext.
		list = b.get(settingsPath)
		list.status200(t)
		list.lacks(t, tok, "No API keys yet")
		keys := s.listKeys(b.session())
		if len(keys) != 1 {
			t.Fatalf("%d keys, want 1", len(keys))
		}
		k := keys[0]
		list.has(t, `id="`+k.ID+`"`, "CI deploy", k.KeyPrefix+"…", "<code>jobs:read</code>", "<code>jobs:write</code>",
			`<time datetime="`+k.CreatedAt[:19]+`Z"`, "badge-active", "Never used", "Revoke all keys", ">Revoke</button>")
		if k.ExpiresAt == nil || !strings.HasSuffix(*k.ExpiresAt, "T23:59:59Z") {
			t.Fatalf("expiresAt %v, want the end of the chosen day", k.ExpiresAt)
		}
		list.has(t, `datetime="`+*k.ExpiresAt+`"`)

		// Last used at and IP, once the tracker has written them.
		if err := s.app.tracker.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.get(settingsPath).has(t, "from <code>127.0.0.1</code>")

		// Resubmitting the create form (reload, back) creates nothing more.
		f := b.createForm()
		f.Set("label", "twice")
		f.Set("scopes", "jobs:read")
		b.post(settingsPath+"/keys", f).page(t, http.StatusCreated)
		b.post(settingsPath+"/keys", f).redirect(t, settingsPath+"?done=resubmitted")
		b.get(settingsPath+"?done=resubmitted").has(t, "already submitted")
		if n := len(s.listKeys(b.session())); n != 2 {
			t.Fatalf("%d keys after a resubmitted form, want 2", n)
		}

		// Revoke: a confirmation step first, nothing revoked by it.
		csrf := b.csrf()
		revoke := settingsPath + "/keys/" + k.ID + "/revoke"
		step := b.post(revoke, url.Values{"csrf": {csrf}})
		step.status200(t)
		step.has(t, "Revoke “CI deploy”?", `name="confirmed" value="yes"`, ">Revoke</button>", "Cancel")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 200, "")
		b.post(revoke, url.Values{"csrf": {csrf}, "confirmed": {"yes"}}).redirect(t, settingsPath+"?done=revoked")
		s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 401, "unauthorized")
		list = b.get(settingsPath + "?done=revoked")
		list.has(t, "Key revoked", "badge-revoked")
		if strings.Count(string(list.body), ">Revoke</button>") != 1 {
			t.Fatal("a revoked key still offers Revoke")
		}

		// Revoke all: the confirmation names the number; a stale number
		// asks again; a confirmed current number revokes.
		b.create("second", "", "artifacts:read").page(t, http.StatusCreated)
		list = b.get(settingsPath)
		list.has(t, `name="expect" value="2"`, "Revoke all 2 keys")
		all := settingsPath + "/revoke-all"
		b.post(all, url.Values{"csrf": {csrf}}).has(t, "Revoke all 2 keys?", `name="expect" value="2"`)
		b.post(all, url.Values{"csrf": {csrf}, "confirmed": {"yes"}, "expect": {"1"}}).has(t, "changed since", "Revoke all 2 keys?")
		for _, k := range s.listKeys(b.session()) {
			if k.RevokedAt == nil && k.Label != "second" && k.Label != "twice" {
				t.Fatalf("key %s revoked too early", k.Label)
			}
		}
		b.post(all, url.Values{"csrf": {csrf}, "confirmed": {"yes"}, "expect": {"2"}}).redirect(t, settingsPath+"?done=revoked-all&n=2")
		for _, k := range s.listKeys(b.session()) {
			if k.RevokedAt == nil {
				t.Fatalf("key %s not revoked by revoke all", k.Label)
			}
		}
		list = b.get(settingsPath + "?done=revoked-all&n=2")
		list.has(t, "Revoked 2 keys.")
		list.lacks(t, "Revoke all keys", ">Revoke</button>")
		b.post(all, url.Values{"csrf": {csrf}, "confirmed": {"yes"}, "expect": {"0"}}).redirect(t, settingsPath+"?done=nothing")
	})
}

func TestSettingsCreateErrors(t *testing.T) {
	s := memServer(t, true)
	b := newBrowserless(t, s)
	b.signIn("ws_a", "usr_1")
	today := time.Now().UTC()
	tests := []struct {
		name, label, expires string
		scopes               []string
		field, msg           string
	}{
		{"no label", "", "", []string{"jobs:read"}, "label", "Label must not be empty."},
		{"blank label", "   ", "", []string{"jobs:read"}, "label", "Label must not be empty."},
		{"long label", strings.Repeat("x", 121), "", []string{"jobs:read"}, "label", "at most 120 characters"},
		{"control character", "a\x07b", "", []string{"jobs:read"}, "label", "control characters"},
		{"no scope", "ci", "", nil, "scopes", "Select at least one scope."},
		{"unknown scope", "ci", "", []string{"jobs:read", "admin:all"}, "scopes", "unknown scope &#34;admin:all&#34;"},
		{"past date", "ci", today.AddDate(0, 0, -1).Format(dateLayout), []string{"jobs:read"}, "expires", "today or later"},
		{"not a date", "ci", "next week", []string{"jobs:read"}, "expires", "Enter a date such as"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.create(tc.label, tc.expires, tc.scopes...)
			r.page(t, http.StatusBadRequest)
			r.has(t, `<p class="fielderror" id="`+tc.field+`-error">`, tc.msg, "no key was created")
			r.lacks(t, "pgk_live_")
			// The input is kept.
			if tc.label != "" && !strings.Contains(tc.label, "\x07") {
				r.has(t, `value="`+tc.label+`"`)
			}
			if tc.expires != "" {
				r.has(t, `value="`+tc.expires+`"`)
			}
			for _, sc := range tc.scopes {
				if sc == "jobs:read" {
					r.has(t, `value="jobs:read" checked`)
				}
			}
			if n := len(s.listKeys(b.session())); n != 0 {
				t.Fatalf("%d keys created by an invalid form", n)
			}
		})
	}
	// Today is allowed: the key works until the end of the day (UTC).
	b.create("today", today.Format(dateLayout), "jobs:read").page(t, http.StatusCreated)
	// A form the page did not render (no nonce) creates nothing.
	r := b.post(settingsPath+"/keys", url.Values{"csrf": {b.csrf()}, "label": {"x"}, "scopes": {"jobs:read"}})
	r.page(t, http.StatusBadRequest)
	r.has(t, "out of date")
}

func TestSettingsRefusesForgedForms(t *testing.T) {
	s := memServer(t, true)
	victim := newBrowserless(t, s)
	victim.signIn("ws_a", "usr_1")
	victim.create("victim", "", "jobs:read").page(t, http.StatusCreated)
	k := s.listKeys(victim.session())[0]
	other := newBrowserless(t, s)
	other.signIn("ws_b", "usr_2")
	otherCSRF := other.csrf()
	good := victim.csrf()
	nonce := victim.createForm().Get("nonce")

	posts := []struct {
		path string
		form url.Values
	}{
		{settingsPath + "/keys", url.Values{"label": {"forged"}, "scopes": {"jobs:read"}, "nonce": {nonce}}},
		{settingsPath + "/keys/" + k.ID + "/revoke", url.Values{"confirmed": {"yes"}}},
		{settingsPath + "/revoke-all", url.Values{"confirmed": {"yes"}, "expect": {"1"}}},
		{"/settings/signout", url.Values{}},
	}
	tests := []struct {
		name string
		csrf string
		hdr  []string
	}{
		{"no token", "", nil},
		{"wrong token", strings.Repeat("A", 43), nil},
		{"another session's token", otherCSRF, nil},
		{"foreign Origin", good, []string{"Origin", "https://evil.example"}},
		{"Origin null", good, []string{"Origin", "null"}},
		{"Sec-Fetch-Site cross-site", good, []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site same-site", good, []string{"Sec-Fetch-Site", "same-site"}},
	}
	for _, tc := range tests {
		for _, p := range posts {
			t.Run(tc.name+" "+p.path, func(t *testing.T) {
				f := url.Values{}
				for k, v := range p.form {
					f[k] = v
				}
				if tc.csrf != "" {
					f.Set("csrf", tc.csrf)
				}
				r := victim.post(p.path, f, tc.hdr...)
				r.page(t, http.StatusForbidden)
				r.has(t, "othing was changed") // "Nothing was changed" or "... nothing was changed"
			})
		}
	}
	// Nothing changed: one active key, the session still open.
	keys := s.listKeys(victim.session())
	if len(keys) != 1 || keys[0].RevokedAt != nil {
		t.Fatalf("forged forms changed the keys: %+v", keys)
	}
	// The same forms with the right token from this origin are served.
	victim.post(settingsPath+"/keys/"+k.ID+"/revoke", url.Values{"csrf": {good}, "confirmed": {"yes"}},
		"Origin", s.srv.URL, "Sec-Fetch-Site", "same-origin").redirect(t, settingsPath+"?done=revoked")
	// Another workspace's key is not found, even with a valid session.
	other.post(settingsPath+"/keys/"+k.ID+"/revoke", url.Values{"csrf": {otherCSRF}}).page(t, http.StatusNotFound)
	other.post(settingsPath+"/keys/key_nope/revoke", url.Values{"csrf": {otherCSRF}}).page(t, http.StatusNotFound)
	// Without a session a form goes back to the sign-in page.
	anon := newBrowserless(t, s)
	anon.post(settingsPath+"/revoke-all", url.Values{"confirmed": {"yes"}}).redirect(t, settingsPath)
	anon.get(settingsPath+"/new").redirect(t, settingsPath)
	// A body too large is refused.
	big := url.Values{"csrf": {good}, "label": {strings.Repeat("x", maxFormBytes)}}
	victim.post(settingsPath+"/keys", big).page(t, http.StatusRequestEntityTooLarge)
}

// inlineCode finds inline script or style: a <script> without src, a
// <style> element, a style="" attribute or an on*="" handler.
var inlineCode = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|<script>|<style|\sstyle=|\son[a-z]+=`)

func TestSettingsSecurityHeaders(t *testing.T) {
	s := memServer(t, true)
	b := newBrowserless(t, s)
	anonPage := b.get(settingsPath)
	b.signIn("ws_a", "usr_1")
	created := b.create("k", "", "jobs:read")
	pages := map[string]response{
		"sign-in": anonPage,
		"list":    b.get(settingsPath),
		"new":     b.get(settingsPath + "/new"),
		"created": created,
		"confirm": b.post(settingsPath+"/revoke-all", url.Values{"csrf": {b.csrf()}}),
		"error":   b.post(settingsPath+"/revoke-all", url.Values{}),
		"css":     b.get("/settings/static/settings.css"),
		"js":      b.get("/settings/static/settings.js"),
	}
	for name, r := range pages {
		t.Run(name, func(t *testing.T) {
			want := map[string]string{
				"Content-Security-Policy": pagePolicy,
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
			}
			for h, v := range want {
				if got := r.header.Get(h); got != v {
					t.Errorf("%s: %q, want %q", h, got, v)
				}
			}
			if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
				if m := inlineCode.Find(r.body); m != nil {
					t.Errorf("inline script or style %q in:\n%s", m, r.body)
				}
			}
		})
	}
	for _, d := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(pagePolicy, d) || strings.Contains(pagePolicy, "unsafe") {
			t.Fatalf("policy %q lacks %q or allows unsafe-*", pagePolicy, d)
		}
	}
	if ct := pages["css"].header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Fatalf("stylesheet Content-Type %q", ct)
	}
	if ct := pages["js"].header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("script Content-Type %q", ct)
	}
}

func TestSettingsSignIn(t *testing.T) {
	t.Run("without -dev", func(t *testing.T) {
		s := memServer(t, false)
		b := newBrowserless(t, s)
		r := b.get(settingsPath)
		r.status200(t)
		r.has(t, "Sign in", "no user database", "go run ./examples/plangrep -dev")
		r.lacks(t, "<form")
		if c := r.header.Get("Set-Cookie"); c != "" {
			t.Fatalf("cookie set without -dev: %q", c)
		}
		b.post("/settings/signin", url.Values{"workspace": {"ws_a"}, "user": {"u"}}).expect(t, http.StatusNotFound, "not_found")
	})
	t.Run("with -dev", func(t *testing.T) {
		s := memServer(t, true)
		b := newBrowserless(t, s)
		p := b.get(settingsPath)
		p.has(t, `<label for="workspace">Workspace</label>`, `<label for="user">User</label>`, ">Sign in</button>")
		var signin *http.Cookie
		for _, c := range (&http.Response{Header: p.header}).Cookies() {
			if c.Name == signinCookie {
				signin = c
			}
		}
		if signin == nil || !signin.HttpOnly || signin.SameSite != http.SameSiteStrictMode {
			t.Fatalf("sign-in cookie %+v", signin)
		}
		tok := field(t, p, "csrf")
		// Login CSRF: a form without the cookie's value is refused.
		b.post("/settings/signin", url.Values{"csrf": {"forged"}, "workspace": {"ws_evil"}, "user": {"u"}}).page(t, http.StatusForbidden)
		b.post("/settings/signin", url.Values{"csrf": {tok}, "workspace": {"ws_a"}, "user": {"u"}}, "Origin", "https://evil.example").page(t, http.StatusForbidden)
		r := b.post("/settings/signin", url.Values{"csrf": {tok}, "workspace": {"ws a!"}, "user": {"u"}})
		r.page(t, http.StatusBadRequest)
		r.has(t, "1-64 characters", `value="ws a!"`)
		r = b.post("/settings/signin", url.Values{"csrf": {tok}, "workspace": {"ws_a"}, "user": {"usr_1"}})
		r.redirect(t, settingsPath)
		var sess *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == sessionCookie {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure || sess.Path != "/" {
			t.Fatalf("session cookie %+v", sess)
		}
		// The page's session is the JSON API's: same cookie, same rules.
		v := b.session()
		s.createKey(v, "from the API", "jobs:read")
		b.get(settingsPath).has(t, "from the API", "ws_a", "usr_1")
		// Sign out ends the session for both.
		b.post("/settings/signout", url.Values{"csrf": {b.csrf()}}).redirect(t, settingsPath+"?done=signed-out")
		s.do("GET", "/api/open-api/keys", nil, withCookie(v)).expect(t, http.StatusUnauthorized, "unauthorized")
		b.get(settingsPath+"?done=signed-out").has(t, "You are signed out.", ">Sign in</button>")
	})
	t.Run("over TLS", func(t *testing.T) {
		s := memServer(t, true)
		tlsSrv := httptest.NewTLSServer(s.app.handler)
		defer tlsSrv.Close()
		b := newBrowserless(t, &testServer{t: t, app: s.app, srv: tlsSrv})
		p := b.get(settingsPath)
		r := b.post("/settings/signin", url.Values{"csrf": {field(t, p, "csrf")}, "workspace": {"ws_a"}, "user": {"u"}})
		r.redirect(t, settingsPath)
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if !c.Secure || !c.HttpOnly {
				t.Fatalf("cookie %s over TLS: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
			}
		}
	})
}

// The plaintext reaches the created page and nothing else: not the log,
// not a later page.
func TestSettingsPlaintextOnlyOnce(t *testing.T) {
	var logs proctest.Buffer
	s := startApp(t, appConfig{
		Backend: engines()[0].open(t), Secrets: kit.EphemeralSecrets(), Clock: &kit.DevClock{}, Dev: true,
		UsageInterval: time.Hour,
		Logger:        slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	b := newBrowserless(t, s)
	b.signIn("ws_a", "usr_1")
	tok := plaintextOf(t, b.create("once", "", "jobs:read"))
	s.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 200, "")
	for _, p := range []string{settingsPath, settingsPath + "/new", settingsPath + "?done=resubmitted"} {
		b.get(p).lacks(t, tok)
	}
	s.srv.Close()
	if err := s.app.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), tok) {
		t.Fatal("the plaintext was logged")
	}
}

func TestHumanTime(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{-30 * time.Second, "in under a minute"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{-2 * time.Hour, "in 2 hours"},
		{25 * time.Hour, "1 day ago"},
		{-29 * 24 * time.Hour, "in 29 days"},
		{40 * 24 * time.Hour, "22 Oct 2026"},
		{-400 * 24 * time.Hour, "5 Jan 2028"},
	}
	for _, tc := range tests {
		if got := humanTime(now.Add(-tc.d), now); got != tc.want {
			t.Errorf("humanTime(now - %v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
