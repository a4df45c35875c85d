// Package gin shows apikey with gin-gonic/gin: a gin.HandlerFunc
// authenticates and checks scopes with Authenticator.Scoped(...).Authenticate
// and answers refusals with Authenticator.Fail, so gin routes
// get the same answers (status, WWW-Authenticate, JSON body, custom error
// handler) as net/http ones.
package gin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/apikit/apikey"
)

// Require is gin middleware: the request needs a valid key granting every
// one of scopes. The key goes into the request context (apikey.FromContext
// reads it, in gin handlers through c.Request.Context()).
func Require(auth *apikey.Authenticator, scopes ...string) gin.HandlerFunc {
	scoped := auth.Scoped(scopes...) // scopes checked before rate limits and credits are spent
	return func(c *gin.Context) {
		k, err := scoped.Authenticate(c.Request)
		if err != nil {
			auth.Fail(c.Writer, c.Request, err)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(apikey.NewContext(c.Request.Context(), k))
		c.Next()
	}
}

// NewRouter returns the routes of a small jobs API protected by auth:
// GET /jobs/:id needs jobs:read, POST /jobs needs jobs:write.
func NewRouter(auth *apikey.Authenticator) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/jobs/:id", Require(auth, "jobs:read"), func(c *gin.Context) {
		key, _ := apikey.FromContext(c.Request.Context())
		c.String(http.StatusOK, "job %s of %s\n", c.Param("id"), key.Tenant)
	})
	r.POST("/jobs", Require(auth, "jobs:write"), func(c *gin.Context) {
		c.Status(http.StatusCreated)
	})
	return r
}
