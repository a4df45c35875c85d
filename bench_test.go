package apikey_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

var testPepper = []byte("0123456789abcdef0123456789abcdef")

func benchManager(b *testing.B) (*apikey.Manager, string) {
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", testPepper))
	if err != nil {
		b.Fatal(err)
	}
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "t", Scopes: []string{"jobs:read"}})
	if err != nil {
		b.Fatal(err)
	}
	return m, is.Token.Reveal()
}

// BenchmarkSHA256Token is the reference: one SHA-256 of a token, with no
// allocation (the token's bytes are copied once, before the loop). Read the
// other figures as multiples of it.
func BenchmarkSHA256Token(b *testing.B) {
	_, tok := benchManager(b)
	buf := []byte(tok)
	var sink [32]byte
	b.ReportAllocs()
	for b.Loop() {
		sink = sha256.Sum256(buf)
	}
	_ = sink
}

// BenchmarkVerify verifies a valid key on memstore.
func BenchmarkVerify(b *testing.B) {
	m, tok := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel verifies one valid key from every P at once.
func BenchmarkVerifyParallel(b *testing.B) {
	m, tok := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyMalformed refuses a token with a bad checksum: no store
// read, no hash.
func BenchmarkVerifyMalformed(b *testing.B) {
	m, tok := benchManager(b)
	last := tok[len(tok)-1]
	bad := tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[last == 'A']
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, bad); !errors.Is(err, apikey.ErrMalformed) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyUnknown verifies a well-formed token no key has: one store
// read and one (dummy) hash comparison, like a wrong secret.
func BenchmarkVerifyUnknown(b *testing.B) {
	m, _ := benchManager(b)
	_, foreign := benchManager(b) // same prefix, another store
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, foreign); !errors.Is(err, apikey.ErrNotFound) {
			b.Fatal(err)
		}
	}
}
