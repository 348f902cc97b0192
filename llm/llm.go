// Package llm declares the seam between neomem and chat models: a ChatModel
// that can call tools and reports token usage (the embedder seam is
// vector.Embedder). Everything else depends on these interfaces, never on a
// provider SDK; each provider lives in its own adapter package (llm/gemini,
// llm/langchain; the local embedding model is vector/local) and
// deterministic fakes of both seams live in llm/llmtest.
//
// This package also holds what every adapter shares: the provider error type
// that maps onto graph's error kinds, and the retry/timeout wrapper.
package llm

import (
	"context"
	"encoding/json"
)

// Role is who speaks a message.
type Role string

// The roles of a conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool carries the result of a tool call back to the model.
	RoleTool Role = "tool"
)

// Message is one turn of a conversation.
type Message struct {
	Role Role
	// Content is the text of the message.
	Content string
	// Images are pictures attached to a user message (for vision models).
	Images []Image
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall
	// ToolCallID and Name identify the call a RoleTool message answers.
	ToolCallID string
	Name       string
}

// Image is a picture given to a vision-capable model, by URL or inline bytes.
type Image struct {
	URL      string
	MIMEType string
	Data     []byte
}

// Tool is a function the model may call. Parameters is a JSON Schema object.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ToolChoiceMode says whether and which tools the model must call.
type ToolChoiceMode string

// The tool choice modes.
const (
	// ToolAuto lets the model decide (the default).
	ToolAuto ToolChoiceMode = "auto"
	// ToolNone forbids tool calls.
	ToolNone ToolChoiceMode = "none"
	// ToolRequired makes the model call at least one tool.
	ToolRequired ToolChoiceMode = "required"
	// ToolForce makes the model call the tool named in ToolChoice.Name.
	ToolForce ToolChoiceMode = "tool"
)

// ToolChoice constrains tool calling.
type ToolChoice struct {
	Mode ToolChoiceMode
	Name string
}

// ToolCall is one call the model made. Arguments is the JSON object the model
// produced; callers parse it strictly.
type ToolCall struct {
	ID        string
	Name      string
	Arguments json.RawMessage
}

// Usage counts tokens of one call.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Add returns the sum of two usages.
func (u Usage) Add(v Usage) Usage {
	return Usage{PromptTokens: u.PromptTokens + v.PromptTokens, CompletionTokens: u.CompletionTokens + v.CompletionTokens}
}

// Request is one chat call.
type Request struct {
	Messages   []Message
	Tools      []Tool
	ToolChoice ToolChoice
	// Temperature is nil for the provider's default.
	Temperature *float64
	// MaxTokens bounds the reply; 0 means the provider's default.
	MaxTokens int
}

// Response is a model's reply: text and/or tool calls, and token usage.
type Response struct {
	Text      string
	ToolCalls []ToolCall
	Usage     Usage
	// FinishReason is the provider's stop reason, for diagnostics.
	FinishReason string
}

// ChatModel is a chat model that can call tools.
type ChatModel interface {
	// Chat sends one request. Errors are *ProviderError (kinds Unavailable for
	// rate limits, 5xx and time-outs; Invalid for requests the provider
	// rejects; Other for authentication failures and malformed replies).
	// Safe for concurrent use.
	Chat(ctx context.Context, req Request) (Response, error)
	// Name identifies the provider and model, e.g. "gemini/gemini-2.5-flash".
	Name() string
}
