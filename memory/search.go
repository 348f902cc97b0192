package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// Search embeds the query once and runs one Cypher query that returns the
// closest memories (vector and full-text rankings fused) and the relations
// around the entities they mention. Errors: Invalid, Unavailable.
func (e *Engine) Search(ctx context.Context, req graph.SearchRequest) (graph.SearchResponse, error) {
	const op = "search"
	if err := req.Scope.ValidateSet(op); err != nil {
		return graph.SearchResponse{}, err
	}
	q := strings.TrimSpace(req.Query)
	if q == "" {
		return graph.SearchResponse{}, graph.InvalidFields(op, graph.FieldError{Path: "query", Message: "must not be empty"})
	}
	if len(q) > graph.MaxMemoryText {
		return graph.SearchResponse{}, graph.InvalidFields(op, graph.FieldError{Path: "query", Message: "is longer than 65536 bytes"})
	}
	start := time.Now()
	// A query searched recently keeps its vector (Config.QueryCache), per
	// tenant: whether another tenant searched the same words must not show
	// in a search's time.
	key := req.Scope.Tenant + "\x00" + q
	v, ok := e.queries.Get(key)
	if !ok {
		var u graph.Usage
		vs, err := e.embed(ctx, []string{q}, &u)
		if err != nil {
			return graph.SearchResponse{}, wrapOnce(op, err)
		}
		v = vs[0]
		e.queries.Put(key, v)
	}
	embedded := time.Now()
	req.Query, req.Vector = q, v
	f, err := fusionOf(e.cfg.Fusion, req.Weights)
	if err != nil {
		return graph.SearchResponse{}, err
	}
	req.VectorWeight, req.TextWeight, req.GraphWeight, req.TimeWeight, req.RRFK = f.VectorWeight, f.TextWeight, f.GraphWeight, f.TimeWeight, f.K
	// A date the query names ranks the memories of that time (created_at)
	// as a signal of its own.
	if p, ok := graph.QueryPeriod(q, e.cfg.Now()); ok {
		req.Period = &p
	}
	req.RelationLimit = e.cfg.RelationLimit
	out, err := e.store.Search(ctx, req)
	if err != nil {
		return graph.SearchResponse{}, wrapOnce(op, err)
	}
	out.EmbedTime, out.EngineTime = embedded.Sub(start), time.Since(embedded)
	if out.Results == nil {
		out.Results = []graph.Hit{}
	}
	if !req.Explain {
		for i := range out.Results {
			out.Results[i].Explain = nil
		}
	}
	if out.Relations == nil {
		out.Relations = []graph.Relation{}
	}
	return out, nil
}

// Update changes a memory's text and/or metadata in place (recorded in its
// history) in one transaction under the memory's write lock; a new text is
// embedded first, outside any transaction. Errors: Invalid, NotFound, Stale
// (patch.IfVersion), Unavailable.
func (e *Engine) Update(ctx context.Context, scope graph.Scope, id string, patch graph.MemoryPatch, audit graph.Audit) (graph.Memory, error) {
	changes := []graph.MemoryChange{{ID: id, Patch: patch}}
	if err := e.embedPatches(ctx, changes); err != nil {
		return graph.Memory{}, err
	}
	return e.store.UpdateMemory(ctx, scope, id, changes[0].Patch, audit)
}

// UpdateMany applies several updates in one transaction (all or none), the
// new texts embedded first in one batch. Errors as Update's.
func (e *Engine) UpdateMany(ctx context.Context, scope graph.Scope, changes []graph.MemoryChange, audit graph.Audit) ([]graph.Memory, error) {
	changes = slices.Clone(changes)
	if err := e.embedPatches(ctx, changes); err != nil {
		return nil, err
	}
	return e.store.UpdateMemories(ctx, scope, changes, audit)
}

// embedPatches checks the new texts of changes and embeds them in one call.
func (e *Engine) embedPatches(ctx context.Context, changes []graph.MemoryChange) error {
	const op = "update memory"
	var texts []string
	var at []int
	for i, c := range changes {
		if c.Patch.Text == nil {
			continue
		}
		field := "text"
		if len(changes) > 1 {
			field = fmt.Sprintf("changes[%d].text", i)
		}
		if err := graph.CheckText(op, field, *c.Patch.Text); err != nil {
			return err
		}
		texts = append(texts, *c.Patch.Text)
		at = append(at, i)
	}
	var u graph.Usage
	vs, err := e.embed(ctx, texts, &u)
	if err != nil {
		return wrapOnce(op, err)
	}
	for j, i := range at {
		changes[i].Patch.Embedding = vs[j]
	}
	return nil
}

// fusionOf is the configured fusion with a request's own settings on top.
// Errors: Invalid (a negative weight, all weights 0, a constant below 1).
func fusionOf(cfg vector.Fusion, w *graph.Weights) (vector.Fusion, error) {
	const op = "search"
	if w == nil {
		return cfg, nil
	}
	var bad []graph.FieldError
	set := func(path string, dst *float64, v *float64) {
		if v == nil {
			return
		}
		if *v < 0 {
			bad = append(bad, graph.FieldError{Path: path, Message: "must not be negative"})
		}
		*dst = *v
	}
	set("weights.vector", &cfg.VectorWeight, w.Vector)
	set("weights.text", &cfg.TextWeight, w.Text)
	set("weights.graph", &cfg.GraphWeight, w.Graph)
	set("weights.time", &cfg.TimeWeight, w.Time)
	if w.RRFK != nil {
		if *w.RRFK < 1 {
			bad = append(bad, graph.FieldError{Path: "weights.rrf_k", Message: "must be at least 1"})
		}
		cfg.K = *w.RRFK
	}
	if len(bad) == 0 && cfg.VectorWeight == 0 && cfg.TextWeight == 0 && cfg.GraphWeight == 0 {
		bad = append(bad, graph.FieldError{Path: "weights", Message: "must not all be 0"})
	}
	if len(bad) > 0 {
		return vector.Fusion{}, graph.InvalidFields(op, bad...)
	}
	return cfg, nil
}
