package apikey_test

import (
	"context"
	"crypto/sha256"
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

// BenchmarkSHA256Token is the reference: one SHA-256 of a token. Read the
// other figures as multiples of it.
func BenchmarkSHA256Token(b *testing.B) {
	_, tok := benchManager(b)
	var sink [32]byte
	b.ReportAllocs()
	for b.Loop() {
		sink = sha256.Sum256([]byte(tok))
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
