package legacy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/legacy"
	"github.com/apikit/apikey/memstore"
)

// Keys issued by another system that stored the hex SHA-256 of each token
// (as Unkey and Strait do) are imported once, keep working with their old
// tokens, and move to the current hash version on first use.
func Example_import() {
	ctx := context.Background()
	pepper := []byte("example pepper: 32+ secret bytes!") // load it from a secret manager
	m, err := apikey.New(memstore.New(),
		apikey.WithPrefix("pgk"),
		apikey.WithPepper("v1", pepper),
		apikey.WithLegacyImport(legacy.SHA256("unkey")),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The old database held only this digest; the customer holds the token.
	oldToken := "sk_example_not_a_real_token"
	sum := sha256.Sum256([]byte(oldToken))
	k, err := m.Import(ctx, apikey.ImportParams{
		Tenant:      "ws_1",
		Scopes:      []string{"jobs:read"},
		Prefix:      "sk_exam",
		HashVersion: "unkey",
		Hash:        []byte(hex.EncodeToString(sum[:])),
		Metadata:    map[string]string{"legacy_id": "key_3ZbdP"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("imported under", k.HashVersion)

	key, err := m.Verify(ctx, oldToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verified", key.Prefix, "jobs:read:", key.HasScope("jobs:read"))

	stored, err := m.Get(ctx, "ws_1", k.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("now stored under", stored.HashVersion)
	// Output:
	// imported under unkey
	// verified sk_exam jobs:read: true
	// now stored under v1
}

// A system that stored bcrypt(token) beside the token's non-secret part
// before the "." imports its keys with that part as the lookup value.
func ExampleBcrypt() {
	ctx := context.Background()
	scheme, err := legacy.Bcrypt("bcrypt", legacy.LookupBefore("."))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := apikey.New(memstore.New(),
		apikey.WithPepper("v1", []byte("example pepper: 32+ secret bytes!")),
		apikey.WithLegacyImport(scheme),
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	// What the old system stored for the token "k7f2.example-not-secret".
	hash, err := bcrypt.GenerateFromPassword([]byte("k7f2.example-not-secret"), bcrypt.MinCost)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := m.Import(ctx, apikey.ImportParams{
		Tenant: "ws_1", Prefix: "k7f2", HashVersion: "bcrypt", Hash: hash, Lookup: "k7f2",
	}); err != nil {
		fmt.Println(err)
		return
	}
	// The first verify pays bcrypt once and re-hashes; later ones are HMAC.
	for range 2 {
		key, err := m.Verify(ctx, "k7f2.example-not-secret")
		fmt.Println(key.Prefix, err)
	}
	// Output:
	// k7f2 <nil>
	// k7f2 <nil>
}
