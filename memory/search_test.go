package memory_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/vector"
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

// countingEmbedder counts the texts it embeds.
type countingEmbedder struct {
	vector.Embedder
	mu    sync.Mutex
	texts []string
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.texts = append(c.texts, texts...)
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts)
}

func (c *countingEmbedder) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.texts)
}

// TestSearchReusesQueryVectors: a repeated query (after trimming) of the
// same tenant is not embedded again and finds the same; the cache is
// bounded (least recently used out), kept per tenant, and can be turned
// off.
func TestSearchReusesQueryVectors(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ctx := context.Background()
	if _, err := e.engine.Add(ctx, graph.AddRequest{Scope: e.scope, Messages: []graph.Message{
		{Role: "user", Content: "alice likes cheese pizza"}, {Role: "user", Content: "alice plays the violin"}}}); err != nil {
		t.Fatal(err)
	}
	food, music := "what food does alice like", "which instrument does alice play"
	queries := []string{food, "  " + food + " ", music, food, music}
	for _, c := range []struct {
		name  string
		cache int
		want  int // texts embedded by the five searches
	}{{"default", 0, 2}, {"one entry", 1, 4}, {"off", -1, 5}} {
		emb := &countingEmbedder{Embedder: hash}
		eng, err := memory.New(e.store, memory.Models{Embedder: emb}, memory.Config{QueryCache: c.cache})
		if err != nil {
			t.Fatal(err)
		}
		firsts := map[string]string{}
		for _, q := range queries {
			res, err := eng.Search(ctx, graph.SearchRequest{Scope: e.scope, Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Results) == 0 {
				t.Fatalf("%s: no hits for %q", c.name, q)
			}
			k := strings.TrimSpace(q)
			if id, ok := firsts[k]; ok && res.Results[0].ID != id {
				t.Errorf("%s: %q found %s first, earlier %s", c.name, q, res.Results[0].ID, id)
			}
			firsts[k] = res.Results[0].ID
		}
		if got := emb.count(); got != c.want {
			t.Errorf("%s: the five searches embedded %d texts, want %d", c.name, got, c.want)
		}
	}
	// Per tenant: another tenant's same query is embedded again.
	emb := &countingEmbedder{Embedder: hash}
	eng, err := memory.New(e.store, memory.Models{Embedder: emb}, memory.Config{})
	if err != nil {
		t.Fatal(err)
	}
	other := graph.Scope{Tenant: e.tenant + "-other", UserID: "alice"}
	for _, sc := range []graph.Scope{e.scope, other, e.scope, other} {
		if _, err := eng.Search(ctx, graph.SearchRequest{Scope: sc, Query: food}); err != nil {
			t.Fatal(err)
		}
	}
	if got := emb.count(); got != 2 {
		t.Errorf("two tenants, the same query twice each: %d texts embedded, want 2 (one per tenant)", got)
	}
}
