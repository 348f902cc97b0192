package langchain

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// ChatModel is an llm.ChatModel over langchaingo's OpenAI or Anthropic
// client. It is safe for concurrent use.
type ChatModel struct {
	provider   Provider
	model      string
	keyless    bool
	structured Structured
	llm        llms.Model
}

var _ llm.ChatModel = (*ChatModel)(nil)

// NewChatModel returns the chat model cfg describes. Errors are Invalid
// (a missing key, base URL or model name, an unknown provider).
func NewChatModel(cfg Config) (*ChatModel, error) {
	const op = "langchain: new chat model"
	if err := cfg.check(op); err != nil {
		return nil, err
	}
	if cfg.ChatModel == "" {
		return nil, graph.E(graph.Invalid, op, "%s needs a chat model name", cfg.Provider)
	}
	m := &ChatModel{provider: cfg.Provider, model: cfg.ChatModel, keyless: cfg.APIKey == "", structured: cfg.Structured}
	var err error
	switch cfg.Provider {
	case Anthropic:
		m.llm, err = anthropic.New(
			anthropic.WithToken(cfg.APIKey),
			anthropic.WithModel(cfg.ChatModel),
			anthropic.WithBaseURL(cfg.baseURL()),
			anthropic.WithHTTPClient(cfg.httpClient()),
		)
	default:
		m.llm, err = openai.New(
			openai.WithToken(cfg.token()),
			openai.WithModel(cfg.ChatModel),
			openai.WithBaseURL(cfg.baseURL()),
			// Empty on purpose: langchaingo would otherwise take
			// OPENAI_ORGANIZATION from the environment.
			openai.WithOrganization(""),
			openai.WithHTTPClient(cfg.httpClient()),
		)
	}
	if err != nil {
		return nil, graph.Wrap(graph.Invalid, op, err)
	}
	return m, nil
}

// Name returns "provider/model", e.g. "openai/gpt-4o-mini".
func (m *ChatModel) Name() string { return string(m.provider) + "/" + m.model }

// Chat sends one request. Errors are *llm.ProviderError: Unavailable for rate
// limits, 5xx and transport failures; Invalid for requests the provider
// rejects or that cannot be expressed for it (e.g. an image URL for
// Anthropic); Other for authentication failures and malformed replies.
//
// In StructuredJSONSchema mode the tools go as a response format and the
// reply's content comes back as tool calls (see prepareJSONSchema); the
// caller sees the same Response as in tools mode.
func (m *ChatModel) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	provider := string(m.provider)
	var js *jsonSchemaCall
	if m.structured == StructuredJSONSchema {
		var err error
		if req, js, err = m.prepareJSONSchema(req); err != nil {
			return llm.Response{}, invalid(provider, err)
		}
	}
	msgs, err := m.messages(req.Messages)
	if err != nil {
		return llm.Response{}, invalid(provider, err)
	}
	c := &call{provider: provider, keyless: m.keyless, mergeTurns: m.provider == Anthropic}
	opts, err := m.options(req, c)
	if err != nil {
		return llm.Response{}, invalid(provider, err)
	}
	if js != nil {
		c.set = map[string]json.RawMessage{"response_format": js.format}
	}
	resp, err := m.llm.GenerateContent(withCall(ctx, c), msgs, opts...)
	if err != nil {
		return llm.Response{}, c.fail(ctx, err)
	}
	out, err := m.response(resp)
	if err != nil {
		return llm.Response{}, llm.MalformedError(provider, err)
	}
	if js != nil {
		out = js.parse(out)
	}
	return out, nil
}

// options maps tools, tool choice, temperature and token limit to
// langchaingo call options, and to request edits where langchaingo has no
// option: it always sends a temperature (0 when unset) and drops the tool
// choice for Anthropic.
func (m *ChatModel) options(req llm.Request, c *call) ([]llms.CallOption, error) {
	var opts []llms.CallOption
	if req.Temperature != nil {
		opts = append(opts, llms.WithTemperature(*req.Temperature))
	} else {
		c.del = append(c.del, "temperature")
	}
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
		if m.provider == OpenAICompatible {
			// Ollama, vLLM and LM Studio all read max_tokens; not all read
			// OpenAI's newer max_completion_tokens.
			opts = append(opts, openai.WithLegacyMaxTokensField())
		}
	}
	tools, err := toolsOf(req.Tools)
	if err != nil {
		return nil, err
	}
	if len(tools) > 0 {
		opts = append(opts, llms.WithTools(tools))
	}
	choice, err := m.toolChoice(req.ToolChoice, req.Tools)
	if err != nil || choice == nil {
		return opts, err
	}
	if m.provider == Anthropic {
		raw, err := json.Marshal(choice)
		if err != nil {
			return nil, fmt.Errorf("tool choice: %w", err)
		}
		c.set = map[string]json.RawMessage{"tool_choice": raw}
		return opts, nil
	}
	return append(opts, llms.WithToolChoice(choice)), nil
}

// toolsOf converts tool declarations; Parameters is passed on as the JSON
// Schema it is.
func toolsOf(in []llm.Tool) ([]llms.Tool, error) {
	out := make([]llms.Tool, 0, len(in))
	for _, t := range in {
		if t.Name == "" {
			return nil, errors.New("tool without a name")
		}
		params := t.Parameters
		if len(params) == 0 {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		} else if !json.Valid(params) {
			return nil, fmt.Errorf("tool %q: parameters are not valid JSON", t.Name)
		}
		out = append(out, llms.Tool{
			Type:     "function",
			Function: &llms.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: params},
		})
	}
	return out, nil
}

// anthropicChoice is Anthropic's tool_choice object.
type anthropicChoice struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// toolChoice returns the provider's form of the tool choice, nil for the
// provider's default (no mode, or no tools to choose from).
func (m *ChatModel) toolChoice(tc llm.ToolChoice, tools []llm.Tool) (any, error) {
	switch tc.Mode {
	case "", llm.ToolAuto, llm.ToolNone, llm.ToolRequired, llm.ToolForce:
	default:
		return nil, fmt.Errorf("unknown tool choice mode %q", tc.Mode)
	}
	if len(tools) == 0 {
		if tc.Mode == llm.ToolRequired || tc.Mode == llm.ToolForce {
			return nil, fmt.Errorf("tool choice %q without tools", tc.Mode)
		}
		return nil, nil
	}
	if tc.Mode == llm.ToolForce && !hasTool(tools, tc.Name) {
		return nil, fmt.Errorf("forced tool %q is not among the tools", tc.Name)
	}
	if m.provider == Anthropic {
		switch tc.Mode {
		case llm.ToolAuto:
			return anthropicChoice{Type: "auto"}, nil
		case llm.ToolNone:
			return anthropicChoice{Type: "none"}, nil
		case llm.ToolRequired:
			return anthropicChoice{Type: "any"}, nil
		case llm.ToolForce:
			return anthropicChoice{Type: "tool", Name: tc.Name}, nil
		}
		return nil, nil
	}
	switch tc.Mode {
	case llm.ToolAuto, llm.ToolNone, llm.ToolRequired:
		return string(tc.Mode), nil
	case llm.ToolForce:
		return llms.ToolChoice{Type: "function", Function: &llms.FunctionReference{Name: tc.Name}}, nil
	}
	return nil, nil
}

func hasTool(tools []llm.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// messages converts the conversation. For Anthropic, whose langchaingo
// client reads only the first part of an assistant message and joins system
// messages without a separator, system texts are merged into one message and
// each assistant part becomes its own message (the recorder merges them back
// into one turn; see mergeTurns).
func (m *ChatModel) messages(in []llm.Message) ([]llms.MessageContent, error) {
	out := make([]llms.MessageContent, 0, len(in))
	var system []string
	for i, msg := range in {
		if len(msg.Images) > 0 && msg.Role != llm.RoleUser {
			return nil, fmt.Errorf("message %d: images are only allowed on user messages", i)
		}
		switch msg.Role {
		case llm.RoleSystem:
			if m.provider == Anthropic {
				system = append(system, msg.Content)
				continue
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeSystem, Parts: []llms.ContentPart{llms.TextPart(msg.Content)}})
		case llm.RoleUser:
			var parts []llms.ContentPart
			if msg.Content != "" || len(msg.Images) == 0 {
				parts = append(parts, llms.TextPart(msg.Content))
			}
			for j, img := range msg.Images {
				p, err := m.image(img)
				if err != nil {
					return nil, fmt.Errorf("message %d image %d: %w", i, j, err)
				}
				parts = append(parts, p)
			}
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeHuman, Parts: parts})
		case llm.RoleAssistant:
			var parts []llms.ContentPart
			if msg.Content != "" || len(msg.ToolCalls) == 0 {
				parts = append(parts, llms.TextPart(msg.Content))
			}
			for _, tc := range msg.ToolCalls {
				args := string(tc.Arguments)
				if strings.TrimSpace(args) == "" {
					args = "{}"
				}
				parts = append(parts, llms.ToolCall{ID: tc.ID, Type: "function", FunctionCall: &llms.FunctionCall{Name: tc.Name, Arguments: args}})
			}
			if m.provider != Anthropic {
				out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: parts})
				continue
			}
			for _, p := range parts {
				out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeAI, Parts: []llms.ContentPart{p}})
			}
		case llm.RoleTool:
			out = append(out, llms.MessageContent{Role: llms.ChatMessageTypeTool, Parts: []llms.ContentPart{
				llms.ToolCallResponse{ToolCallID: msg.ToolCallID, Name: msg.Name, Content: msg.Content},
			}})
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, msg.Role)
		}
	}
	if len(system) > 0 {
		sys := llms.MessageContent{Role: llms.ChatMessageTypeSystem, Parts: []llms.ContentPart{llms.TextPart(strings.Join(system, "\n\n"))}}
		out = append([]llms.MessageContent{sys}, out...)
	}
	return out, nil
}

// image converts a picture: for OpenAI an image_url part (the URL, or the
// bytes as a base64 data URL); for Anthropic base64 bytes, the only image
// source langchaingo's Anthropic client can send (so a data URL is decoded
// and any other URL is refused).
func (m *ChatModel) image(img llm.Image) (llms.ContentPart, error) {
	if img.URL == "" && len(img.Data) == 0 {
		return nil, errors.New("image has neither URL nor data")
	}
	if m.provider != Anthropic {
		if len(img.Data) > 0 {
			return llms.ImageURLPart(dataURL(mimeOf(img), img.Data)), nil
		}
		return llms.ImageURLPart(img.URL), nil
	}
	if len(img.Data) > 0 {
		return llms.BinaryPart(mimeOf(img), img.Data), nil
	}
	mime, data, ok := parseDataURL(img.URL)
	if !ok {
		return nil, errors.New("anthropic through langchaingo takes images as bytes or data URLs, not links")
	}
	return llms.BinaryPart(mime, data), nil
}

// mimeOf returns the image's MIME type, sniffed from the bytes when unset.
func mimeOf(img llm.Image) string {
	if img.MIMEType != "" {
		return img.MIMEType
	}
	return http.DetectContentType(img.Data)
}

func dataURL(mime string, data []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// parseDataURL decodes a base64 data URL such as "data:image/png;base64,…".
func parseDataURL(u string) (mime string, data []byte, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", nil, false
	}
	meta, payload, found := strings.Cut(rest, ",")
	if !found {
		return "", nil, false
	}
	mime, found = strings.CutSuffix(meta, ";base64")
	if !found || mime == "" {
		return "", nil, false
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", nil, false
	}
	return mime, data, true
}

// response converts langchaingo's reply. OpenAI's reply is the first choice;
// Anthropic's client makes one choice per content block (text, tool_use,
// thinking), so all of them are one message.
func (m *ChatModel) response(r *llms.ContentResponse) (llm.Response, error) {
	if r == nil || len(r.Choices) == 0 {
		return llm.Response{}, errors.New("reply without choices")
	}
	choices := r.Choices
	if m.provider != Anthropic {
		choices = choices[:1]
	}
	var out llm.Response
	var text strings.Builder
	usageSet := false
	for _, ch := range choices {
		if ch == nil {
			continue
		}
		text.WriteString(ch.Content)
		for _, tc := range ch.ToolCalls {
			call, err := toolCallOf(tc)
			if err != nil {
				return llm.Response{}, err
			}
			out.ToolCalls = append(out.ToolCalls, call)
		}
		if out.FinishReason == "" {
			out.FinishReason = ch.StopReason
		}
		if !usageSet && ch.GenerationInfo != nil {
			out.Usage, usageSet = m.usage(ch.GenerationInfo), true
		}
	}
	out.Text = text.String()
	return out, nil
}

// toolCallOf converts one tool call, checking that its arguments are a JSON
// object (an absent or null argument list becomes {}).
func toolCallOf(tc llms.ToolCall) (llm.ToolCall, error) {
	if tc.FunctionCall == nil || tc.FunctionCall.Name == "" {
		return llm.ToolCall{}, fmt.Errorf("tool call %q without a function name", tc.ID)
	}
	args := strings.TrimSpace(tc.FunctionCall.Arguments)
	if args == "" || args == "null" {
		args = "{}"
	}
	if !json.Valid([]byte(args)) || args[0] != '{' {
		return llm.ToolCall{}, fmt.Errorf("tool call %q (%s): arguments are not a JSON object", tc.ID, tc.FunctionCall.Name)
	}
	return llm.ToolCall{ID: tc.ID, Name: tc.FunctionCall.Name, Arguments: json.RawMessage(args)}, nil
}

// Keys of ContentChoice.GenerationInfo that hold token counts, as
// langchaingo v0.1.14 fills them (llms/openai/openaillm.go,
// llms/anthropic/anthropicllm.go).
const (
	openaiPromptKey     = "PromptTokens"
	openaiCompletionKey = "CompletionTokens"
	anthropicInputKey   = "InputTokens"
	anthropicOutputKey  = "OutputTokens"
)

// usage reads the token counts of a reply.
func (m *ChatModel) usage(info map[string]any) llm.Usage {
	if m.provider == Anthropic {
		return llm.Usage{PromptTokens: intOf(info[anthropicInputKey]), CompletionTokens: intOf(info[anthropicOutputKey])}
	}
	return llm.Usage{PromptTokens: intOf(info[openaiPromptKey]), CompletionTokens: intOf(info[openaiCompletionKey])}
}

func intOf(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int32:
		return int(n)
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
