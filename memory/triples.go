package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/neomem/neomem/entities"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/prompts"
	"github.com/neomem/neomem/relations"
)

// AddRelations writes structured triples without an LLM, through the same
// entity and relation steps as a model's add: relationship types go through
// the normaliser (what cannot be made safe is rejected and reported),
// entities (self references as the user) are matched by exact key in the
// scope or created (their names embedded in one batch, outside any
// transaction), a triple that exists counts a mention on it, and everything
// is applied in one transaction under the scope's lock. Errors: Invalid,
// Unavailable, Conflict.
func (e *Engine) AddRelations(ctx context.Context, scope graph.Scope, triples []graph.Triple, audit graph.Audit) (_ graph.AddResult, err error) {
	const op = "add relations"
	if err := scope.ValidateSelector(op); err != nil {
		return graph.AddResult{}, err
	}
	var res graph.AddResult
	var decisions []prompts.RelationDecision
	var names []entities.Name
	for i, t := range triples {
		src, dst := strings.TrimSpace(t.Source), strings.TrimSpace(t.Target)
		reject := func(reason string) {
			res.Relations.Rejected = append(res.Relations.Rejected, graph.RejectedRelation{Source: t.Source, Relationship: t.Relationship, Target: t.Target, Reason: reason})
		}
		// What can never be written is refused before any lock is taken.
		_, terr := graph.RelationType(t.Relationship)
		switch {
		case terr != nil:
			reject(terr.Error())
			continue
		case graph.EntityKey(src) == "" || graph.EntityKey(dst) == "":
			return graph.AddResult{}, graph.InvalidFields(op, graph.FieldError{Path: fmt.Sprintf("relations[%d]", i), Message: "source and target must name something"})
		case graph.EntityKey(src) == graph.EntityKey(dst):
			reject("source and target are the same entity")
			continue
		}
		decisions = append(decisions, prompts.RelationDecision{Op: graph.OpAdd, Source: src, SourceType: t.SourceType,
			Relationship: t.Relationship, Target: dst, TargetType: t.TargetType})
		names = append(names, entities.Name{Name: src, Type: t.SourceType}, entities.Name{Name: dst, Type: t.TargetType})
	}
	if len(decisions) == 0 {
		finish(&res)
		return res, nil
	}
	ents := entities.NewSet(scope, "", names)
	ctx, lease, release, err := e.hold(ctx, scope, e.holder+"/"+graph.NewID())
	if err != nil {
		return graph.AddResult{}, err
	}
	defer release()
	defer func() { err = lostLease(ctx, err) }()
	// Exact keys only: structured triples name their entities.
	cands, err := e.store.Candidates(ctx, graph.CandidateQuery{Scope: scope, Entities: ents.Probes(),
		EntityLimit: 1, EntityMinScore: 1, MemoryLimit: 1, MemoryMinScore: 1, RelationLimit: 1000})
	if err != nil {
		return graph.AddResult{}, err
	}
	ents.Resolve(cands.Entities, nil, 1)
	plan := graph.Plan{Scope: scope, Audit: audit, At: e.cfg.Now().UTC()}
	var rels graph.Relations
	plan.Relations, rels = relations.Plan(decisions, cands.Relations, ents.Endpoint, nil)
	for _, op := range plan.Relations {
		ents.Use(op.Relation.SourceID)
		ents.Use(op.Relation.TargetID)
	}
	plan.Entities = ents.Upserts()
	res.Relations.Added, res.Relations.Updated, res.Relations.Invalidated = rels.Added, rels.Updated, rels.Invalidated
	res.Relations.Rejected = append(res.Relations.Rejected, rels.Rejected...)
	res.Relations.RejectedLabels = ents.RejectedLabels()
	// The new entities' names: one embedding batch, outside any transaction.
	if err := e.embedMissing(ctx, &plan, &res.Usage); err != nil {
		return graph.AddResult{}, err
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
