package cypher_test

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// similarity is Neo4j's vector.similarity.cosine: (1 + cos) / 2.
func similarity(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return (1 + dot/math.Sqrt(na*nb)) / 2
}

type scored struct {
	id    string
	score float64
}

// topK is the reference answer: the k best of pool by similarity to v with
// at least min, best first.
func topK(pool map[string][]float32, v []float32, k int, floor float64) []scored {
	var out []scored
	for id, w := range pool {
		if sc := similarity(v, w); sc >= floor {
			out = append(out, scored{id, sc})
		}
	}
	slices.SortFunc(out, func(a, b scored) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id)) })
	return out[:min(k, len(out))]
}

func sameScores(t *testing.T, what string, want, got []scored) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want {
		if want[i].id != got[i].id || math.Abs(want[i].score-got[i].score) > 1e-4 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func TestCandidatesMemories(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	factMem := func(sc graph.Scope, text string) graph.Memory {
		m := mem(sc, text)
		m.Kind = graph.KindFact
		return m
	}
	texts := []string{
		"Alice likes cheese pizza", "Alice likes pepperoni pizza", "Alice loves pizza with cheese",
		"Bob plays tennis on Sundays", "The weather in Seattle is rainy", "Alice likes cheese pizza too",
	}
	var batch []graph.Memory
	for _, text := range texts {
		batch = append(batch, factMem(scope, text))
	}
	past := time.Now().Add(-time.Hour)
	invalid := factMem(scope, "Alice likes cheese pizza a lot")
	invalid.InvalidAt = &past
	expired := factMem(scope, "Alice likes cheese pizza!")
	expired.ExpiresAt = &past
	hidden := []graph.Memory{
		invalid, expired,
		factMem(graph.Scope{Tenant: tenant, UserID: "bob"}, "Alice likes cheese pizza"),
		// The add pipeline works on its exact scope: a memory of the same
		// user under an agent is another scope's, and raw messages are not
		// facts the decision may change.
		factMem(graph.Scope{Tenant: tenant, UserID: "alice", AgentID: "helper"}, "Alice likes cheese pizza too"),
		mem(scope, "Alice likes cheese pizza (raw)"),
		factMem(graph.Scope{Tenant: testcontainers.Tenant(t), UserID: "alice"}, "Alice likes cheese pizza"),
	}
	created := mustCreate(t, s, append(batch, hidden...)...)
	pool := map[string][]float32{}
	for _, m := range created[:len(batch)] {
		pool[m.ID] = m.Embedding
	}
	hiddenIDs := map[string]bool{}
	for _, m := range created[len(batch):] {
		hiddenIDs[m.ID] = true
	}

	v0, v1 := embedder.Vector("Alice likes cheese pizza"), embedder.Vector("pepperoni pizza")
	// Merged: each vector's top 2, each memory once with its best score.
	best := map[string]float64{}
	for _, v := range [][]float32{v0, v1} {
		for _, x := range topK(pool, v, 2, 0) {
			best[x.id] = max(best[x.id], x.score)
		}
	}
	var want []scored
	for id, sc := range best {
		want = append(want, scored{id, sc})
	}
	slices.SortFunc(want, func(a, b scored) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id)) })

	c, err := s.Candidates(ctx, graph.CandidateQuery{Scope: scope, FactVectors: [][]float32{v0, v1}, MemoryLimit: 2})
	if err != nil {
		t.Fatalf("Candidates: %v", err)
	}
	var got []scored
	for _, m := range c.Memories {
		if hiddenIDs[m.ID] {
			t.Fatalf("Candidates returned hidden memory %q (%+v)", m.Text, m.Scope)
		}
		if m.Kind != graph.KindFact || m.Text == "" || m.Scope.Tenant != tenant || m.Scope.UserID != "alice" {
			t.Fatalf("candidate memory = %+v", m.Memory)
		}
		got = append(got, scored{m.ID, m.Score})
	}
	sameScores(t, "merged memories", want, got)
	if len(want) < 3 {
		t.Fatalf("test data too uniform: merged top-2 lists have only %d memories", len(want))
	}

	// The threshold: halfway between the second and third best of v0.
	ranked := topK(pool, v0, 10, 0)
	threshold := (ranked[1].score + ranked[2].score) / 2
	c, err = s.Candidates(ctx, graph.CandidateQuery{Scope: scope, FactVectors: [][]float32{v0}, MemoryLimit: 10, MemoryMinScore: threshold})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, m := range c.Memories {
		got = append(got, scored{m.ID, m.Score})
	}
	sameScores(t, "thresholded memories", ranked[:2], got)

	// Nothing asked, nothing returned; one row always comes back.
	c, err = s.Candidates(ctx, graph.CandidateQuery{Scope: scope})
	if err != nil || len(c.Memories) != 0 || len(c.Entities) != 0 || len(c.Relations) != 0 {
		t.Fatalf("empty query = %+v, %v", c, err)
	}
}

func TestCandidatesEntitiesAndRelations(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	alice := newEntity(t, "Alice", "person")
	alice.IsUser, alice.Aliases = true, []string{"ally"}
	alicia, google, seattle := newEntity(t, "Alicia", "person"), newEntity(t, "Google", "organization"), newEntity(t, "Seattle", "city")
	dave, erin := newEntity(t, "Dave", "person"), newEntity(t, "Erin", "person")
	all := []graph.EntityUpsert{alice, alicia, google, seattle, dave, erin}
	worksAt := relation(t, alice, "works at", google)
	livesIn := relation(t, alice, "lives in", seattle)
	knows := relation(t, dave, "knows", erin)
	locatedIn := relation(t, google, "located in", seattle)
	rels := []graph.Relation{worksAt, livesIn, knows, locatedIn}
	var ops []graph.RelationOp
	for _, r := range rels {
		ops = append(ops, graph.RelationOp{Op: graph.OpAdd, Relation: r})
	}
	mustApply(t, s, graph.Plan{Scope: scope, Entities: all, Relations: ops})
	mustApply(t, s, graph.Plan{Scope: scope, Relations: []graph.RelationOp{{Op: graph.OpDelete, OldID: livesIn.ID}}})
	// The same names elsewhere: another user of the tenant, another tenant.
	for _, other := range []graph.Scope{{Tenant: tenant, UserID: "bob"}, {Tenant: testcontainers.Tenant(t), UserID: "alice"}} {
		a, g := newEntity(t, "Alice", "person"), newEntity(t, "Google", "organization")
		a.Aliases = []string{"ally"}
		mustApply(t, s, graph.Plan{Scope: other, Entities: []graph.EntityUpsert{a, g},
			Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: relation(t, a, "works at", g)}}})
	}

	pool := map[string][]float32{}
	names := map[string]string{}
	for _, e := range all {
		pool[e.ID] = e.Embedding
		names[e.ID] = e.Name
	}
	without := func(id string) map[string][]float32 {
		out := map[string][]float32{}
		for k, v := range pool {
			if k != id {
				out[k] = v
			}
		}
		return out
	}
	q := graph.CandidateQuery{
		Scope: scope,
		Entities: []graph.EntityProbe{
			{Keys: []string{"ally"}, Vector: embedder.Vector("Alice")},
			{Keys: []string{"", "google"}},
			{Keys: []string{"nobody"}, Vector: embedder.Vector("Seattle")},
		},
		EntityLimit: 2,
	}
	c, err := s.Candidates(ctx, q)
	if err != nil {
		t.Fatalf("Candidates: %v", err)
	}
	if len(c.Entities) != 3 {
		t.Fatalf("Candidates returned %d entity lists, want 3", len(c.Entities))
	}
	type match struct {
		ID    string
		Score float64
		Exact bool
	}
	view := func(list []graph.ScoredEntity) []match {
		var out []match
		for _, e := range list {
			if e.Scope != scope {
				t.Fatalf("entity %q of scope %+v returned", e.Name, e.Scope)
			}
			out = append(out, match{e.ID, math.Round(e.Score*1e4) / 1e4, e.Exact})
		}
		return out
	}
	expect := func(exact []string, similar []scored) []match {
		var out []match
		for _, id := range exact {
			out = append(out, match{id, 1, true})
		}
		for _, x := range similar {
			out = append(out, match{x.id, math.Round(x.score*1e4) / 1e4, false})
		}
		return out
	}
	tests := []struct {
		name string
		want []match
	}{
		{"alias then vector, never twice", expect([]string{alice.ID}, topK(without(alice.ID), embedder.Vector("Alice"), 2, 0))},
		{"key only", expect([]string{google.ID}, nil)},
		{"vector only", expect(nil, topK(pool, embedder.Vector("Seattle"), 2, 0))},
	}
	for i, tt := range tests {
		if diff := gocmp.Diff(tt.want, view(c.Entities[i])); diff != "" {
			t.Errorf("probe %d (%s) (-want +got):\n%s", i, tt.name, diff)
		}
	}
	if c.Entities[2][0].ID != seattle.ID || c.Entities[0][0].Name != "Alice" || !c.Entities[0][0].IsUser ||
		!slices.Equal(c.Entities[0][0].Aliases, []string{"ally"}) || c.Entities[0][0].Type != "Person" {
		t.Fatalf("entity details: %+v / %+v", c.Entities[0][0], c.Entities[2][0])
	}

	// Relations: the current ones touching any found entity, most recently
	// updated first (one add wrote them all, so by id, descending).
	found := map[string]bool{}
	for _, list := range c.Entities {
		for _, e := range list {
			found[e.ID] = true
		}
	}
	byID := slices.Clone(rels)
	slices.SortFunc(byID, func(a, b graph.Relation) int { return cmp.Compare(b.ID, a.ID) })
	var wantRels []string
	for _, r := range byID {
		if r.ID != livesIn.ID && (found[r.SourceID] || found[r.TargetID]) {
			wantRels = append(wantRels, names[r.SourceID]+" "+r.Type+" "+names[r.TargetID])
		}
	}
	var gotRels []string
	for _, r := range c.Relations {
		if r.Scope != scope || r.InvalidAt != nil || r.ID == "" || r.SourceID == "" || r.TargetID == "" {
			t.Fatalf("candidate relation = %+v", r)
		}
		gotRels = append(gotRels, r.Source+" "+r.Type+" "+r.Target)
	}
	if diff := gocmp.Diff(wantRels, gotRels); diff != "" {
		t.Fatalf("relations (-want +got):\n%s", diff)
	}
	if !slices.Contains(gotRels, "Alice WORKS_AT Google") || slices.Contains(gotRels, "Alice LIVES_IN Seattle") {
		t.Fatalf("relations %q: want WORKS_AT and not the invalidated LIVES_IN", gotRels)
	}

	// A key-only probe of Dave finds KNOWS; the relation limit keeps the
	// newest; a high threshold keeps only the exact vector match.
	q = graph.CandidateQuery{Scope: scope, Entities: []graph.EntityProbe{{Keys: []string{"dave"}}}, RelationLimit: 1}
	c, err = s.Candidates(ctx, q)
	if err != nil || len(c.Relations) != 1 || c.Relations[0].Type != "KNOWS" {
		t.Fatalf("Candidates for Dave = %+v, %v", c.Relations, err)
	}
	q = graph.CandidateQuery{Scope: scope, Entities: []graph.EntityProbe{{Vector: embedder.Vector("Seattle")}}, EntityMinScore: 0.999}
	c, err = s.Candidates(ctx, q)
	if err != nil || len(c.Entities[0]) != 1 || c.Entities[0][0].ID != seattle.ID || c.Entities[0][0].Exact {
		t.Fatalf("Candidates for Seattle above 0.999 = %+v, %v", c.Entities, err)
	}
	q = graph.CandidateQuery{Scope: graph.Scope{Tenant: tenant, UserID: "carol"}, Entities: []graph.EntityProbe{{Keys: []string{"alice", "ally"}, Vector: embedder.Vector("Alice")}}}
	c, err = s.Candidates(ctx, q)
	if err != nil || len(c.Entities[0]) != 0 || len(c.Relations) != 0 {
		t.Fatalf("Candidates in an empty scope = %+v, %v", c, err)
	}
}

func TestCandidatesValidation(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	v := embedder.Vector("x")
	tests := []struct {
		name  string
		q     graph.CandidateQuery
		field string
	}{
		{"no scope id", graph.CandidateQuery{Scope: graph.Scope{Tenant: tenant}}, "user_id"},
		{"fact vector dimension", graph.CandidateQuery{Scope: scope, FactVectors: [][]float32{v, v[:5]}}, "fact_vectors[1]"},
		{"probe vector dimension", graph.CandidateQuery{Scope: scope, Entities: []graph.EntityProbe{{Vector: v[:5]}}}, "entities[0].vector"},
		{"negative limit", graph.CandidateQuery{Scope: scope, MemoryLimit: -1}, "memory_limit"},
		{"huge limit", graph.CandidateQuery{Scope: scope, RelationLimit: 1 << 20}, "relation_limit"},
		{"score above 1", graph.CandidateQuery{Scope: scope, EntityMinScore: 1.5}, "entity_min_score"},
		{"NaN score", graph.CandidateQuery{Scope: scope, MemoryMinScore: math.NaN()}, "memory_min_score"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Candidates(context.Background(), tt.q)
			wantKind(t, "Candidates", err, graph.Invalid)
			if fields := graph.FieldsOf(err); len(fields) == 0 || fields[0].Path != tt.field {
				t.Fatalf("Candidates fields = %+v, want path %q", fields, tt.field)
			}
		})
	}
}
