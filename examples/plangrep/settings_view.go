package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/apikit/apikey"
)

// web holds the settings page's templates, stylesheet and script: no build
// step, nothing fetched from elsewhere.
//
//go:embed web
var web embed.FS

// staticFS is web/static, served under /settings/static/.
var staticFS = must(fs.Sub(web, "web/static"))

// pages are the settings page's templates, each parsed with the layout.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "keys", "new", "created", "confirm", "message"} {
		out[name] = template.Must(template.New("layout.html").ParseFS(web, "web/layout.html", "web/"+name+".html"))
	}
	return out
}()

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// scopeOrder is the order of seed 002's scope table, which the form
// follows (the catalogue sorts).
var scopeOrder = []string{scopeJobsRead, scopeJobsWrite, scopeArtifactsRead}

// scopeDescriptions are seed 002's words for each scope of the catalogue.
var scopeDescriptions = map[string]string{
	scopeJobsRead:      "Read job state and results",
	scopeJobsWrite:     "Create jobs, upload files, complete uploads, resume and cancel jobs",
	scopeArtifactsRead: "Fetch authenticated artifact URLs",
}

// page is what every template receives; each page fills the fields it
// shows.
type page struct {
	Title     string
	Signed    bool   // a session is open: the header shows who and Sign out
	Workspace string // the session's workspace
	User      string // the session's user
	CSRF      string // the session's token, in every form

	Notice string // a status line after a redirect (never a secret)

	// keys
	Keys        []keyRow
	Revocable   int    // keys that Revoke all keys would revoke
	RevokeWhat  string // "all 3 keys", "the 1 key"
	ActiveCount int

	// new
	Form createForm

	// created
	Created *createdKey

	// confirm
	Confirm *confirmStep

	// signin
	Dev         bool
	SigninToken string
	SigninErr   string
	SigninWS    string
	SigninUser  string

	// message
	Message string
	Status  int
}

// keyRow is one key of the list.
type keyRow struct {
	ID         string // key_<ulid>
	Label      string
	Prefix     string
	Scopes     []string
	CreatedBy  string
	Created    timeView
	Expires    timeView // Zero: never
	LastUsed   timeView // Zero: never
	LastUsedIP string
	Revoked    timeView
	State      string // active, expired or revoked
	StateLabel string // Active, Expired or Revoked
}

// timeView is an instant as the page shows it: readable text, the exact
// UTC time on hover and in the datetime attribute.
type timeView struct {
	Zero     bool
	Datetime string // RFC 3339 in UTC
	Exact    string // 2006-01-02 15:04:05 UTC
	Human    string // "3 minutes ago", "in 12 days", "2 Jan 2027"
}

// createForm is the create form's input and its errors by field.
type createForm struct {
	Label   string
	Scopes  []scopeChoice
	Expires string // YYYY-MM-DD as typed
	MinDate string // today, UTC
	Nonce   string // one-time: a resubmitted form creates nothing
	Errors  map[string]string
}

// scopeChoice is a checkbox of the create form.
type scopeChoice struct {
	Name        string
	Slug        string // for element IDs: jobs-read
	Description string
	Checked     bool
}

// createdKey is the page shown once after a key is created.
type createdKey struct {
	Token   string // the plaintext: in this one response, never elsewhere
	Key     keyRow
	BaseURL string
}

// confirmStep is the confirmation page of a revoke without JavaScript.
type confirmStep struct {
	Heading string
	Body    string
	Action  string
	Button  string
	Expect  int // revoke all: the number the user confirmed
}

// render writes the page name with status. Every page is no-store: each
// holds the session's CSRF token, and one holds a plaintext key.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, p); err != nil {
		a.log.LogAttrs(r.Context(), slogError, "rendering the settings page failed", errAttr(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// rowOf renders a library record for the list at now.
func rowOf(k *apikey.Key, now time.Time) keyRow {
	state := "active"
	switch k.StateAt(now) {
	case apikey.StateActive:
	case apikey.StateRevoked:
		state = "revoked"
	default: // expired, or rotated out (plangrep does not rotate)
		state = "expired"
	}
	return keyRow{
		ID:         wireKeyID(k.ID),
		Label:      k.Name,
		Prefix:     k.Prefix,
		Scopes:     k.Scopes,
		CreatedBy:  k.CreatedBy,
		Created:    when(k.CreatedAt, now),
		Expires:    when(k.ExpiresAt, now),
		LastUsed:   when(k.LastUsedAt, now),
		LastUsedIP: k.LastUsedIP,
		Revoked:    when(k.RevokedAt, now),
		State:      state,
		StateLabel: strings.ToUpper(state[:1]) + state[1:],
	}
}

// when renders t relative to now.
func when(t, now time.Time) timeView {
	if t.IsZero() {
		return timeView{Zero: true}
	}
	u := t.UTC()
	return timeView{
		Datetime: u.Format(time.RFC3339),
		Exact:    u.Format("2006-01-02 15:04:05") + " UTC",
		Human:    humanTime(u, now),
	}
}

// humanTime is "just now", "5 minutes ago", "in 3 hours", "yesterday"-like
// text within 30 days of now and a date ("2 Jan 2027") beyond.
func humanTime(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		if future {
			return "in under a minute"
		}
		return "just now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 24*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 30*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	default:
		return t.Format("2 Jan 2006")
	}
	s := fmt.Sprintf("%d %s", n, unit)
	if n != 1 {
		s += "s"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// scopeChoices are the catalogue's scopes, in the seed's order, with the
// ones in checked ticked.
func (a *app) scopeChoices(checked []string) []scopeChoice {
	var out []scopeChoice
	for _, s := range scopeOrder {
		if !a.manager.Catalog().Contains(s) {
			continue
		}
		c := scopeChoice{
			Name:        s,
			Slug:        strings.NewReplacer(":", "-", "*", "all").Replace(s),
			Description: scopeDescriptions[s],
		}
		for _, x := range checked {
			c.Checked = c.Checked || x == s
		}
		out = append(out, c)
	}
	return out
}
