package api_test

import (
	"testing"
)

// TestSearchWeights: a search's own weights replace the server's for that
// search (text 0 and graph 0 rank by the vector alone), the explanation
// shows each ranking's rank and contribution, and bad weights are a 400
// naming the field.
func TestSearchWeights(t *testing.T) {
	srv := startServer(t, serverConfig{})
	key, _ := newKey(t, false)
	c := client{t: t, base: srv.base, key: key}
	var msgs []map[string]any
	for _, text := range []string{"the zyxwvut protocol uses port 4242", "alice likes cheese pizza", "bob plays tennis"} {
		msgs = append(msgs, map[string]any{"role": "user", "content": text})
	}
	if code, p := c.do("POST", "/memories", map[string]any{"user_id": "w", "infer": false, "messages": msgs}); code != 200 {
		t.Fatalf("add: %d %v", code, p)
	}
	hits := func(body map[string]any) []map[string]any {
		t.Helper()
		body["user_id"], body["explain"] = "w", true
		code, r := c.do("POST", "/search", body)
		if code != 200 {
			t.Fatalf("search %v: %d %v", body, code, r)
		}
		var out []map[string]any
		for _, h := range r["results"].([]any) {
			out = append(out, h.(map[string]any))
		}
		return out
	}
	// With the server's weights the rare word is a full-text match.
	hs := hits(map[string]any{"query": "zyxwvut"})
	textRanked := 0
	for _, h := range hs {
		x := h["explain"].(map[string]any)
		if x["text_rank"].(float64) > 0 {
			textRanked++
		}
		sum := x["vector_contribution"].(float64) + x["text_contribution"].(float64) + x["graph_contribution"].(float64)
		if d := sum - h["score"].(float64); d > 1e-9 || d < -1e-9 {
			t.Errorf("contributions %v do not add up to the score %v", sum, h["score"])
		}
	}
	if textRanked != 1 {
		t.Fatalf("server weights: %d full-text hits, want 1: %v", textRanked, hs)
	}
	// Vector alone: no hit has a full-text rank or contribution.
	for _, h := range hits(map[string]any{"query": "zyxwvut", "weights": map[string]any{"text": 0, "graph": 0}}) {
		x := h["explain"].(map[string]any)
		if x["text_rank"].(float64) != 0 || x["text_contribution"].(float64) != 0 || x["vector_rank"].(float64) == 0 {
			t.Errorf("vector-only search: %v", x)
		}
	}
	// Full text alone: only the memory with the word.
	if hs := hits(map[string]any{"query": "zyxwvut", "weights": map[string]any{"vector": 0, "graph": 0, "rrf_k": 5}}); len(hs) != 1 ||
		hs[0]["memory"] != "the zyxwvut protocol uses port 4242" || hs[0]["score"].(float64) != 1 {
		t.Errorf("text-only search: %v", hs)
	}
	for _, bad := range []struct {
		weights map[string]any
		path    string
	}{
		{map[string]any{"vector": 0, "text": 0, "graph": 0}, "weights"},
		{map[string]any{"text": -1}, "weights.text"},
		{map[string]any{"rrf_k": 0}, "weights.rrf_k"},
		{map[string]any{"vector": 1000}, "weights.vector"},
		{map[string]any{"colour": 1}, "weights"},
	} {
		code, p := c.do("POST", "/search", map[string]any{"query": "x", "user_id": "w", "weights": bad.weights})
		if code != 400 || !hasErrorAt(p, bad.path) {
			t.Errorf("weights %v: %d %v, want 400 at %s", bad.weights, code, p, bad.path)
		}
	}
}

// hasErrorAt reports whether a problem lists an error at path (or under it).
func hasErrorAt(p map[string]any, path string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		f, _ := e.(map[string]any)["path"].(string)
		if f == path || len(f) > len(path) && f[:len(path)+1] == path+"." {
			return true
		}
	}
	return false
}
