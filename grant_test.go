package apikey_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestCanIssue(t *testing.T) {
	in := func(d time.Duration) time.Time { return t0.Add(d) }
	forever := &apikey.Key{Scopes: []string{"jobs:*"}}
	hour := &apikey.Key{Scopes: []string{"jobs:*"}, ExpiresAt: in(time.Hour)}
	grace := &apikey.Key{Scopes: []string{"jobs:*"}, ExpiresAt: in(48 * time.Hour), GraceExpiresAt: in(30 * time.Minute)}
	tests := []struct {
		name    string
		granter *apikey.Key
		p       apikey.CreateParams
		want    error
	}{
		{"forever grants forever", forever, apikey.CreateParams{Scopes: []string{"jobs:read"}}, nil},
		{"forever grants a date", forever, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Hour)}, nil},
		{"hour grants within", hour, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Minute)}, nil},
		{"hour grants its own end", hour, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Hour)}, nil},
		{"hour cannot grant never", hour, apikey.CreateParams{Scopes: []string{"jobs:read"}}, apikey.ErrOutlivesGranter},
		{"hour cannot grant later", hour, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Hour + time.Second)}, apikey.ErrOutlivesGranter},
		{"grace bounds too", grace, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Hour)}, apikey.ErrOutlivesGranter},
		{"grace within", grace, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: in(time.Minute)}, nil},
		{"scope first", hour, apikey.CreateParams{Scopes: []string{"runs:read"}, ExpiresAt: in(time.Minute)}, apikey.ErrInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apikey.CanIssue(tt.granter, tt.p)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CanIssue = %v, want %v", err, tt.want)
			}
			if err := apikey.CanGrantExpiry(tt.granter, tt.p.ExpiresAt); (err != nil) != errors.Is(tt.want, apikey.ErrOutlivesGranter) {
				t.Fatalf("CanGrantExpiry = %v", err)
			}
		})
	}
}

// A key manager that expires cannot mint a key that outlives it.
func ExampleCanIssue() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	manager := &apikey.Key{Scopes: []string{"jobs:read", "keys:manage"}, ExpiresAt: now.Add(time.Hour)}

	fmt.Println(apikey.CanIssue(manager, apikey.CreateParams{Scopes: []string{"jobs:read"}}))
	fmt.Println(apikey.CanIssue(manager, apikey.CreateParams{Scopes: []string{"jobs:read"}, ExpiresAt: now.Add(30 * time.Minute)}))
	fmt.Println(apikey.CanIssue(manager, apikey.CreateParams{Scopes: []string{"jobs:write"}, ExpiresAt: now.Add(30 * time.Minute)}))
	// Output:
	// apikey: a key cannot grant a lifetime beyond its own: expiry must be set, at or before 2030-01-01T13:00:00Z
	// <nil>
	// apikey: insufficient scope: cannot grant "jobs:write"
}
