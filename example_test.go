package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// examplePepper stands for a pepper loaded from a secret manager or an
// environment variable: at least 32 random bytes, never in the database.
var examplePepper = []byte("example pepper: use 32 random bytes")

// Issue a key, show its token once, and verify it on a later request.
func Example() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "deploy bot", Scopes: []string{"jobs:read"}})
	if err != nil {
		panic(err)
	}
	token := issued.Token.Reveal() // hand this to the key's owner, once
	fmt.Println("printed token:", issued.Token)
	fmt.Println("display prefix:", strings.HasPrefix(issued.Key.Prefix, "pgk_live_"), len(issued.Key.Prefix))

	// Later, on a request carrying the token:
	k, err := m.Verify(ctx, token)
	if err != nil {
		panic(err)
	}
	fmt.Println("verified:", k.ID == issued.Key.ID, k.Tenant, k.Name)
	fmt.Println("can read jobs:", k.HasScope("jobs:read"), "can write jobs:", k.HasScope("jobs:write"))

	_, err = m.Verify(ctx, "pgk_live_not-a-token")
	fmt.Println("garbage is malformed:", errors.Is(err, apikey.ErrMalformed))
	// Output:
	// printed token: [redacted]
	// display prefix: true 13
	// verified: true acme deploy bot
	// can read jobs: true can write jobs: false
	// garbage is malformed: true
}

// Rotate a key with a grace period: the old token keeps working until the
// grace ends, then only the successor does.
func ExampleManager_Rotate() {
	ctx := context.Background()
	clock := apikey.NewManualClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper), apikey.WithClock(clock))
	if err != nil {
		panic(err)
	}
	old, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:read"}})
	if err != nil {
		panic(err)
	}
	r, err := m.Rotate(ctx, "acme", old.Key.ID, 24*time.Hour)
	if err != nil {
		panic(err)
	}
	fmt.Println("old replaced by successor:", r.Old.ReplacedBy == r.Key.ID)
	fmt.Println("grace ends:", r.Old.GraceExpiresAt.Format(time.RFC3339))
	fmt.Println("successor scopes:", r.Key.Scopes)

	_, err = m.Verify(ctx, old.Token.Reveal())
	fmt.Println("old token during grace:", err)

	clock.Advance(24 * time.Hour)
	_, err = m.Verify(ctx, old.Token.Reveal())
	fmt.Println("old token after grace:", errors.Is(err, apikey.ErrGraceEnded))
	_, err = m.Verify(ctx, r.Token.Reveal())
	fmt.Println("successor:", err)

	_, err = m.Rotate(ctx, "acme", old.Key.ID, m.DefaultGrace())
	fmt.Println("rotate again:", errors.Is(err, apikey.ErrConflict))
	// Output:
	// old replaced by successor: true
	// grace ends: 2026-01-02T09:00:00Z
	// successor scopes: [jobs:read]
	// old token during grace: <nil>
	// old token after grace: true
	// successor: <nil>
	// rotate again: true
}

// Revoke a key: its very next verify fails. Revoking again changes nothing.
func ExampleManager_Revoke() {
	ctx := context.Background()
	clock := apikey.NewManualClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper), apikey.WithClock(clock))
	if err != nil {
		panic(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	k, err := m.Revoke(ctx, "acme", is.Key.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("revoked at:", k.RevokedAt.Format(time.RFC3339))

	_, err = m.Verify(ctx, is.Token.Reveal())
	fmt.Println("verify:", errors.Is(err, apikey.ErrRevoked), apikey.Reason(err))

	clock.Advance(time.Hour)
	k, _ = m.Revoke(ctx, "acme", is.Key.ID)
	fmt.Println("revoked again, still at:", k.RevokedAt.Format(time.RFC3339))

	_, err = m.Revoke(ctx, "other-tenant", is.Key.ID)
	fmt.Println("another tenant:", errors.Is(err, apikey.ErrNotFound))
	// Output:
	// revoked at: 2026-01-01T09:00:00Z
	// verify: true revoked
	// revoked again, still at: 2026-01-01T09:00:00Z
	// another tenant: true
}

// Check all-of and any-of scope requirements.
func ExampleHasAll() {
	held := []string{"jobs:read", "runs:*"}
	fmt.Println(apikey.HasAll(held, "jobs:read", "runs:cancel"))
	fmt.Println(apikey.HasAll(held, "jobs:read", "jobs:write"))
	fmt.Println(apikey.MissingScope(held, "jobs:read", "jobs:write"))
	fmt.Println(apikey.HasAny(held, "jobs:write", "runs:read"))
	fmt.Println(apikey.HasAll(nil, "jobs:read"), apikey.HasAny(held))
	// Output:
	// true
	// false
	// jobs:write
	// true
	// false false
}

// A key that manages keys may only hand out what it holds itself.
func ExampleCanGrant() {
	granter := []string{"jobs:read", "keys:create"}
	fmt.Println(apikey.CanGrant(granter, []string{"jobs:read"}))
	for _, req := range []string{"jobs:*", "*", "jobs:write"} {
		err := apikey.CanGrant(granter, []string{req})
		fmt.Println(req, errors.Is(err, apikey.ErrInsufficientScope))
	}
	// Output:
	// <nil>
	// jobs:* true
	// * true
	// jobs:write true
}

// Mask every token in a line bound for a log.
func ExampleRedact() {
	line := "GET /v1/jobs Authorization: Bearer pgk_live_AbC1" + strings.Repeat("x", 62) + " status=401"
	fmt.Println(apikey.Redact(line))
	fmt.Println(apikey.Redact("no token here"))
	// Output:
	// GET /v1/jobs Authorization: Bearer pgk_live_AbC1**** status=401
	// no token here
}
