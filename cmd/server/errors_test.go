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
