package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/neomem/neomem/graph"
)

// AddRelations writes structured triples without an LLM: relationship types
// go through the normaliser (what cannot be made safe is rejected and
// reported), entities are matched by exact key in the scope or created (their
// names embedded in one batch, outside any transaction), and everything is
// applied in one transaction under the scope's lock. Errors: Invalid,
// Unavailable, Conflict.
func (e *Engine) AddRelations(ctx context.Context, scope graph.Scope, triples []graph.Triple, audit graph.Audit) (_ graph.AddResult, err error) {
	const op = "add relations"
	if err := scope.ValidateSelector(op); err != nil {
		return graph.AddResult{}, err
	}
	var res graph.AddResult
	res.Results = []graph.Result{}
	type end struct{ name, typ string }
	names := map[string]end{} // key → first spelling and type
	var order []string
	var valid []graph.Triple
	for i, t := range triples {
		typ, err := graph.RelationType(t.Relationship)
		src, dst := strings.TrimSpace(t.Source), strings.TrimSpace(t.Target)
		switch {
		case err != nil:
			res.Relations.Rejected = append(res.Relations.Rejected, graph.RejectedRelation{Source: t.Source, Relationship: t.Relationship, Target: t.Target, Reason: err.Error()})
			continue
		case graph.EntityKey(src) == "" || graph.EntityKey(dst) == "":
			return graph.AddResult{}, graph.InvalidFields(op, graph.FieldError{Path: fmt.Sprintf("relations[%d]", i), Message: "source and target must name something"})
		case graph.EntityKey(src) == graph.EntityKey(dst):
			res.Relations.Rejected = append(res.Relations.Rejected, graph.RejectedRelation{Source: t.Source, Relationship: t.Relationship, Target: t.Target, Reason: "source and target are the same entity"})
			continue
		}
		t.Relationship, t.Source, t.Target = typ, src, dst
		valid = append(valid, t)
		for _, x := range []end{{src, t.SourceType}, {dst, t.TargetType}} {
			k := graph.EntityKey(x.name)
			if _, ok := names[k]; !ok {
				names[k] = x
				order = append(order, k)
			}
		}
	}
	if len(valid) == 0 {
		return res, nil
	}
	ctx, lease, release, err := e.hold(ctx, scope, e.holder+"/"+graph.NewID())
	if err != nil {
		return graph.AddResult{}, err
	}
	defer release()
	defer func() { err = lostLease(ctx, err) }()
	q := graph.CandidateQuery{Scope: scope, EntityLimit: 1, EntityMinScore: 1, MemoryLimit: 1, MemoryMinScore: 1, RelationLimit: 1000}
	for _, k := range order {
		q.Entities = append(q.Entities, graph.EntityProbe{Keys: []string{k}})
	}
	cands, err := e.store.Candidates(ctx, q)
	if err != nil {
		return graph.AddResult{}, err
	}
	ids := map[string]graph.Entity{}
	var fresh []string
	for i, k := range order {
		if i < len(cands.Entities) {
			for _, c := range cands.Entities[i] {
				if c.Exact {
					ids[k] = c.Entity
					break
				}
			}
		}
		if _, ok := ids[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	plan := graph.Plan{Scope: scope, Audit: audit, At: e.cfg.Now().UTC()}
	if len(fresh) > 0 {
		texts := make([]string, len(fresh))
		for i, k := range fresh {
			texts[i] = names[k].name
		}
		vs, err := e.embed(ctx, texts, &res.Usage)
		if err != nil {
			return graph.AddResult{}, err
		}
		for i, k := range fresh {
			label := ""
			if l, err := graph.Label(names[k].typ); names[k].typ != "" && err == nil {
				label = l
			} else if names[k].typ != "" {
				res.Relations.RejectedLabels = append(res.Relations.RejectedLabels, names[k].typ)
			}
			ent := graph.Entity{ID: graph.NewID(), Name: names[k].name, Key: k, Type: label}
			ids[k] = ent
			plan.Entities = append(plan.Entities, graph.EntityUpsert{ID: ent.ID, New: true, Name: ent.Name, Key: k, Type: label, Embedding: vs[i]})
		}
	}
	existing := map[string]string{}
	for _, r := range cands.Relations {
		existing[r.SourceID+"|"+r.Type+"|"+r.TargetID] = r.ID
	}
	seen := map[string]bool{}
	for _, t := range valid {
		s, d := ids[graph.EntityKey(t.Source)], ids[graph.EntityKey(t.Target)]
		key := s.ID + "|" + t.Relationship + "|" + d.ID
		if seen[key] {
			continue
		}
		seen[key] = true
		id := existing[key]
		if id == "" {
			id = graph.NewID()
		}
		plan.Relations = append(plan.Relations, graph.RelationOp{Op: graph.OpAdd, Relation: graph.Relation{
			ID: id, SourceID: s.ID, Source: s.Name, Type: t.Relationship, TargetID: d.ID, Target: d.Name}})
		res.Relations.Added = append(res.Relations.Added, graph.RelationResult{ID: id, Source: s.Name, Relationship: t.Relationship, Target: d.Name})
	}
	finish(&res)
	if plan.Audit, err = recordable(audit, res); err != nil {
		return graph.AddResult{}, err
	}
	if err := e.store.Apply(ctx, plan, lease); err != nil {
		return graph.AddResult{}, err
	}
	return res, nil
}
