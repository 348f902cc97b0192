package graph

import (
	"context"
	"time"
)

// APIKey is a stored API key without its secret: the principal a request
// acts as. Every key belongs to one tenant; an admin key may also manage the
// tenant's keys and reset it.
type APIKey struct {
	ID        string
	Tenant    string
	Name      string
	Admin     bool
	CreatedAt time.Time
	RevokedAt *time.Time
}

type keyContext struct{}

// ContextWithKey returns ctx carrying the API key a request acts as, for
// handlers served beside the API (the MCP endpoint) that bind their work to
// its tenant.
func ContextWithKey(ctx context.Context, k APIKey) context.Context {
	return context.WithValue(ctx, keyContext{}, k)
}

// KeyFromContext returns the API key ctx carries (ContextWithKey).
func KeyFromContext(ctx context.Context) (APIKey, bool) {
	k, ok := ctx.Value(keyContext{}).(APIKey)
	return k, ok
}
