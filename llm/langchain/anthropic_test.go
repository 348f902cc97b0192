package langchain

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

const anthropicToolReply = `{
  "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
  "content": [
    {"type": "text", "text": "Saving that."},
    {"type": "tool_use", "id": "toolu_1", "name": "add_facts", "input": {"facts": ["has a cat"]}}
  ],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 40, "output_tokens": 9}
}`

func newAnthropic(t *testing.T, f *fake) *ChatModel {
	t.Helper()
	m, err := NewChatModel(Config{Provider: Anthropic, APIKey: "ak-test", BaseURL: f.URL + "/v1", ChatModel: "claude-test", HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAnthropicChatToolCall(t *testing.T) {
	f := newFake(t, reply{body: anthropicToolReply})
	m := newAnthropic(t, f)
	msgs := conversation(
		llm.Image{Data: pngHeader, MIMEType: "image/png"},
		llm.Image{URL: "data:image/jpeg;base64,/9j/4AA="},
	)
	// A second system message and a second tool call in the assistant turn.
	msgs = append([]llm.Message{msgs[0], {Role: llm.RoleSystem, Content: "Answer briefly."}}, msgs[1:]...)
	msgs[3].ToolCalls = append(msgs[3].ToolCalls, llm.ToolCall{ID: "call_2", Name: "search_memory", Arguments: json.RawMessage(`{"query":"dog"}`)})
	msgs = append(msgs[:5], append([]llm.Message{{Role: llm.RoleTool, ToolCallID: "call_2", Name: "search_memory", Content: "one memory"}}, msgs[5:]...)...)

	got, err := m.Chat(context.Background(), llm.Request{
		Messages:    msgs,
		Tools:       factTools,
		ToolChoice:  llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"},
		Temperature: ptr(0.2),
		MaxTokens:   256,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{
		Text:         "Saving that.",
		ToolCalls:    []llm.ToolCall{{ID: "toolu_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["has a cat"]}`)}},
		Usage:        llm.Usage{PromptTokens: 40, CompletionTokens: 9},
		FinishReason: "tool_use",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}

	req := f.only(t)
	if req.method != "POST" || req.path != "/v1/messages" {
		t.Errorf("request = %s %s, want POST /v1/messages", req.method, req.path)
	}
	for k, want := range map[string]string{"X-Api-Key": "ak-test", "Anthropic-Version": "2023-06-01", "Authorization": ""} {
		if got := req.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	wantBody := jsonOf(t, `{
	  "model": "claude-test",
	  "system": "You extract facts.\n\nAnswer briefly.",
	  "messages": [
	    {"role": "user", "content": [
	      {"type": "text", "text": "Remember this picture."},
	      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
	      {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AA="}}
	    ]},
	    {"role": "assistant", "content": [
	      {"type": "text", "text": "Looking it up."},
	      {"type": "tool_use", "id": "call_1", "name": "search_memory", "input": {"query": "cat"}},
	      {"type": "tool_use", "id": "call_2", "name": "search_memory", "input": {"query": "dog"}}
	    ]},
	    {"role": "user", "content": [
	      {"type": "tool_result", "tool_use_id": "call_1", "content": "no memories"},
	      {"type": "tool_result", "tool_use_id": "call_2", "content": "one memory"},
	      {"type": "text", "text": "Save it."}
	    ]}
	  ],
	  "max_tokens": 256,
	  "temperature": 0.2,
	  "tools": [
	    {"name": "add_facts", "description": "Store facts.", "input_schema": `+factsSchema+`},
	    {"name": "search_memory", "description": "Search memories.", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}
	  ],
	  "tool_choice": {"type": "tool", "name": "add_facts"}
	}`)
	if diff := cmp.Diff(wantBody, req.JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

func TestAnthropicChatText(t *testing.T) {
	f := newFake(t, reply{body: `{"id":"msg_2","type":"message","role":"assistant","model":"claude-test",
	  "content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn","stop_sequence":null,
	  "usage":{"input_tokens":6,"output_tokens":3}}`})
	m := newAnthropic(t, f)
	if got, want := m.Name(), "anthropic/claude-test"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	got, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{Text: "Hello.", Usage: llm.Usage{PromptTokens: 6, CompletionTokens: 3}, FinishReason: "end_turn"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}
	// No temperature is sent when unset; langchaingo itself fills in
	// max_tokens 2048, which the Messages API requires.
	wantBody := jsonOf(t, `{"model":"claude-test","max_tokens":2048,
	  "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`)
	if diff := cmp.Diff(wantBody, f.only(t).JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

func TestAnthropicChatToolChoice(t *testing.T) {
	tests := []struct {
		name   string
		choice llm.ToolChoice
		want   any // the tool_choice sent; nil for none
	}{
		{name: "default", choice: llm.ToolChoice{}, want: nil},
		{name: "auto", choice: llm.ToolChoice{Mode: llm.ToolAuto}, want: map[string]any{"type": "auto"}},
		{name: "none", choice: llm.ToolChoice{Mode: llm.ToolNone}, want: map[string]any{"type": "none"}},
		{name: "required", choice: llm.ToolChoice{Mode: llm.ToolRequired}, want: map[string]any{"type": "any"}},
		{name: "force", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "search_memory"}, want: map[string]any{"type": "tool", "name": "search_memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{body: anthropicToolReply})
			m := newAnthropic(t, f)
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

func TestAnthropicImageLinkRefused(t *testing.T) {
	f := newFake(t, reply{body: anthropicToolReply})
	m := newAnthropic(t, f)
	_, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "What is this?", Images: []llm.Image{{URL: "https://example.com/cat.png"}}},
	}})
	if !errors.Is(err, graph.Invalid) {
		t.Errorf("Chat with an image link = %v, want Invalid", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("fake received %d requests, want 0", n)
	}
}
