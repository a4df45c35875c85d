package apikey_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apikit/apikey"
)

func TestValidateScope(t *testing.T) {
	tests := []struct {
		scope string
		ok    bool
	}{
		{"*", true},
		{"jobs:read", true},
		{"jobs:*", true},
		{"Jobs.v2:read-all", true},
		{"a_b:c_d", true},
		{"", false},
		{"jobs", false},
		{"jobs:", false},
		{":read", false},
		{"*:read", false},
		{"jobs:re*d", false},
		{"jobs:read:extra", false},
		{"jobs :read", false},
		{"jobs:read ", false},
		{"jobs/x:read", false},
		{"jöbs:read", false},
		{"jobs:**", false},
		{"**", false},
		{"jobs:\x00", false},
		{"j:" + strings.Repeat("a", 126), true},
		{"j:" + strings.Repeat("a", 127), false},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			err := apikey.ValidateScope(tt.scope)
			if tt.ok && err != nil {
				t.Errorf("ValidateScope(%q) = %v, want nil", tt.scope, err)
			}
			if !tt.ok && !errors.Is(err, apikey.ErrInvalid) {
				t.Errorf("ValidateScope(%q) = %v, want ErrInvalid", tt.scope, err)
			}
		})
	}
}

func TestGrants(t *testing.T) {
	tests := []struct {
		name   string
		held   []string
		needed string
		want   bool
	}{
		{"exact", []string{"jobs:read"}, "jobs:read", true},
		{"other action", []string{"jobs:read"}, "jobs:write", false},
		{"other resource", []string{"jobs:read"}, "runs:read", false},
		{"resource wildcard", []string{"jobs:*"}, "jobs:write", true},
		{"resource wildcard, other resource", []string{"jobs:*"}, "runs:read", false},
		{"resource wildcard, resource prefix", []string{"job:*"}, "jobs:read", false},
		{"resource wildcard, longer resource", []string{"jobs:*"}, "job:read", false},
		{"star", []string{"*"}, "anything:at-all", true},
		{"star grants star", []string{"*"}, "*", true},
		{"wildcard needed, action held", []string{"jobs:read", "jobs:write"}, "jobs:*", false},
		{"wildcard needed, wildcard held", []string{"jobs:*"}, "jobs:*", true},
		{"star needed, resource wildcard held", []string{"jobs:*"}, "*", false},
		{"star needed, action held", []string{"jobs:read"}, "*", false},
		{"empty held", nil, "jobs:read", false},
		{"empty held, star needed", []string{}, "*", false},
		{"second of several", []string{"a:b", "jobs:read"}, "jobs:read", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apikey.Grants(tt.held, tt.needed); got != tt.want {
				t.Errorf("Grants(%v, %q) = %v, want %v", tt.held, tt.needed, got, tt.want)
			}
			k := &apikey.Key{Scopes: tt.held}
			if got := k.HasScope(tt.needed); got != tt.want {
				t.Errorf("Key.HasScope(%q) = %v, want %v", tt.needed, got, tt.want)
			}
		})
	}
}

func TestHasAllHasAnyMissing(t *testing.T) {
	held := []string{"jobs:read", "runs:*"}
	tests := []struct {
		name    string
		held    []string
		needed  []string
		all     bool
		any     bool
		missing string
	}{
		{"none needed", held, nil, true, false, ""},
		{"all granted", held, []string{"jobs:read", "runs:write"}, true, true, ""},
		{"one missing", held, []string{"jobs:read", "jobs:write"}, false, true, "jobs:write"},
		{"first missing named", held, []string{"a:b", "c:d"}, false, false, "a:b"},
		{"wildcard needed", held, []string{"runs:*"}, true, true, ""},
		{"wildcard needed, not held", held, []string{"jobs:*"}, false, false, "jobs:*"},
		{"empty held", nil, []string{"jobs:read"}, false, false, "jobs:read"},
		{"empty held, none needed", nil, nil, true, false, ""},
		{"star held", []string{"*"}, []string{"x:y", "*"}, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apikey.HasAll(tt.held, tt.needed...); got != tt.all {
				t.Errorf("HasAll = %v, want %v", got, tt.all)
			}
			if got := apikey.HasAny(tt.held, tt.needed...); got != tt.any {
				t.Errorf("HasAny = %v, want %v", got, tt.any)
			}
			if got := apikey.MissingScope(tt.held, tt.needed...); got != tt.missing {
				t.Errorf("MissingScope = %q, want %q", got, tt.missing)
			}
		})
	}
}

func TestNormalizeScopes(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
		bad  bool
	}{
		{"nil", nil, []string{}, false},
		{"empty", []string{}, []string{}, false},
		{"sorted and deduplicated", []string{"runs:read", "jobs:read", "runs:read", "*"}, []string{"*", "jobs:read", "runs:read"}, false},
		{"one malformed", []string{"jobs:read", "nope"}, nil, true},
		{"empty string", []string{""}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := apikey.NormalizeScopes(tt.in)
			if tt.bad {
				if !errors.Is(err, apikey.ErrInvalid) || got != nil {
					t.Fatalf("NormalizeScopes = %v, %v; want nil, ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("NormalizeScopes = %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
	in := []string{"b:b", "a:a"}
	if _, err := apikey.NormalizeScopes(in); err != nil || in[0] != "b:b" {
		t.Errorf("NormalizeScopes changed its input to %v", in)
	}
}

func TestCatalog(t *testing.T) {
	if _, err := apikey.NewCatalog("jobs:read", "bad"); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("NewCatalog with a malformed scope = %v, want ErrInvalid", err)
	}
	c, err := apikey.NewCatalog("runs:read", "jobs:read", "jobs:*", "jobs:read")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Scopes(); !slices.Equal(got, []string{"jobs:*", "jobs:read", "runs:read"}) {
		t.Errorf("Scopes = %v", got)
	}
	tests := []struct {
		name   string
		scopes []string
		ok     bool
	}{
		{"none", nil, true},
		{"known", []string{"jobs:read", "runs:read"}, true},
		{"wildcard listed literally", []string{"jobs:*"}, true},
		{"unknown", []string{"jobs:read", "jobs:write"}, false},
		{"star not listed", []string{"*"}, false},
		{"resource wildcard not listed", []string{"runs:*"}, false},
		{"malformed", []string{"jobs"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Validate(tt.scopes)
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, apikey.ErrInvalid)) {
				t.Errorf("Validate(%v) = %v, want ok=%v", tt.scopes, err, tt.ok)
			}
		})
	}
	if !c.Contains("jobs:*") || c.Contains("jobs:write") {
		t.Error("Contains does not follow the catalogue literally")
	}
}

func TestCanGrant(t *testing.T) {
	tests := []struct {
		name      string
		granter   []string
		requested []string
		refused   string // the scope named in the error, "" when allowed
	}{
		{"same scope", []string{"jobs:read"}, []string{"jobs:read"}, ""},
		{"nothing requested", []string{"jobs:read"}, nil, ""},
		{"nothing held, nothing requested", nil, nil, ""},
		{"read cannot grant write", []string{"jobs:read"}, []string{"jobs:write"}, "jobs:write"},
		{"read cannot grant jobs:*", []string{"jobs:read"}, []string{"jobs:*"}, "jobs:*"},
		{"read cannot grant *", []string{"jobs:read"}, []string{"*"}, "*"},
		{"all actions cannot grant jobs:*", []string{"jobs:read", "jobs:write"}, []string{"jobs:*"}, "jobs:*"},
		{"jobs:* grants an action", []string{"jobs:*"}, []string{"jobs:write"}, ""},
		{"jobs:* grants jobs:*", []string{"jobs:*"}, []string{"jobs:*"}, ""},
		{"jobs:* cannot grant *", []string{"jobs:*"}, []string{"*"}, "*"},
		{"* grants anything", []string{"*"}, []string{"*", "jobs:*", "x:y"}, ""},
		{"empty held grants nothing", nil, []string{"jobs:read"}, "jobs:read"},
		{"first refused is named", []string{"a:b"}, []string{"a:b", "c:d", "e:f"}, "c:d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apikey.CanGrant(tt.granter, tt.requested)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("CanGrant = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, apikey.ErrInsufficientScope) || !strings.Contains(err.Error(), `"`+tt.refused+`"`) {
				t.Fatalf("CanGrant = %v, want ErrInsufficientScope naming %q", err, tt.refused)
			}
		})
	}
}
