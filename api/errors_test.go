package api_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestMem0Parity: Mem0's routes read flags and numbers as Mem0's server
// does ("false" is false, "2" is 2), refuse what they cannot read, and a
// delete_all whose filter selects less than a scope is refused rather than
// deleting the whole scope.
func TestMem0Parity(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true})
	key, tenant := newKey(t, false)
	hc := &http.Client{Timeout: time.Minute}
	post := func(path string, body map[string]any) (int, map[string]any) {
		t.Helper()
		code, _, out, err := call(hc, srv.base, key, "POST", path, nil, body)
		if err != nil {
			t.Fatal(err)
		}
		return code, out
	}
	for _, text := range []string{"one", "two"} {
		// "infer": "false" as a string: stored as given, no model call (the
		// scripted model has nothing queued, so a call would fail).
		code, out := post("/v3/memories/add/", map[string]any{"user_id": "flt", "infer": "false", "metadata": map[string]any{"p": len(text)},
			"messages": []map[string]any{{"role": "user", "content": text}}})
		if code != 200 {
			t.Fatalf("add with infer \"false\": %d %v", code, out)
		}
	}
	if code, out := post("/v3/memories/add/", map[string]any{"user_id": "flt", "infer": "maybe",
		"messages": []map[string]any{{"role": "user", "content": "x"}}}); code != 400 {
		t.Fatalf("infer \"maybe\": %d %v, want 400", code, out)
	}
	code, out := post("/v3/memories/search/", map[string]any{"query": "one", "filters": map[string]any{"user_id": "flt"}, "top_k": "1", "threshold": "0"})
	if code != 200 || len(out["results"].([]any)) != 1 {
		t.Fatalf("search with top_k \"1\": %d %v", code, out)
	}
	if code, out := post("/v3/memories/search/", map[string]any{"query": "one", "filters": map[string]any{"user_id": "flt"}, "top_k": "many"}); code != 400 {
		t.Fatalf("top_k \"many\": %d %v, want 400", code, out)
	}
	// Mem0's client sends the filter as a Python repr.
	filter := `{'AND': [{'user_id': 'flt'}, {'metadata': {'p': 3}}]}`
	code, _, out, err := call(hc, srv.base, key, "DELETE", "/v1/memories/?filters="+urlQuery(filter), nil, nil)
	if err != nil || code != 400 {
		t.Fatalf("delete_all with a metadata filter: %d %v %v, want 400", code, out, err)
	}
	if n := countOf(t, `MATCH (m:Memory {tenant: $tenant, user_id: 'flt'}) RETURN count(m) AS n`, tenant); n != 2 {
		t.Fatalf("%d memories left after a refused delete_all, want 2", n)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// TestUserEntityFromTriples: a structured triple naming the user (by id or
// "I") writes the user's own entity, is_user true, as a model's add does.
func TestUserEntityFromTriples(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	code, out := c.do("POST", "/relations", map[string]any{"user_id": "ann", "relations": []map[string]any{
		{"source": "ann", "relationship": "works_at", "target": "Acme"},
		{"source": "I", "relationship": "lives_in", "target": "Paris"},
	}})
	if code != 200 {
		t.Fatalf("relations: %d %v", code, out)
	}
	code, g := c.do("GET", "/graph?user_id=ann", nil)
	if code != 200 {
		t.Fatalf("graph: %d %v", code, g)
	}
	users := 0
	for _, n := range g["nodes"].([]any) {
		node := n.(map[string]any)
		if node["is_user"] == true {
			users++
		}
	}
	if users != 1 || len(g["nodes"].([]any)) != 3 {
		t.Fatalf("graph after triples naming the user by id and as I: %d user entities among %v, want 1 of 3", users, g["nodes"])
	}
}
