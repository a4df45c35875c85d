package apikey

import (
	"context"
	"net/http"
)

// ctxKey is the unexported type of the context key under which the
// middleware stores the verified key, so no other package can read or
// forge it except through NewContext and FromContext.
type ctxKey struct{}

// NewContext returns a copy of ctx carrying k, the verified key of the
// request. The middleware calls it; tests and custom authentication paths
// can too.
func NewContext(ctx context.Context, k *Key) context.Context {
	return context.WithValue(ctx, ctxKey{}, k)
}

// keyCtx is the context the middleware hands on: its parent plus the
// verified key, read by FromContext through Value like a context.WithValue
// context.
type keyCtx struct {
	context.Context
	k *Key
}

// Value returns the key for ctxKey{} and asks the parent otherwise.
func (c *keyCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.k
	}
	return c.Context.Value(key)
}

// keyRequest holds the request the middleware passes on and its context in
// one allocation (instead of one for the context and one for the request
// copy).
type keyRequest struct {
	ctx keyCtx
	req http.Request
}

// withKey returns a shallow copy of r whose context carries k, as
// r.WithContext(NewContext(r.Context(), k)) would, in one allocation.
func withKey(r *http.Request, k *Key) *http.Request {
	kr := &keyRequest{ctx: keyCtx{Context: r.Context(), k: k}}
	kr.req = *r.WithContext(&kr.ctx) // the copy WithContext makes stays on the stack
	return &kr.req
}

// FromContext returns the verified key stored in ctx by the middleware (or
// NewContext), and whether there is one. A nil key stored with NewContext
// counts as none.
func FromContext(ctx context.Context) (*Key, bool) {
	k, ok := ctx.Value(ctxKey{}).(*Key)
	return k, ok && k != nil
}
