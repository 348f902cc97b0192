package relations

import (
	"fmt"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/prompts"
)

// Plan turns a decision's relation choices into the plan's relation
// operations and the add's relation result. existing are the current
// relations the decision was shown (R1… in order); ends resolves the names
// it used; memoryIDs are the add's new memories (the provenance). An ADD of a
// relation that exists reports (and counts a mention on) the existing one;
// every new version gets a new id.
func Plan(decisions []prompts.RelationDecision, existing []graph.Relation, ends Endpoints, memoryIDs []string) ([]graph.RelationOp, graph.Relations) {
	shown := make(map[string]graph.Relation, len(existing))
	byID := make(map[string]graph.Relation, len(existing))
	for i, r := range existing {
		shown[prompts.RelationID(i)] = r
		byID[r.ID] = r
	}
	ops, rejected := Build(decisions, shown, ends, memoryIDs)
	var res graph.Relations
	res.Rejected = rejected
	for i := range ops {
		op := &ops[i]
		switch op.Op {
		case graph.OpAdd:
			op.Relation.ID = graph.NewID()
			for _, r := range existing {
				if r.SourceID == op.Relation.SourceID && r.Type == op.Relation.Type && r.TargetID == op.Relation.TargetID {
					op.Relation.ID = r.ID
				}
			}
		case graph.OpUpdate:
			op.Relation.ID = graph.NewID()
		}
		rr := graph.RelationResult{ID: op.Relation.ID, Source: op.Relation.Source, Relationship: op.Relation.Type, Target: op.Relation.Target}
		switch op.Op {
		case graph.OpAdd:
			res.Added = append(res.Added, rr)
		case graph.OpUpdate:
			old := byID[op.OldID]
			rr.Previous = &graph.RelationResult{ID: old.ID, Source: old.Source, Relationship: old.Type, Target: old.Target}
			res.Updated = append(res.Updated, rr)
		case graph.OpDelete:
			rr.ID = op.OldID
			res.Invalidated = append(res.Invalidated, rr)
		}
	}
	return ops, res
}

// CheckEnds is part of parsing a decision: every relation end it names must
// resolve (to an entity it was shown). It returns a field error per bad end.
func CheckEnds(decisions []prompts.RelationDecision, ends Endpoints) []graph.FieldError {
	var bad []graph.FieldError
	for i, d := range decisions {
		for _, n := range []string{d.Source, d.Target} {
			if n == "" {
				continue
			}
			if _, err := ends(n, ""); err != nil {
				bad = append(bad, graph.FieldError{Path: fmt.Sprintf("relations[%d]", i),
					Message: err.Error() + "; use a name from the entities or existing relations listed"})
			}
		}
	}
	return bad
}
