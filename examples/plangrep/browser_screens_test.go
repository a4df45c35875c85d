package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/chromedp/chromedp"
)

// TestBrowserScreens renders the list, the create form and the key shown
// once at a laptop's width and a phone's, checks that nothing overflows
// sideways, and saves each as a PNG under $APIKEY_SCREENSHOTS when set:
//
//	APIKEY_SCREENSHOTS=$PWD/docs/screenshots go test -run TestBrowserScreens ./examples/plangrep/
func TestBrowserScreens(t *testing.T) {
	s := browserServer(t)
	seedDemoKeys(t, s)
	b := newBrowser(t, s.srv.URL)
	b.signIn("ws_acme", "usr_maria")
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"desktop", 1280, 800, false},
		{"phone", 390, 844, true},
	} {
		t.Run(size.name, func(t *testing.T) {
			b.t = t
			var opts []chromedp.EmulateViewportOption
			if size.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			b.do(chromedp.EmulateViewport(size.width, size.height, opts...))
			shot := func(name string) {
				t.Helper()
				b.loaded()
				if w := eval[int](b, "document.documentElement.scrollWidth"); w > int(size.width) {
					t.Errorf("%s at %dpx: the page is %dpx wide (overflows sideways)", name, size.width, w)
				}
				b.screenshot("settings-" + name + "-" + size.name)
			}
			b.open(settingsPath)
			b.do(chromedp.WaitVisible(heading("API keys")))
			shot("list")
			b.fillCreate("Zapier integration", time.Now().UTC().AddDate(0, 3, 0).Format(dateLayout), "jobs:read", "jobs:write")
			b.do(chromedp.Blur(labelled("jobs:write")))
			shot("create")
			b.do(chromedp.Click(button("Create")), chromedp.WaitVisible(heading("API key created")))
			shot("created")
		})
	}
}

// seedDemoKeys gives workspace ws_acme keys in every state, created over
// a few weeks of the dev clock, some of them used.
func seedDemoKeys(t *testing.T, s *testServer) {
	t.Helper()
	ctx := context.Background()
	m := s.app.manager
	create := func(label string, expires time.Duration, scopes ...string) string {
		p := apikey.CreateParams{Tenant: "ws_acme", CreatedBy: "usr_maria", Name: label, Scopes: scopes}
		if expires > 0 {
			p.ExpiresAt = m.Now().Add(expires)
		}
		is, err := m.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return is.Token.Reveal()
	}
	advance := func(d time.Duration) {
		if _, err := s.app.clock.Advance(d); err != nil {
			t.Fatal(err)
		}
	}
	old := create("Old laptop script", 0, scopeJobsRead)
	advance(20 * 24 * time.Hour)
	create("Nightly report", 2*24*time.Hour, scopeJobsRead)
	advance(5 * 24 * time.Hour)
	sync := create("Artifact sync", 0, scopeArtifactsRead)
	advance(2 * 24 * time.Hour)
	ci := create("CI deploy (GitHub Actions)", 90*24*time.Hour, scopeJobsRead, scopeJobsWrite)
	advance(3 * time.Hour)
	for _, tok := range []string{old, sync, ci} {
		if st := bearerStatus(t, s.srv.URL, tok); st != http.StatusOK {
			t.Fatalf("demo key use: %d", st)
		}
	}
	if err := s.app.tracker.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := m.ListAll(ctx, "ws_acme", apikey.ListAny)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "Old laptop script" {
			if _, err := m.Revoke(ctx, "ws_acme", k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	advance(20 * time.Minute)
}
