package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium (package chromium) through the
// DevTools protocol with chromedp. Without it they skip with a message,
// except under CI=true, where a missing browser fails them (.ci/run
// installs it).

// chromiumPath is where Debian installs Chromium; APIKEY_CHROMIUM overrides.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds one browser test.
const browserTimeout = 90 * time.Second

// screenshotsEnv names the directory the browser tests write their
// screenshots to (unset: none are written).
const screenshotsEnv = "APIKEY_SCREENSHOTS"

// findChromium returns the browser's path, or skips t (fails it under CI).
func findChromium(t *testing.T) string {
	t.Helper()
	p := os.Getenv("APIKEY_CHROMIUM")
	if p == "" {
		p = chromiumPath
	}
	if _, err := exec.LookPath(p); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium at %s (apt-get install -y chromium, or set APIKEY_CHROMIUM): %v", p, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// tab is one browser tab on the settings page of a test server.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	dialogs []string // messages of the confirm dialogs, in order
}

// browser is the one Chromium the browser tests share (starting one takes
// seconds); each test gets its own browser context (its own cookies).
var browser struct {
	once    sync.Once
	ctx     context.Context
	cancel  func()
	profile string
	err     error
}

// TestMain stops the shared browser, if a test started it.
func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
		_ = os.RemoveAll(browser.profile)
	}
	os.Exit(code)
}

// startBrowser starts the shared headless Chromium with a fresh profile.
func startBrowser(path string) {
	browser.profile, browser.err = os.MkdirTemp("", "plangrep-chromium-")
	if browser.err != nil {
		return
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(browser.profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	browser.ctx, browser.cancel = ctx, func() { cancel(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil { // starts it, no timeout bound to it
		browser.err = fmt.Errorf("starting %s: %w", path, err)
	}
}

// newBrowser returns a tab in a new browser context (no cookies) of the
// shared Chromium, which accepts every confirm dialog (recording its
// message). The context is disposed of when t ends.
func newBrowser(t *testing.T, base string) *tab {
	t.Helper()
	path := findChromium(t)
	browser.once.Do(func() { startBrowser(path) })
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t, ctx: ctx, base: base}
	tb.acceptDialogs()
	return tb
}

// newTab opens another tab of the same browser (same cookies) for t.
func (tb *tab) newTab(t *testing.T) *tab {
	ctx, cancel := chromedp.NewContext(tb.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	nt := &tab{t: t, ctx: ctx, base: tb.base}
	nt.acceptDialogs()
	return nt
}

// acceptDialogs answers every JavaScript dialog of the tab with OK.
func (tb *tab) acceptDialogs() {
	opening := chromedp.Events(tb.ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for e, err := range opening {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, e.Message)
			tb.mu.Unlock()
			go func() {
				_, _ = chromedp.Call(tb.ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
}

// lastDialog returns the message of the latest dialog ("" if none).
func (tb *tab) lastDialog() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.dialogs) == 0 {
		return ""
	}
	return tb.dialogs[len(tb.dialogs)-1]
}

// do runs steps with the test's time bound.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v\npage text:\n%s", err, tb.snapshot())
	}
}

// snapshot is the URL and the start of the page's text, for failures.
func (tb *tab) snapshot() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 2000)`))
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v\npage text:\n%s", expr, err, tb.snapshot())
	}
	return v
}

// text is the visible text of the page.
func (tb *tab) text() string { return eval[string](tb, "document.body.innerText") }

// open navigates to path on the server and waits until the page, its
// stylesheet and script included, has loaded.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.base + path))
	tb.loaded()
}

// loaded waits until document.readyState is "complete".
func (tb *tab) loaded() {
	tb.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); eval[string](tb, "document.readyState") != "complete"; {
		if time.Now().After(deadline) {
			tb.t.Fatalf("page never finished loading: %s", tb.snapshot())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The elements are found by their visible names (SPEC D3: a contract).

// button is the button whose text is name.
func button(name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space()=%s]`, xpathString(name)))
}

// labelled is the form control whose <label> text is name.
func labelled(name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//*[@id=//label[normalize-space()=%s]/@for]`, xpathString(name)))
}

// heading is the h1 whose text is name.
func heading(name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//h1[normalize-space()=%s]`, xpathString(name)))
}

// rowButton is the button name in the list row of the key labelled label.
func rowButton(label, name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//tr[.//*[@class="label" and normalize-space()=%s]]//button[normalize-space()=%s]`,
		xpathString(label), xpathString(name)))
}

// xpathString quotes s for XPath 1.0 (no escapes: concat when both quotes).
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	return `concat("` + strings.ReplaceAll(s, `"`, `", '"', "`) + `")`
}

// signIn signs in with the -dev form and waits for the settings page.
func (tb *tab) signIn(ws, user string) {
	tb.t.Helper()
	tb.open(settingsPath)
	tb.do(
		chromedp.WaitVisible(heading("Sign in")),
		chromedp.SetValue(labelled("Workspace"), ws),
		chromedp.SetValue(labelled("User"), user),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(heading("API keys")),
	)
}

// fillCreate opens the create form from the list and fills it.
func (tb *tab) fillCreate(label, date string, scopes ...string) {
	tb.t.Helper()
	tb.do(
		chromedp.Click(button("Create API key")),
		chromedp.WaitVisible(heading("Create API key")),
		chromedp.SendKeys(labelled("Label"), label),
	)
	for _, s := range scopes {
		tb.do(chromedp.Click(labelled(s)))
	}
	if date != "" {
		tb.do(chromedp.SetValue(labelled("Expiration date"), date))
	}
}

// create creates a key through the page and returns the plaintext shown.
func (tb *tab) create(label, date string, scopes ...string) string {
	tb.t.Helper()
	tb.open(settingsPath)
	tb.fillCreate(label, date, scopes...)
	tb.do(chromedp.Click(button("Create")), chromedp.WaitVisible(heading("API key created")))
	return eval[string](tb, `document.getElementById("plaintext").value`)
}

// waitText reloads the page until its text holds want (the usage tracker
// writes in the background).
func (tb *tab) waitText(want string, within time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	for {
		tb.loaded()
		if strings.Contains(tb.text(), want) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("page never showed %q:\n%s", want, tb.text())
		}
		time.Sleep(100 * time.Millisecond)
		tb.do(chromedp.Reload())
	}
}

// screenshot saves the whole page as NAME.png under $APIKEY_SCREENSHOTS,
// when set.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	tb.loaded()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(tb.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// bearerStatus calls the Open API (GET /api/open/v1/projects, any valid key) with token and returns the status.
func bearerStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/open/v1/projects", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
