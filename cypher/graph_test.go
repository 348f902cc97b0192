package cypher_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// newEntity returns an upsert of a new entity whose type goes through the
// normaliser, as the pipeline's would.
func newEntity(t *testing.T, name, typ string) graph.EntityUpsert {
	t.Helper()
	label, err := graph.Label(typ)
	if err != nil {
		t.Fatalf("Label(%q): %v", typ, err)
	}
	return graph.EntityUpsert{ID: graph.NewID(), New: true, Name: name, Key: graph.EntityKey(name), Type: label,
		Embedding: embedder.Vector(name)}
}

// relation returns a relation between two entities with a normalised type.
func relation(t *testing.T, src graph.EntityUpsert, typ string, dst graph.EntityUpsert, memoryIDs ...string) graph.Relation {
	t.Helper()
	rt, err := graph.RelationType(typ)
	if err != nil {
		t.Fatalf("RelationType(%q): %v", typ, err)
	}
	return graph.Relation{ID: graph.NewID(), SourceID: src.ID, Type: rt, TargetID: dst.ID, MemoryIDs: memoryIDs}
}

func fact(text string) graph.Memory {
	return graph.Memory{ID: graph.NewID(), Text: text, Role: "user", Embedding: embedder.Vector(text)}
}

// acquire takes the scope's lease for the test and releases it at the end.
func acquire(t *testing.T, s *cypher.Store, scope graph.Scope) graph.Lease {
	t.Helper()
	l, err := s.AcquireLease(context.Background(), scope, "test-"+t.Name(), time.Minute, 5*time.Second)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	t.Cleanup(func() { _ = s.ReleaseLease(context.Background(), l) })
	return l
}

func mustApply(t *testing.T, s *cypher.Store, plan graph.Plan) {
	t.Helper()
	if err := applyOnce(t, s, plan); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// applyOnce applies plan under a lease of its scope taken just for it.
func applyOnce(t *testing.T, s *cypher.Store, plan graph.Plan) error {
	t.Helper()
	ctx := context.Background()
	l, err := s.AcquireLease(ctx, plan.Scope, "test", time.Minute, 5*time.Second)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	defer func() {
		if err := s.ReleaseLease(ctx, l); err != nil {
			t.Errorf("ReleaseLease: %v", err)
		}
	}()
	return s.Apply(ctx, plan, l)
}

// rows runs a query straight against Neo4j and returns its records as maps.
func rows(t *testing.T, q string, params map[string]any) []map[string]any {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(t), q, params, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []map[string]any
	for _, r := range res.Records {
		out = append(out, r.AsMap())
	}
	return out
}

// snapshot renders every node and relationship of a tenant except the scope
// locks, to prove that a failed Apply changed nothing.
func snapshot(t *testing.T, tenant string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rows(t, `MATCH (n) WHERE n.tenant = $t AND NOT n:ScopeLock
		RETURN labels(n) AS l, n {.*, embedding: null} AS p ORDER BY n.id`, map[string]any{"t": tenant}) {
		fmt.Fprintln(&b, r["l"], r["p"])
	}
	for _, r := range rows(t, `MATCH (a)-[r]->(c) WHERE a.tenant = $t
		RETURN a.id AS a, type(r) AS type, properties(r) AS p, c.id AS c ORDER BY a, type, c`, map[string]any{"t": tenant}) {
		fmt.Fprintln(&b, r["a"], r["type"], r["p"], r["c"])
	}
	return b.String()
}

func TestApplyCreatesGraph(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice", AgentID: "helper"}
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Microsecond)
	alice := newEntity(t, "Alice", "person")
	alice.IsUser = true
	alice.Aliases = []string{"alice smith", "alice", "alice smith"}
	google := newEntity(t, "Google", "organization")
	seattle := newEntity(t, "Seattle", "city")
	m1, m2 := fact("Alice works at Google"), fact("Alice lives in Seattle")
	audit := graph.Audit{ActorID: "alice", Role: "user", RequestID: "req-1"}
	plan := graph.Plan{
		Scope: scope, Audit: audit, At: at,
		Entities: []graph.EntityUpsert{alice, google, seattle},
		Memories: []graph.MemoryOp{
			{Op: graph.OpAdd, Memory: m1, Mentions: []string{alice.ID, google.ID, alice.ID}},
			{Op: graph.OpAdd, Memory: m2, Mentions: []string{alice.ID, seattle.ID}},
		},
		Relations: []graph.RelationOp{
			{Op: graph.OpAdd, Relation: relation(t, alice, "works at", google, m1.ID)},
			{Op: graph.OpAdd, Relation: relation(t, alice, "livesIn", seattle, m2.ID)},
		},
	}
	mustApply(t, s, plan)

	p := map[string]any{"t": tenant, "key": scope.Key(), "at": at, "alice": alice.ID, "m1": m1.ID}
	checks := []struct{ name, q string }{
		{"user entity with type label, scope, key, vector", `MATCH (e:__Entity__:Person {id: $alice})
			WHERE e.tenant = $t AND e.user_id = 'alice' AND e.agent_id = 'helper' AND e.run_id IS NULL
			AND e.scope_key = $key AND e.key = 'alice' AND e.name = 'Alice' AND e.type = 'Person'
			AND e.aliases = ['alice smith'] AND e.is_user AND e.mentions = 1 AND e.created_at = $at
			AND size(e.embedding) = 384 RETURN count(*) AS n`},
		{"organization and city labels", `MATCH (g:__Entity__:Organization {tenant: $t, key: 'google'}), (c:__Entity__:City {tenant: $t, key: 'seattle'})
			WHERE NOT g.is_user RETURN count(*) AS n`},
		{"memory like CreateMemories", `MATCH (m:Memory {id: $m1}) WHERE m.tenant = $t AND m.user_id = 'alice' AND m.agent_id = 'helper'
			AND m.kind = 'fact' AND m.text = 'Alice works at Google' AND m.hash IS NOT NULL AND m.created_at = $at
			AND m.valid_from = $at AND m.invalid_at IS NULL AND size(m.embedding) = 384 RETURN count(*) AS n`},
		{"WORKS_AT with provenance", `MATCH (a:__Entity__ {id: $alice})-[r:WORKS_AT]->(g:__Entity__ {key: 'google'})
			WHERE r.tenant = $t AND r.user_id = 'alice' AND r.agent_id = 'helper' AND r.valid_from = $at
			AND r.invalid_at IS NULL AND r.mentions = 1 AND r.memory_ids = [$m1] AND r.id IS NOT NULL
			RETURN count(*) AS n`},
		{"LIVES_IN from camel case", `MATCH (a:__Entity__ {id: $alice})-[r:LIVES_IN]->(:__Entity__ {key: 'seattle'}) RETURN count(r) AS n`},
	}
	for _, c := range checks {
		if n := count(t, c.q, p); n != 1 {
			t.Errorf("%s: %d matches, want 1", c.name, n)
		}
	}
	if n := count(t, `MATCH (m:Memory {tenant: $t})-[:MENTIONS]->(e:__Entity__) RETURN count(*) AS n`, p); n != 4 {
		t.Errorf("MENTIONS edges: %d, want 4 (one repeated mention dropped)", n)
	}
	var events []string
	for _, r := range rows(t, `MATCH (e:Event {tenant: $t}) WHERE e.actor_id = 'alice' AND e.role = 'user' AND e.request_id = 'req-1'
		AND e.user_id = 'alice' AND e.agent_id = 'helper' AND e.at = $at
		RETURN e.target_kind + ' ' + e.op + ' ' + coalesce(e.new, '') AS ev ORDER BY ev`, p) {
		events = append(events, r["ev"].(string))
	}
	want := []string{
		"entity ADD Alice", "entity ADD Google", "entity ADD Seattle",
		"memory ADD Alice lives in Seattle", "memory ADD Alice works at Google",
		"relation ADD Alice LIVES_IN Seattle", "relation ADD Alice WORKS_AT Google",
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	// A second add touches Alice (alias, type label, mention) and repeats
	// WORKS_AT: one relation, counted twice, with both memories.
	m3 := fact("Alice is an engineer at Google")
	plan2 := graph.Plan{
		Scope: scope, Audit: audit,
		Entities: []graph.EntityUpsert{{ID: alice.ID, Aliases: []string{"ally", "alice smith", "alice"}, Type: "Engineer"}},
		Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: m3, Mentions: []string{alice.ID, google.ID}}},
		Relations: []graph.RelationOp{
			{Op: graph.OpAdd, Relation: relation(t, alice, "WORKS_AT", google, m3.ID)},
			{Op: graph.OpAdd, Relation: relation(t, alice, "works at", google, m3.ID)},
		},
	}
	mustApply(t, s, plan2)
	p["m3"] = m3.ID
	if n := count(t, `MATCH (e:__Entity__:Person:Engineer {id: $alice}) WHERE e.mentions = 2 AND e.aliases = ['alice smith', 'ally']
		AND e.type = 'Person' RETURN count(*) AS n`, p); n != 1 {
		t.Errorf("touched Alice: %d matches, want 1", n)
	}
	if n := count(t, `MATCH (:__Entity__ {id: $alice})-[r:WORKS_AT]->() WHERE r.mentions = 3 AND r.memory_ids = [$m1, $m3]
		RETURN count(r) AS n`, p); n != 1 {
		t.Errorf("WORKS_AT after repeats: %d matches, want one relation with 3 mentions", n)
	}
	if n := count(t, `MATCH (:__Entity__ {tenant: $t})-[r]->(:__Entity__) RETURN count(r) AS n`, p); n != 2 {
		t.Errorf("relations: %d, want 2", n)
	}

	ents, err := s.Entities(ctx, scope, 0)
	if err != nil || len(ents) != 3 {
		t.Fatalf("Entities = %d, %v; want 3", len(ents), err)
	}
	got, err := s.GetEntity(ctx, graph.Scope{Tenant: tenant}, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEntity := graph.Entity{ID: alice.ID, Scope: scope, Name: "Alice", Key: "alice", Type: "Person",
		Aliases: []string{"alice smith", "ally"}, IsUser: true, Mentions: 2, CreatedAt: at, UpdatedAt: got.UpdatedAt}
	if diff := cmp.Diff(wantEntity, got); diff != "" || !got.UpdatedAt.After(at) {
		t.Fatalf("GetEntity (-want +got):\n%s", diff)
	}
	_, err = s.GetEntity(ctx, graph.Scope{Tenant: tenant, UserID: "bob"}, alice.ID)
	wantKind(t, "GetEntity in another scope", err, graph.NotFound)
	_, err = s.GetEntity(ctx, graph.Scope{Tenant: testcontainers.Tenant(t)}, alice.ID)
	wantKind(t, "GetEntity from another tenant", err, graph.NotFound)

	rels, err := s.Relations(ctx, scope, graph.RelationQuery{EntityID: google.ID})
	if err != nil || len(rels) != 1 {
		t.Fatalf("Relations of Google = %+v, %v", rels, err)
	}
	if r := rels[0]; r.Source != "Alice" || r.SourceID != alice.ID || r.Type != "WORKS_AT" || r.Target != "Google" ||
		r.TargetID != google.ID || r.Mentions != 3 || r.Scope != scope || !r.ValidFrom.Equal(at) || r.InvalidAt != nil {
		t.Fatalf("Relations of Google = %+v", r)
	}
}

func TestApplyUpdatesMemory(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	alice := newEntity(t, "Alice", "person")
	old := fact("Alice lives in Seattle")
	t1 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Microsecond)
	mustApply(t, s, graph.Plan{Scope: scope, At: t1, Entities: []graph.EntityUpsert{alice},
		Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: old, Mentions: []string{alice.ID}}}})

	t2 := t1.Add(time.Hour)
	upd := fact("Alice lives in Austin")
	upd.Kind = graph.KindProcedural
	mustApply(t, s, graph.Plan{Scope: scope, At: t2, Audit: graph.Audit{ActorID: "bot", RequestID: "req-2"},
		Memories: []graph.MemoryOp{{Op: graph.OpUpdate, OldID: old.ID, Memory: upd, Mentions: []string{alice.ID}}}})

	p := map[string]any{"old": old.ID, "new": upd.ID, "t2": t2, "alice": alice.ID}
	if n := count(t, `MATCH (n:Memory {id: $new})-[:SUPERSEDES]->(o:Memory {id: $old})
		WHERE o.invalid_at = $t2 AND o.updated_at = $t2 AND n.invalid_at IS NULL AND n.valid_from = $t2 AND n.kind = 'procedural'
		AND (n)-[:MENTIONS]->(:__Entity__ {id: $alice}) RETURN count(*) AS n`, p); n != 1 {
		t.Fatalf("SUPERSEDES chain: %d matches, want 1", n)
	}
	hist, err := s.History(ctx, scope, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range hist {
		ops = append(ops, fmt.Sprintf("%s %s:%s>%s %s", e.TargetKind, e.Op, e.Old, e.New, e.RequestID))
	}
	want := []string{"memory ADD:>Alice lives in Seattle ", "memory UPDATE:Alice lives in Seattle>Alice lives in Austin req-2"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Fatalf("history of the old memory (-want +got):\n%s", diff)
	}
	if hist, err := s.History(ctx, scope, upd.ID); err != nil || len(hist) != 1 || hist[0].Op != graph.OpAdd {
		t.Fatalf("history of the new memory = %+v, %v", hist, err)
	}
	page, err := s.ListMemories(ctx, scope, graph.ListQuery{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != upd.ID {
		t.Fatalf("current memories = %+v, %v; want only the new version", page.Items, err)
	}

	// The old version is no longer current: updating it again is a
	// Conflict and writes nothing.
	before := snapshot(t, tenant)
	err = applyOnce(t, s, graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: graph.OpUpdate, OldID: old.ID, Memory: fact("again")}}})
	wantKind(t, "Apply UPDATE of an invalidated memory", err, graph.Conflict)
	if after := snapshot(t, tenant); after != before {
		t.Fatalf("failed Apply changed the graph:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// DELETE invalidates and records the old text.
	t3 := t2.Add(time.Minute)
	mustApply(t, s, graph.Plan{Scope: scope, At: t3, Memories: []graph.MemoryOp{{Op: graph.OpDelete, OldID: upd.ID}}})
	if n := count(t, `MATCH (m:Memory {id: $new}) WHERE m.invalid_at = $t3 RETURN count(m) AS n`, map[string]any{"new": upd.ID, "t3": t3}); n != 1 {
		t.Fatalf("deleted memory not invalidated")
	}
	hist, err = s.History(ctx, scope, upd.ID)
	if err != nil || len(hist) != 2 || hist[1].Op != graph.OpDelete || hist[1].Old != "Alice lives in Austin" || hist[1].New != "" {
		t.Fatalf("history after DELETE = %+v, %v", hist, err)
	}
}

func TestApplyUpdatesRelation(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	alice, seattle, austin := newEntity(t, "Alice", "person"), newEntity(t, "Seattle", "city"), newEntity(t, "Austin", "city")
	t1 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Microsecond)
	t2 := t1.Add(time.Hour)
	inSeattle := relation(t, alice, "lives in", seattle)
	mustApply(t, s, graph.Plan{Scope: scope, At: t1, Entities: []graph.EntityUpsert{alice, seattle},
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: inSeattle}}})
	inAustin := relation(t, alice, "lives in", austin)
	mustApply(t, s, graph.Plan{Scope: scope, At: t2, Entities: []graph.EntityUpsert{austin},
		Relations: []graph.RelationOp{{Op: graph.OpUpdate, OldID: inSeattle.ID, Relation: inAustin}}})

	targets := func(q graph.RelationQuery) []string {
		t.Helper()
		rels, err := s.Relations(ctx, scope, q)
		if err != nil {
			t.Fatalf("Relations(%+v): %v", q, err)
		}
		var out []string
		for _, r := range rels {
			out = append(out, r.Source+" "+r.Type+" "+r.Target)
		}
		slices.Sort(out)
		return out
	}
	mid := t1.Add(30 * time.Minute)
	early := t1.Add(-time.Minute)
	tests := []struct {
		name string
		q    graph.RelationQuery
		want []string
	}{
		{"current", graph.RelationQuery{}, []string{"Alice LIVES_IN Austin"}},
		{"as of before the update", graph.RelationQuery{AsOf: &mid}, []string{"Alice LIVES_IN Seattle"}},
		{"as of the update", graph.RelationQuery{AsOf: &t2}, []string{"Alice LIVES_IN Austin"}},
		{"as of before anything", graph.RelationQuery{AsOf: &early}, nil},
		{"with history", graph.RelationQuery{IncludeInvalid: true}, []string{"Alice LIVES_IN Austin", "Alice LIVES_IN Seattle"}},
		{"of Seattle, current", graph.RelationQuery{EntityID: seattle.ID}, nil},
		{"of Seattle, with history", graph.RelationQuery{EntityID: seattle.ID, IncludeInvalid: true}, []string{"Alice LIVES_IN Seattle"}},
		{"limit", graph.RelationQuery{IncludeInvalid: true, Limit: 1}, []string{"Alice LIVES_IN Austin"}},
	}
	for _, tt := range tests {
		if got := targets(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Relations = %q, want %q", tt.name, got, tt.want)
		}
	}
	p := map[string]any{"old": inSeattle.ID, "new": inAustin.ID, "t2": t2}
	if n := count(t, `MATCH (:__Entity__)-[o:LIVES_IN {id: $old}]->(:__Entity__ {key: 'seattle'}), (:__Entity__)-[r:LIVES_IN {id: $new}]->(:__Entity__ {key: 'austin'})
		WHERE o.invalid_at = $t2 AND r.invalid_at IS NULL AND r.valid_from = $t2 AND r.supersedes = $old RETURN count(*) AS n`, p); n != 1 {
		t.Fatalf("invalidated and superseding relation: %d matches, want 1", n)
	}
	hist, err := s.History(ctx, scope, inSeattle.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range hist {
		ops = append(ops, fmt.Sprintf("%s %s:%s>%s", e.TargetKind, e.Op, e.Old, e.New))
	}
	want := []string{"relation ADD:>Alice LIVES_IN Seattle", "relation UPDATE:Alice LIVES_IN Seattle>Alice LIVES_IN Austin"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Fatalf("history of the old relation (-want +got):\n%s", diff)
	}

	// DELETE invalidates with an INVALIDATE event.
	mustApply(t, s, graph.Plan{Scope: scope, Relations: []graph.RelationOp{{Op: graph.OpDelete, OldID: inAustin.ID}}})
	if got := targets(graph.RelationQuery{}); len(got) != 0 {
		t.Fatalf("current relations after DELETE = %q, want none", got)
	}
	hist, err = s.History(ctx, scope, inAustin.ID)
	// The new version's own history: ADD when the update created it, then
	// INVALIDATE.
	if err != nil || len(hist) != 2 || hist[0].Op != graph.OpAdd || hist[0].New != "Alice LIVES_IN Austin" ||
		hist[1].Op != graph.OpInvalidate || hist[1].Old != "Alice LIVES_IN Austin" {
		t.Fatalf("history after DELETE = %+v, %v", hist, err)
	}
	if n := count(t, `MATCH (:__Entity__ {tenant: $t})-[r]->() RETURN count(r) AS n`, map[string]any{"t": tenant}); n != 2 {
		t.Fatalf("relations kept as history: %d, want 2", n)
	}
	_, err = s.Relations(ctx, graph.Scope{Tenant: tenant}, graph.RelationQuery{})
	wantKind(t, "Relations without a scope id", err, graph.Invalid)
	_, err = s.Relations(ctx, scope, graph.RelationQuery{EntityID: "x"})
	wantKind(t, "Relations with a malformed entity id", err, graph.Invalid)
}

func TestApplyLostLease(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	e := newEntity(t, "Alice", "person")
	plan := graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{e},
		Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: fact("Alice likes tea"), Mentions: []string{e.ID}}}}

	stale, err := s.AcquireLease(ctx, scope, "slow", 50*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	other, err := s.AcquireLease(ctx, scope, "fast", time.Minute, 0)
	if err != nil {
		t.Fatalf("take over the expired lease: %v", err)
	}
	err = s.Apply(ctx, plan, stale)
	wantKind(t, "Apply with a lease taken over", err, graph.Conflict)
	if !strings.Contains(err.Error(), "lease lost") {
		t.Errorf("error %q does not say the lease was lost", err)
	}
	if err := s.ReleaseLease(ctx, other); err != nil {
		t.Fatal(err)
	}
	err = s.Apply(ctx, plan, other)
	wantKind(t, "Apply with a released lease", err, graph.Conflict)
	err = s.Apply(ctx, plan, graph.Lease{Scope: scope, Token: "forged"})
	wantKind(t, "Apply with a forged token", err, graph.Conflict)
	if n := count(t, `MATCH (n) WHERE n.tenant = $t AND NOT n:ScopeLock RETURN count(n) AS n`, map[string]any{"t": tenant}); n != 0 {
		t.Fatalf("nodes written without the lease: %d", n)
	}
	other2 := scope
	other2.RunID = "r"
	err = s.Apply(ctx, plan, graph.Lease{Scope: other2, Token: "x"})
	wantKind(t, "Apply with another scope's lease", err, graph.Invalid)
}

func TestApplyFaultRollsBack(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	alice, seattle := newEntity(t, "Alice", "person"), newEntity(t, "Seattle", "city")
	old := fact("Alice lives in Seattle")
	rel := relation(t, alice, "lives in", seattle, old.ID)
	mustApply(t, s, graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{alice, seattle},
		Memories:  []graph.MemoryOp{{Op: graph.OpAdd, Memory: old, Mentions: []string{alice.ID, seattle.ID}}},
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: rel}}})
	before := snapshot(t, tenant)

	var steps []string
	injected := errors.New("injected fault")
	cypher.SetApplyFault(t, func(step string) error {
		steps = append(steps, step)
		if step == "commit" {
			return injected
		}
		return nil
	})
	austin := newEntity(t, "Austin", "city")
	upd := fact("Alice lives in Austin")
	plan := graph.Plan{Scope: scope,
		Entities: []graph.EntityUpsert{{ID: alice.ID, Aliases: []string{"ally"}, Type: "Engineer"}, austin},
		Memories: []graph.MemoryOp{
			{Op: graph.OpUpdate, OldID: old.ID, Memory: upd, Mentions: []string{alice.ID, austin.ID}},
			{Op: graph.OpAdd, Memory: fact("Alice has a cat"), Mentions: []string{alice.ID}},
		},
		Relations: []graph.RelationOp{
			{Op: graph.OpUpdate, OldID: rel.ID, Relation: relation(t, alice, "lives in", austin, upd.ID)},
			{Op: graph.OpAdd, Relation: relation(t, alice, "owns", austin)},
		},
	}
	err := applyOnce(t, s, plan)
	if !errors.Is(err, injected) {
		t.Fatalf("Apply with a fault = %v, want the injected error", err)
	}
	// Every statement ran before the fault, inside the one transaction.
	want := []string{"lease", "new entities", "entities", "invalidate memories", "memories", "invalidate relations", "relations", "commit"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	if after := snapshot(t, tenant); after != before {
		t.Fatalf("rolled-back Apply left traces:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestApplyRejectsInvalidPlans(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	lease := acquire(t, s, scope)
	alice, bob := newEntity(t, "Alice", "person"), newEntity(t, "Bob", "person")
	withType := func(typ string) graph.Plan {
		r := relation(t, alice, "knows", bob)
		r.Type = typ
		return graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{alice, bob}, Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: r}}}
	}
	withLabel := func(label string) graph.Plan {
		e := alice
		e.Type = label
		return graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{e, bob}}
	}
	short := alice
	short.Embedding = short.Embedding[:3]
	tests := []struct {
		name  string
		plan  graph.Plan
		field string
	}{
		{"type not normalised", withType("knows well"), "relations[0].relation.type"},
		{"type with backtick", withType("KNOWS`]->() DETACH DELETE n //"), "relations[0].relation.type"},
		{"reserved type", withType("MENTIONS"), "relations[0].relation.type"},
		{"empty type", withType(""), "relations[0].relation.type"},
		{"label not normalised", withLabel("person"), "entities[0].type"},
		{"label with colon", withLabel("Person:Admin"), "entities[0].type"},
		{"reserved label", withLabel("Memory"), "entities[0].type"},
		{"entity vector", graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{short}}, "entities[0].embedding"},
		{"repeated entity", graph.Plan{Scope: scope, Entities: []graph.EntityUpsert{alice, alice}}, "entities[1].id"},
		{"memory text", graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: fact(" ")}}}, "memories[0].memory.text"},
		{"memory in another scope", graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: graph.OpAdd,
			Memory: func() graph.Memory { m := fact("x"); m.Scope = graph.Scope{Tenant: tenant, UserID: "v"}; return m }()}}}, "memories[0].memory.scope"},
		{"update without old id", graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: graph.OpUpdate, Memory: fact("x")}}}, "memories[0].old_id"},
		{"unknown op", graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: "MERGE", Memory: fact("x")}}}, "memories[0].op"},
		{"bad mention", graph.Plan{Scope: scope, Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: fact("x"), Mentions: []string{"alice"}}}}, "memories[0].mentions[0]"},
		{"no scope id", graph.Plan{Scope: graph.Scope{Tenant: tenant}}, "user_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Apply(ctx, tt.plan, lease)
			wantKind(t, "Apply", err, graph.Invalid)
			fields := graph.FieldsOf(err)
			if len(fields) == 0 || fields[0].Path != tt.field {
				t.Fatalf("Apply fields = %+v, want path %q", fields, tt.field)
			}
		})
	}
	if n := count(t, `MATCH (n) WHERE n.tenant = $t AND NOT n:ScopeLock RETURN count(n) AS n`, map[string]any{"t": tenant}); n != 0 {
		t.Fatalf("nodes written by invalid plans: %d", n)
	}
}

// TestApplyCannotReachOtherTenants: ids of another tenant's (or scope's)
// memories, relations and entities are not found, the whole plan fails, and
// neither side changes.
func TestApplyCannotReachOtherTenants(t *testing.T) {
	s, tenantA := newStore(t)
	tenantB := testcontainers.Tenant(t)
	a := graph.Scope{Tenant: tenantA, UserID: "same"}
	b := graph.Scope{Tenant: tenantB, UserID: "same"}
	bAlice, bSeattle := newEntity(t, "Alice", "person"), newEntity(t, "Seattle", "city")
	bMem := fact("Alice lives in Seattle")
	bRel := relation(t, bAlice, "lives in", bSeattle)
	mustApply(t, s, graph.Plan{Scope: b, Entities: []graph.EntityUpsert{bAlice, bSeattle},
		Memories:  []graph.MemoryOp{{Op: graph.OpAdd, Memory: bMem, Mentions: []string{bAlice.ID}}},
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: bRel}}})
	// The same scope ids in tenant A, and another user of tenant B.
	aAlice := newEntity(t, "Alice", "person")
	mustApply(t, s, graph.Plan{Scope: a, Entities: []graph.EntityUpsert{aAlice}})
	beforeA, beforeB := snapshot(t, tenantA), snapshot(t, tenantB)

	austin := newEntity(t, "Austin", "city")
	tests := []struct {
		name  string
		scope graph.Scope
		plan  func(graph.Scope) graph.Plan
	}{
		{"update another tenant's memory", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Entities: []graph.EntityUpsert{austin},
				Memories: []graph.MemoryOp{{Op: graph.OpUpdate, OldID: bMem.ID, Memory: fact("Alice lives in Austin")}}}
		}},
		{"delete another tenant's memory", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Memories: []graph.MemoryOp{{Op: graph.OpDelete, OldID: bMem.ID}}}
		}},
		{"update another tenant's relation", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Entities: []graph.EntityUpsert{austin},
				Relations: []graph.RelationOp{{Op: graph.OpUpdate, OldID: bRel.ID, Relation: relation(t, aAlice, "lives in", austin)}}}
		}},
		{"delete another tenant's relation", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Relations: []graph.RelationOp{{Op: graph.OpDelete, OldID: bRel.ID}}}
		}},
		{"mention another tenant's entity", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Memories: []graph.MemoryOp{{Op: graph.OpAdd, Memory: fact("x"), Mentions: []string{aAlice.ID, bAlice.ID}}}}
		}},
		{"relate to another tenant's entity", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: relation(t, aAlice, "knows", bAlice)}}}
		}},
		{"touch another tenant's entity", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Entities: []graph.EntityUpsert{{ID: bAlice.ID, Aliases: []string{"x"}}}}
		}},
		{"update another user's memory", graph.Scope{Tenant: tenantB, UserID: "other"}, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Memories: []graph.MemoryOp{{Op: graph.OpUpdate, OldID: bMem.ID, Memory: fact("y")}}}
		}},
		{"duplicate entity key", a, func(sc graph.Scope) graph.Plan {
			return graph.Plan{Scope: sc, Entities: []graph.EntityUpsert{newEntity(t, "alice.", "person")}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := applyOnce(t, s, tt.plan(tt.scope))
			wantKind(t, "Apply", err, graph.Conflict)
		})
	}
	if after := snapshot(t, tenantA); after != beforeA {
		t.Fatalf("tenant A changed:\nbefore:\n%s\nafter:\n%s", beforeA, after)
	}
	if after := snapshot(t, tenantB); after != beforeB {
		t.Fatalf("tenant B changed:\nbefore:\n%s\nafter:\n%s", beforeB, after)
	}
}
