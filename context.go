package apikey

import "context"

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

// FromContext returns the verified key stored in ctx by the middleware (or
// NewContext), and whether there is one. A nil key stored with NewContext
// counts as none.
func FromContext(ctx context.Context) (*Key, bool) {
	k, ok := ctx.Value(ctxKey{}).(*Key)
	return k, ok && k != nil
}
