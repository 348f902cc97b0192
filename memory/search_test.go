package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
)

func TestSearchAfterAdds(t *testing.T) {
	e := newEnv(t, memory.Config{})
	e.model.Then(extraction(
		[]fact{{Text: "alice lives in Seattle", Entities: []string{"alice", "Seattle"}}},
		[]ent{{"Seattle", "city"}}, []rel{{"alice", "lives_in", "Seattle"}}, ""))
	e.add("I live in Seattle.")
	between := time.Now()
	time.Sleep(10 * time.Millisecond)
	e.model.Then(extraction(
		[]fact{{Text: "alice lives in Austin", Entities: []string{"alice", "Austin"}}},
		[]ent{{"Austin", "city"}}, []rel{{"I", "lives_in", "Austin"}}, ""))
	e.model.Then(llmtest.ToolCalls(
		llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice lives in Austin", "fact": "F1"}),
		llmtest.Call(prompts.ToolUpdateGraphMemory, map[string]string{"id": "R1", "target": "Austin"}),
	))
	e.add("I moved to Austin.")

	ctx := context.Background()
	res, err := e.engine.Search(ctx, memory.SearchRequest{Scope: e.scope, Query: "where does alice live", Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Text != "alice lives in Austin" || res.Results[0].Explain == nil || res.Results[0].Explain.Strategy != "exact" {
		t.Fatalf("results = %+v", res.Results)
	}
	if len(res.Relations) != 1 || res.Relations[0].Target != "Austin" || res.Relations[0].Type != "LIVES_IN" {
		t.Fatalf("relations = %+v", res.Relations)
	}
	if res.EmbedTime <= 0 || res.EngineTime <= 0 {
		t.Fatalf("timings %v %v", res.EmbedTime, res.EngineTime)
	}
	res, err = e.engine.Search(ctx, memory.SearchRequest{Scope: e.scope, Query: "where does alice live", AsOf: &between})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Text != "alice lives in Seattle" || len(res.Relations) != 1 || res.Relations[0].Target != "Seattle" {
		t.Fatalf("as of before the move: %+v %+v", res.Results, res.Relations)
	}
	if _, err := e.engine.Search(ctx, memory.SearchRequest{Scope: e.scope, Query: "  "}); !errors.Is(err, graph.Invalid) {
		t.Fatalf("empty query = %v", err)
	}
}
