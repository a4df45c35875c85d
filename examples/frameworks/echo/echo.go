// Package echo shows apikey with labstack/echo: echo.WrapMiddleware takes
// Authenticator.Require as is; a check inside a handler (here: deleting a
// job needs jobs:admin on top of the route's jobs:write) uses Key.Require
// and answers with Authenticator.Fail, so it gets the configured answer
// too.
package echo

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/apikit/apikey"
)

// NewRouter returns the routes of a small jobs API protected by auth:
// GET /jobs/:id needs jobs:read, POST /jobs needs jobs:write, DELETE
// /jobs/:id needs jobs:write and jobs:admin (checked in the handler).
func NewRouter(auth *apikey.Authenticator) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/jobs/:id", func(c echo.Context) error {
		key, _ := apikey.FromContext(c.Request().Context())
		return c.String(http.StatusOK, "job "+c.Param("id")+" of "+key.Tenant+"\n")
	}, echo.WrapMiddleware(auth.Require("jobs:read")))
	e.POST("/jobs", func(c echo.Context) error {
		return c.NoContent(http.StatusCreated)
	}, echo.WrapMiddleware(auth.Require("jobs:write")))
	e.DELETE("/jobs/:id", func(c echo.Context) error {
		key, _ := apikey.FromContext(c.Request().Context())
		if err := key.Require("jobs:admin"); err != nil {
			auth.Fail(c.Response(), c.Request(), err)
			return nil
		}
		return c.NoContent(http.StatusNoContent)
	}, echo.WrapMiddleware(auth.Require("jobs:write")))
	return e
}
