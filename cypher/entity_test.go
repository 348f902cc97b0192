package cypher_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// TestDeleteEntity: an entity goes with its relations, each leaving a
// DELETE event; the memories that mentioned it stay; another tenant or
// scope cannot reach it.
func TestDeleteEntity(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	lease, err := s.AcquireLease(ctx, scope, "t", time.Minute, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	alice, acme, austin := graph.NewID(), graph.NewID(), graph.NewID()
	ent := func(id, name, typ string) graph.EntityUpsert {
		return graph.EntityUpsert{ID: id, New: true, Name: name, Key: graph.EntityKey(name), Type: typ, Embedding: embedder.Vector(name)}
	}
	m := mem(scope, "alice works at acme")
	m.ID, m.Kind = graph.NewID(), graph.KindFact
	worksAt := graph.NewID()
	if err := s.Apply(ctx, graph.Plan{Scope: scope,
		Entities: []graph.EntityUpsert{ent(alice, "alice", "Person"), ent(acme, "Acme", "Company"), ent(austin, "Austin", "City")},
		Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: m, Mentions: []string{alice, acme}}},
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: graph.Relation{ID: worksAt, SourceID: alice, Type: "WORKS_AT", TargetID: acme}},
			{Op: graph.OpAdd, Relation: graph.Relation{ID: graph.NewID(), SourceID: alice, Type: "LIVES_IN", TargetID: austin}}},
	}, lease); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []graph.Scope{{Tenant: testcontainers.Tenant(t), UserID: "alice"}, {Tenant: tenant, UserID: "bob"}} {
		if _, err := s.DeleteEntity(ctx, sc, acme, graph.Audit{}); !errors.Is(err, graph.NotFound) {
			t.Errorf("DeleteEntity from %+v = %v, want NotFound", sc, err)
		}
	}
	n, err := s.DeleteEntity(ctx, graph.Scope{Tenant: tenant}, acme, graph.Audit{ActorID: "tester"})
	if err != nil || n != 1 {
		t.Fatalf("DeleteEntity = %d, %v, want 1 relation", n, err)
	}
	if _, err := s.GetEntity(ctx, scope, acme); !errors.Is(err, graph.NotFound) {
		t.Errorf("GetEntity after delete = %v", err)
	}
	rels, err := s.Relations(ctx, scope, graph.RelationQuery{IncludeInvalid: true})
	if err != nil || len(rels) != 1 || rels[0].Type != "LIVES_IN" {
		t.Errorf("relations after delete = %+v, %v, want LIVES_IN only", rels, err)
	}
	if _, err := s.GetMemory(ctx, scope, m.ID); err != nil {
		t.Errorf("the memory that mentioned it: %v", err)
	}
	for _, tc := range []struct {
		target, kind, old string
	}{{acme, "entity", "Acme"}, {worksAt, "relation", "alice WORKS_AT Acme"}} {
		n := count(t, `MATCH (e:Event {tenant: $tenant, target_id: $id, op: 'DELETE', target_kind: $kind, old: $old, user_id: 'alice', actor_id: 'tester'}) RETURN count(e) AS n`,
			map[string]any{"tenant": tenant, "id": tc.target, "kind": tc.kind, "old": tc.old})
		if n != 1 {
			t.Errorf("DELETE events of the %s %s = %d, want 1", tc.kind, tc.target, n)
		}
	}
	if _, err := s.DeleteEntity(ctx, scope, acme, graph.Audit{}); !errors.Is(err, graph.NotFound) {
		t.Errorf("second DeleteEntity = %v, want NotFound", err)
	}
}
