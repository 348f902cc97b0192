package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/memory"
)

func TestSearchAfterAdds(t *testing.T) {
	e := newEnv(t, memory.Config{})
	between, _ := e.moveSeattleToAustin("I moved to Austin.")

	ctx := context.Background()
	res, err := e.engine.Search(ctx, graph.SearchRequest{Scope: e.scope, Query: "where does alice live", Explain: true})
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
	res, err = e.engine.Search(ctx, graph.SearchRequest{Scope: e.scope, Query: "where does alice live", AsOf: &between})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Text != "alice lives in Seattle" || len(res.Relations) != 1 || res.Relations[0].Target != "Seattle" {
		t.Fatalf("as of before the move: %+v %+v", res.Results, res.Relations)
	}
	if _, err := e.engine.Search(ctx, graph.SearchRequest{Scope: e.scope, Query: "  "}); !errors.Is(err, graph.Invalid) {
		t.Fatalf("empty query = %v", err)
	}
}
