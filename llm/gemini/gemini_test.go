package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/vector"
)

const (
	testKey   = "test-key-123"
	chatModel = "gemini-test"
	embModel  = "embed-test"
)

// reply is one scripted answer of the fake server.
type reply struct {
	status int
	header map[string]string
	body   string
}

// request is what the fake server received.
type request struct {
	method, path, rawQuery string
	apiKey                 string
	body                   any
}

// fakeGemini speaks Gemini's REST wire format: POST
// /v1beta/models/{model}:{method}?$alt=json;enum-encoding=int with a protojson
// body (enums as numbers), answered with scripted replies in order.
type fakeGemini struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	replies  []reply
	received []request
}

func newFake(t *testing.T, replies ...reply) *fakeGemini {
	t.Helper()
	f := &fakeGemini{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGemini) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("reading request body: %v", err)
	}
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("request body is not JSON: %v: %s", err, raw)
	}
	f.mu.Lock()
	f.received = append(f.received, request{
		method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery,
		apiKey: r.Header.Get("x-goog-api-key"), body: body,
	})
	if len(f.replies) == 0 {
		f.mu.Unlock()
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":{"code":500,"message":"no reply scripted"}}`, http.StatusInternalServerError)
		return
	}
	rep := f.replies[0]
	f.replies = f.replies[1:]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeGemini) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.received...)
}

func (f *fakeGemini) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(context.Background(), Config{
		APIKey: testKey, ChatModel: chatModel, EmbeddingModel: embModel, Dimensions: 3,
		Endpoint: f.srv.URL, HTTPClient: f.srv.Client(),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ok(body string) reply { return reply{status: http.StatusOK, body: body} }

func apiError(status int, grpcStatus string, header map[string]string) reply {
	return reply{status: status, header: header,
		body: fmt.Sprintf(`{"error":{"code":%d,"message":"scripted failure","status":%q}}`, status, grpcStatus)}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

// checkPath asserts the request went to the model's REST method with the
// SDK's query and the key in the header, never in the URL.
func checkPath(t *testing.T, r request, model, method string) {
	t.Helper()
	if want := "/v1beta/models/" + model + ":" + method; r.method != http.MethodPost || r.path != want {
		t.Errorf("request = %s %s, want POST %s", r.method, r.path, want)
	}
	if want := "%24alt=json%3Benum-encoding%3Dint"; r.rawQuery != want {
		t.Errorf("query = %q, want %q", r.rawQuery, want)
	}
	if r.apiKey != testKey {
		t.Errorf("x-goog-api-key = %q, want %q", r.apiKey, testKey)
	}
	if strings.Contains(r.rawQuery, testKey) {
		t.Errorf("API key in the URL query %q", r.rawQuery)
	}
}

const extractParams = `{
  "type": "object",
  "description": "What the text says.",
  "properties": {
    "entities": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {
          "name": {"type": "string", "description": "As written."},
          "kind": {"type": "string", "enum": ["person", "place"]},
          "confidence": {"type": "number", "format": "double"},
          "mentions": {"type": "integer"},
          "primary": {"type": "boolean"},
          "note": {"type": ["string", "null"], "maxLength": 200}
        },
        "required": ["name", "kind"],
        "additionalProperties": false
      }
    }
  },
  "required": ["entities"]
}`

func TestChatToolCall(t *testing.T) {
	f := newFake(t, ok(`[{
	  "candidates": [{
	    "content": {"role": "model", "parts": [
	      {"functionCall": {"name": "extract_entities", "args": {"entities": [{"name": "Alice", "kind": "person", "mentions": 2}]}}},
	      {"functionCall": {"name": "extract_entities", "args": {"entities": []}}}
	    ]},
	    "finishReason": 1,
	    "index": 0
	  }],
	  "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 17, "totalTokenCount": 137}
	}]`))
	c := f.client(t)
	temp := 0.5
	got, err := c.Chat(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You extract entities."},
			{Role: llm.RoleUser, Content: "Alice moved to Paris.", Images: []llm.Image{{MIMEType: "image/png", Data: []byte("png!")}}},
		},
		Tools:       []llm.Tool{{Name: "extract_entities", Description: "Record entities.", Parameters: json.RawMessage(extractParams)}},
		ToolChoice:  llm.ToolChoice{Mode: llm.ToolForce, Name: "extract_entities"},
		Temperature: &temp,
		MaxTokens:   256,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{
		ToolCalls: []llm.ToolCall{
			{ID: "call_0", Name: "extract_entities", Arguments: json.RawMessage(`{"entities":[{"kind":"person","mentions":2,"name":"Alice"}]}`)},
			{ID: "call_1", Name: "extract_entities", Arguments: json.RawMessage(`{"entities":[]}`)},
		},
		Usage:        llm.Usage{PromptTokens: 120, CompletionTokens: 17},
		FinishReason: "STOP",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response mismatch (-want +got):\n%s", diff)
	}

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	checkPath(t, reqs[0], chatModel, "streamGenerateContent")
	// Enums are numbers on this wire: type 6 OBJECT, 5 ARRAY, 1 STRING,
	// 2 NUMBER, 3 INTEGER, 4 BOOLEAN; function calling mode 2 ANY.
	wantBody := mustJSON(t, `{
	  "model": "models/gemini-test",
	  "systemInstruction": {"parts": [{"text": "You extract entities."}]},
	  "contents": [{"role": "user", "parts": [
	    {"text": "Alice moved to Paris."},
	    {"inlineData": {"mimeType": "image/png", "data": "cG5nIQ=="}}
	  ]}],
	  "tools": [{"functionDeclarations": [{
	    "name": "extract_entities",
	    "description": "Record entities.",
	    "parameters": {
	      "type": 6,
	      "description": "What the text says.",
	      "properties": {
	        "entities": {
	          "type": 5,
	          "items": {
	            "type": 6,
	            "properties": {
	              "name": {"type": 1, "description": "As written."},
	              "kind": {"type": 1, "format": "enum", "enum": ["person", "place"]},
	              "confidence": {"type": 2, "format": "double"},
	              "mentions": {"type": 3},
	              "primary": {"type": 4},
	              "note": {"type": 1, "nullable": true}
	            },
	            "required": ["name", "kind"]
	          }
	        }
	      },
	      "required": ["entities"]
	    }
	  }]}],
	  "toolConfig": {"functionCallingConfig": {"mode": 2, "allowedFunctionNames": ["extract_entities"]}},
	  "generationConfig": {"candidateCount": 1, "maxOutputTokens": 256, "temperature": 0.5}
	}`)
	if diff := cmp.Diff(wantBody, reqs[0].body); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func TestChatText(t *testing.T) {
	// Two streamed chunks; usage is cumulative and the last one counts.
	f := newFake(t, ok(`[
	  {"candidates": [{"content": {"role": "model", "parts": [{"text": "Alice lives "}]}, "index": 0}],
	   "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 2, "totalTokenCount": 42}},
	  {"candidates": [{"content": {"role": "model", "parts": [{"text": "in Paris."}]}, "finishReason": 1, "index": 0}],
	   "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 5, "totalTokenCount": 45}}
	]`))
	c := f.client(t)
	got, err := c.Chat(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."},
			{Role: llm.RoleUser, Content: "Where does Alice live?", Images: []llm.Image{{URL: "https://example.com/a/map.png"}}},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_0", Name: "search", Arguments: json.RawMessage(`{"query":"Alice"}`)},
				{ID: "call_1", Name: "lookup", Arguments: json.RawMessage(`{"id":7}`)},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_0", Name: "search", Content: `{"hits":["Alice lives in Paris"]}`},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: `not found`},
			{Role: llm.RoleUser, Content: "Answer now."},
		},
		Tools: []llm.Tool{
			{Name: "search", Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}}}`)},
			{Name: "lookup"},
		},
		ToolChoice: llm.ToolChoice{Mode: llm.ToolNone},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{Text: "Alice lives in Paris.", Usage: llm.Usage{PromptTokens: 40, CompletionTokens: 5}, FinishReason: "STOP"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response mismatch (-want +got):\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	checkPath(t, reqs[0], chatModel, "streamGenerateContent")
	// Tool results travel in one user turn, which the next user text joins;
	// the unnamed result finds its tool through the call ID; text that is not
	// a JSON object is wrapped. Mode 3 is NONE.
	wantBody := mustJSON(t, `{
	  "model": "models/gemini-test",
	  "systemInstruction": {"parts": [{"text": "Be brief."}]},
	  "contents": [
	    {"role": "user", "parts": [
	      {"text": "Where does Alice live?"},
	      {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/a/map.png"}}
	    ]},
	    {"role": "model", "parts": [
	      {"functionCall": {"name": "search", "args": {"query": "Alice"}}},
	      {"functionCall": {"name": "lookup", "args": {"id": 7}}}
	    ]},
	    {"role": "user", "parts": [
	      {"functionResponse": {"name": "search", "response": {"hits": ["Alice lives in Paris"]}}},
	      {"functionResponse": {"name": "lookup", "response": {"result": "not found"}}},
	      {"text": "Answer now."}
	    ]}
	  ],
	  "tools": [{"functionDeclarations": [
	    {"name": "search", "parameters": {"type": 6, "properties": {"query": {"type": 1}}}},
	    {"name": "lookup"}
	  ]}],
	  "toolConfig": {"functionCallingConfig": {"mode": 3}},
	  "generationConfig": {"candidateCount": 1}
	}`)
	if diff := cmp.Diff(wantBody, reqs[0].body); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func TestToolChoiceModes(t *testing.T) {
	tools := []llm.Tool{{Name: "a"}, {Name: "b"}}
	tests := []struct {
		name   string
		choice llm.ToolChoice
		want   any // the toolConfig sent, nil for none
	}{
		{"zero", llm.ToolChoice{}, nil},
		{"auto", llm.ToolChoice{Mode: llm.ToolAuto}, map[string]any{"functionCallingConfig": map[string]any{"mode": 1.0}}},
		{"none", llm.ToolChoice{Mode: llm.ToolNone}, map[string]any{"functionCallingConfig": map[string]any{"mode": 3.0}}},
		{"required", llm.ToolChoice{Mode: llm.ToolRequired}, map[string]any{"functionCallingConfig": map[string]any{"mode": 2.0}}},
		{"forced", llm.ToolChoice{Mode: llm.ToolForce, Name: "b"}, map[string]any{"functionCallingConfig": map[string]any{"mode": 2.0, "allowedFunctionNames": []any{"b"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, ok(`[{"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": 1}]}]`))
			_, err := f.client(t).Chat(context.Background(), llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}, Tools: tools, ToolChoice: tt.choice,
			})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			body, _ := f.requests()[0].body.(map[string]any)
			if diff := cmp.Diff(tt.want, body["toolConfig"]); diff != "" {
				t.Errorf("toolConfig for %+v mismatch (-want +got):\n%s", tt.choice, diff)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	f := newFake(t, ok(`{"embeddings": [{"values": [0.1, 0.2, 0.3]}, {"values": [1, 0, -1]}]}`))
	e, err := f.client(t).Embedder()
	if err != nil {
		t.Fatalf("Embedder: %v", err)
	}
	if e.Dimensions() != 3 || e.Name() != "gemini/embed-test" {
		t.Errorf("Dimensions(), Name() = %d, %q, want 3, %q", e.Dimensions(), e.Name(), "gemini/embed-test")
	}
	got, err := e.Embed(context.Background(), []string{"Alice", "Paris"})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	want := [][]float32{{0.1, 0.2, 0.3}, {1, 0, -1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Embed mismatch (-want +got):\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	checkPath(t, reqs[0], embModel, "batchEmbedContents")
	wantBody := mustJSON(t, `{"model": "models/embed-test", "requests": [
	  {"model": "models/embed-test", "content": {"role": "user", "parts": [{"text": "Alice"}]}},
	  {"model": "models/embed-test", "content": {"role": "user", "parts": [{"text": "Paris"}]}}
	]}`)
	if diff := cmp.Diff(wantBody, reqs[0].body); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func TestEmbedBatches(t *testing.T) {
	texts := make([]string, 101)
	for i := range texts {
		texts[i] = "t"
	}
	vectors := func(n int) string {
		v := make([]string, n)
		for i := range v {
			v[i] = `{"values": [1, 2, 3]}`
		}
		return `{"embeddings": [` + strings.Join(v, ",") + `]}`
	}
	f := newFake(t, ok(vectors(100)), ok(vectors(1)))
	e, err := f.client(t).Embedder()
	if err != nil {
		t.Fatalf("Embedder: %v", err)
	}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(got) != 101 {
		t.Errorf("Embed returned %d vectors, want 101", len(got))
	}
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, len(r.body.(map[string]any)["requests"].([]any)))
	}
	if diff := cmp.Diff([]int{100, 1}, sizes); diff != "" {
		t.Errorf("batch sizes mismatch (-want +got):\n%s", diff)
	}
}

func TestRetryAfterRateLimit(t *testing.T) {
	f := newFake(t,
		apiError(http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", map[string]string{"Retry-After": "1"}),
		ok(`[{"candidates": [{"content": {"role": "model", "parts": [{"text": "done"}]}, "finishReason": 1}],
		      "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}]`),
	)
	m := llm.WithRetry(f.client(t), llm.RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	got, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	if err != nil {
		t.Fatalf("Chat with retry: %v", err)
	}
	want := llm.Response{Text: "done", Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 1}, FinishReason: "STOP"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response mismatch (-want +got):\n%s", diff)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("server got %d requests, want 2", n)
	}
	if m.Name() != "gemini/gemini-test" {
		t.Errorf("Name() = %q, want %q", m.Name(), "gemini/gemini-test")
	}
}

func TestErrors(t *testing.T) {
	chat := func(c *Client) error {
		_, err := c.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		return err
	}
	embed := func(c *Client) error {
		e, err := c.Embedder()
		if err != nil {
			return err
		}
		_, err = e.Embed(context.Background(), []string{"a", "b"})
		return err
	}
	tests := []struct {
		name       string
		reply      reply
		call       func(*Client) error
		kind       graph.Kind
		status     int
		retryAfter time.Duration
	}{
		{"rate limited", apiError(429, "RESOURCE_EXHAUSTED", map[string]string{"Retry-After": "7"}), chat, graph.Unavailable, 429, 7 * time.Second},
		{"unauthenticated", apiError(401, "UNAUTHENTICATED", nil), chat, graph.Other, 401, 0},
		{"forbidden", apiError(403, "PERMISSION_DENIED", nil), embed, graph.Other, 403, 0},
		{"bad request", apiError(400, "INVALID_ARGUMENT", nil), chat, graph.Invalid, 400, 0},
		{"server error", apiError(500, "INTERNAL", nil), chat, graph.Unavailable, 500, 0},
		// On its own the SDK retries a 503 of batchEmbedContents until the
		// context ends; the adapter returns it at once (one request,
		// asserted below).
		{"overloaded", apiError(503, "UNAVAILABLE", map[string]string{"Retry-After": "2"}), chat, graph.Unavailable, 503, 2 * time.Second},
		{"overloaded embedding", apiError(503, "UNAVAILABLE", nil), embed, graph.Unavailable, 503, 0},
		{"invalid JSON", ok(`[{"candidates": [{"content": }]}]`), chat, graph.Other, 0, 0},
		// A body that ends mid-value reads as a cut connection: retried.
		{"truncated", ok(`[{"candidates": [{"content": `), chat, graph.Unavailable, 0, 0},
		{"not JSON", ok(`<html>oops</html>`), chat, graph.Other, 0, 0},
		{"args not an object", ok(`[{"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": [1, 2]}}]}}]}]`), chat, graph.Other, 0, 0},
		{"no candidates", ok(`[{"usageMetadata": {"promptTokenCount": 3}}]`), chat, graph.Other, 0, 0},
		{"empty stream", ok(`[]`), chat, graph.Other, 0, 0},
		{"prompt blocked", ok(`[{"promptFeedback": {"blockReason": 1}}]`), chat, graph.Invalid, 0, 0},
		{"wrong vector length", ok(`{"embeddings": [{"values": [1, 2, 3]}, {"values": [1, 2]}]}`), embed, graph.Other, 0, 0},
		{"too few vectors", ok(`{"embeddings": [{"values": [1, 2, 3]}]}`), embed, graph.Other, 0, 0},
		{"embedding not JSON", ok(`{"embeddings": [}`), embed, graph.Other, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.reply)
			err := tt.call(f.client(t))
			checkError(t, err, tt.kind, tt.status, tt.retryAfter)
			if n := len(f.requests()); n != 1 {
				t.Errorf("server got %d requests, want 1 (no retry inside the adapter)", n)
			}
		})
	}
}

func checkError(t *testing.T, err error, kind graph.Kind, status int, retryAfter time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want kind %v", kind)
	}
	pe, ok := llm.AsProviderError(err)
	if !ok {
		t.Fatalf("err = %v (%T), want *llm.ProviderError", err, err)
	}
	if !errors.Is(err, kind) || pe.Provider != "gemini" || pe.Status != status || pe.RetryAfter != retryAfter {
		t.Errorf("err = %v (kind %v, provider %q, status %d, retry after %v), want kind %v, provider gemini, status %d, retry after %v",
			err, pe.Kind, pe.Provider, pe.Status, pe.RetryAfter, kind, status, retryAfter)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q quotes the API key", err)
	}
}

func TestNoResponse(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close()
	c, err := New(context.Background(), Config{APIKey: testKey, ChatModel: chatModel, EmbeddingModel: embModel, Dimensions: 3, Endpoint: endpoint})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	_, err = c.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	checkError(t, err, graph.Unavailable, 0, 0)
	if pe, _ := llm.AsProviderError(err); !pe.Retryable() {
		t.Errorf("Retryable() = false for %v, want true", err)
	}
	e, _ := c.Embedder()
	_, err = e.Embed(context.Background(), []string{"a"})
	checkError(t, err, graph.Unavailable, 0, 0)
}

// TestInvalidRequests covers requests the adapter refuses before sending.
func TestInvalidRequests(t *testing.T) {
	user := []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	tool := func(params string) []llm.Tool { return []llm.Tool{{Name: "f", Parameters: json.RawMessage(params)}} }
	tests := []struct {
		name string
		req  llm.Request
	}{
		{"no messages", llm.Request{}},
		{"only system", llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "x"}}}},
		{"ends with assistant", llm.Request{Messages: append(user, llm.Message{Role: llm.RoleAssistant, Content: "hello"})}},
		{"unknown role", llm.Request{Messages: []llm.Message{{Role: "robot", Content: "x"}}}},
		{"tool result without name", llm.Request{Messages: append(user, llm.Message{Role: llm.RoleTool, ToolCallID: "nope", Content: "{}"})}},
		{"call arguments not an object", llm.Request{Messages: append(user,
			llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "1", Name: "f", Arguments: json.RawMessage(`[1]`)}}},
			llm.Message{Role: llm.RoleTool, ToolCallID: "1", Content: "ok"})}},
		{"image without MIME type", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Images: []llm.Image{{URL: "https://example.com/picture"}}}}}},
		{"image without data or URL", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Images: []llm.Image{{MIMEType: "image/png"}}}}}},
		{"forced tool unknown", llm.Request{Messages: user, Tools: tool(`{"type":"object"}`), ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "g"}}},
		{"required without tools", llm.Request{Messages: user, ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired}}},
		{"unknown tool choice", llm.Request{Messages: user, Tools: tool(`{"type":"object"}`), ToolChoice: llm.ToolChoice{Mode: "sometimes"}}},
		{"parameters not JSON", llm.Request{Messages: user, Tools: tool(`{`)}},
		{"parameters not an object", llm.Request{Messages: user, Tools: tool(`{"type":"string"}`)}},
		{"unknown type", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{"a":{"type":"date"}}}`)}},
		{"no type", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{"a":{"description":"?"}}}`)}},
		{"two types", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{"a":{"type":["string","integer"]}}}`)}},
		{"array without items", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{"a":{"type":"array"}}}`)}},
		{"integer enum", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{"a":{"type":"integer","enum":[1,2]}}}`)}},
		{"undefined required", llm.Request{Messages: user, Tools: tool(`{"type":"object","properties":{},"required":["a"]}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			_, err := f.client(t).Chat(context.Background(), tt.req)
			checkError(t, err, graph.Invalid, 0, 0)
			if n := len(f.requests()); n != 0 {
				t.Errorf("server got %d requests, want 0", n)
			}
		})
	}
}

func TestSchemaInference(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   any
	}{
		{"object from properties", `{"properties":{"a":{"type":"string"}}}`, `{"type":6,"properties":{"a":{"type":1}}}`},
		{"array from items", `{"type":"object","properties":{"a":{"items":{"type":"integer","format":"int64"}}}}`, `{"type":6,"properties":{"a":{"type":5,"items":{"type":3,"format":"int64"}}}}`},
		{"string from enum", `{"type":"object","properties":{"a":{"enum":["x"]}}}`, `{"type":6,"properties":{"a":{"type":1,"format":"enum","enum":["x"]}}}`},
		{"nullable keyword", `{"type":"object","properties":{"a":{"type":"number","nullable":true,"format":"percent"}}}`, `{"type":6,"properties":{"a":{"type":2,"nullable":true}}}`},
		{"date-time kept", `{"type":"object","properties":{"a":{"type":"string","format":"date-time"}}}`, `{"type":6,"properties":{"a":{"type":1,"format":"date-time"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, ok(`[{"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}}]}]`))
			_, err := f.client(t).Chat(context.Background(), llm.Request{
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
				Tools:    []llm.Tool{{Name: "f", Parameters: json.RawMessage(tt.schema)}},
			})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			body := f.requests()[0].body.(map[string]any)
			got := body["tools"].([]any)[0].(map[string]any)["functionDeclarations"].([]any)[0].(map[string]any)["parameters"]
			if diff := cmp.Diff(mustJSON(t, tt.want.(string)), got); diff != "" {
				t.Errorf("parameters for %s mismatch (-want +got):\n%s", tt.schema, diff)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"chat only", Config{APIKey: "k", ChatModel: "m"}, false},
		{"embedding only", Config{APIKey: "k", EmbeddingModel: "e", Dimensions: 768}, false},
		{"no key", Config{ChatModel: "m"}, true},
		{"no model", Config{APIKey: "k"}, true},
		{"embedding without dimensions", Config{APIKey: "k", ChatModel: "m", EmbeddingModel: "e"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(context.Background(), tt.cfg)
			if tt.wantErr {
				if !errors.Is(err, graph.Invalid) {
					t.Errorf("New(%+v) = %v, want an Invalid error", tt.cfg, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v) = %v", tt.cfg, err)
			}
			defer c.Close()
		})
	}
	c, err := New(context.Background(), Config{APIKey: "k", ChatModel: "m"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	if _, err := c.Embedder(); !errors.Is(err, graph.Invalid) {
		t.Errorf("Embedder() without an embedding model = %v, want Invalid", err)
	}
	var _ llm.ChatModel = c
	var _ vector.Embedder = (*Embedder)(nil)
}
