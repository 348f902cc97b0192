package langchain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/neomem/neomem/llm"
)

// Structured says how a ChatModel asks the model for tool calls.
type Structured string

// The structured-output modes.
const (
	// StructuredTools sends the tools and the tool choice and reads the
	// reply's tool_calls: OpenAI's function calling (the default).
	StructuredTools Structured = "tools"
	// StructuredJSONSchema sends no tools: the call the model must make is
	// a JSON schema in response_format ({"type":"json_schema",…}), which
	// servers with constrained decoding (llama.cpp, vLLM, Ollama, LM Studio)
	// enforce token by token, and the reply's content is read back into
	// tool calls. For servers and models whose tool calling is unreliable.
	StructuredJSONSchema Structured = "json_schema"
)

// Names of the wrapper schema's fields when the model may make several calls.
const (
	callsField = "calls"
	// callsSchemaName names the wrapper schema in response_format.
	callsSchemaName = "tool_calls"
)

// jsonSchemaCall is one chat call in StructuredJSONSchema mode: the schema
// the reply must follow and how to read it back into tool calls.
//
// When the model must make exactly one call of one tool (a forced tool, or
// "required" with a single tool), the schema is that tool's parameters and
// the reply is its arguments. Otherwise the reply is
// {"calls":[{"name":…,"arguments":{…}},…]}, each item one of the tools (an
// anyOf over them), at least one when a call is required.
type jsonSchemaCall struct {
	// single is the tool of a one-call schema; nil for the calls wrapper.
	single *llm.Tool
	// format is the request's response_format value.
	format json.RawMessage
}

// prepareJSONSchema rewrites req for StructuredJSONSchema mode: tools and
// tool choice are replaced by a response format, their names and
// descriptions are told in the system prompt, and earlier tool calls and
// tool results in the conversation become plain text (the server is not told
// about tools at all). It returns the call to read the reply with, nil when
// the request asks for no tool call (no tools, or tool choice none): then
// only the conversation is rewritten. Errors are the caller's: a request
// that cannot be expressed.
func (m *ChatModel) prepareJSONSchema(req llm.Request) (llm.Request, *jsonSchemaCall, error) {
	// The same checks as in tools mode: valid tools, a valid choice.
	if _, err := toolsOf(req.Tools); err != nil {
		return req, nil, err
	}
	if _, err := m.toolChoice(req.ToolChoice, req.Tools); err != nil {
		return req, nil, err
	}
	tools, choice := req.Tools, req.ToolChoice
	out := req
	out.Tools, out.ToolChoice = nil, llm.ToolChoice{}
	if len(tools) == 0 || choice.Mode == llm.ToolNone {
		out.Messages = plainConversation(req.Messages, nil)
		return out, nil, nil
	}
	js := &jsonSchemaCall{}
	var schema json.RawMessage
	var name, note string
	switch {
	case choice.Mode == llm.ToolForce:
		for i := range tools {
			if tools[i].Name == choice.Name {
				js.single = &tools[i]
			}
		}
	case choice.Mode == llm.ToolRequired && len(tools) == 1:
		js.single = &tools[0]
	}
	if js.single != nil {
		name, schema = js.single.Name, parametersOf(*js.single)
		note = "Tools are called here by replying with JSON only. Reply with one JSON object, the arguments of " + js.single.Name
		if js.single.Description != "" {
			note += ": " + js.single.Description
		}
	} else {
		required := choice.Mode == llm.ToolRequired
		name, schema = callsSchemaName, callsSchema(tools, required)
		var b strings.Builder
		b.WriteString(`Tools are called here by replying with JSON only: {"calls":[{"name":"<tool>","arguments":{…}}]}, one item per call`)
		if !required {
			b.WriteString(" (an empty list calls none)")
		}
		b.WriteString(". The tools:")
		for _, t := range tools {
			b.WriteString("\n- " + t.Name)
			if t.Description != "" {
				b.WriteString(": " + t.Description)
			}
		}
		note = b.String()
	}
	var err error
	js.format, err = json.Marshal(map[string]any{
		"type": "json_schema",
		"json_schema": map[string]any{
			"name":   schemaName(name),
			"schema": schema,
			"strict": true,
		},
	})
	if err != nil {
		return req, nil, fmt.Errorf("response format: %w", err)
	}
	out.Messages = withSystemNote(plainConversation(req.Messages, js), note)
	return out, js, nil
}

// parametersOf returns a tool's parameters schema, an empty object schema
// when it has none.
func parametersOf(t llm.Tool) json.RawMessage {
	if len(t.Parameters) == 0 {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return t.Parameters
}

// callsSchema is the wrapper schema: a list of calls, each the name of one
// tool (an enum of one value) with that tool's parameters as arguments.
func callsSchema(tools []llm.Tool, required bool) json.RawMessage {
	variants := make([]map[string]any, len(tools))
	for i, t := range tools {
		variants[i] = map[string]any{
			"type": "object",
			"properties": map[string]any{
				"name":      map[string]any{"type": "string", "enum": []string{t.Name}},
				"arguments": parametersOf(t),
			},
			"required":             []string{"name", "arguments"},
			"additionalProperties": false,
		}
	}
	list := map[string]any{"type": "array", "items": map[string]any{"anyOf": variants}}
	if required {
		list["minItems"] = 1
	}
	b, _ := json.Marshal(map[string]any{
		"type":                 "object",
		"properties":           map[string]any{callsField: list},
		"required":             []string{callsField},
		"additionalProperties": false,
	})
	return b
}

// schemaName makes a response_format name OpenAI accepts: letters, digits,
// underscores and dashes, at most 64 characters.
func schemaName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		out = callsSchemaName
	}
	return out
}

// withSystemNote appends note to the last system message, or puts it first
// in a system message of its own when there is none.
func withSystemNote(msgs []llm.Message, note string) []llm.Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == llm.RoleSystem {
			msgs[i].Content = strings.TrimRight(msgs[i].Content, "\n") + "\n\n" + note
			return msgs
		}
	}
	return append([]llm.Message{{Role: llm.RoleSystem, Content: note}}, msgs...)
}

// plainConversation returns a copy of msgs without tool machinery, for a
// server that is not told about tools: an assistant's tool calls become its
// text, written as the JSON js's schema asks for (so the model sees its
// earlier replies as it wrote them); a tool's result becomes a user message
// naming the tool, joined with the tool results and the user text around it
// into one user turn (chat templates of small models often require turns to
// alternate). Other messages pass unchanged.
func plainConversation(msgs []llm.Message, js *jsonSchemaCall) []llm.Message {
	out := make([]llm.Message, 0, len(msgs))
	lastWasResult := false
	for _, m := range msgs {
		result := m.Role == llm.RoleTool
		switch {
		case m.Role == llm.RoleAssistant && len(m.ToolCalls) > 0:
			m = llm.Message{Role: llm.RoleAssistant, Content: js.render(m.ToolCalls)}
		case result:
			name := m.Name
			if name == "" {
				name = "the tool"
			}
			m = llm.Message{Role: llm.RoleUser, Content: "Result of " + name + ": " + m.Content}
		}
		n := len(out)
		if (result || lastWasResult) && n > 0 && m.Role == llm.RoleUser && out[n-1].Role == llm.RoleUser &&
			len(m.Images) == 0 && len(out[n-1].Images) == 0 {
			out[n-1].Content += "\n\n" + m.Content
		} else {
			out = append(out, m)
		}
		lastWasResult = result
	}
	return out
}

// render writes tool calls as the reply the schema asks for: the arguments
// of a single call of the one-call tool, else the calls wrapper.
func (js *jsonSchemaCall) render(calls []llm.ToolCall) string {
	args := func(c llm.ToolCall) json.RawMessage {
		if len(bytes.TrimSpace(c.Arguments)) == 0 || !json.Valid(c.Arguments) {
			return json.RawMessage("{}")
		}
		return c.Arguments
	}
	if js != nil && js.single != nil && len(calls) == 1 && calls[0].Name == js.single.Name {
		return string(args(calls[0]))
	}
	type wireCall struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	list := make([]wireCall, len(calls))
	for i, c := range calls {
		list[i] = wireCall{Name: c.Name, Arguments: args(c)}
	}
	b, _ := json.Marshal(map[string][]wireCall{callsField: list})
	return string(b)
}

// parse reads the tool calls out of a reply's text. A reply that is not the
// JSON the schema asks for (a server that ignored the schema, a reply cut
// short by the token limit) is returned as text without tool calls, as a
// model that did not call a tool in tools mode: the caller's parser then
// says what is wrong, and may ask again.
func (js *jsonSchemaCall) parse(r llm.Response) llm.Response {
	calls, err := js.calls(unfence(r.Text))
	if err != nil {
		return r
	}
	r.Text, r.ToolCalls = "", calls
	return r
}

func (js *jsonSchemaCall) calls(text string) ([]llm.ToolCall, error) {
	if !isObject(text) {
		return nil, errors.New("the reply is not a JSON object")
	}
	if js.single != nil {
		return []llm.ToolCall{{ID: callID(0), Name: js.single.Name, Arguments: json.RawMessage(text)}}, nil
	}
	var reply map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &reply); err != nil {
		return nil, err
	}
	var list []struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(reply[callsField], &list); err != nil || reply[callsField] == nil {
		return nil, errors.New(`the reply has no "calls" list`)
	}
	out := make([]llm.ToolCall, 0, len(list))
	for i, c := range list {
		args := strings.TrimSpace(string(c.Arguments))
		if args == "" || args == "null" {
			args = "{}"
		}
		if c.Name == "" || !isObject(args) {
			return nil, fmt.Errorf("calls[%d] has no name or its arguments are not an object", i)
		}
		out = append(out, llm.ToolCall{ID: callID(i), Name: c.Name, Arguments: json.RawMessage(args)})
	}
	return out, nil
}

// callID names the i-th call of a reply; the server gives none.
func callID(i int) string { return "call_" + strconv.Itoa(i+1) }

// isObject reports whether s is one valid JSON object.
func isObject(s string) bool {
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}

// unfence trims a reply and removes a Markdown code fence around it, which
// some servers add when they do not constrain the output.
func unfence(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "```"); ok {
		if body, ok := strings.CutSuffix(rest, "```"); ok {
			if nl := strings.IndexByte(body, '\n'); nl >= 0 {
				// Drop an info string such as "json".
				if info := strings.TrimSpace(body[:nl]); !strings.ContainsAny(info, "{[") {
					body = body[nl+1:]
				}
			}
			s = strings.TrimSpace(body)
		}
	}
	return s
}
