package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

var benchPepper = []byte("0123456789abcdef0123456789abcdef")

// benchEngines runs f per engine as a sub-benchmark.
func benchEngines(b *testing.B, f func(b *testing.B, e sqltest.Engine)) {
	for _, e := range sqltest.Engines() {
		b.Run(string(e), func(b *testing.B) { f(b, e) })
	}
}

// BenchmarkSHA256Token is the reference: one SHA-256 of a token.
func BenchmarkSHA256Token(b *testing.B) {
	tok := "pgk_live_" + randText(66) // the length of a real token
	var sink [32]byte
	b.ReportAllocs()
	for b.Loop() {
		sink = sha256.Sum256([]byte(tok))
	}
	_ = sink
}

// BenchmarkVerifyNoCache verifies a valid key through apikey.Manager on
// sqlstore: every verify is one read on the unique lookup index (the
// Manager keeps no cache), among 1,000 keys.
func BenchmarkVerifyNoCache(b *testing.B) {
	benchEngines(b, func(b *testing.B, e sqltest.Engine) {
		s := sqltest.NewStore(b, e)
		m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", benchPepper))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var tok string
		for i := range 1000 {
			is, err := m.Create(ctx, apikey.CreateParams{Tenant: fmt.Sprintf("t%d", i%10), Scopes: []string{"jobs:read"}})
			if err != nil {
				b.Fatal(err)
			}
			if i == 500 {
				tok = is.Token.Reveal()
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecordUsageBatch flushes a batch of 100 usage records (100
// distinct keys, each moving forward) in one call: one transaction, one
// prepared statement. ns/record is the cost per key.
func BenchmarkRecordUsageBatch(b *testing.B) {
	const batchSize = 100
	benchEngines(b, func(b *testing.B, e sqltest.Engine) {
		s := sqltest.NewStore(b, e)
		ctx := context.Background()
		ids := make([]string, batchSize)
		for i := range ids {
			k := newKey(b, "acme")
			mustCreate(b, s, k)
			ids[i] = k.ID
		}
		batch := make([]apikey.Usage, batchSize)
		at := base
		b.ReportAllocs()
		for b.Loop() {
			at = at.Add(time.Second)
			for i, id := range ids {
				batch[i] = apikey.Usage{KeyID: id, At: at, IP: "10.0.0.1", Client: "bench"}
			}
			if err := s.RecordUsage(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batchSize), "ns/record")
	})
}
