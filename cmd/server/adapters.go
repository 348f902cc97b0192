package main

import (
	"context"

	"github.com/neomem/neomem/api"
	"github.com/neomem/neomem/cypher"
)

// authAPI adapts the store's API keys to api.Authenticator.
type authAPI struct{ store *cypher.Store }

func (a authAPI) Authenticate(ctx context.Context, key string) (api.Principal, error) {
	k, err := a.store.Authenticate(ctx, key)
	if err != nil {
		return api.Principal{}, err
	}
	return api.Principal{Tenant: k.Tenant, KeyID: k.ID, Admin: k.Admin}, nil
}

// readiness adapts the store to api.Checker.
type readiness struct{ store *cypher.Store }

func (r readiness) Check(ctx context.Context) api.ReadyReport {
	if err := r.store.Ping(ctx); err != nil {
		return api.ReadyReport{Err: err, Reason: cypher.Diagnose(err)}
	}
	out := api.ReadyReport{Reachable: true}
	info, err := r.store.Server(ctx)
	if err != nil {
		out.Err, out.Reason = err, cypher.Diagnose(err)
		return out
	}
	out.Version, out.Edition, out.FilteredVectorSearch = info.Version, info.Edition, info.FilteredVectorSearch
	states, err := r.store.IndexStates(ctx)
	if err != nil {
		out.Err = err
		return out
	}
	for _, st := range states {
		out.Indexes = append(out.Indexes, api.IndexStatus{Name: st.Name, State: st.State, Population: st.Population})
	}
	return out
}

// CreateKey creates an API key (the admin route).
func (a authAPI) CreateKey(ctx context.Context, tenant, name string, admin bool) (string, string, error) {
	secret, k, err := a.store.CreateAPIKey(ctx, tenant, name, admin)
	return secret, k.ID, err
}
