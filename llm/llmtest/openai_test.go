package llmtest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
)

func post(t *testing.T, url string, body any, into any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestOpenAIServerChatWithTools(t *testing.T) {
	model := NewScripted(ToolCalls(Call("add_memory", map[string]string{"text": "likes pizza"})))
	srv := &OpenAIServer{Model: model, Embedder: NewHashEmbedder(8)}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	req := map[string]any{
		"model": "x",
		"messages": []map[string]any{
			{"role": "system", "content": "extract facts"},
			{"role": "user", "content": []map[string]any{{"type": "text", "text": "I like pizza"}, {"type": "image_url", "image_url": map[string]string{"url": "https://example.com/a.png"}}}},
		},
		"tools":       []map[string]any{{"type": "function", "function": map[string]any{"name": "add_memory", "description": "add", "parameters": map[string]any{"type": "object"}}}},
		"tool_choice": map[string]any{"type": "function", "function": map[string]string{"name": "add_memory"}},
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content   *string
				ToolCalls []wireToolCall `json:"tool_calls"`
			}
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	if code := post(t, ts.URL+"/v1/chat/completions", req, &out); code != 200 {
		t.Fatalf("status %d", code)
	}
	msg := out.Choices[0].Message
	if msg.Content != nil || len(msg.ToolCalls) != 1 || msg.ToolCalls[0].Function.Name != "add_memory" ||
		msg.ToolCalls[0].Function.Arguments != `{"text":"likes pizza"}` || out.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("reply = %+v", out)
	}
	if out.Usage.PromptTokens == 0 {
		t.Fatalf("usage = %+v", out.Usage)
	}
	got := model.Requests()[0]
	want := llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "extract facts"},
			{Role: llm.RoleUser, Content: "I like pizza", Images: []llm.Image{{URL: "https://example.com/a.png"}}},
		},
		Tools:      []llm.Tool{{Name: "add_memory", Description: "add", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_memory"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("request seen by the model (-want +got):\n%s", diff)
	}
	var stats Stats
	resp, _ := http.Get(ts.URL + "/v1/_stats")
	_ = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats.ChatCalls != 1 || stats.PromptTokens != out.Usage.PromptTokens {
		t.Fatalf("stats = %+v", stats)
	}

	// Nothing scripted any more: an error status, not a made-up reply.
	if code := post(t, ts.URL+"/v1/chat/completions", req, nil); code != 500 {
		t.Fatalf("unscripted call status %d, want 500", code)
	}
	// Queue over HTTP.
	var queued map[string]int
	post(t, ts.URL+"/v1/_script", map[string]any{"replies": []map[string]any{{"content": "hello"}}}, &queued)
	if queued["pending"] != 1 {
		t.Fatalf("_script = %v", queued)
	}
}

func TestOpenAIServerEmbeddings(t *testing.T) {
	emb := NewHashEmbedder(16)
	ts := httptest.NewServer(&OpenAIServer{Embedder: emb})
	defer ts.Close()
	var out struct {
		Data []struct {
			Index     int
			Embedding json.RawMessage
		}
	}
	post(t, ts.URL+"/v1/embeddings", map[string]any{"input": []string{"a b", "c"}}, &out)
	var v []float32
	if err := json.Unmarshal(out.Data[1].Embedding, &v); err != nil || len(out.Data) != 2 {
		t.Fatalf("float reply: %v %v", out, err)
	}
	if diff := cmp.Diff(emb.Vector("c"), v); diff != "" {
		t.Fatalf("vector (-want +got):\n%s", diff)
	}
	post(t, ts.URL+"/v1/embeddings", map[string]any{"input": "a b", "encoding_format": "base64"}, &out)
	var s string
	_ = json.Unmarshal(out.Data[0].Embedding, &s)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 64 {
		t.Fatalf("base64 reply %q: %v", s, err)
	}
	want := emb.Vector("a b")
	for i := range want {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != want[i] {
			t.Fatalf("base64 component %d = %v, want %v", i, got, want[i])
		}
	}
	if code := post(t, ts.URL+"/v1/embeddings", map[string]any{"input": 42}, nil); code != 400 {
		t.Fatalf("bad input status %d", code)
	}
}
