package graph

import "time"

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
