package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/google/generative-ai-go/genai"
	"google.golang.org/api/iterator"

	"github.com/neomem/neomem/llm"
)

// Gemini's roles; tool results travel in user turns.
const (
	roleUser  = "user"
	roleModel = "model"
)

// Chat sends one request. Errors are *llm.ProviderError: Unavailable for rate
// limits, 5xx and no response; Invalid for requests Gemini rejects, requests
// it cannot express (a bad tool schema, a conversation not ending with a user
// or tool turn) and safety blocks; Other for authentication failures and
// replies it cannot understand. Safe for concurrent use.
func (c *Client) Chat(ctx context.Context, req llm.Request) (llm.Response, error) {
	if c.cfg.ChatModel == "" {
		return llm.Response{}, invalid("no chat model configured", nil)
	}
	m := c.sdk.GenerativeModel(c.cfg.ChatModel)
	if err := configure(m, req); err != nil {
		return llm.Response{}, err
	}
	system, contents, err := convertMessages(req.Messages)
	if err != nil {
		return llm.Response{}, err
	}
	m.SystemInstruction = system
	last := contents[len(contents)-1]
	if last.Role != roleUser {
		return llm.Response{}, invalid("the conversation must end with a user or tool message", nil)
	}
	// A chat session is the SDK's only way to send a multi-turn history. It
	// streams; the merged stream is the whole reply, except for usage, which
	// the last chunk that has it reports.
	cs := m.StartChat()
	cs.History = contents[:len(contents)-1]
	it := cs.SendMessageStream(ctx, last.Parts...)
	var usage *genai.UsageMetadata
	for {
		chunk, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return llm.Response{}, providerError(err)
		}
		if chunk.UsageMetadata != nil {
			usage = chunk.UsageMetadata
		}
	}
	return response(it.MergedResponse(), usage)
}

// configure sets the generation parameters, tools and tool choice of m.
func configure(m *genai.GenerativeModel, req llm.Request) error {
	if req.Temperature != nil {
		m.SetTemperature(float32(*req.Temperature))
	}
	if req.MaxTokens > 0 {
		m.SetMaxOutputTokens(int32(req.MaxTokens))
	}
	if len(req.Tools) > 0 {
		decls := make([]*genai.FunctionDeclaration, len(req.Tools))
		for i, t := range req.Tools {
			d, err := declaration(t)
			if err != nil {
				return invalid(fmt.Sprintf("tool %q", t.Name), err)
			}
			decls[i] = d
		}
		m.Tools = []*genai.Tool{{FunctionDeclarations: decls}}
	}
	tc, err := toolConfig(req.ToolChoice, req.Tools)
	if err != nil {
		return invalid("tool choice", err)
	}
	m.ToolConfig = tc
	return nil
}

func declaration(t llm.Tool) (*genai.FunctionDeclaration, error) {
	d := &genai.FunctionDeclaration{Name: t.Name, Description: t.Description}
	if len(t.Parameters) == 0 {
		return d, nil
	}
	s, err := convertSchema(t.Parameters)
	if err != nil {
		return nil, err
	}
	if s.Type != genai.TypeObject {
		return nil, errors.New("parameters must be an object schema")
	}
	d.Parameters = s
	return d, nil
}

// toolConfig maps the tool choice to Gemini's function calling modes. The
// zero choice sends none, leaving Gemini's default (AUTO).
func toolConfig(tc llm.ToolChoice, tools []llm.Tool) (*genai.ToolConfig, error) {
	if tc.Mode == "" {
		return nil, nil
	}
	if len(tools) == 0 {
		if tc.Mode == llm.ToolAuto || tc.Mode == llm.ToolNone {
			return nil, nil
		}
		return nil, fmt.Errorf("mode %q without tools", tc.Mode)
	}
	fc := &genai.FunctionCallingConfig{}
	switch tc.Mode {
	case llm.ToolAuto:
		fc.Mode = genai.FunctionCallingAuto
	case llm.ToolNone:
		fc.Mode = genai.FunctionCallingNone
	case llm.ToolRequired:
		fc.Mode = genai.FunctionCallingAny
	case llm.ToolForce:
		if !hasTool(tools, tc.Name) {
			return nil, fmt.Errorf("forced tool %q is not among the tools", tc.Name)
		}
		fc.Mode = genai.FunctionCallingAny
		fc.AllowedFunctionNames = []string{tc.Name}
	default:
		return nil, fmt.Errorf("unknown mode %q", tc.Mode)
	}
	return &genai.ToolConfig{FunctionCallingConfig: fc}, nil
}

func hasTool(tools []llm.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// convertMessages splits the conversation into the system instruction and
// Gemini contents, merging consecutive turns of the same role (Gemini wants
// all results of one turn's calls in one content).
func convertMessages(msgs []llm.Message) (*genai.Content, []*genai.Content, error) {
	var (
		system   []genai.Part
		contents []*genai.Content
		// callNames finds the function a tool result answers when the
		// message does not name it.
		callNames = map[string]string{}
	)
	for i, msg := range msgs {
		var (
			role  string
			parts []genai.Part
			err   error
		)
		switch msg.Role {
		case llm.RoleSystem:
			if msg.Content != "" {
				system = append(system, genai.Text(msg.Content))
			}
			continue
		case llm.RoleUser:
			role = roleUser
			parts, err = userParts(msg)
		case llm.RoleAssistant:
			role = roleModel
			parts, err = assistantParts(msg)
			for _, tc := range msg.ToolCalls {
				callNames[tc.ID] = tc.Name
			}
		case llm.RoleTool:
			role = roleUser
			parts, err = toolParts(msg, callNames)
		default:
			err = fmt.Errorf("unknown role %q", msg.Role)
		}
		if err != nil {
			return nil, nil, invalid(fmt.Sprintf("message %d", i), err)
		}
		if len(parts) == 0 {
			continue
		}
		if n := len(contents); n > 0 && contents[n-1].Role == role {
			contents[n-1].Parts = append(contents[n-1].Parts, parts...)
			continue
		}
		contents = append(contents, &genai.Content{Role: role, Parts: parts})
	}
	if len(contents) == 0 {
		return nil, nil, invalid("no user message", nil)
	}
	var si *genai.Content
	if len(system) > 0 {
		si = &genai.Content{Parts: system}
	}
	return si, contents, nil
}

func userParts(msg llm.Message) ([]genai.Part, error) {
	var parts []genai.Part
	if msg.Content != "" {
		parts = append(parts, genai.Text(msg.Content))
	}
	for j, img := range msg.Images {
		p, err := imagePart(img)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", j, err)
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// imagePart sends inline bytes as a blob and a URL as file data. Gemini needs
// a MIME type for both: the given one, else one sniffed from the bytes or
// guessed from the URL's extension.
func imagePart(img llm.Image) (genai.Part, error) {
	if len(img.Data) > 0 {
		mt := img.MIMEType
		if mt == "" {
			mt = http.DetectContentType(img.Data)
		}
		return genai.Blob{MIMEType: mt, Data: img.Data}, nil
	}
	if img.URL == "" {
		return nil, errors.New("neither data nor URL")
	}
	mt := img.MIMEType
	if mt == "" {
		if u, err := url.Parse(img.URL); err == nil {
			mt = mime.TypeByExtension(path.Ext(u.Path))
		}
	}
	if mt == "" {
		return nil, fmt.Errorf("no MIME type for %q", img.URL)
	}
	return genai.FileData{MIMEType: mt, URI: img.URL}, nil
}

func assistantParts(msg llm.Message) ([]genai.Part, error) {
	var parts []genai.Part
	if msg.Content != "" {
		parts = append(parts, genai.Text(msg.Content))
	}
	for _, tc := range msg.ToolCalls {
		args := map[string]any{}
		if len(tc.Arguments) > 0 {
			if err := json.Unmarshal(tc.Arguments, &args); err != nil {
				return nil, fmt.Errorf("arguments of call %q are not a JSON object: %w", tc.Name, err)
			}
		}
		parts = append(parts, genai.FunctionCall{Name: tc.Name, Args: args})
	}
	return parts, nil
}

// toolParts sends a tool result as a function response. Gemini wants an
// object: a JSON object result goes as it is, any other JSON value or plain
// text as {"result": value}.
func toolParts(msg llm.Message, callNames map[string]string) ([]genai.Part, error) {
	name := msg.Name
	if name == "" {
		name = callNames[msg.ToolCallID]
	}
	if name == "" {
		return nil, fmt.Errorf("tool result for call %q names no tool", msg.ToolCallID)
	}
	var v any
	if err := json.Unmarshal([]byte(msg.Content), &v); err != nil {
		v = msg.Content
	}
	obj, ok := v.(map[string]any)
	if !ok {
		obj = map[string]any{"result": v}
	}
	return []genai.Part{genai.FunctionResponse{Name: name, Response: obj}}, nil
}

// response reads the first candidate: its text, its function calls (with
// IDs call_0, call_1, … in order) and finish reason, and the usage.
func response(r *genai.GenerateContentResponse, usage *genai.UsageMetadata) (llm.Response, error) {
	if r == nil || len(r.Candidates) == 0 {
		return llm.Response{}, llm.MalformedError(provider, errors.New("no candidates"))
	}
	cand := r.Candidates[0]
	var out llm.Response
	if usage != nil {
		out.Usage = llm.Usage{PromptTokens: int(usage.PromptTokenCount), CompletionTokens: int(usage.CandidatesTokenCount)}
	}
	out.FinishReason = finishReason(cand.FinishReason)
	if cand.Content == nil {
		return out, nil
	}
	var text strings.Builder
	for _, p := range cand.Content.Parts {
		switch p := p.(type) {
		case genai.Text:
			text.WriteString(string(p))
		case genai.FunctionCall:
			args := p.Args
			if args == nil {
				args = map[string]any{}
			}
			b, err := json.Marshal(args)
			if err != nil {
				return llm.Response{}, llm.MalformedError(provider, fmt.Errorf("arguments of call %q: %w", p.Name, err))
			}
			out.ToolCalls = append(out.ToolCalls, llm.ToolCall{ID: fmt.Sprintf("call_%d", len(out.ToolCalls)), Name: p.Name, Arguments: b})
		}
	}
	out.Text = text.String()
	return out, nil
}

// finishReasons are the API's names of the reasons the SDK knows.
var finishReasons = map[genai.FinishReason]string{
	genai.FinishReasonUnspecified: "FINISH_REASON_UNSPECIFIED",
	genai.FinishReasonStop:        "STOP",
	genai.FinishReasonMaxTokens:   "MAX_TOKENS",
	genai.FinishReasonSafety:      "SAFETY",
	genai.FinishReasonRecitation:  "RECITATION",
	genai.FinishReasonOther:       "OTHER",
}

func finishReason(r genai.FinishReason) string {
	if s, ok := finishReasons[r]; ok {
		return s
	}
	return fmt.Sprintf("FINISH_REASON_%d", int32(r))
}
