package main

import (
	"net/http"
	"strings"
)

// signinCookie carries the sign-in form's anti-forgery value before any
// session exists (login CSRF): the form must echo it.
const signinCookie = "plangrep_signin"

// Defaults of the -dev sign-in form.
const (
	demoWorkspace = "ws_demo"
	demoUser      = "usr_demo"
)

// signInPage renders the sign-in page. Under -dev it is a form taking a
// workspace and a user, as POST /dev/bootstrap does; otherwise it says how
// a session is obtained (this example has no user database).
func (a *app) signInPage(w http.ResponseWriter, r *http.Request, status int, ws, user, errMsg string) {
	p := &page{Title: "Sign in", Dev: a.dev, SigninErr: errMsg, SigninWS: ws, SigninUser: user}
	if p.SigninWS == "" {
		p.SigninWS = demoWorkspace
	}
	if p.SigninUser == "" {
		p.SigninUser = demoUser
	}
	if r.URL.Query().Get("done") == "signed-out" {
		p.Notice = "You are signed out."
	}
	if a.dev {
		// One value per browser (tabs share it); a new one if absent.
		var v string
		if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) == 43 {
			v = c.Value
		} else if v, err = randomToken(); err != nil {
			a.pageLibError(w, r, err)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: signinCookie, Value: v, Path: "/settings/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		})
		p.SigninToken = v
	}
	a.render(w, r, status, "signin", p)
}

// signIn handles POST /settings/signin (only with -dev): it checks the
// form against the sign-in cookie, opens a session for the workspace and
// user given, as /dev/bootstrap does, and goes to the settings page.
func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	if !a.parsePageForm(w, r) {
		return
	}
	ws := strings.TrimSpace(r.PostForm.Get("workspace"))
	user := strings.TrimSpace(r.PostForm.Get("user"))
	c, err := r.Cookie(signinCookie)
	if err != nil || !validCSRF(c.Value, r.PostForm.Get("csrf")) {
		a.signInPage(w, r, http.StatusForbidden, ws, user, "The sign-in form expired. Try again.")
		return
	}
	if !validIdent(ws) || !validIdent(user) {
		a.signInPage(w, r, http.StatusBadRequest, ws, user,
			`Workspace and user must each be 1-64 characters of A-Z, a-z, 0-9, "_" and "-".`)
		return
	}
	v, err := a.sessions.open(session{WorkspaceID: ws, UserID: user})
	if err != nil {
		a.pageLibError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Path: "/settings/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	setSessionCookie(w, r, v)
	http.Redirect(w, r, settingsPath, http.StatusSeeOther)
}

// signOut handles POST /settings/signout: the session ends (for the JSON
// API too) and its cookie is cleared.
func (a *app) signOut(w http.ResponseWriter, r *http.Request, _ session) {
	if _, v, ok := a.sessionOf(r); ok {
		a.sessions.close(v)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, settingsPath+"?done=signed-out", http.StatusSeeOther)
}
