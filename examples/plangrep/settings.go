package main

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// The settings page (SPEC D3): seed 002's Settings -> API, server-rendered,
// usable without JavaScript; /settings/static/settings.js only enhances
// (copy to clipboard, confirmation dialogs). Every state change is a form
// POST guarded by app.form, answered by a redirect to the list
// (Post/Redirect/Get) except creation, whose answer is the page that shows
// the plaintext once.

// settingsPath is the settings page.
const settingsPath = "/settings/api"

// dateLayout is the value format of <input type="date">.
const dateLayout = "2006-01-02"

// settingsRoutes registers the settings page on mux.
func (a *app) settingsRoutes(mux *http.ServeMux, dev bool) {
	page := func(h http.Handler) http.Handler { return pageHeaders(h) }
	mux.Handle("GET /settings/api", page(http.HandlerFunc(a.settingsPage)))
	mux.Handle("GET /settings/api/new", page(http.HandlerFunc(a.newKeyPage)))
	mux.Handle("POST /settings/api/keys", page(a.form(a.createKeyForm)))
	mux.Handle("POST /settings/api/keys/{id}/revoke", page(a.form(a.revokeKeyForm)))
	mux.Handle("POST /settings/api/revoke-all", page(a.form(a.revokeAllForm)))
	mux.Handle("POST /settings/signout", page(a.form(a.signOut)))
	if dev {
		mux.Handle("POST /settings/signin", page(http.HandlerFunc(a.signIn)))
	}
	mux.Handle("GET /settings/static/", page(http.StripPrefix("/settings/static/", staticHandler())))
}

// staticHandler serves the stylesheet, the script and the icon.
func staticHandler() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// signedIn fills the page's header fields from s.
func (a *app) signedIn(p *page, s session) {
	p.Signed, p.Workspace, p.User, p.CSRF = true, s.WorkspaceID, s.UserID, s.csrf
}

// notices are the status lines a redirect may ask the list to show (by
// name: the URL never carries text or a secret).
var notices = map[string]string{
	"revoked":     "Key revoked. Requests with it are refused from now on.",
	"resubmitted": "That form was already submitted: the key was created then, and its plaintext is not shown again. Revoke it below if it was not copied.",
	"nothing":     "There were no keys to revoke.",
}

// settingsPage handles GET /settings/api: the workspace's keys, newest
// first, or the sign-in page without a session.
func (a *app) settingsPage(w http.ResponseWriter, r *http.Request) {
	s, _, ok := a.sessionOf(r)
	if !ok {
		a.signInPage(w, r, http.StatusOK, "", "", "")
		return
	}
	keys, err := a.manager.ListAll(r.Context(), s.WorkspaceID, apikey.ListAny)
	if err != nil {
		a.pageLibError(w, r, err)
		return
	}
	now := a.manager.Now()
	p := &page{Title: "API keys"}
	a.signedIn(p, s)
	for _, k := range keys {
		row := rowOf(k, now)
		p.Keys = append(p.Keys, row)
		if row.State == "active" {
			p.ActiveCount++
		}
		if k.RevokedAt.IsZero() {
			p.Revocable++
		}
	}
	p.RevokeWhat = revocableKeys(p.Revocable)
	q := r.URL.Query()
	p.Notice = notices[q.Get("done")]
	if q.Get("done") == "revoked-all" {
		n, _ := strconv.Atoi(q.Get("n"))
		p.Notice = "Revoked " + plural(n, "key") + ". Requests with them are refused from now on."
	}
	a.render(w, r, http.StatusOK, "keys", p)
}

// revocableKeys names the n keys revoke all would revoke: "all 3 keys",
// "the 1 key".
func revocableKeys(n int) string {
	if n == 1 {
		return "the 1 key"
	}
	return "all " + plural(n, "key")
}

// plural is "1 key", "3 keys".
func plural(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// newKeyPage handles GET /settings/api/new: the create form, empty.
func (a *app) newKeyPage(w http.ResponseWriter, r *http.Request) {
	s, _, ok := a.sessionOf(r)
	if !ok {
		http.Redirect(w, r, settingsPath, http.StatusSeeOther)
		return
	}
	nonce, err := randomToken()
	if err != nil {
		a.pageLibError(w, r, err)
		return
	}
	a.renderForm(w, r, http.StatusOK, s, createForm{Nonce: nonce, Scopes: a.scopeChoices(nil)})
}

// renderForm renders the create form f.
func (a *app) renderForm(w http.ResponseWriter, r *http.Request, status int, s session, f createForm) {
	f.MinDate = a.manager.Now().UTC().Format(dateLayout)
	p := &page{Title: "Create API key", Form: f}
	a.signedIn(p, s)
	a.render(w, r, status, "new", p)
}

// createKeyForm handles POST /settings/api/keys. Invalid input renders the
// form again (400) with each error next to its field and the input kept;
// nothing is created. A valid form creates the key and answers, in this
// response only, the page with the plaintext (no redirect: a URL, a
// cookie or a log never holds it; the page is no-store). A form submitted
// twice (its nonce seen) creates nothing and goes back to the list.
func (a *app) createKeyForm(w http.ResponseWriter, r *http.Request, s session) {
	f := createForm{
		Label:   r.PostForm.Get("label"),
		Expires: strings.TrimSpace(r.PostForm.Get("expires")),
		Nonce:   r.PostForm.Get("nonce"),
		Errors:  map[string]string{},
	}
	scopes := r.PostForm["scopes"]
	f.Scopes = a.scopeChoices(scopes)
	req := createKeyRequest{Label: &f.Label, Scopes: scopes}
	if err := checkLabel("Label", f.Label); err != nil {
		f.Errors["label"] = err.Error() + "."
	}
	if len(scopes) == 0 {
		f.Errors["scopes"] = "Select at least one scope."
	} else if err := a.checkScopes("Scopes", scopes); err != nil {
		f.Errors["scopes"] = err.Error() + "."
	}
	if f.Expires != "" {
		exp, err := expiryOfDate(f.Expires)
		switch {
		case err != nil:
			f.Errors["expires"] = "Enter a date such as " + a.manager.Now().AddDate(0, 0, 30).UTC().Format(dateLayout) + "."
		case a.checkExpiry("", exp) != nil:
			f.Errors["expires"] = "The expiration date must be today or later."
		default:
			v := exp.Format(time.RFC3339)
			req.ExpiresAt = &v
		}
	}
	if len(f.Nonce) != 43 { // randomToken's length: a form this page rendered
		f.Errors["form"] = "This form is out of date. Check the fields and submit it again."
		f.Nonce, _ = randomToken()
	}
	if len(f.Errors) > 0 {
		a.renderForm(w, r, http.StatusBadRequest, s, f)
		return
	}
	if !a.nonces.consume(f.Nonce, time.Now()) {
		http.Redirect(w, r, settingsPath+"?done=resubmitted", http.StatusSeeOther)
		return
	}
	p, err := a.createParams(s, req) // the JSON API's rules, already met above
	if err != nil {
		a.nonces.release(f.Nonce)
		f.Errors["form"] = err.Error()
		a.renderForm(w, r, http.StatusBadRequest, s, f)
		return
	}
	if err := kit.CheckKeyLimit(r.Context(), a.manager, p.Tenant, a.maxKeys); err != nil {
		a.nonces.release(f.Nonce)
		if le, ok := errors.AsType[*kit.KeyLimitError](err); ok {
			f.Errors["form"] = le.Error() + "."
			a.renderForm(w, r, http.StatusConflict, s, f)
			return
		}
		a.pageLibError(w, r, err)
		return
	}
	issued, err := a.manager.Create(r.Context(), p)
	if err != nil {
		a.nonces.release(f.Nonce)
		a.pageLibError(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	pg := &page{Title: "API key created", Created: &createdKey{
		Token:   issued.Token.Reveal(),
		Key:     rowOf(issued.Key, a.manager.Now()),
		BaseURL: scheme + "://" + r.Host,
	}}
	a.signedIn(pg, s)
	a.render(w, r, http.StatusCreated, "created", pg)
}

// expiryOfDate is the instant a key given expiration date d (YYYY-MM-DD)
// stops working: the last second of that day, UTC.
func expiryOfDate(d string) (time.Time, error) {
	t, err := time.Parse(dateLayout, d)
	if err != nil {
		return time.Time{}, err
	}
	return t.Add(24*time.Hour - time.Second), nil
}

// confirmed reports whether the user confirmed the form (the confirmation
// step's button, or the script's dialog, sets confirmed=yes).
func confirmed(r *http.Request) bool { return r.PostForm.Get("confirmed") == "yes" }

// revokeKeyForm handles POST /settings/api/keys/{id}/revoke: unconfirmed,
// the confirmation step; confirmed, the revocation, then the list. A key
// of another workspace, unknown or malformed, is 404.
func (a *app) revokeKeyForm(w http.ResponseWriter, r *http.Request, s session) {
	id, ok := libKeyID(r.PathValue("id"))
	if !ok {
		a.pageLibError(w, r, apikey.ErrNotFound)
		return
	}
	if !confirmed(r) {
		k, err := a.manager.Get(r.Context(), s.WorkspaceID, id)
		if err != nil {
			a.pageLibError(w, r, err)
			return
		}
		a.confirmPage(w, r, s, &confirmStep{
			Heading: "Revoke “" + k.Name + "”?",
			Body: "Requests with the key " + k.Prefix + "… are refused from the moment you confirm. " +
				"Revoking cannot be undone: an integration that uses it needs a new key.",
			Action: settingsPath + "/keys/" + wireKeyID(k.ID) + "/revoke",
			Button: "Revoke",
		})
		return
	}
	if _, err := a.manager.Revoke(r.Context(), s.WorkspaceID, id); err != nil {
		a.pageLibError(w, r, err)
		return
	}
	http.Redirect(w, r, settingsPath+"?done=revoked", http.StatusSeeOther)
}

// revokeAllForm handles POST /settings/api/revoke-all. It revokes only when
// confirmed for the number of keys it would revoke now (the form's
// "expect"); otherwise it shows the confirmation step naming that number.
func (a *app) revokeAllForm(w http.ResponseWriter, r *http.Request, s session) {
	keys, err := a.manager.ListAll(r.Context(), s.WorkspaceID, apikey.ListAny)
	if err != nil {
		a.pageLibError(w, r, err)
		return
	}
	n := 0
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			n++
		}
	}
	if n == 0 {
		http.Redirect(w, r, settingsPath+"?done=nothing", http.StatusSeeOther)
		return
	}
	expect, err := strconv.Atoi(r.PostForm.Get("expect"))
	if !confirmed(r) || err != nil || expect != n {
		body := "This revokes " + revocableKeys(n) + " of workspace " + s.WorkspaceID + " not revoked yet, at once: " +
			"every integration that uses them stops working. This cannot be undone."
		if confirmed(r) {
			body = "The workspace's keys changed since the page was loaded. " + body
		}
		a.confirmPage(w, r, s, &confirmStep{
			Heading: "Revoke " + revocableKeys(n) + "?",
			Body:    body,
			Action:  settingsPath + "/revoke-all",
			Button:  "Revoke all keys",
			Expect:  n,
		})
		return
	}
	if _, err := a.manager.RevokeAll(r.Context(), s.WorkspaceID); err != nil {
		a.pageLibError(w, r, err)
		return
	}
	http.Redirect(w, r, settingsPath+"?done=revoked-all&n="+strconv.Itoa(n), http.StatusSeeOther)
}

// confirmPage renders a confirmation step.
func (a *app) confirmPage(w http.ResponseWriter, r *http.Request, s session, c *confirmStep) {
	p := &page{Title: c.Heading, Confirm: c}
	a.signedIn(p, s)
	a.render(w, r, http.StatusOK, "confirm", p)
}
