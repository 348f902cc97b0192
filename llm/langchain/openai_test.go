package langchain

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
)

const factsSchema = `{"type":"object","properties":{"facts":{"type":"array","items":{"type":"string"}}},"required":["facts"]}`

// pngHeader is the start of a PNG file: enough for content sniffing.
var pngHeader = []byte("\x89PNG\r\n\x1a\n")

// conversation exercises every message shape: system, user text with a
// linked and an inline image, an assistant turn with text and a tool call,
// the tool's result, and a final user turn.
func conversation(images ...llm.Image) []llm.Message {
	return []llm.Message{
		{Role: llm.RoleSystem, Content: "You extract facts."},
		{Role: llm.RoleUser, Content: "Remember this picture.", Images: images},
		{Role: llm.RoleAssistant, Content: "Looking it up.", ToolCalls: []llm.ToolCall{
			{ID: "call_1", Name: "search_memory", Arguments: json.RawMessage(`{"query":"cat"}`)},
		}},
		{Role: llm.RoleTool, ToolCallID: "call_1", Name: "search_memory", Content: "no memories"},
		{Role: llm.RoleUser, Content: "Save it."},
	}
}

var factTools = []llm.Tool{
	{Name: "add_facts", Description: "Store facts.", Parameters: json.RawMessage(factsSchema)},
	{Name: "search_memory", Description: "Search memories.", Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"}}}`)},
}

func ptr[T any](v T) *T { return &v }

const openaiToolReply = `{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-test",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_9", "type": "function", "function": {"name": "add_facts", "arguments": "{\"facts\":[\"has a cat\"]}"}}
    ]},
    "finish_reason": "tool_calls"
  }],
  "usage": {"prompt_tokens": 57, "completion_tokens": 12, "total_tokens": 69}
}`

func newOpenAI(t *testing.T, f *fake) *ChatModel {
	t.Helper()
	m, err := NewChatModel(Config{Provider: OpenAI, APIKey: "sk-test", BaseURL: f.URL + "/v1", ChatModel: "gpt-test", HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenAIChatToolCall(t *testing.T) {
	f := newFake(t, reply{body: openaiToolReply})
	m := newOpenAI(t, f)
	got, err := m.Chat(context.Background(), llm.Request{
		Messages: conversation(
			llm.Image{URL: "https://example.com/cat.png"},
			llm.Image{Data: pngHeader},
		),
		Tools:       factTools,
		ToolChoice:  llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"},
		Temperature: ptr(0.2),
		MaxTokens:   256,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{
		ToolCalls:    []llm.ToolCall{{ID: "call_9", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["has a cat"]}`)}},
		Usage:        llm.Usage{PromptTokens: 57, CompletionTokens: 12},
		FinishReason: "tool_calls",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}

	req := f.only(t)
	if req.method != "POST" || req.path != "/v1/chat/completions" {
		t.Errorf("request = %s %s, want POST /v1/chat/completions", req.method, req.path)
	}
	if got, want := req.header.Get("Authorization"), "Bearer sk-test"; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	wantBody := jsonOf(t, `{
	  "model": "gpt-test",
	  "messages": [
	    {"role": "system", "content": "You extract facts."},
	    {"role": "user", "content": [
	      {"type": "text", "text": "Remember this picture."},
	      {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
	      {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
	    ]},
	    {"role": "assistant", "content": "Looking it up.", "tool_calls": [
	      {"id": "call_1", "type": "function", "function": {"name": "search_memory", "arguments": "{\"query\":\"cat\"}"}}
	    ]},
	    {"role": "tool", "content": "no memories", "tool_call_id": "call_1"},
	    {"role": "user", "content": "Save it."}
	  ],
	  "temperature": 0.2,
	  "max_completion_tokens": 256,
	  "tools": [
	    {"type": "function", "function": {"name": "add_facts", "description": "Store facts.", "parameters": `+factsSchema+`}},
	    {"type": "function", "function": {"name": "search_memory", "description": "Search memories.", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}
	  ],
	  "tool_choice": {"type": "function", "function": {"name": "add_facts"}}
	}`)
	if diff := cmp.Diff(wantBody, req.JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

func TestOpenAIChatText(t *testing.T) {
	f := newFake(t, reply{body: `{"id":"chatcmpl-2","object":"chat.completion","model":"gpt-test",
	  "choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],
	  "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`})
	m := newOpenAI(t, f)
	got, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{Text: "Hello.", Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 2}, FinishReason: "stop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}
	// Without Temperature, MaxTokens and tools nothing of them is sent: the
	// provider's defaults apply.
	wantBody := jsonOf(t, `{"model":"gpt-test","messages":[{"role":"user","content":"Hi"}]}`)
	if diff := cmp.Diff(wantBody, f.only(t).JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

func TestOpenAIChatToolChoice(t *testing.T) {
	tests := []struct {
		name   string
		choice llm.ToolChoice
		want   any // the tool_choice sent; nil for none
	}{
		{name: "default", choice: llm.ToolChoice{}, want: nil},
		{name: "auto", choice: llm.ToolChoice{Mode: llm.ToolAuto}, want: "auto"},
		{name: "none", choice: llm.ToolChoice{Mode: llm.ToolNone}, want: "none"},
		{name: "required", choice: llm.ToolChoice{Mode: llm.ToolRequired}, want: "required"},
		{name: "force", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "search_memory"},
			want: map[string]any{"type": "function", "function": map[string]any{"name": "search_memory"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{body: openaiToolReply})
			m := newOpenAI(t, f)
			req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}, Tools: factTools, ToolChoice: tt.choice}
			if _, err := m.Chat(context.Background(), req); err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if diff := cmp.Diff(tt.want, f.only(t).JSON(t)["tool_choice"]); diff != "" {
				t.Errorf("tool_choice (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenAICompatibleChat(t *testing.T) {
	// An Ollama-style server: no API key, max_tokens rather than
	// max_completion_tokens.
	f := newFake(t, reply{body: `{"id":"chatcmpl-3","object":"chat.completion","model":"llama3.2",
	  "choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[
	    {"id":"call_x1","index":0,"type":"function","function":{"name":"add_facts","arguments":"{\"facts\":[\"likes tea\"]}"}}]},
	    "finish_reason":"tool_calls"}],
	  "usage":{"prompt_tokens":30,"completion_tokens":8,"total_tokens":38}}`})
	m, err := NewChatModel(Config{Provider: OpenAICompatible, BaseURL: f.URL + "/v1/", ChatModel: "llama3.2", HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Name(), "openai-compatible/llama3.2"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	got, err := m.Chat(context.Background(), llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleUser, Content: "I like tea."}},
		Tools:      factTools[:1],
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
		MaxTokens:  64,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{
		ToolCalls:    []llm.ToolCall{{ID: "call_x1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["likes tea"]}`)}},
		Usage:        llm.Usage{PromptTokens: 30, CompletionTokens: 8},
		FinishReason: "tool_calls",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}
	req := f.only(t)
	if req.path != "/v1/chat/completions" {
		t.Errorf("path = %q, want /v1/chat/completions", req.path)
	}
	if v, ok := req.header["Authorization"]; ok {
		t.Errorf("Authorization = %q sent without an API key", v)
	}
	wantBody := jsonOf(t, `{
	  "model": "llama3.2",
	  "messages": [{"role": "user", "content": "I like tea."}],
	  "max_tokens": 64,
	  "tools": [{"type": "function", "function": {"name": "add_facts", "description": "Store facts.", "parameters": `+factsSchema+`}}],
	  "tool_choice": "required"
	}`)
	if diff := cmp.Diff(wantBody, req.JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}
