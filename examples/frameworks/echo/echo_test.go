package echo_test

import (
	"testing"

	"github.com/apikit/apikey/apikeytest"
	"github.com/apikit/apikey/examples/frameworks"
	echoexample "github.com/apikit/apikey/examples/frameworks/echo"
)

func TestRouter(t *testing.T) {
	m := apikeytest.New(t)
	reader, writer := m.MustToken(t, "jobs:read"), m.MustToken(t, "jobs:write")
	frameworks.Run(t, echoexample.NewRouter(m.MustAuthenticator(t)), frameworks.JobsCases(reader, writer))
}

// A check inside an echo handler gets the configured answer through Fail.
func TestInHandlerCheck(t *testing.T) {
	m := apikeytest.New(t)
	writer, admin := m.MustToken(t, "jobs:write"), m.MustToken(t, "jobs:write", "jobs:admin")
	frameworks.Run(t, echoexample.NewRouter(m.MustAuthenticator(t)), []frameworks.Case{
		{Method: "DELETE", Path: "/jobs/42", Token: admin, Code: 204},
		{Method: "DELETE", Path: "/jobs/42", Token: writer, Code: 403, Body: frameworks.BodyForbidden,
			Challenge: `Bearer realm="api", error="insufficient_scope", scope="jobs:admin"`},
		{Method: "DELETE", Path: "/jobs/42", Code: 401, Body: frameworks.BodyNoCreds, Challenge: `Bearer realm="api"`},
	})
}
