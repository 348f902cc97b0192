package memory_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
)

// TestAddAtSaidTime: an add's At (Mem0's timestamp) dates the memories it
// creates, raw or extracted, and is the "today" the model resolves
// relative dates from; the relations it adds date from it too. An update
// happens when it is written, even in a dated add, and the history's events
// keep the time they were written. A search that names that day then ranks
// the memory by time.
func TestAddAtSaidTime(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ctx := context.Background()
	said := time.Date(2023, 5, 8, 13, 56, 0, 0, time.UTC)

	raw, err := e.engine.Add(ctx, graph.AddRequest{Scope: e.scope, At: &said,
		Messages: []graph.Message{{Role: "user", Content: "we hiked in Sintra"}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.store.GetMemory(ctx, e.scope, raw.Results[0].ID)
	if err != nil || !m.CreatedAt.Equal(said) || !m.ValidFrom.Equal(said) || !m.UpdatedAt.Equal(said) {
		t.Fatalf("raw memory times = %v / %v / %v, %v; want %v", m.CreatedAt, m.ValidFrom, m.UpdatedAt, err, said)
	}
	written := func(id string) time.Time {
		t.Helper()
		hist, err := e.store.History(ctx, e.scope, id)
		if err != nil || len(hist) == 0 {
			t.Fatalf("history of %s: %+v, %v", id, hist, err)
		}
		return hist[0].At
	}
	if at := written(m.ID); time.Since(at) > time.Minute {
		t.Fatalf("the ADD event of a dated memory is dated %v, want the time of the write", at)
	}

	// Nothing stored is close to the fact: one call, no decision.
	e.model.Then(extraction([]fact{{Text: "alice likes cheese pizza", Entities: []string{"alice", "cheese pizza"}}},
		[]ent{{Name: "alice", Type: "person"}, {Name: "cheese pizza", Type: "food"}},
		[]rel{{Source: "alice", Relationship: "likes", Target: "cheese pizza"}}, ""))
	res, err := e.engine.Add(ctx, graph.AddRequest{Scope: e.scope, Infer: true, At: &said,
		Messages: []graph.Message{{Role: "user", Content: "I like cheese pizza."}}})
	if err != nil {
		t.Fatal(err)
	}
	if prompt := e.model.Requests()[0].Messages[0].Content + e.model.Requests()[0].Messages[1].Content; !strings.Contains(prompt, "2023-05-08") {
		t.Fatalf("the extraction prompt does not date the conversation 2023-05-08:\n%s", prompt)
	}
	got, err := e.store.GetMemory(ctx, e.scope, res.Results[0].ID)
	if err != nil || !got.CreatedAt.Equal(said) || !got.ValidFrom.Equal(said) {
		t.Fatalf("extracted fact times = %v / %v, %v; want %v", got.CreatedAt, got.ValidFrom, err, said)
	}
	if at := written(got.ID); time.Since(at) > time.Minute {
		t.Fatalf("the ADD event of a dated fact is dated %v, want the time of the write", at)
	}
	rels, err := e.store.Relations(ctx, e.scope, graph.RelationQuery{})
	if err != nil || len(rels) != 1 || !rels[0].ValidFrom.Equal(said) || !rels[0].CreatedAt.Equal(said) {
		t.Fatalf("relations of the dated add: %+v, %v; want one valid from %v", rels, err, said)
	}

	// A dated add that updates: the new version dates from the write.
	before := time.Now().UTC().Add(-time.Minute)
	later := said.Add(time.Hour)
	e.model.Then(extraction([]fact{{Text: "alice likes cheese and pepperoni pizza"}}, nil, nil, ""))
	e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice likes cheese and pepperoni pizza", "fact": "F1"})))
	upd, err := e.engine.Add(ctx, graph.AddRequest{Scope: e.scope, Infer: true, At: &later,
		Messages: []graph.Message{{Role: "user", Content: "Actually I like pepperoni too."}}})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := e.store.GetMemory(ctx, e.scope, upd.Results[0].ID)
	if err != nil || upd.Results[0].Event != graph.EventUpdate || newer.CreatedAt.Before(before) {
		t.Fatalf("update in a dated add: %+v, created %v, %v; want now", upd.Results, newer.CreatedAt, err)
	}

	hits, err := e.engine.Search(ctx, graph.SearchRequest{Scope: e.scope, Query: "where did we go on May 8th, 2023", Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	var ranked []string
	for _, h := range hits.Results {
		if h.Explain.TimeRank > 0 {
			ranked = append(ranked, h.Text)
		}
	}
	if len(ranked) != 1 || ranked[0] != "we hiked in Sintra" {
		t.Fatalf("memories ranked by the named day: %q; want the raw memory of 8 May only (the fact of that day was superseded)", ranked)
	}
}

// TestAddAtOutOfRange: an add dated before 1970 or more than a day in the
// future is Invalid at "timestamp", in Add and Enqueue alike.
func TestAddAtOutOfRange(t *testing.T) {
	e := newEnv(t, memory.Config{})
	for _, at := range []time.Time{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), time.Now().Add(25 * time.Hour),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		req := graph.AddRequest{Scope: e.scope, At: &at, Messages: []graph.Message{{Role: "user", Content: "x"}}}
		_, err := e.engine.Add(context.Background(), req)
		_, qerr := e.engine.Enqueue(context.Background(), req)
		for _, err := range []error{err, qerr} {
			if graph.KindOf(err) != graph.Invalid || !slices.ContainsFunc(graph.FieldsOf(err), func(f graph.FieldError) bool { return f.Path == "timestamp" }) {
				t.Errorf("add at %v: %v, want Invalid at timestamp", at, err)
			}
		}
	}
}
