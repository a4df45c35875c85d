package apikey

import (
	"fmt"
	"slices"
)

// maxRoleNameLen bounds a role name.
const maxRoleNameLen = 64

// WithRole defines a role: a name standing for a bundle of scopes, such as
// WithRole("reader", "jobs:read", "runs:read"). Wherever the Manager takes
// scopes (Create, Update, Import, ExpandScopes, CanGrant), a role name is
// replaced by its scopes; keys store the expanded scopes, so a key keeps
// what it was given even if the role changes in a later deployment.
//
// A role name is 1-64 ASCII letters, digits, '_', '-' or '.': never a
// scope (it has no ':') and never "*". Its scopes must be well-formed and,
// with a scope catalogue, in it; New refuses a role that is defined twice,
// is empty, or names an unknown scope. Roles cannot contain other roles.
func WithRole(name string, scopes ...string) Option {
	return func(c *config) error {
		if !isRoleName(name) {
			return fmt.Errorf("%w: role name %q must be 1-%d ASCII letters, digits, '_', '-' or '.'", ErrInvalid, name, maxRoleNameLen)
		}
		if _, dup := c.roles[name]; dup {
			return fmt.Errorf("%w: role %q defined twice", ErrInvalid, name)
		}
		if len(scopes) == 0 {
			return fmt.Errorf("%w: role %q has no scopes", ErrInvalid, name)
		}
		norm, err := NormalizeScopes(scopes)
		if err != nil {
			return fmt.Errorf("role %q: %w", name, err)
		}
		if c.roles == nil {
			c.roles = map[string][]string{}
		}
		c.roles[name] = norm
		return nil
	}
}

// checkRoles is run by New once every option is applied: role scopes must
// be in the catalogue, if there is one.
func checkRoles(c *config) error {
	if c.catalog == nil {
		return nil
	}
	for name, scopes := range c.roles {
		if err := c.catalog.Validate(scopes); err != nil {
			return fmt.Errorf("role %q: %w", name, err)
		}
	}
	return nil
}

// isRoleName reports whether s can name a role.
func isRoleName(s string) bool {
	return len(s) <= maxRoleNameLen && isScopeWord(s)
}

// Roles returns the roles defined with WithRole: name to scopes (sorted).
// The map is a copy.
func (m *Manager) Roles() map[string][]string {
	out := make(map[string][]string, len(m.cfg.roles))
	for name, scopes := range m.cfg.roles {
		out[name] = slices.Clone(scopes)
	}
	return out
}

// ExpandScopes replaces role names in scopes by their scopes, then
// normalises the result (sorted, without duplicates) and checks it
// against the catalogue, exactly as Create and Update do. A string that is
// neither a role nor a well-formed known scope gives ErrInvalid.
func (m *Manager) ExpandScopes(scopes []string) ([]string, error) {
	return m.checkScopes(scopes)
}

// expandRoles replaces role names by their scopes. Scopes pass through.
func (m *Manager) expandRoles(scopes []string) []string {
	if len(m.cfg.roles) == 0 {
		return scopes
	}
	var out []string
	for i, s := range scopes {
		role, ok := m.cfg.roles[s]
		if !ok {
			if out != nil {
				out = append(out, s)
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(scopes)+len(role)), scopes[:i]...)
		}
		out = append(out, role...)
	}
	if out == nil {
		return scopes
	}
	return out
}

// CanGrant is the package's CanGrant with roles: it expands the role names
// in requested and checks that granter grants every resulting scope, so a
// key cannot hand out a role holding a scope it lacks. requested is
// checked as Create would check it (ErrInvalid for an unknown role or
// scope); a refusal wraps ErrInsufficientScope and names the scope.
func (m *Manager) CanGrant(granter, requested []string) error {
	scopes, err := m.checkScopes(requested)
	if err != nil {
		return err
	}
	return CanGrant(granter, scopes)
}
