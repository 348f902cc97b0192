package llmtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/vector"
)

// OpenAIServer serves a ChatModel and an Embedder over the OpenAI HTTP API
// (/v1/chat/completions with tools and tool_calls, /v1/embeddings with float
// or base64 encoding, /v1/models), counting calls and tokens. With a
// *Scripted model, POST /v1/_script queues replies; GET /v1/_stats returns the
// counters. It lets end-to-end tests, benchmarks and other memory systems run
// against the same deterministic model and vectors. Safe for concurrent use.
type OpenAIServer struct {
	Model    llm.ChatModel
	Embedder vector.Embedder
	// ModelName is reported in replies and /v1/models.
	ModelName string

	mu    sync.Mutex
	stats Stats
}

// Stats counts what the server served.
type Stats struct {
	ChatCalls        int `json:"chat_calls"`
	EmbeddingCalls   int `json:"embedding_calls"`
	EmbeddedTexts    int `json:"embedded_texts"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	EmbeddingTokens  int `json:"embedding_tokens"`
}

// Usage returns the chat token counts as an llm.Usage.
func (st Stats) Usage() llm.Usage {
	return llm.Usage{PromptTokens: st.PromptTokens, CompletionTokens: st.CompletionTokens}
}

// Stats returns the counters.
func (s *OpenAIServer) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP routes the API.
func (s *OpenAIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/chat/completions"):
		s.chat(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/embeddings"):
		s.embeddings(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/models"):
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{"id": s.name(), "object": "model", "owned_by": "llmtest"}}})
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/_stats"):
		writeJSON(w, http.StatusOK, s.Stats())
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/_script"):
		s.script(w, r)
	default:
		apiError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path)
	}
}

func (s *OpenAIServer) name() string {
	if s.ModelName != "" {
		return s.ModelName
	}
	return "llmtest-scripted"
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	ToolCalls  []wireToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	Name       string          `json:"name,omitempty"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []wireMessage   `json:"messages"`
	Tools               []wireTool      `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	Temperature         *float64        `json:"temperature"`
	MaxTokens           int             `json:"max_tokens"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
}

func (s *OpenAIServer) chat(w http.ResponseWriter, r *http.Request) {
	if s.Model == nil {
		apiError(w, http.StatusNotFound, "not_found", "this server has no chat model")
		return
	}
	var cr chatRequest
	if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "body: "+err.Error())
		return
	}
	if cr.Stream {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "stream=true is not supported by this fake")
		return
	}
	req, err := toRequest(cr)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	resp, err := s.Model.Chat(r.Context(), req)
	if err != nil {
		status := http.StatusInternalServerError
		if pe, ok := llm.AsProviderError(err); ok && pe.Status != 0 {
			status = pe.Status
		}
		apiError(w, status, "server_error", err.Error())
		return
	}
	s.mu.Lock()
	s.stats.ChatCalls++
	s.stats.PromptTokens += resp.Usage.PromptTokens
	s.stats.CompletionTokens += resp.Usage.CompletionTokens
	s.mu.Unlock()

	msg := map[string]any{"role": "assistant", "content": nil}
	if resp.Text != "" {
		msg["content"] = resp.Text
	}
	finish := resp.FinishReason
	if len(resp.ToolCalls) > 0 {
		var calls []wireToolCall
		for i, tc := range resp.ToolCalls {
			var wc wireToolCall
			wc.ID, wc.Type = tc.ID, "function"
			if wc.ID == "" {
				wc.ID = fmt.Sprintf("call_%d", i)
			}
			wc.Function.Name, wc.Function.Arguments = tc.Name, string(tc.Arguments)
			calls = append(calls, wc)
		}
		msg["tool_calls"] = calls
		if finish == "" {
			finish = "tool_calls"
		}
	}
	if finish == "" {
		finish = "stop"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", time.Now().UnixNano()), "object": "chat.completion",
		"created": time.Now().Unix(), "model": s.name(),
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
		"usage": map[string]int{"prompt_tokens": resp.Usage.PromptTokens, "completion_tokens": resp.Usage.CompletionTokens,
			"total_tokens": resp.Usage.PromptTokens + resp.Usage.CompletionTokens},
	})
}

// toRequest converts the wire request into the seam's Request.
func toRequest(cr chatRequest) (llm.Request, error) {
	req := llm.Request{Temperature: cr.Temperature, MaxTokens: max(cr.MaxTokens, cr.MaxCompletionTokens)}
	for i, m := range cr.Messages {
		msg := llm.Message{Role: llm.Role(m.Role), ToolCallID: m.ToolCallID, Name: m.Name}
		if m.Role == "developer" {
			msg.Role = llm.RoleSystem
		}
		if err := parseContent(m.Content, &msg); err != nil {
			return llm.Request{}, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: json.RawMessage(tc.Function.Arguments)})
		}
		req.Messages = append(req.Messages, msg)
	}
	for _, t := range cr.Tools {
		req.Tools = append(req.Tools, llm.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if len(cr.ToolChoice) > 0 && string(cr.ToolChoice) != "null" {
		var mode string
		if json.Unmarshal(cr.ToolChoice, &mode) == nil {
			req.ToolChoice = llm.ToolChoice{Mode: llm.ToolChoiceMode(mode)}
		} else {
			var forced struct {
				Function struct{ Name string } `json:"function"`
			}
			if err := json.Unmarshal(cr.ToolChoice, &forced); err != nil {
				return llm.Request{}, fmt.Errorf("tool_choice: %w", err)
			}
			req.ToolChoice = llm.ToolChoice{Mode: llm.ToolForce, Name: forced.Function.Name}
		}
	}
	return req, nil
}

func parseContent(raw json.RawMessage, msg *llm.Message) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		msg.Content = text
		return nil
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return err
	}
	var texts []string
	for _, p := range parts {
		switch p.Type {
		case "text":
			texts = append(texts, p.Text)
		case "image_url":
			msg.Images = append(msg.Images, llm.Image{URL: p.ImageURL.URL})
		}
	}
	msg.Content = strings.Join(texts, "\n")
	return nil
}

func (s *OpenAIServer) embeddings(w http.ResponseWriter, r *http.Request) {
	if s.Embedder == nil {
		apiError(w, http.StatusNotFound, "not_found", "this server has no embedder")
		return
	}
	var er struct {
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&er); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "body: "+err.Error())
		return
	}
	var texts []string
	var one string
	if json.Unmarshal(er.Input, &one) == nil {
		texts = []string{one}
	} else if err := json.Unmarshal(er.Input, &texts); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "input must be a string or a list of strings")
		return
	}
	vecs, err := s.Embedder.Embed(r.Context(), texts)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	tokens := 0
	data := make([]map[string]any, len(vecs))
	for i, v := range vecs {
		tokens += (len(texts[i]) + 3) / 4
		var emb any = v
		if er.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(v))
			for k, x := range v {
				binary.LittleEndian.PutUint32(buf[4*k:], math.Float32bits(x))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	s.mu.Lock()
	s.stats.EmbeddingCalls++
	s.stats.EmbeddedTexts += len(texts)
	s.stats.EmbeddingTokens += tokens
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "model": s.Embedder.Name(),
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
}

// script queues replies on a *Scripted model:
// {"replies":[{"content":"…","tool_calls":[{"name":"…","arguments":{…}}]}]}.
func (s *OpenAIServer) script(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.Model.(*Scripted)
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "the model is not scripted")
		return
	}
	var body Script
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", "body: "+err.Error())
		return
	}
	for _, resp := range body.Responses() {
		sc.Then(resp)
	}
	writeJSON(w, http.StatusOK, map[string]int{"queued": len(body.Replies), "pending": sc.Pending()})
}

// Script is a file or request body of queued replies.
type Script struct {
	Replies []struct {
		Content   string `json:"content"`
		ToolCalls []struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"tool_calls"`
	} `json:"replies"`
}

// Responses converts the script into responses.
func (sc Script) Responses() []llm.Response {
	out := make([]llm.Response, 0, len(sc.Replies))
	for _, r := range sc.Replies {
		resp := llm.Response{Text: r.Content}
		for i, tc := range r.ToolCalls {
			args := tc.Arguments
			if len(args) == 0 {
				args = json.RawMessage("{}")
			}
			resp.ToolCalls = append(resp.ToolCalls, llm.ToolCall{ID: fmt.Sprintf("call_%d", i), Name: tc.Name, Arguments: args})
		}
		out = append(out, resp)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": nil}})
}
