package relations

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/prompts"
)

func ends(names map[string]string) Endpoints {
	return func(name, _ string) (graph.Entity, error) {
		id, ok := names[name]
		if !ok {
			return graph.Entity{}, errors.New("unknown entity " + name)
		}
		return graph.Entity{ID: id, Name: name}, nil
	}
}

func TestBuild(t *testing.T) {
	names := map[string]string{"alice": "e1", "Seattle": "e2", "Austin": "e3", "Acme": "e4"}
	existing := map[string]graph.Relation{
		"R1": {ID: "r1", SourceID: "e1", Source: "alice", Type: "LIVES_IN", TargetID: "e2", Target: "Seattle"},
		"R2": {ID: "r2", SourceID: "e1", Source: "alice", Type: "WORKS_AT", TargetID: "e4", Target: "Acme"},
	}
	decisions := []prompts.RelationDecision{
		{Op: graph.OpAdd, Source: "alice", Relationship: "works-at", Target: "Acme"},
		{Op: graph.OpAdd, Source: "alice", Relationship: "works at…", Target: "Acme"}, // same after normalising
		{Op: graph.OpAdd, Source: "alice", Relationship: "likes`) DETACH DELETE n //", Target: "Acme"},
		{Op: graph.OpAdd, Source: "alice", Relationship: "knows", Target: "alice"},
		{Op: graph.OpAdd, Source: "Bob", Relationship: "knows", Target: "alice"},
		{Op: graph.OpUpdate, ID: "R1", Target: "Austin"},
		{Op: graph.OpUpdate, ID: "R2", Relationship: "works_at"}, // no change: not a new version
		{Op: graph.OpUpdate, ID: "R9", Target: "Austin"},
		{Op: graph.OpDelete, ID: "R2"},
	}
	ops, rejected := Build(decisions, existing, ends(names), []string{"m1"})
	want := []graph.RelationOp{
		{Op: graph.OpAdd, Relation: graph.Relation{SourceID: "e1", Source: "alice", Type: "WORKS_AT", TargetID: "e4", Target: "Acme", MemoryIDs: []string{"m1"}}},
		{Op: graph.OpUpdate, OldID: "r1", Relation: graph.Relation{SourceID: "e1", Source: "alice", Type: "LIVES_IN", TargetID: "e3", Target: "Austin", MemoryIDs: []string{"m1"}}},
		{Op: graph.OpDelete, OldID: "r2", Relation: existing["R2"]},
	}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Fatalf("ops (-want +got):\n%s", diff)
	}
	var reasons []string
	for _, r := range rejected {
		reasons = append(reasons, r.Relationship+": "+r.Reason)
	}
	if len(rejected) != 4 {
		t.Fatalf("rejected = %v, want the injection, the self loop, the unknown entity and the unknown id", reasons)
	}
}
