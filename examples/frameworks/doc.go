// Package frameworks holds runnable examples of apikey with web
// frameworks, one package each: chi (the net/http middleware as is), gin
// (Authenticate, Key.Require and Authenticator.Fail in a gin.HandlerFunc)
// and echo (echo.WrapMiddleware around Authenticator.Require, and Fail for
// checks inside a handler). Each package's test starts a real server and
// sends real requests. The frameworks are dependencies of the examples
// module only, never of the apikey module.
package frameworks
