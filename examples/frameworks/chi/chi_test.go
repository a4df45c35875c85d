package chi_test

import (
	"testing"

	"github.com/apikit/apikey/apikeytest"
	"github.com/apikit/apikey/examples/frameworks"
	chiexample "github.com/apikit/apikey/examples/frameworks/chi"
)

func TestRouter(t *testing.T) {
	m := apikeytest.New(t)
	reader, writer := m.MustToken(t, "jobs:read"), m.MustToken(t, "jobs:write")
	frameworks.Run(t, chiexample.NewRouter(m.MustAuthenticator(t)), frameworks.JobsCases(reader, writer))
}
