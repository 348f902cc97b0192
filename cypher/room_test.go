package cypher_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// TestSharedRoom: a selector over several scopes of a tenant (Mem0's shared
// room) searches, lists, counts and deletes exactly those scopes' memories,
// entities and relations, never another scope's or another tenant's.
func TestSharedRoom(t *testing.T) {
	s, tenant := newStore(t)
	other := testcontainers.Tenant(t)
	ctx := context.Background()
	alice := graph.Scope{Tenant: tenant, UserID: "alice"}
	aliceX := graph.Scope{Tenant: tenant, UserID: "alice", AgentID: "x"}
	bob := graph.Scope{Tenant: tenant, UserID: "bob"}
	carol := graph.Scope{Tenant: tenant, UserID: "carol"}
	otherAlice := graph.Scope{Tenant: other, UserID: "alice"}
	created := mustCreate(t, s,
		mem(alice, "alice drinks coffee every morning"), mem(alice, "alice takes coffee black"),
		mem(aliceX, "alice asked agent x about coffee beans"), mem(bob, "bob roasts coffee at home"),
		mem(carol, "carol sells coffee machines"), mem(otherAlice, "another tenant's alice hates coffee"))
	want := map[string]bool{}
	for _, m := range created[:4] {
		want[m.ID] = true
	}
	// alice and carol both work at an Acme of their own scope.
	for _, sc := range []graph.Scope{alice, carol} {
		lease, err := s.AcquireLease(ctx, sc, "t", time.Minute, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		person, acme := graph.NewID(), graph.NewID()
		ent := func(id, name, typ string) graph.EntityUpsert {
			return graph.EntityUpsert{ID: id, New: true, Name: name, Key: graph.EntityKey(name), Type: typ, Embedding: embedder.Vector(name)}
		}
		if err := s.Apply(ctx, graph.Plan{Scope: sc, Entities: []graph.EntityUpsert{ent(person, sc.UserID, "Person"), ent(acme, "Acme", "Company")},
			Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: graph.Relation{ID: graph.NewID(), SourceID: person, Type: "WORKS_AT", TargetID: acme}}},
		}, lease); err != nil {
			t.Fatal(err)
		}
	}
	room := graph.Scope{Tenant: tenant, Any: &graph.Scopes{{UserID: "alice"}, {UserID: "bob"}}}

	res := search(t, s, graph.SearchRequest{Scope: room, Query: "coffee Acme", TopK: 20})
	got := map[string]bool{}
	textHit := map[string]bool{} // the full-text query finds each user's memories too
	for _, h := range res.Results {
		if !want[h.ID] {
			t.Errorf("room search returned %q of %+v", h.Text, h.Scope)
		}
		got[h.ID] = true
		if h.Explain != nil && h.Explain.TextRank > 0 {
			textHit[h.Scope.UserID] = true
		}
	}
	if !textHit["alice"] || !textHit["bob"] {
		t.Errorf("full-text hits by user = %v, want alice and bob", textHit)
	}
	if len(got) != len(want) {
		t.Errorf("room search found %d of the room's %d memories: %q", len(got), len(want), texts(res))
	}
	var rels []string
	for _, r := range res.Relations {
		rels = append(rels, r.Source+" "+r.Type+" "+r.Target)
	}
	if !slices.Equal(rels, []string{"alice WORKS_AT Acme"}) {
		t.Errorf("room search relations = %q, want alice's only", rels)
	}

	var listed []string
	cursor := ""
	for range 10 {
		page, err := s.ListMemories(ctx, room, graph.ListQuery{Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			listed = append(listed, m.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if len(listed) != len(want) || slices.ContainsFunc(listed, func(id string) bool { return !want[id] }) {
		t.Errorf("room list = %v, want the %d memories of alice and bob", listed, len(want))
	}
	if n, err := s.CountMemories(ctx, room, nil); err != nil || n != len(want) {
		t.Errorf("CountMemories(room) = %d, %v, want %d", n, err, len(want))
	}

	// A set never reaches a write.
	if _, err := s.CreateMemories(ctx, []graph.Memory{mem(room, "written to a room")}, graph.Audit{}); !errors.Is(err, graph.Invalid) {
		t.Errorf("CreateMemories(room) = %v, want Invalid", err)
	}

	n, err := s.DeleteAll(ctx, room, graph.DeleteOptions{}, graph.Audit{ActorID: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want)+2 { // alice's memories and her two entities; bob's memory
		t.Errorf("DeleteAll(room) = %d, want %d", n, len(want)+2)
	}
	for _, tc := range []struct {
		scope graph.Scope
		want  int
	}{{alice, 0}, {bob, 0}, {carol, 1}, {otherAlice, 1}} {
		if n, err := s.CountMemories(ctx, tc.scope, nil); err != nil || n != tc.want {
			t.Errorf("after the room's delete, %+v holds %d memories (%v), want %d", tc.scope, n, err, tc.want)
		}
	}
	if ents, err := s.Entities(ctx, carol, 10); err != nil || len(ents) != 2 {
		t.Errorf("carol's entities after the room's delete = %d, %v, want 2", len(ents), err)
	}
}
