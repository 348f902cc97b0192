// Package relations turns the model's relation decisions into graph
// operations: types are normalised by graph.RelationType (what cannot be made
// safe is rejected and reported, never written), endpoints are resolved to
// entities, and updates and deletes become invalidations of the current
// relation rather than destruction.
package relations

import (
	"fmt"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/prompts"
)

// Endpoints resolves an entity name (with an optional type the model gave)
// to the entity the add uses for it, creating a new one when needed.
type Endpoints func(name, typ string) (graph.Entity, error)

// Build converts decisions into operations. existing maps the ids shown to
// the model ("R1"…) to the current relations. memoryIDs are the provenance of
// the add (the memories it created). Decisions that cannot be written are
// returned in rejected; the rest are ops.
func Build(decisions []prompts.RelationDecision, existing map[string]graph.Relation, ends Endpoints, memoryIDs []string) (ops []graph.RelationOp, rejected []graph.RejectedRelation) {
	seen := map[string]bool{}
	for _, d := range decisions {
		reject := func(reason string) {
			rejected = append(rejected, graph.RejectedRelation{Source: d.Source, Relationship: d.Relationship, Target: d.Target, Reason: reason})
		}
		switch d.Op {
		case graph.OpAdd:
			rel, err := build(graph.Relation{}, d, ends)
			if err != nil {
				reject(err.Error())
				continue
			}
			key := rel.SourceID + "|" + rel.Type + "|" + rel.TargetID
			if seen[key] {
				continue
			}
			seen[key] = true
			rel.MemoryIDs = memoryIDs
			ops = append(ops, graph.RelationOp{Op: graph.OpAdd, Relation: rel})
		case graph.OpUpdate:
			old, ok := existing[d.ID]
			if !ok {
				reject(fmt.Sprintf("unknown relation id %q", d.ID))
				continue
			}
			rel, err := build(old, d, ends)
			if err != nil {
				reject(err.Error())
				continue
			}
			if rel.SourceID == old.SourceID && rel.Type == old.Type && rel.TargetID == old.TargetID {
				continue // nothing changed: not a new version
			}
			rel.ID = ""
			rel.MemoryIDs = memoryIDs
			ops = append(ops, graph.RelationOp{Op: graph.OpUpdate, OldID: old.ID, Relation: rel})
		case graph.OpDelete:
			old, ok := existing[d.ID]
			if !ok {
				reject(fmt.Sprintf("unknown relation id %q", d.ID))
				continue
			}
			ops = append(ops, graph.RelationOp{Op: graph.OpDelete, OldID: old.ID, Relation: old})
		default:
			reject(fmt.Sprintf("unknown operation %q", d.Op))
		}
	}
	return ops, rejected
}

// build applies a decision's fields over base (an empty relation for ADD,
// the old one for UPDATE, where omitted fields keep their value).
func build(base graph.Relation, d prompts.RelationDecision, ends Endpoints) (graph.Relation, error) {
	rel := base
	if d.Relationship != "" {
		t, err := graph.RelationType(d.Relationship)
		if err != nil {
			return graph.Relation{}, err
		}
		rel.Type = t
	}
	if d.Source != "" {
		e, err := ends(d.Source, d.SourceType)
		if err != nil {
			return graph.Relation{}, err
		}
		rel.SourceID, rel.Source = e.ID, e.Name
	}
	if d.Target != "" {
		e, err := ends(d.Target, d.TargetType)
		if err != nil {
			return graph.Relation{}, err
		}
		rel.TargetID, rel.Target = e.ID, e.Name
	}
	switch {
	case rel.Type == "":
		return graph.Relation{}, fmt.Errorf("no relationship type")
	case rel.SourceID == "" || rel.TargetID == "":
		return graph.Relation{}, fmt.Errorf("source and target are required")
	case rel.SourceID == rel.TargetID:
		return graph.Relation{}, fmt.Errorf("source and target are the same entity")
	}
	return rel, nil
}
