package kit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/apikit/apikey"
)

// DefaultMaxKeys is the default of -max-keys: the most active keys one
// tenant (workspace, project) may hold.
const DefaultMaxKeys = 1000

// KeyLimitError refuses a create that would give a tenant more than Max
// active keys. The servers answer it 409.
type KeyLimitError struct{ Max int }

func (e *KeyLimitError) Error() string {
	return fmt.Sprintf("this tenant already holds %d active keys, the most allowed: revoke keys it no longer uses first", e.Max)
}

// CheckKeyLimit returns a *KeyLimitError when tenant already holds max
// active keys (not revoked, not expired, not out of grace), and nil when it
// holds fewer or max is 0 or less (no limit). It reads at most max keys.
// Concurrent creates may pass it together, so the limit is a bound on
// growth, not an exact count. Revoked and expired keys do not count.
func CheckKeyLimit(ctx context.Context, m *apikey.Manager, tenant string, max int) error {
	if max <= 0 {
		return nil
	}
	opts := apikey.ListOptions{Filter: apikey.ListActive, Limit: min(max, 1000)}
	n := 0
	for {
		p, err := m.List(ctx, tenant, opts)
		if err != nil {
			return err
		}
		if n += len(p.Keys); n >= max {
			return &KeyLimitError{Max: max}
		}
		if p.Next == "" {
			return nil
		}
		opts.After = p.Next
	}
}

// Page is a list request's optional pagination: Limit 0 means the whole
// list (the seeds' contract); otherwise one page of Limit keys after the
// cursor After.
type Page struct {
	Limit int
	After string
}

// MaxPageLimit is the largest page a list request may ask for.
const MaxPageLimit = 1000

// maxCursorLen bounds the cursor a client may send back.
const maxCursorLen = 64

// ParsePage reads the optional query parameters limit (1-1000) and after
// (the cursor of a Link rel="next"); neither: the whole list. The error is
// a message for a 400.
func ParsePage(r *http.Request) (Page, error) {
	q := r.URL.Query()
	var p Page
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageLimit {
			return p, fmt.Errorf("limit must be an integer from 1 to %d", MaxPageLimit)
		}
		p.Limit = n
	}
	if q.Has("after") {
		a := q.Get("after")
		if a == "" || len(a) > maxCursorLen || !alnum(a) {
			return p, fmt.Errorf("after must be the cursor of a previous page's Link rel=\"next\"")
		}
		if p.Limit == 0 {
			p.Limit = 100
		}
		p.After = a
	}
	return p, nil
}

// List returns the tenant's keys that filter selects for p: all of them
// when p.Limit is 0, else one page, setting a Link rel="next" header on w
// when more follow (RFC 8288; the body keeps the seed's shape).
func (p Page) List(ctx context.Context, w http.ResponseWriter, r *http.Request, m *apikey.Manager, tenant string, filter apikey.ListFilter) ([]*apikey.Key, error) {
	if p.Limit == 0 {
		return m.ListAll(ctx, tenant, filter)
	}
	pg, err := m.List(ctx, tenant, apikey.ListOptions{Filter: filter, Limit: p.Limit, After: p.After})
	if err != nil {
		return nil, err
	}
	if pg.Next != "" && alnum(pg.Next) && len(pg.Next) <= maxCursorLen {
		q := r.URL.Query()
		q.Set("limit", strconv.Itoa(p.Limit))
		q.Set("after", pg.Next)
		next := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		w.Header().Set("Link", "<"+next.String()+`>; rel="next"`)
	}
	return pg.Keys, nil
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
