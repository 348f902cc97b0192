package langchain

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
)

// TestAgainstFakeOpenAIServer drives the project's own fake OpenAI server
// (llmtest.OpenAIServer, also served by cmd/fakellm) with this adapter: the
// fake must speak the wire format a real client sends and reads.
func TestAgainstFakeOpenAIServer(t *testing.T) {
	model := llmtest.NewScripted(llmtest.ToolCalls(llmtest.Call("add_memory", map[string]string{"text": "likes pizza"})))
	emb := llmtest.NewHashEmbedder(32)
	fake := &llmtest.OpenAIServer{Model: model, Embedder: emb}
	ts := httptest.NewServer(fake)
	defer ts.Close()
	cfg := Config{Provider: OpenAICompatible, BaseURL: ts.URL + "/v1", ChatModel: "scripted", EmbeddingModel: "hash", Dimensions: 32}

	chat, err := NewChatModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tools := []llm.Tool{{Name: "add_memory", Description: "store a fact", Parameters: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`)}}
	resp, err := chat.Chat(context.Background(), llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleSystem, Content: "extract"}, {Role: llm.RoleUser, Content: "I like pizza"}},
		Tools:      tools,
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Name != "add_memory" || string(resp.ToolCalls[0].Arguments) != `{"text":"likes pizza"}` {
		t.Fatalf("response = %+v", resp)
	}
	if resp.Usage != fake.Stats().Usage() || resp.Usage.PromptTokens == 0 {
		t.Fatalf("usage %+v, server counted %+v", resp.Usage, fake.Stats())
	}
	got := model.Requests()[0]
	if diff := cmp.Diff(llm.ToolChoice{Mode: llm.ToolRequired}, got.ToolChoice); diff != "" {
		t.Errorf("tool choice seen by the model (-want +got):\n%s", diff)
	}
	if len(got.Tools) != 1 || got.Tools[0].Name != "add_memory" || len(got.Messages) != 2 || got.Messages[1].Content != "I like pizza" {
		t.Errorf("request seen by the model = %+v", got)
	}

	e, err := NewEmbedder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.Embed(context.Background(), []string{"a", "b c"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]float32{emb.Vector("a"), emb.Vector("b c")}, vs); diff != "" {
		t.Fatalf("vectors (-want +got):\n%s", diff)
	}
}
