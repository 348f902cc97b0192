package main

import (
	"context"

	"github.com/neomem/neomem/api"
	"github.com/neomem/neomem/cypher"
)

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
