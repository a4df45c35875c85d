package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// browserServer is plangrep with -dev on the memory store and a usage
// interval short enough for a test to see last used at/IP appear.
func browserServer(t *testing.T) *testServer {
	t.Helper()
	return startApp(t, appConfig{
		Backend:       engines()[0].open(t),
		Secrets:       kit.EphemeralSecrets(),
		Clock:         &kit.DevClock{},
		Dev:           true,
		UsageInterval: 50 * time.Millisecond,
	})
}

// workspaceKeys lists the keys of ws straight from the manager.
func workspaceKeys(t *testing.T, s *testServer, ws string) []*apikey.Key {
	t.Helper()
	keys, err := s.app.manager.ListAll(context.Background(), ws, apikey.ListAny)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestBrowserKeyLifecycle is seed 002's user path in Chromium: sign in,
// create a key with two scopes and a date, copy the plaintext, use it,
// see its last use, revoke it, create two more and revoke them all.
func TestBrowserKeyLifecycle(t *testing.T) {
	s := browserServer(t)
	b := newBrowser(t, s.srv.URL)

	b.signIn("ws_a", "usr_1")
	if txt := b.text(); !strings.Contains(txt, "No API keys yet") || !strings.Contains(txt, "ws_a") {
		t.Fatalf("empty state missing:\n%s", txt)
	}

	// Create: label, two scopes, an expiration date.
	date := time.Now().UTC().AddDate(0, 0, 30).Format(dateLayout)
	tok := b.create("CI deploy", date, "jobs:read", "jobs:write")
	if !s.app.manager.TokenRegexp().MatchString(tok) {
		t.Fatalf("plaintext field holds %q", tok)
	}
	if txt := b.text(); !strings.Contains(txt, "shown only once") {
		t.Fatalf("no shown-once warning:\n%s", txt)
	}
	if ro := eval[bool](b, `document.getElementById("plaintext").readOnly`); !ro {
		t.Fatal("the plaintext field is not read-only")
	}
	// Copy, with the script: the button copies and says so.
	b.do(chromedp.Click(button("Copy")), chromedp.WaitVisible(chromedp.Search(`//p[@id="copy-status" and normalize-space()="Copied to the clipboard."]`)))

	if st := bearerStatus(t, s.srv.URL, tok); st != http.StatusOK {
		t.Fatalf("bearer request with the new key: %d, want 200", st)
	}
	keys := workspaceKeys(t, s, "ws_a")
	if len(keys) != 1 || strings.Join(keys[0].Scopes, ",") != "jobs:read,jobs:write" ||
		keys[0].ExpiresAt.UTC().Format(dateLayout) != date {
		t.Fatalf("created %+v", keys)
	}

	// Back to the list: last used at and IP appear; the plaintext is gone.
	b.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Done"]`)), chromedp.WaitVisible(heading("API keys")))
	b.waitText("from 127.0.0.1", 10*time.Second)
	txt := b.text()
	for _, want := range []string{"CI deploy", keys[0].Prefix, "jobs:read", "jobs:write", "just now", "Active"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("list lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(eval[string](b, "document.documentElement.outerHTML"), tok) {
		t.Fatal("the list holds the plaintext")
	}
	// The exact UTC time on hover.
	title := eval[string](b, `document.querySelector("td[data-label='Last used'] time").title`)
	if !strings.HasSuffix(title, " UTC") || len(title) != len("2006-01-02 15:04:05 UTC") {
		t.Fatalf("last used title %q", title)
	}
	// Going back to the page that showed the key never shows it again:
	// the page is no-store (Chromium answers ERR_CACHE_MISS, "Confirm Form
	// Resubmission"), and were it restored from the back/forward cache, the
	// script wiped the field when it was left.
	if err := chromedp.Do(b.ctx, chromedp.NavigateBack()); err != nil && !strings.Contains(err.Error(), "ERR_CACHE_MISS") {
		t.Fatalf("back: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if html := eval[string](b, `document.documentElement.outerHTML + (document.getElementById("plaintext") || {value: ""}).value`); strings.Contains(html, tok) {
		t.Fatalf("going back showed the plaintext again: %s", b.snapshot())
	}
	b.open(settingsPath)

	// Revoke, confirmed in the dialog: the bearer request now gets 401.
	b.do(chromedp.Click(rowButton("CI deploy", "Revoke")), chromedp.WaitVisible(chromedp.Search(`//p[@role="status" and contains(., "Key revoked")]`)))
	if d := b.lastDialog(); !strings.Contains(d, "Revoke “CI deploy”?") {
		t.Fatalf("confirm dialog %q", d)
	}
	if !strings.Contains(b.text(), "Revoked") || workspaceKeys(t, s, "ws_a")[0].RevokedAt.IsZero() {
		t.Fatalf("key not shown revoked:\n%s", b.text())
	}
	if st := bearerStatus(t, s.srv.URL, tok); st != http.StatusUnauthorized {
		t.Fatalf("bearer request with the revoked key: %d, want 401", st)
	}

	// Two more, then Revoke all keys: the dialog names how many.
	tokA := b.create("Nightly export", "", "artifacts:read")
	tokB := b.create("Job runner", "", "jobs:write")
	b.open(settingsPath)
	b.do(chromedp.Click(button("Revoke all keys")), chromedp.WaitVisible(chromedp.Search(`//p[@role="status" and contains(., "Revoked 2 keys")]`)))
	if d := b.lastDialog(); !strings.Contains(d, "Revoke all 2 keys") {
		t.Fatalf("revoke-all dialog %q", d)
	}
	for _, k := range workspaceKeys(t, s, "ws_a") {
		if k.RevokedAt.IsZero() {
			t.Fatalf("key %q not revoked", k.Name)
		}
	}
	for _, tk := range []string{tokA, tokB} {
		if st := bearerStatus(t, s.srv.URL, tk); st != http.StatusUnauthorized {
			t.Fatalf("bearer request after revoke all: %d, want 401", st)
		}
	}
	if n := eval[int](b, `document.querySelectorAll(".badge-revoked").length`); n != 3 {
		t.Fatalf("%d keys shown revoked, want 3", n)
	}

	// Sign out: the page asks to sign in again.
	b.do(chromedp.Click(button("Sign out")), chromedp.WaitVisible(heading("Sign in")))
}

// TestBrowserFormErrors submits invalid forms: the errors show next to the
// fields, the input stays, nothing is created.
func TestBrowserFormErrors(t *testing.T) {
	s := browserServer(t)
	b := newBrowser(t, s.srv.URL)
	b.signIn("ws_a", "usr_1")
	b.open(settingsPath)
	b.fillCreate("", "")
	b.do(chromedp.Click(button("Create")), chromedp.WaitVisible(chromedp.ID("label-error")))
	txt := b.text()
	for _, want := range []string{"Label must not be empty.", "Select at least one scope.", "no key was created"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("errors lack %q:\n%s", want, txt)
		}
	}
	// Fix two fields, choose a past date: the date's error alone, input kept.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(dateLayout)
	b.do(
		chromedp.SendKeys(labelled("Label"), "Backfill"),
		chromedp.Click(labelled("artifacts:read")),
		chromedp.SetValue(labelled("Expiration date"), yesterday),
		chromedp.Click(button("Create")),
		chromedp.WaitVisible(chromedp.ID("expires-error")),
	)
	if got := eval[string](b, `document.getElementById("label").value`); got != "Backfill" {
		t.Fatalf("label not kept: %q", got)
	}
	if !eval[bool](b, `document.getElementById("scope-artifacts-read").checked`) {
		t.Fatal("scope not kept")
	}
	if got := eval[string](b, `document.getElementById("expires").value`); got != yesterday {
		t.Fatalf("date not kept: %q", got)
	}
	if eval[bool](b, `!!document.getElementById("label-error")`) {
		t.Fatal("a fixed field still shows its error")
	}
	// The error is tied to its field for assistive technology.
	if d := eval[string](b, `document.getElementById("expires").getAttribute("aria-describedby")`); !strings.Contains(d, "expires-error") {
		t.Fatalf("aria-describedby %q", d)
	}
	if n := len(workspaceKeys(t, s, "ws_a")); n != 0 {
		t.Fatalf("%d keys created by invalid forms", n)
	}
}

// TestBrowserCrossSiteRefused: a page of another site (and of a sibling
// origin on the same host) that posts a form to the settings page gets
// 403, and nothing changes.
func TestBrowserCrossSiteRefused(t *testing.T) {
	s := browserServer(t)
	b := newBrowser(t, s.srv.URL)
	b.signIn("ws_a", "usr_1")
	b.create("victim", "", "jobs:read")

	target := s.srv.URL + settingsPath + "/revoke-all"
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="%s"><input name="confirmed" value="yes"><input name="expect" value="1"><input name="csrf" value="guess"></form>
<script>document.getElementById("f").submit()</script>`, target)
	}))
	defer evil.Close()
	_, port, _ := net.SplitHostPort(evil.Listener.Addr().String())
	for name, origin := range map[string]string{
		"cross-site (localhost)":  "http://localhost:" + port, // another site: the Lax cookie stays home
		"same-site, other origin": evil.URL,                   // 127.0.0.1, another port: the cookie goes along
	} {
		t.Run(name, func(t *testing.T) {
			ev := b.newTab(t)
			ev.do(chromedp.Navigate(origin + "/"))
			ev.do(chromedp.WaitVisible(heading("Request refused")))
			if !strings.Contains(ev.text(), "nothing was changed") {
				t.Fatalf("refusal page:\n%s", ev.text())
			}
			st := eval[int](ev, `performance.getEntriesByType("navigation")[0].responseStatus`)
			if st != http.StatusForbidden {
				t.Fatalf("status %d, want 403", st)
			}
		})
	}
	if k := workspaceKeys(t, s, "ws_a"); len(k) != 1 || !k[0].RevokedAt.IsZero() {
		t.Fatalf("a cross-site form changed the keys: %+v", k)
	}
}

// TestBrowserWithoutJavaScript: with scripts off, Revoke goes through the
// confirmation step page, and the Copy button stays hidden.
func TestBrowserWithoutJavaScript(t *testing.T) {
	s := browserServer(t)
	b := newBrowser(t, s.srv.URL)
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.signIn("ws_a", "usr_1")
	b.open(settingsPath)
	b.fillCreate("No script", "", "jobs:read")
	b.do(chromedp.Click(button("Create")), chromedp.WaitVisible(heading("API key created")))
	tok, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("plaintext")))
	if err != nil || !s.app.manager.TokenRegexp().MatchString(tok) {
		t.Fatalf("plaintext %q, %v", tok, err)
	}
	b.open(settingsPath)
	b.do(
		chromedp.Click(rowButton("No script", "Revoke")),
		chromedp.WaitVisible(heading("Revoke “No script”?")),
	)
	if !workspaceKeys(t, s, "ws_a")[0].RevokedAt.IsZero() {
		t.Fatal("the confirmation step revoked already")
	}
	b.do(chromedp.Click(button("Revoke")), chromedp.WaitVisible(chromedp.Search(`//p[@role="status" and contains(., "Key revoked")]`)))
	if workspaceKeys(t, s, "ws_a")[0].RevokedAt.IsZero() {
		t.Fatal("not revoked after the confirmation step")
	}
	if st := bearerStatus(t, s.srv.URL, tok); st != http.StatusUnauthorized {
		t.Fatalf("bearer after revoke: %d", st)
	}
}

// TestBrowserKeyboard creates a key with the keyboard alone: the label has
// the focus, Tab reaches the scopes, Space ticks one, Enter submits; the
// focused control shows a visible outline.
func TestBrowserKeyboard(t *testing.T) {
	s := browserServer(t)
	b := newBrowser(t, s.srv.URL)
	b.signIn("ws_a", "usr_1")
	b.open(settingsPath + "/new")
	b.do(chromedp.WaitVisible(heading("Create API key")))
	if id := eval[string](b, "document.activeElement.id"); id != "label" {
		t.Fatalf("focus on %q, want the Label field", id)
	}
	b.do(chromedp.KeyEvent("Keyboard key"), chromedp.KeyEvent("\t"))
	if id := eval[string](b, "document.activeElement.id"); id != "scope-jobs-read" {
		t.Fatalf("Tab from Label went to %q, want the first scope", id)
	}
	if o := eval[string](b, "getComputedStyle(document.activeElement).outlineStyle"); o == "none" || o == "" {
		t.Fatalf("the focused checkbox has no visible outline (%q)", o)
	}
	b.do(chromedp.KeyEvent(" "))
	if !eval[bool](b, `document.getElementById("scope-jobs-read").checked`) {
		t.Fatal("Space did not tick the scope")
	}
	b.do(chromedp.Focus(labelled("Label")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(heading("API key created")))
	keys := workspaceKeys(t, s, "ws_a")
	if len(keys) != 1 || keys[0].Name != "Keyboard key" || strings.Join(keys[0].Scopes, ",") != "jobs:read" {
		t.Fatalf("created %+v", keys)
	}
}
