package sqlstore_test

import (
	"context"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
)

// BenchmarkVerifyCacheTimingSQL measures what the verification cache lets
// a caller tell apart on a SQL store (SECURITY.md, timing): a wrong secret
// on a selector the cache holds (no store read) against an unknown
// selector that misses the cache (one indexed read, then a negative
// entry). Each unknown token is fresh, so every one misses. Interleaved
// (benchkit.Interleave): "ratio" is unknown-miss / wrong-cached.
func BenchmarkVerifyCacheTimingSQL(b *testing.B) {
	benchEngines(b, func(b *testing.B, e sqltest.Engine) {
		ctx := context.Background()
		m, err := apikey.New(sqltest.NewStore(b, e), apikey.WithPrefix("pgk"),
			apikey.WithPepper("v1", benchPepper), apikey.WithCache(apikey.CacheOptions{}))
		if err != nil {
			b.Fatal(err)
		}
		is, err := m.Create(ctx, apikey.CreateParams{Tenant: "t", Scopes: []string{"jobs:read"}})
		if err != nil {
			b.Fatal(err)
		}
		tok := is.Token.Reveal()
		if _, err := m.Verify(ctx, tok); err != nil { // cache the selector
			b.Fatal(err)
		}
		wrong := []byte(tok)
		i := len(wrong) - 10 // in the secret; the checksum is resealed below
		if wrong[i] == 'A' {
			wrong[i] = 'B'
		} else {
			wrong[i] = 'A'
		}
		wrongTok := reseal(b, string(wrong))

		foreign, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", benchPepper))
		if err != nil {
			b.Fatal(err)
		}
		unknown := make([]string, b.N+256)
		for i := range unknown {
			f, err := foreign.Create(ctx, apikey.CreateParams{Tenant: "t"})
			if err != nil {
				b.Fatal(err)
			}
			unknown[i] = f.Token.Reveal()
		}
		next := 0
		fails := func(t string) {
			if _, err := m.Verify(ctx, t); !errors.Is(err, apikey.ErrNotFound) {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		benchkit.Interleave(b, "wrong-cached", func() { fails(wrongTok) },
			"unknown-miss", func() { fails(unknown[next]); next++ })
	})
}

// reseal replaces the checksum (last 6 characters) of tok with the right
// one for the rest, as documented on apikey.TokenPattern.
func reseal(b *testing.B, tok string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	head := tok[:len(tok)-6]
	sum := crc32.ChecksumIEEE([]byte(head))
	var c [6]byte
	for i := 5; i >= 0; i-- {
		c[i] = alphabet[sum%62]
		sum /= 62
	}
	out := head + string(c[:])
	if !apikey.ValidChecksum(out) {
		b.Fatal("reseal: checksum does not validate")
	}
	return out
}
