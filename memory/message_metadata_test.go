package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/memory"
)

// TestPerMessageMetadata: an infer=false add stores each message's own
// metadata over the request's on the memory it becomes, so a session is one
// request; an add with infer, or a bad key, refuses it.
func TestPerMessageMetadata(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ctx := context.Background()
	res, err := e.engine.Add(ctx, graph.AddRequest{Scope: e.scope, Metadata: map[string]any{"session": "s1", "turn": int64(0)},
		Messages: []graph.Message{
			{Role: "user", Content: "I moved to Lisbon", Metadata: map[string]any{"turn": int64(1), "date": "2023-05-01"}},
			{Role: "assistant", Content: "Congratulations on the move"},
			{Role: "user", Content: "I adopted a cat", Metadata: map[string]any{"turn": int64(3)}},
		}})
	if err != nil || len(res.Results) != 3 {
		t.Fatalf("Add = %+v, %v", res, err)
	}
	want := map[string]map[string]any{
		"I moved to Lisbon":           {"session": "s1", "turn": 1.0, "date": "2023-05-01"},
		"Congratulations on the move": {"session": "s1", "turn": 0.0},
		"I adopted a cat":             {"session": "s1", "turn": 3.0},
	}
	for _, r := range res.Results {
		m, err := e.store.GetMemory(ctx, e.scope, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[m.Text], m.Metadata); diff != "" {
			t.Errorf("metadata of %q (-want +got):\n%s", m.Text, diff)
		}
	}
	// They list in the order of the messages (they share a creation time;
	// ids increase).
	all, err := e.store.ListMemories(ctx, e.scope, graph.ListQuery{})
	if err != nil || len(all.Items) != 3 || all.Items[0].Text != "I moved to Lisbon" || all.Items[2].Text != "I adopted a cat" {
		t.Fatalf("list = %+v, %v, want the messages' order", all.Items, err)
	}
	// The memories of one turn are found by their own metadata.
	f, err := graph.ParseFilter(map[string]any{"turn": 3.0})
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.store.ListMemories(ctx, e.scope, graph.ListQuery{Filter: f})
	if err != nil || len(page.Items) != 1 || page.Items[0].Text != "I adopted a cat" {
		t.Fatalf("list by a message's metadata = %+v, %v", page.Items, err)
	}

	for name, req := range map[string]graph.AddRequest{
		"with infer": {Scope: e.scope, Infer: true, Messages: []graph.Message{{Role: "user", Content: "x", Metadata: map[string]any{"turn": 1}}}},
		"bad key":    {Scope: e.scope, Messages: []graph.Message{{Role: "user", Content: "x", Metadata: map[string]any{"": 1}}}},
	} {
		_, err := e.engine.Add(ctx, req)
		fields := graph.FieldsOf(err)
		if !errors.Is(err, graph.Invalid) || len(fields) == 0 || fields[0].Path[:len("messages[0].metadata")] != "messages[0].metadata" {
			t.Errorf("%s: Add = %v, want Invalid at messages[0].metadata", name, err)
		}
	}
}
