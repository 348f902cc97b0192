package langchain

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// contentReply is an OpenAI chat reply whose message content is text.
func contentReply(t *testing.T, text string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": "chatcmpl-js", "object": "chat.completion", "model": "smol",
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]int{"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newJSONSchemaModel(t *testing.T, f *fake) *ChatModel {
	t.Helper()
	m, err := NewChatModel(Config{Provider: OpenAICompatible, BaseURL: f.URL + "/v1", ChatModel: "smol",
		Structured: StructuredJSONSchema, HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestJSONSchemaForcedTool: a forced tool goes as its parameters schema in
// response_format (no tools, no tool_choice), the system prompt names the
// tool, and the reply's content comes back as that tool's call.
func TestJSONSchemaForcedTool(t *testing.T) {
	f := newFake(t, reply{body: contentReply(t, ` {"facts":["has a cat"]}`+"\n")})
	m := newJSONSchemaModel(t, f)
	got, err := m.Chat(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You extract facts.\n"},
			{Role: llm.RoleUser, Content: "I have a cat."},
		},
		Tools:      factTools,
		ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"},
		MaxTokens:  64,
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := llm.Response{
		ToolCalls:    []llm.ToolCall{{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["has a cat"]}`)}},
		Usage:        llm.Usage{PromptTokens: 40, CompletionTokens: 9},
		FinishReason: "stop",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chat response (-want +got):\n%s", diff)
	}
	wantBody := jsonOf(t, `{
	  "model": "smol",
	  "messages": [
	    {"role": "system", "content": "You extract facts.\n\nTools are called here by replying with JSON only. Reply with one JSON object, the arguments of add_facts: Store facts."},
	    {"role": "user", "content": "I have a cat."}
	  ],
	  "max_tokens": 64,
	  "response_format": {"type": "json_schema", "json_schema": {"name": "add_facts", "strict": true, "schema": `+factsSchema+`}}
	}`)
	if diff := cmp.Diff(wantBody, f.only(t).JSON(t)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

// TestJSONSchemaCalls: with several tools the reply is a list of calls, each
// one of the tools; "required" asks for at least one.
func TestJSONSchemaCalls(t *testing.T) {
	f := newFake(t, reply{body: contentReply(t,
		`{"calls":[{"name":"add_facts","arguments":{"facts":["likes tea"]}},{"name":"search_memory","arguments":{"query":"tea"}},{"name":"search_memory","arguments":null}]}`)})
	m := newJSONSchemaModel(t, f)
	got, err := m.Chat(context.Background(), llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleUser, Content: "I like tea."}},
		Tools:      factTools,
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	wantCalls := []llm.ToolCall{
		{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["likes tea"]}`)},
		{ID: "call_2", Name: "search_memory", Arguments: json.RawMessage(`{"query":"tea"}`)},
		{ID: "call_3", Name: "search_memory", Arguments: json.RawMessage(`{}`)},
	}
	if diff := cmp.Diff(wantCalls, got.ToolCalls); diff != "" || got.Text != "" {
		t.Errorf("tool calls (-want +got):\n%s\ntext %q", diff, got.Text)
	}
	body := f.only(t).JSON(t)
	wantFormat := jsonOf(t, `{"type": "json_schema", "json_schema": {"name": "tool_calls", "strict": true, "schema": {
	  "type": "object",
	  "properties": {"calls": {"type": "array", "minItems": 1, "items": {"anyOf": [
	    {"type": "object", "properties": {"name": {"type": "string", "enum": ["add_facts"]}, "arguments": `+factsSchema+`},
	     "required": ["name", "arguments"], "additionalProperties": false},
	    {"type": "object", "properties": {"name": {"type": "string", "enum": ["search_memory"]}, "arguments": {"type": "object", "properties": {"query": {"type": "string"}}}},
	     "required": ["name", "arguments"], "additionalProperties": false}
	  ]}}},
	  "required": ["calls"],
	  "additionalProperties": false
	}}}`)
	if diff := cmp.Diff(wantFormat, body["response_format"]); diff != "" {
		t.Errorf("response_format (-want +got):\n%s", diff)
	}
	for _, k := range []string{"tools", "tool_choice"} {
		if v, ok := body[k]; ok {
			t.Errorf("%s = %v sent in json_schema mode", k, v)
		}
	}
	wantMsgs := []any{
		map[string]any{"role": "system", "content": `Tools are called here by replying with JSON only: {"calls":[{"name":"<tool>","arguments":{…}}]}, one item per call. The tools:` +
			"\n- add_facts: Store facts.\n- search_memory: Search memories."},
		map[string]any{"role": "user", "content": "I like tea."},
	}
	if diff := cmp.Diff(wantMsgs, body["messages"]); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// TestJSONSchemaChoiceModes: which schema each tool choice gets.
func TestJSONSchemaChoiceModes(t *testing.T) {
	tests := []struct {
		name     string
		tools    []llm.Tool
		choice   llm.ToolChoice
		reply    string
		schema   string // response_format's json_schema.name; "" for no response_format
		minItems bool
		want     []llm.ToolCall
	}{
		{name: "required, one tool", tools: factTools[:1], choice: llm.ToolChoice{Mode: llm.ToolRequired},
			reply: `{"facts":[]}`, schema: "add_facts",
			want: []llm.ToolCall{{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":[]}`)}}},
		{name: "auto, one tool", tools: factTools[:1], choice: llm.ToolChoice{Mode: llm.ToolAuto},
			reply: `{"calls":[]}`, schema: "tool_calls", want: []llm.ToolCall{}},
		{name: "default is auto", tools: factTools, reply: `{"calls":[]}`, schema: "tool_calls", want: []llm.ToolCall{}},
		{name: "required, two tools", tools: factTools, choice: llm.ToolChoice{Mode: llm.ToolRequired},
			reply: `{"calls":[{"name":"search_memory","arguments":{"query":"x"}}]}`, schema: "tool_calls", minItems: true,
			want: []llm.ToolCall{{ID: "call_1", Name: "search_memory", Arguments: json.RawMessage(`{"query":"x"}`)}}},
		{name: "none", tools: factTools, choice: llm.ToolChoice{Mode: llm.ToolNone}, reply: `Hello.`},
		{name: "no tools", reply: `Hello.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{body: contentReply(t, tt.reply)})
			m := newJSONSchemaModel(t, f)
			got, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}, Tools: tt.tools, ToolChoice: tt.choice})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			body := f.only(t).JSON(t)
			if tt.schema == "" {
				wantBody := jsonOf(t, `{"model":"smol","messages":[{"role":"user","content":"Hi"}]}`)
				if diff := cmp.Diff(wantBody, body); diff != "" {
					t.Errorf("request body (-want +got):\n%s", diff)
				}
				if got.Text != tt.reply || got.ToolCalls != nil {
					t.Errorf("response = %+v, want the text %q", got, tt.reply)
				}
				return
			}
			format, _ := body["response_format"].(map[string]any)
			js, _ := format["json_schema"].(map[string]any)
			if js["name"] != tt.schema {
				t.Fatalf("response_format = %v, want the schema %q", format, tt.schema)
			}
			if tt.schema == "tool_calls" {
				calls := js["schema"].(map[string]any)["properties"].(map[string]any)["calls"].(map[string]any)
				if _, has := calls["minItems"]; has != tt.minItems {
					t.Errorf("calls schema %v: minItems present %v, want %v", calls, has, tt.minItems)
				}
				note := body["messages"].([]any)[0].(map[string]any)["content"].(string)
				if strings.Contains(note, "an empty list calls none") == tt.minItems {
					t.Errorf("system note %q for minItems %v", note, tt.minItems)
				}
			}
			if diff := cmp.Diff(tt.want, got.ToolCalls); diff != "" || got.Text != "" {
				t.Errorf("tool calls (-want +got):\n%s\ntext %q", diff, got.Text)
			}
		})
	}
}

// TestJSONSchemaUnusableReply: a reply that is not the JSON asked for comes
// back as text without tool calls, as a model that did not call the tool in
// tools mode (the caller's parser then says what is wrong); a Markdown fence
// around good JSON is tolerated.
func TestJSONSchemaUnusableReply(t *testing.T) {
	tests := []struct {
		name   string
		choice llm.ToolChoice
		reply  string
		calls  bool
	}{
		{name: "prose", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"}, reply: "Sure! Here are the facts."},
		{name: "cut short", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"}, reply: `{"facts":["has a c`},
		{name: "array", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"}, reply: `["has a cat"]`},
		{name: "no calls list", choice: llm.ToolChoice{Mode: llm.ToolRequired}, reply: `{"facts":["has a cat"]}`},
		{name: "calls not a list", choice: llm.ToolChoice{Mode: llm.ToolRequired}, reply: `{"calls":{"name":"add_facts"}}`},
		{name: "call without name", choice: llm.ToolChoice{Mode: llm.ToolRequired}, reply: `{"calls":[{"arguments":{}}]}`},
		{name: "arguments not an object", choice: llm.ToolChoice{Mode: llm.ToolRequired}, reply: `{"calls":[{"name":"add_facts","arguments":"x"}]}`},
		{name: "fenced", choice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"}, reply: "```json\n{\"facts\":[\"has a cat\"]}\n```", calls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{body: contentReply(t, tt.reply)})
			m := newJSONSchemaModel(t, f)
			got, err := m.Chat(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "I have a cat."}},
				Tools: factTools, ToolChoice: tt.choice})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if tt.calls {
				want := []llm.ToolCall{{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["has a cat"]}`)}}
				if diff := cmp.Diff(want, got.ToolCalls); diff != "" || got.Text != "" {
					t.Errorf("tool calls (-want +got):\n%s\ntext %q", diff, got.Text)
				}
				return
			}
			if got.Text != tt.reply || len(got.ToolCalls) != 0 {
				t.Errorf("response = %+v, want the text %q and no tool calls", got, tt.reply)
			}
		})
	}
}

// TestJSONSchemaConversation: the retry conversation of the memory pipeline
// (the model's earlier calls, the tools' results, a user turn saying what was
// wrong) goes without tool machinery: earlier calls as the JSON the schema
// asks for, results as user text joined with the next user turn.
func TestJSONSchemaConversation(t *testing.T) {
	f := newFake(t, reply{body: contentReply(t, `{"calls":[{"name":"search_memory","arguments":{"query":"cat"}}]}`)})
	m := newJSONSchemaModel(t, f)
	_, err := m.Chat(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Decide."},
			{Role: llm.RoleUser, Content: "Facts: F1."},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":["x"]}`)},
				{ID: "call_2", Name: "search_memory"},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Name: "add_facts", Content: `{"error":"not applied"}`},
			{Role: llm.RoleTool, ToolCallID: "call_2", Name: "search_memory", Content: `{"error":"not applied"}`},
			{Role: llm.RoleUser, Content: "Your previous reply could not be used."},
		},
		Tools:      factTools,
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	msgs := f.only(t).JSON(t)["messages"].([]any)
	if len(msgs) != 4 {
		t.Fatalf("sent %d messages, want 4: %v", len(msgs), msgs)
	}
	wantTail := []any{
		map[string]any{"role": "assistant", "content": `{"calls":[{"name":"add_facts","arguments":{"facts":["x"]}},{"name":"search_memory","arguments":{}}]}`},
		map[string]any{"role": "user", "content": "Result of add_facts: {\"error\":\"not applied\"}\n\nResult of search_memory: {\"error\":\"not applied\"}\n\nYour previous reply could not be used."},
	}
	if diff := cmp.Diff(wantTail, msgs[2:]); diff != "" {
		t.Errorf("messages after the first user turn (-want +got):\n%s", diff)
	}

	// The forced-tool form: an earlier single call is written as its
	// arguments, as the model wrote it.
	f = newFake(t, reply{body: contentReply(t, `{"facts":[]}`)})
	m = newJSONSchemaModel(t, f)
	_, err = m.Chat(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "Extract."},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "add_facts", Arguments: json.RawMessage(`{"facts":[1]}`)}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Name: "add_facts", Content: "bad"},
			{Role: llm.RoleUser, Content: "Again."},
		},
		Tools:      factTools,
		ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "add_facts"},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	msgs = f.only(t).JSON(t)["messages"].([]any)
	if got := msgs[2].(map[string]any)["content"]; got != `{"facts":[1]}` {
		t.Errorf("earlier call sent as %v, want its arguments", got)
	}

	// User turns of the caller's own stay as they are.
	f = newFake(t, reply{body: contentReply(t, `{"facts":[]}`)})
	m = newJSONSchemaModel(t, f)
	_, err = m.Chat(context.Background(), llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleUser, Content: "One."}, {Role: llm.RoleUser, Content: "Two."}},
		Tools:      factTools[:1],
		ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired},
	})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if msgs = f.only(t).JSON(t)["messages"].([]any); len(msgs) != 3 {
		t.Errorf("messages %v: want the system note and both user turns", msgs)
	}
}

// TestJSONSchemaRefusedRequests: what tools mode refuses, json_schema mode
// refuses too, before sending anything; Anthropic has no such mode.
func TestJSONSchemaRefusedRequests(t *testing.T) {
	f := newFake(t, reply{body: contentReply(t, `{}`)})
	m := newJSONSchemaModel(t, f)
	for name, req := range map[string]llm.Request{
		"unknown forced tool": {Messages: hi.Messages, Tools: factTools, ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "nope"}},
		"required no tools":   {Messages: hi.Messages, ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired}},
		"tool without name":   {Messages: hi.Messages, Tools: []llm.Tool{{Description: "x"}}},
		"bad parameters":      {Messages: hi.Messages, Tools: []llm.Tool{{Name: "x", Parameters: json.RawMessage(`{`)}}},
	} {
		_, err := m.Chat(context.Background(), req)
		if !errors.Is(err, graph.Invalid) {
			t.Errorf("%s: err = %v, want Invalid", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}

	for _, cfg := range []Config{
		{Provider: Anthropic, APIKey: "k", ChatModel: "claude", Structured: StructuredJSONSchema},
		{Provider: OpenAI, APIKey: "k", ChatModel: "gpt", Structured: "grammar"},
	} {
		if _, err := NewChatModel(cfg); !errors.Is(err, graph.Invalid) {
			t.Errorf("NewChatModel(%s, %q) = %v, want Invalid", cfg.Provider, cfg.Structured, err)
		}
	}
	for _, s := range []Structured{"", StructuredTools} {
		if _, err := NewChatModel(Config{Provider: Anthropic, APIKey: "k", ChatModel: "claude", Structured: s}); err != nil {
			t.Errorf("NewChatModel(anthropic, %q) = %v", s, err)
		}
	}
}

func TestSchemaName(t *testing.T) {
	for in, want := range map[string]string{
		"extract_memories":      "extract_memories",
		"ns.tool name":          "ns_tool_name",
		"":                      "tool_calls",
		strings.Repeat("a", 70): strings.Repeat("a", 64),
	} {
		if got := schemaName(in); got != want {
			t.Errorf("schemaName(%q) = %q, want %q", in, got, want)
		}
	}
}
