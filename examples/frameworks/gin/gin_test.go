package gin_test

import (
	"testing"

	"github.com/apikit/apikey/apikeytest"
	"github.com/apikit/apikey/examples/frameworks"
	ginexample "github.com/apikit/apikey/examples/frameworks/gin"
)

func TestRouter(t *testing.T) {
	m := apikeytest.New(t)
	reader, writer := m.MustToken(t, "jobs:read"), m.MustToken(t, "jobs:write")
	frameworks.Run(t, ginexample.NewRouter(m.MustAuthenticator(t)), frameworks.JobsCases(reader, writer))
}
