package apikey

import (
	"fmt"
	"slices"
	"strings"
)

// Scopes are strings "resource:action", such as "jobs:read". Two wildcard
// forms exist and mean something only when granted explicitly: "resource:*"
// grants every action on resource, and "*" grants everything. There is no
// implicit wildcard and no hierarchy beyond that; an empty set grants
// nothing.

// maxScopeLen bounds a single scope string.
const maxScopeLen = 128

// ValidateScope reports whether s is a well-formed scope: "*", or
// "resource:action" where resource is letters, digits, '_', '-' or '.', and
// action is the same or "*".
func ValidateScope(s string) error {
	if s == "*" {
		return nil
	}
	if len(s) > maxScopeLen {
		return fmt.Errorf("%w: scope longer than %d bytes", ErrInvalid, maxScopeLen)
	}
	res, act, ok := strings.Cut(s, ":")
	if !ok || !isScopeWord(res) || (act != "*" && !isScopeWord(act)) {
		return fmt.Errorf("%w: scope %q is not of the form resource:action", ErrInvalid, s)
	}
	return nil
}

func isScopeWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// NormalizeScopes validates every scope and returns them sorted without
// duplicates. A nil or empty input gives an empty, non-nil slice.
func NormalizeScopes(scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if err := ValidateScope(s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Grants reports whether the held scopes grant needed. held grants needed
// when it contains needed itself, "*", or "resource:*" for needed's
// resource. A wildcard needed ("jobs:*") is granted only by "jobs:*" or "*".
// It does not allocate.
func Grants(held []string, needed string) bool {
	res, _, _ := strings.Cut(needed, ":")
	for _, h := range held {
		if h == needed || h == "*" {
			return true
		}
		if len(h) == len(res)+2 && h[len(res)] == ':' && h[len(res)+1] == '*' && h[:len(res)] == res && needed != "*" {
			return true
		}
	}
	return false
}

// HasAll reports whether held grants every scope in needed. With no needed
// scopes it returns true.
func HasAll(held []string, needed ...string) bool {
	for _, n := range needed {
		if !Grants(held, n) {
			return false
		}
	}
	return true
}

// HasAny reports whether held grants at least one scope in needed. With no
// needed scopes it returns false: an empty any-of is never satisfied.
func HasAny(held []string, needed ...string) bool {
	for _, n := range needed {
		if Grants(held, n) {
			return true
		}
	}
	return false
}

// MissingScope returns the first scope of needed that held does not grant,
// or "" when held grants them all. An empty needed scope is never granted,
// so "" is ambiguous when needed may hold one: decide with HasAll.
func MissingScope(held []string, needed ...string) string {
	for _, n := range needed {
		if !Grants(held, n) {
			return n
		}
	}
	return ""
}

// CanGrant checks that a key holding granter may hand out requested: every
// requested scope, wildcards included, must be granted by granter. It
// returns an error wrapping ErrInsufficientScope that names the first scope
// it may not grant. Use it whenever a key creates or updates other keys, so
// a key can never mint a key stronger than itself.
func CanGrant(granter, requested []string) error {
	for _, r := range requested {
		if !Grants(granter, r) {
			return fmt.Errorf("%w: cannot grant %q", ErrInsufficientScope, r)
		}
	}
	return nil
}

// Catalog is the set of scopes an application knows. A Manager with a
// catalog refuses unknown scopes at creation. Wildcards are accepted only
// when the catalog lists them literally ("*", "jobs:*").
type Catalog struct {
	known map[string]struct{}
	list  []string
}

// NewCatalog returns a catalog of the given scopes, refusing malformed ones.
func NewCatalog(scopes ...string) (*Catalog, error) {
	list, err := NormalizeScopes(scopes)
	if err != nil {
		return nil, err
	}
	c := &Catalog{known: make(map[string]struct{}, len(list)), list: list}
	for _, s := range list {
		c.known[s] = struct{}{}
	}
	return c, nil
}

// Scopes returns the catalogue's scopes, sorted.
func (c *Catalog) Scopes() []string { return slices.Clone(c.list) }

// Contains reports whether scope is in the catalogue.
func (c *Catalog) Contains(scope string) bool {
	_, ok := c.known[scope]
	return ok
}

// Validate returns an error wrapping ErrInvalid naming the first scope that
// is malformed or not in the catalogue.
func (c *Catalog) Validate(scopes []string) error {
	for _, s := range scopes {
		if err := ValidateScope(s); err != nil {
			return err
		}
		if !c.Contains(s) {
			return fmt.Errorf("%w: unknown scope %q", ErrInvalid, s)
		}
	}
	return nil
}
