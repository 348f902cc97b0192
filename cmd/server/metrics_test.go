package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/testcontainers"
)

// The metrics the command registers and its metrics middleware observes;
// the API itself is tested in api/ (without the command's wiring).

// TestMetricsOfRoutes: /metrics records requests by route template, method
// and status, the engine's Neo4j calls and the texts embedded.
func TestMetricsOfRoutes(t *testing.T) {
	srv := start(t, env(t, nil))
	key, _ := newKey(t, true)
	hc := &http.Client{Timeout: time.Minute}
	code, _, out, err := call(hc, srv.base, key, "POST", "/relations", nil, map[string]any{"user_id": "ann", "relations": []map[string]any{
		{"source": "Ann", "source_type": "person", "relationship": "works-at", "target": "Acme", "target_type": "company"}}})
	if err != nil || code != 200 {
		t.Fatalf("POST /relations: %d %v %v", code, out, err)
	}
	code, _, out, err = call(hc, srv.base, key, "POST", "/memories", nil, map[string]any{"user_id": "ann", "infer": false,
		"messages": []map[string]any{{"role": "user", "content": "Ann likes sardines"}}})
	if err != nil || code != 200 {
		t.Fatalf("add: %d %v %v", code, out, err)
	}
	resp, err := http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`neomem_http_request_duration_seconds_count{method="POST",route="/relations",status="200"}`, "neomem_neo4j_call_duration_seconds", "neomem_embedding_texts_total"} {
		if !strings.Contains(string(m), want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
}

// TestModelFailureIs503: a provider that answers 429 with Retry-After makes
// an add a 503 that passes the provider's wait on, and /metrics records the
// status clients got (not 0).
func TestModelFailureIs503(t *testing.T) {
	models := &llmtest.OpenAIServer{Model: llmtest.NewScripted(), Embedder: llmtest.NewHashEmbedder(384)}
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/chat/completions") {
			w.Header().Set("Retry-After", "7")
			http.Error(w, `{"error":{"message":"rate limited"}}`, http.StatusTooManyRequests)
			return
		}
		models.ServeHTTP(w, r)
	}))
	t.Cleanup(limited.Close)
	vars := serverVars(testcontainers.Connection(t), limited.URL+"/v1")
	vars["NEOMEM_MODEL_ATTEMPTS"] = "1"
	srv := start(t, func(k string) string { return vars[k] })
	key, _ := newKey(t, false)
	hc := &http.Client{Timeout: time.Minute}
	code, h, out, err := call(hc, srv.base, key, "POST", "/memories", nil, map[string]any{"user_id": "u", "infer": true,
		"messages": []map[string]any{{"role": "user", "content": "I like tea"}}})
	if err != nil || code != http.StatusServiceUnavailable || h.Get("Retry-After") != "7" {
		t.Fatalf("add while the model is rate limited: %d, Retry-After %q, %v %v", code, h.Get("Retry-After"), out, err)
	}
	resp, err := http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `route="/memories",status="503"`) || strings.Contains(string(m), `status="0"`) {
		t.Fatalf("/metrics does not record the 503 the client got:\n%s", m)
	}
}

// TestQueryCacheSetting: by default a repeated search query is embedded
// once; NEOMEM_QUERY_CACHE=0 embeds it every time (counted by the embedding
// server itself).
func TestQueryCacheSetting(t *testing.T) {
	for _, c := range []struct {
		cache string
		want  int
	}{{"", 1}, {"0", 3}} {
		models, base := fakeModels(t, 384)
		vars := serverVars(testcontainers.Connection(t), base)
		if c.cache != "" {
			vars["NEOMEM_QUERY_CACHE"] = c.cache
		}
		srv := start(t, func(k string) string { return vars[k] })
		key, _ := newKey(t, true)
		hc := &http.Client{Timeout: time.Minute}
		before := models.Stats().EmbeddingCalls
		for range 3 {
			code, _, out, err := call(hc, srv.base, key, "POST", "/search", nil, map[string]any{"user_id": "ann", "query": "what does ann like to eat"})
			if err != nil || code != 200 {
				t.Fatalf("search: %d %v %v", code, out, err)
			}
		}
		if got := models.Stats().EmbeddingCalls - before; got != c.want {
			t.Errorf("NEOMEM_QUERY_CACHE=%q: three identical searches made %d embedding calls, want %d", c.cache, got, c.want)
		}
	}
}
