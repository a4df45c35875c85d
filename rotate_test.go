package apikey_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

func TestRotateGrace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.create(t, "acme", apikey.CreateParams{})
	at := f.clock.Advance(time.Minute)
	r, err := f.m.Rotate(ctx, "acme", old.Key.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Old.ReplacedBy != r.Key.ID || !r.Old.GraceExpiresAt.Equal(at.Add(time.Hour)) || !r.Old.RevokedAt.IsZero() {
		t.Fatalf("old key after rotation: %+v", r.Old)
	}
	newTok := r.Token.Reveal()
	if newTok == old.Token.Reveal() || r.Key.ID == old.Key.ID {
		t.Fatal("the successor reuses the old token or ID")
	}
	f.mustVerify(t, old.Token.Reveal())
	f.mustVerify(t, newTok)
	f.clock.Set(at.Add(time.Hour - time.Microsecond))
	f.mustVerify(t, old.Token.Reveal())
	f.clock.Set(at.Add(time.Hour))
	f.verifyErr(t, old.Token.Reveal(), apikey.ErrGraceEnded)
	f.mustVerify(t, newTok)
}

func TestRotateNoGrace(t *testing.T) {
	f := newFixture(t)
	old := f.create(t, "acme", apikey.CreateParams{})
	at := f.clock.Advance(time.Minute)
	r, err := f.m.Rotate(context.Background(), "acme", old.Key.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Old.RevokedAt.Equal(at) || r.Old.ReplacedBy != r.Key.ID {
		t.Fatalf("grace 0: old key %+v, want revoked at %v", r.Old, at)
	}
	f.verifyErr(t, old.Token.Reveal(), apikey.ErrRevoked)
	f.mustVerify(t, r.Token.Reveal())
}

func TestRotateGraceCappedAtExpiry(t *testing.T) {
	f := newFixture(t)
	exp := t0.Add(30 * time.Minute)
	old := f.create(t, "acme", apikey.CreateParams{ExpiresAt: exp})
	r, err := f.m.Rotate(context.Background(), "acme", old.Key.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Old.GraceExpiresAt.Equal(exp) {
		t.Errorf("GraceExpiresAt = %v, want the old key's expiry %v", r.Old.GraceExpiresAt, exp)
	}
	if !r.Key.ExpiresAt.Equal(exp) {
		t.Errorf("successor ExpiresAt = %v, want %v inherited", r.Key.ExpiresAt, exp)
	}
	f.clock.Set(exp.Add(-time.Microsecond))
	f.mustVerify(t, old.Token.Reveal())
	f.clock.Set(exp)
	// Grace end and expiry coincide; the grace end is reported.
	f.verifyErr(t, old.Token.Reveal(), apikey.ErrGraceEnded)
	f.verifyErr(t, r.Token.Reveal(), apikey.ErrExpired)
}

func TestRotateGraceArgument(t *testing.T) {
	tests := []struct {
		name    string
		grace   time.Duration
		want    time.Duration // grace applied
		invalid bool
	}{
		{"default grace", -1, 10 * time.Minute, false}, // -1: m.DefaultGrace()
		{"explicit", 20 * time.Minute, 20 * time.Minute, false},
		{"exactly the max", time.Hour, time.Hour, false},
		{"above the max", time.Hour + time.Nanosecond, 0, true},
		{"negative", -2 * time.Second, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, apikey.WithGrace(10*time.Minute, time.Hour))
			old := f.create(t, "acme", apikey.CreateParams{})
			f.store.reset()
			grace := tt.grace
			if grace == -1 {
				grace = f.m.DefaultGrace()
			}
			r, err := f.m.Rotate(context.Background(), "acme", old.Key.ID, grace)
			if tt.invalid {
				if !errors.Is(err, apikey.ErrInvalid) || r != nil {
					t.Fatalf("Rotate = %v, %v; want ErrInvalid", r, err)
				}
				if n := f.store.total(); n != 0 {
					t.Errorf("a refused Rotate made %d store calls", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !r.Old.GraceExpiresAt.Equal(t0.Add(tt.want)) {
				t.Errorf("GraceExpiresAt = %v, want %v", r.Old.GraceExpiresAt, t0.Add(tt.want))
			}
		})
	}
}

func TestRotateConflict(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, id string)
	}{
		{"replaced, in grace", func(t *testing.T, f *fixture, id string) {
			if _, err := f.m.Rotate(ctx, "acme", id, time.Hour); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced, grace ended", func(t *testing.T, f *fixture, id string) {
			if _, err := f.m.Rotate(ctx, "acme", id, time.Minute); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Hour)
		}},
		{"replaced with no grace", func(t *testing.T, f *fixture, id string) {
			if _, err := f.m.Rotate(ctx, "acme", id, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"revoked", func(t *testing.T, f *fixture, id string) {
			if _, err := f.m.Revoke(ctx, "acme", id); err != nil {
				t.Fatal(err)
			}
		}},
		{"expired", func(t *testing.T, f *fixture, _ string) { f.clock.Advance(2 * time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			old := f.create(t, "acme", apikey.CreateParams{ExpiresAt: t0.Add(2 * time.Hour)})
			tt.setup(t, f, old.Key.ID)
			before := f.store.inner.(interface{ Len() int }).Len()
			r, err := f.m.Rotate(ctx, "acme", old.Key.ID, time.Minute)
			if !errors.Is(err, apikey.ErrConflict) || r != nil {
				t.Fatalf("Rotate = %v, %v; want ErrConflict", r, err)
			}
			if after := f.store.inner.(interface{ Len() int }).Len(); after != before {
				t.Errorf("a refused Rotate stored a successor: %d keys, want %d", after, before)
			}
		})
	}
}

func TestRotateSuccessorInherits(t *testing.T) {
	f := newFixture(t)
	old := f.create(t, "acme", apikey.CreateParams{
		Name:               "ci",
		Environment:        "test",
		Scopes:             []string{"runs:read", "jobs:*"},
		CreatedBy:          "user_7",
		ExpiresAt:          t0.Add(48 * time.Hour),
		RotationInterval:   24 * time.Hour,
		RotationWebhookURL: "https://example.com/hook",
		Metadata:           map[string]string{"team": "infra"},
	})
	at := f.clock.Advance(time.Hour)
	r, err := f.m.Rotate(context.Background(), "acme", old.Key.ID, f.m.DefaultGrace())
	if err != nil {
		t.Fatal(err)
	}
	o, s := old.Key, r.Key
	switch {
	case s.Tenant != o.Tenant || s.Environment != "test" || s.Name != o.Name || s.CreatedBy != o.CreatedBy:
		t.Errorf("successor %+v does not inherit tenant/env/name from %+v", s, o)
	case !slices.Equal(s.Scopes, o.Scopes):
		t.Errorf("successor scopes %v, want %v", s.Scopes, o.Scopes)
	case !s.ExpiresAt.Equal(o.ExpiresAt):
		t.Errorf("successor expiry %v, want %v", s.ExpiresAt, o.ExpiresAt)
	case !maps.Equal(s.Metadata, o.Metadata):
		t.Errorf("successor metadata %v, want %v", s.Metadata, o.Metadata)
	case s.RotationInterval != o.RotationInterval || s.RotationWebhookURL != o.RotationWebhookURL:
		t.Errorf("successor rotation settings %v %q", s.RotationInterval, s.RotationWebhookURL)
	case !s.CreatedAt.Equal(at) || !s.NextRotationAt.Equal(at.Add(24*time.Hour)):
		t.Errorf("successor CreatedAt %v NextRotationAt %v", s.CreatedAt, s.NextRotationAt)
	case s.Prefix != apikey.DisplayPrefix(r.Token.Reveal()) || s.HashVersion != "v1":
		t.Errorf("successor prefix %q version %q", s.Prefix, s.HashVersion)
	case !r.Old.NextRotationAt.IsZero():
		t.Errorf("old key still scheduled for rotation at %v", r.Old.NextRotationAt)
	}
	if k := f.mustVerify(t, r.Token.Reveal()); k.ID != s.ID || k.Tenant != "acme" {
		t.Errorf("successor verifies as %+v", *k)
	}
}

func TestRotateConcurrent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.create(t, "acme", apikey.CreateParams{})
	const n = 16
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     []*apikey.Rotated
		conflict int
		other    []error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			r, err := f.m.Rotate(ctx, "acme", old.Key.ID, time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, r)
			case errors.Is(err, apikey.ErrConflict):
				conflict++
			default:
				other = append(other, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(wins) != 1 || conflict != n-1 || len(other) != 0 {
		t.Fatalf("%d wins, %d conflicts, other errors %v; want 1 and %d", len(wins), conflict, other, n-1)
	}
	keys, err := f.m.ListAll(ctx, "acme", apikey.ListAny)
	if err != nil || len(keys) != 2 {
		t.Fatalf("tenant has %d keys (%v), want the old one and one successor", len(keys), err)
	}
	k, err := f.m.Get(ctx, "acme", old.Key.ID)
	if err != nil || k.ReplacedBy != wins[0].Key.ID {
		t.Fatalf("old key ReplacedBy = %q, want the winner %q", k.ReplacedBy, wins[0].Key.ID)
	}
	f.mustVerify(t, wins[0].Token.Reveal())
}
