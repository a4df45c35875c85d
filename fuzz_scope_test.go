package apikey_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/apikit/apikey"
)

// FuzzScope checks the scope functions against their documented laws on
// arbitrary scope lists (comma-separated held and other lists) and an
// arbitrary needed scope: nothing panics; a held scope is always granted;
// any key can grant what it holds; CanGrant is transitive; wildcards act only
// where granted explicitly; NormalizeScopes output is sorted, unique, valid
// and grants exactly what its input granted.
func FuzzScope(f *testing.F) {
	for _, seed := range [][3]string{
		{"jobs:read,jobs:write", "jobs:read", "jobs:read"},
		{"jobs:*", "jobs:read,artifacts:read", "jobs:delete"},
		{"*", "jobs:*", "*"},
		{"", "", ""},
		{"jobs:read,jobs:read,,", "jobs", ":"},
		{"jobs:*,*:*", "*:read", "jobs:*"},
		{"a.b-c_d:e", "A:B", "a.b-c_d:*"},
		{"jobs:read:extra", "jobs::read", "jobs:"},
		{"\x00:\xff", "é:é", strings.Repeat("r", 130) + ":x"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, heldList, otherList, needed string) {
		held := splitScopes(heldList)
		other := splitScopes(otherList)
		neededValid := apikey.ValidateScope(needed) == nil

		for _, h := range held {
			if !apikey.Grants(held, h) {
				t.Fatalf("Grants(%q, %q) = false for a held scope", held, h)
			}
		}
		if err := apikey.CanGrant(held, held); err != nil {
			t.Fatalf("CanGrant(h, h): %v", err)
		}
		if apikey.Grants(nil, needed) || apikey.HasAny(held) || !apikey.HasAll(held) {
			t.Fatal("an empty set grants nothing; an empty any-of fails; an empty all-of holds")
		}
		if !apikey.Grants([]string{"*"}, needed) {
			t.Fatalf(`"*" does not grant %q`, needed)
		}
		grants := apikey.Grants(held, needed)
		if grants != (apikey.CanGrant(held, []string{needed}) == nil) || grants != apikey.HasAll(held, needed) || grants != apikey.HasAny(held, needed) {
			t.Fatal("Grants, CanGrant, HasAll and HasAny disagree")
		}
		if grants && !apikey.Grants(append(slices.Clone(held), other...), needed) {
			t.Fatal("adding scopes took a grant away")
		}
		if !hasWildcard(held) && grants != slices.Contains(held, needed) {
			t.Fatalf("without wildcards, Grants(%q, %q) = %v", held, needed, grants)
		}
		if needed == "*" && grants != slices.Contains(held, "*") {
			t.Fatalf(`"*" is granted only by "*": Grants(%q) = %v`, held, grants)
		}
		// ("jobs:*" grants any action of jobs, so the malformed "jobs:b:*" too.)
		if res, ok := strings.CutSuffix(needed, ":*"); ok && neededValid && grants && !slices.Contains(held, "*") && !slices.Contains(held, res+":*") {
			t.Fatalf("%q granted by %q without a matching wildcard", needed, held)
		}
		// Transitivity: what other may grant, and held may grant other, held may grant.
		if apikey.CanGrant(held, other) == nil && apikey.Grants(other, needed) && !grants {
			t.Fatalf("CanGrant not transitive: %q -> %q -> %q", held, other, needed)
		}

		norm, err := apikey.NormalizeScopes(held)
		if err != nil {
			if _, cerr := apikey.NewCatalog(held...); cerr == nil {
				t.Fatal("NewCatalog accepts what NormalizeScopes refuses")
			}
			return
		}
		if !slices.IsSorted(norm) || len(slices.Compact(slices.Clone(norm))) != len(norm) {
			t.Fatalf("NormalizeScopes(%q) = %q: not sorted and unique", held, norm)
		}
		for _, s := range norm {
			if apikey.ValidateScope(s) != nil || !slices.Contains(held, s) {
				t.Fatalf("NormalizeScopes(%q) invented or kept invalid %q", held, s)
			}
		}
		if apikey.Grants(norm, needed) != grants {
			t.Fatalf("normalising %q changed whether %q is granted", held, needed)
		}
		cat, err := apikey.NewCatalog(held...)
		if err != nil || cat.Validate(norm) != nil || !slices.Equal(cat.Scopes(), norm) {
			t.Fatalf("a catalogue of %q: %v", held, err)
		}
		if cat.Contains(needed) != slices.Contains(norm, needed) {
			t.Fatalf("Catalog.Contains(%q) disagrees with its scopes", needed)
		}
	})
}

// splitScopes splits a comma-separated list; an empty string is no scopes.
func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// hasWildcard reports whether any scope is "*" or ends in ":*".
func hasWildcard(scopes []string) bool {
	for _, s := range scopes {
		if s == "*" || strings.HasSuffix(s, ":*") {
			return true
		}
	}
	return false
}
