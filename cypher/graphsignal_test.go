package cypher_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// mentioning is an ADD of a new memory that mentions the given entities.
func mentioning(text string, entities ...graph.EntityUpsert) graph.MemoryOp {
	op := graph.MemoryOp{Op: graph.OpAdd, Memory: fact(text)}
	for _, e := range entities {
		op.Mentions = append(op.Mentions, e.ID)
	}
	return op
}

// hitOf returns the hit of the memory with the given text, or nil.
func hitOf(res graph.SearchResponse, text string) *graph.Hit {
	for i := range res.Results {
		if res.Results[i].Text == text {
			return &res.Results[i]
		}
	}
	return nil
}

// checkContributions checks that every hit's signal contributions sum to
// its score and that scores are in (0, 1].
func checkContributions(t *testing.T, res graph.SearchResponse) {
	t.Helper()
	for _, h := range res.Results {
		ex := h.Explain
		sum := ex.VectorContribution + ex.TextContribution + ex.GraphContribution
		if math.Abs(sum-h.Score) > 1e-9 || h.Score <= 0 || h.Score > 1 {
			t.Errorf("%q: score %v, contributions %v + %v + %v = %v", h.Text, h.Score,
				ex.VectorContribution, ex.TextContribution, ex.GraphContribution, sum)
		}
		// A ranking with weight 0 may still rank a hit, without a part in
		// its score.
		if ex.GraphContribution > 0 && ex.GraphRank == 0 || ex.VectorContribution > 0 && ex.VectorRank == 0 ||
			ex.TextContribution > 0 && ex.TextRank == 0 {
			t.Errorf("%q: a contribution without a rank: %+v", h.Text, ex)
		}
	}
}

func TestSearchGraphNamedEntity(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	zorblax := newEntity(t, "Zorblax", "company")
	const target = "the quarterly budget was approved"
	ops := []graph.MemoryOp{mentioning(target, zorblax)}
	for i := range 8 {
		ops = append(ops, mentioning(fmt.Sprintf("weather forecast for day %d", i)))
	}
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Entities: []graph.EntityUpsert{zorblax}, Memories: ops})

	// The target shares no word with the query and is the least similar
	// memory to its vector: only the entity it mentions brings it up.
	q := graph.SearchRequest{Scope: scope, Query: "Zorblax", Vector: embedder.Vector("weather forecast"), TopK: 3}
	res := search(t, s, q)
	checkContributions(t, res)
	h := hitOf(res, target)
	if h == nil {
		t.Fatalf("default weights: %q, want %q among them", texts(res), target)
	}
	if h.Explain.GraphRank != 1 || h.Explain.GraphContribution <= 0 || h.Explain.TextRank != 0 || h.Explain.GraphScore != 1 {
		t.Fatalf("explanation of the graph hit = %+v", h.Explain)
	}
	// Without the graph signal the target is cut.
	q.VectorWeight, q.TextWeight, q.GraphWeight = 1, 1, 0
	res = search(t, s, q)
	checkContributions(t, res)
	if hitOf(res, target) != nil || len(res.Results) != 3 {
		t.Fatalf("GraphWeight 0: %q, want 3 hits without %q", texts(res), target)
	}
	for _, h := range res.Results {
		if h.Explain.GraphRank != 0 || h.Explain.GraphScore != 0 || h.Explain.GraphContribution != 0 {
			t.Fatalf("GraphWeight 0 gave a graph rank: %+v", h.Explain)
		}
	}
	// The graph signal alone: the target is first with score 1.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "Zorblax", Vector: embedder.Vector("weather forecast"), TopK: 3, GraphWeight: 1})
	checkContributions(t, res)
	if len(res.Results) != 1 || res.Results[0].Text != target || res.Results[0].Score != 1 {
		t.Fatalf("graph only: %+v", res.Results)
	}

	// A query that names the entity only by embedding ("zorblaxes" is not
	// the indexed word "zorblax"): its strength is the cosine similarity.
	v := embedder.Vector("zorblaxes")
	want := cosine(v, zorblax.Embedding)
	if want < 0.5 {
		t.Fatalf("cosine(zorblaxes, Zorblax) = %v, below the entity floor: the test needs another pair", want)
	}
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "zorblaxes", Vector: v, TopK: 10})
	checkContributions(t, res)
	h = hitOf(res, target)
	if h == nil || h.Explain.GraphRank != 1 || math.Abs(h.Explain.GraphScore-want) > 1e-4 || h.Explain.TextRank != 0 {
		t.Fatalf("entity named by embedding: %+v, want graph rank 1 with score %v", h, want)
	}
	// An unrelated query names no entity (below the similarity floor).
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "tomorrow", Vector: embedder.Vector("tomorrow"), TopK: 10})
	for _, h := range res.Results {
		if h.Explain.GraphRank != 0 {
			t.Fatalf("unrelated query gave %q a graph rank: %+v", h.Text, h.Explain)
		}
	}
}

// TestSearchGraphEntityIndex: past the exact-scan limit the entities the
// query names by embedding come from the entity vector index (index-wide
// on 5.26, SEARCH inside the scope on 2026).
func TestSearchGraphEntityIndex(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.Policy.ExactMax = 2 })
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	// Rotated vectors share no neighbourhood with the other tests' entities
	// in the shared index.
	ro := newRotation(dims)
	var ents []graph.EntityUpsert
	for _, name := range []string{"Zorblax", "Alpha", "Beta", "Gamma"} {
		e := newEntity(t, name, "company")
		e.Embedding = ro.apply(e.Embedding)
		ents = append(ents, e)
	}
	const target = "the quarterly budget was approved"
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Entities: ents,
		Memories: []graph.MemoryOp{mentioning(target, ents[0]), mentioning("alpha beta gamma", ents[1:]...), mentioning("weather forecast")}})
	v := ro.apply(embedder.Vector("zorblaxes"))
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "zorblaxes", Vector: v, TopK: 5})
	checkContributions(t, res)
	want := cosine(v, ents[0].Embedding)
	if h := hitOf(res, target); h == nil || h.Explain.GraphRank != 1 || math.Abs(h.Explain.GraphScore-want) > 1e-4 {
		t.Fatalf("entity named by embedding through the index: %+v, want graph rank 1 with score %v", h, want)
	}
}

func TestSearchGraphOneHop(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	zorblax := newEntity(t, "Zorblax", "company")
	quibbleton := newEntity(t, "Quibbleton", "city")
	frobnitz := newEntity(t, "Frobnitz", "company")
	gadgetron := newEntity(t, "Gadgetron", "company")
	old := relation(t, gadgetron, "located_in", quibbleton)
	const (
		top    = "weather forecast for quibbleton"
		hop    = "the gadget shipment arrived late"
		direct = "the quarterly budget was approved"
		stale  = "the invoice was paid twice"
	)
	// Nine memories more similar to the query than hop, direct and stale,
	// so that with top the first ten of the vector ranking (the hop's
	// seeds) are these.
	ops := []graph.MemoryOp{mentioning(top, quibbleton), mentioning(hop, frobnitz), mentioning(direct, zorblax), mentioning(stale, gadgetron)}
	for i := range 9 {
		ops = append(ops, mentioning(fmt.Sprintf("weather forecast for day %d", i)))
	}
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().Add(-time.Minute).UTC(),
		Entities:  []graph.EntityUpsert{zorblax, quibbleton, frobnitz, gadgetron},
		Memories:  ops,
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: relation(t, frobnitz, "located_in", quibbleton)}, {Op: graph.OpAdd, Relation: old}},
	})
	// Gadgetron's relation is invalidated: the hop no longer follows it.
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Relations: []graph.RelationOp{{Op: graph.OpDelete, OldID: old.ID}}})

	q := graph.SearchRequest{Scope: scope, Query: "Zorblax weather forecast", TopK: 20}
	res := search(t, s, q)
	checkContributions(t, res)
	d, h, st, tp := hitOf(res, direct), hitOf(res, hop), hitOf(res, stale), hitOf(res, top)
	if d == nil || h == nil || st == nil || tp == nil {
		t.Fatalf("hits %q, want all memories", texts(res))
	}
	if tp.Explain.VectorRank > 10 || h.Explain.VectorRank <= 10 || h.Explain.TextRank != 0 {
		t.Fatalf("setup: %q has vector rank %d, %q has vector rank %d and text rank %d", top, tp.Explain.VectorRank,
			hop, h.Explain.VectorRank, h.Explain.TextRank)
	}
	if d.Explain.GraphRank != 1 || h.Explain.GraphRank != 2 || h.Explain.GraphScore >= d.Explain.GraphScore || h.Explain.GraphScore <= 0 {
		t.Fatalf("graph of the direct match %+v, of the one-hop match %+v: want ranks 1 and 2, a lower score for the hop",
			d.Explain, h.Explain)
	}
	if st.Explain.GraphRank != 0 {
		t.Fatalf("an invalidated relation was followed: %+v", st.Explain)
	}
	if h.Score <= hitOf(search(t, s, graph.SearchRequest{Scope: scope, Query: q.Query, TopK: 20, VectorWeight: 1, TextWeight: 1}), hop).Score {
		t.Fatalf("the graph rank did not raise %q", hop)
	}
	// With history, the invalidated relation counts again.
	q.IncludeInvalid = true
	res = search(t, s, q)
	if st = hitOf(res, stale); st == nil || st.Explain.GraphRank == 0 {
		t.Fatalf("with history, %q has no graph rank: %+v", stale, st)
	}
}

func TestSearchGraphTenantIsolation(t *testing.T) {
	s, tenantA := newStore(t)
	tenantB := testcontainers.Tenant(t)
	mine := graph.Scope{Tenant: tenantA, UserID: "u"}
	const secret = "the quarterly budget was approved"
	// The same entity name (and embedding) in another user's scope of the
	// tenant and in another tenant's scope of the same user id.
	for _, other := range []graph.Scope{{Tenant: tenantA, UserID: "v"}, {Tenant: tenantB, UserID: "u"}} {
		z, y := newEntity(t, "Zorblax", "company"), newEntity(t, "Frobnitz", "company")
		mustApply(t, s, graph.Plan{Scope: other, At: time.Now().UTC(), Entities: []graph.EntityUpsert{z, y},
			Memories:  []graph.MemoryOp{mentioning(secret, z), mentioning("zorblax weather forecast", y)},
			Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: relation(t, z, "owns", y)}}})
	}
	mustCreate(t, s, mem(mine, "weather forecast for monday"), mem(mine, "zorblax weather forecast tuesday"))
	res := search(t, s, graph.SearchRequest{Scope: mine, Query: "Zorblax", Vector: embedder.Vector("Zorblax"), TopK: 10})
	if len(res.Results) != 2 || len(res.Relations) != 0 {
		t.Fatalf("hits %q, relations %+v: want my 2 memories and no relations", texts(res), res.Relations)
	}
	for _, h := range res.Results {
		if h.Scope != mine || h.Explain.GraphRank != 0 {
			t.Fatalf("hit %q of scope %+v, graph rank %d", h.Text, h.Scope, h.Explain.GraphRank)
		}
	}
	// The other tenant's search finds its own through the graph.
	res = search(t, s, graph.SearchRequest{Scope: graph.Scope{Tenant: tenantB, UserID: "u"}, Query: "Zorblax", Vector: embedder.Vector("Zorblax"), TopK: 10})
	if h := hitOf(res, secret); h == nil || h.Explain.GraphRank != 1 || h.Scope.Tenant != tenantB {
		t.Fatalf("tenant B: %+v", res.Results)
	}
}

func TestSearchGraphBoundsMentions(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	zorblax := newEntity(t, "Zorblax", "company")
	var ops []graph.MemoryOp
	for i := range cypher.GraphPerEntity + 10 {
		ops = append(ops, mentioning(fmt.Sprintf("budget note %d", i), zorblax))
	}
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Entities: []graph.EntityUpsert{zorblax}, Memories: ops})
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "Zorblax", TopK: graph.MaxTopK})
	checkContributions(t, res)
	var ranked []int
	for _, h := range res.Results {
		if h.Explain.GraphRank > 0 {
			ranked = append(ranked, h.Explain.GraphRank)
		}
	}
	slices.Sort(ranked)
	if len(res.Results) != len(ops) || len(ranked) != cypher.GraphPerEntity || ranked[len(ranked)-1] != cypher.GraphPerEntity {
		t.Fatalf("%d hits, %d with a graph rank (last %v): want %d hits, %d ranked by the graph",
			len(res.Results), len(ranked), ranked, len(ops), cypher.GraphPerEntity)
	}
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "Zorblax", TopK: 5})
	if len(res.Results) != 5 {
		t.Fatalf("top 5: %d hits", len(res.Results))
	}
}

func TestSearchGraphWeightValidation(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	_, err := s.Search(context.Background(), graph.SearchRequest{Scope: scope, Query: "x", Vector: embedder.Vector("x"), GraphWeight: -1})
	if graph.KindOf(err) != graph.Invalid || !slices.ContainsFunc(graph.FieldsOf(err), func(f graph.FieldError) bool { return f.Path == "weights" }) {
		t.Fatalf("GraphWeight -1: %v, want Invalid at weights", err)
	}
}

// TestSearchGraphSpecificity: an entity most of the scope's memories
// mention (like the user) weighs less in the graph ranking than one a single
// memory mentions, and the memories of one entity are ranked by their
// similarity to the query, not arbitrarily.
func TestSearchGraphSpecificity(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	common := newEntity(t, "Zorblax", "person")
	rare := newEntity(t, "Quiggle", "pet")
	// Six adds mention the common entity (one memory each), one the rare.
	stored := []string{"went hiking in the alps", "bought new hiking boots", "cooked pasta for dinner",
		"read a novel about sailing", "painted the fence blue", "fixed the bicycle chain"}
	for i, text := range stored {
		ents := []graph.EntityUpsert{common}
		if i > 0 {
			ents[0].New = false
		}
		mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Entities: ents, Memories: []graph.MemoryOp{mentioning(text, common)}})
	}
	const rareText = "the vet appointment is on friday"
	mustApply(t, s, graph.Plan{Scope: scope, At: time.Now().UTC(), Entities: []graph.EntityUpsert{rare}, Memories: []graph.MemoryOp{mentioning(rareText, rare)}})

	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "Zorblax Quiggle", Vector: embedder.Vector("hiking boots"), TopK: 10,
		GraphWeight: 1})
	checkContributions(t, res)
	if len(res.Results) != 7 || res.Results[0].Text != rareText {
		t.Fatalf("graph ranking %q, want %q first", texts(res), rareText)
	}
	first := res.Results[0].Explain.GraphScore
	for _, h := range res.Results[1:] {
		if h.Explain.GraphScore >= first || h.Explain.GraphScore <= 0 {
			t.Errorf("%q: graph score %v, want below the rare entity's %v", h.Text, h.Explain.GraphScore, first)
		}
	}
	// The common entity's memories tie on the graph score and come by
	// similarity to the query's vector ("hiking boots").
	if res.Results[1].Text != "bought new hiking boots" || res.Results[2].Text != "went hiking in the alps" {
		t.Errorf("ties not ordered by similarity: %q", texts(res))
	}
}
