package apikey_test

import (
	"context"
	"fmt"
	"log"
	"regexp"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// TokenRegexp's \b misses a token glued to an identifier; the pattern for
// secret-scanning services (no boundary before the prefix, then the
// checksum) finds it.
func ExampleManager_TokenRegexp_glued() {
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		log.Fatal(err)
	}
	leak := "export API_KEY_" + is.Token.Reveal()

	fmt.Println("TokenRegexp finds it:", m.TokenRegexp().MatchString(leak))
	scanning := regexp.MustCompile(`pgk_(?:live|test)_[0-9A-Za-z]{66}(?:[^0-9A-Za-z]|$)`)
	match := scanning.FindString(leak)
	fmt.Println("scanning pattern finds it:", match != "" && apikey.ValidChecksum(match[:len("pgk_live_")+66]))
	// Output:
	// TokenRegexp finds it: false
	// scanning pattern finds it: true
}
