package langchain

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/prompts"
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

// TestJSONSchemaAgainstFakeOpenAIServer drives the fake OpenAI server in
// json_schema mode with the memory pipeline's own tools, the fake acting as
// a server with constrained decoding: a reply whose content does not follow
// the schema of the request's response_format is refused (500). The
// extraction's forced tool and the decision's seven tools come back as the
// tool calls tools mode would give.
func TestJSONSchemaAgainstFakeOpenAIServer(t *testing.T) {
	model := llmtest.NewScripted()
	fake := &llmtest.OpenAIServer{Model: model}
	ts := httptest.NewServer(constraining(t, fake))
	defer ts.Close()
	chat, err := NewChatModel(Config{Provider: OpenAICompatible, BaseURL: ts.URL + "/v1", ChatModel: "scripted", Structured: StructuredJSONSchema})
	if err != nil {
		t.Fatal(err)
	}
	toolsOf := func(specs ...prompts.ToolSpec) []llm.Tool {
		out := make([]llm.Tool, len(specs))
		for i, s := range specs {
			out[i] = llm.Tool{Name: s.Name, Description: s.Description, Parameters: s.Parameters}
		}
		return out
	}
	extract := prompts.ExtractTool()
	steps := []struct {
		name  string
		req   llm.Request
		reply string
	}{
		{
			name: "extraction",
			req: llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "Extract."}, {Role: llm.RoleUser, Content: "I like pizza."}},
				Tools: toolsOf(extract), ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: extract.Name}},
			reply: `{"facts":[{"text":"u likes pizza","entities":["u","pizza"]}],"entities":[{"name":"u","type":"Person"},{"name":"pizza","type":"Food"}],"relations":[{"source":"u","relationship":"likes","target":"pizza"}]}`,
		},
		{
			name: "decision",
			req: llm.Request{Messages: []llm.Message{{Role: llm.RoleSystem, Content: "Decide."}, {Role: llm.RoleUser, Content: "F1: u likes pizza. M1: u likes pasta."}},
				Tools: toolsOf(prompts.DecisionTools()...), ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired}},
			reply: `{"calls":[{"name":"update_memory","arguments":{"id":"M1","text":"u likes pizza and pasta","fact":"F1"}},{"name":"noop","arguments":{"reason":"known"}}]}`,
		},
	}
	for _, st := range steps {
		// Replies off the schema first: the fake must refuse them, or this
		// test would prove nothing.
		for _, bad := range []string{`{"facts":"x"}`, `{"calls":[{"name":"forget_everything","arguments":{}}]}`, `{"calls":[]}`} {
			model.Then(llm.Response{Text: bad})
			if _, err := chat.Chat(context.Background(), st.req); err == nil {
				t.Fatalf("%s: the fake accepted %s", st.name, bad)
			}
		}
		model.Then(llm.Response{Text: st.reply})
		resp, err := chat.Chat(context.Background(), st.req)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if resp.Text != "" || len(resp.ToolCalls) == 0 || resp.Usage.PromptTokens == 0 {
			t.Fatalf("%s: response %+v", st.name, resp)
		}
		seen := model.Requests()[len(model.Requests())-1]
		if len(seen.Tools) != 0 || !strings.Contains(seen.Messages[0].Content, "Tools are called here by replying with JSON only") {
			t.Errorf("%s: the server saw tools %v and system prompt %q", st.name, seen.Tools, seen.Messages[0].Content)
		}
		switch st.name {
		case "extraction":
			if _, err := prompts.ParseExtraction(resp.ToolCalls[0].Arguments); err != nil || len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Name != extract.Name {
				t.Errorf("extraction calls %+v: %v", resp.ToolCalls, err)
			}
		case "decision":
			calls := make([]prompts.Call, len(resp.ToolCalls))
			for i, c := range resp.ToolCalls {
				calls[i] = prompts.Call{Name: c.Name, Arguments: c.Arguments}
			}
			dec, err := prompts.ParseDecision(calls, prompts.KnownIDs(1, 1, 0))
			if err != nil || len(dec.Memories) != 1 || dec.Memories[0].ID != "M1" || len(dec.Noops) != 1 {
				t.Errorf("decision %+v from calls %+v: %v", dec, resp.ToolCalls, err)
			}
		}
	}
}

// constraining wraps an OpenAI server as a server with constrained decoding
// would behave: a chat request must carry a json_schema response format and
// no tools (else 400), and a reply whose content does not follow that
// schema becomes a 500 (a real server could not have produced it).
func constraining(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			ResponseFormat struct {
				Type       string `json:"type"`
				JSONSchema struct {
					Schema json.RawMessage `json:"schema"`
					Strict bool            `json:"strict"`
				} `json:"json_schema"`
			} `json:"response_format"`
			Tools json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.ResponseFormat.Type != "json_schema" || !req.ResponseFormat.JSONSchema.Strict || req.Tools != nil {
			http.Error(w, "want a strict json_schema response format and no tools", http.StatusBadRequest)
			return
		}
		var schema openapi3.Schema
		if err := json.Unmarshal(req.ResponseFormat.JSONSchema.Schema, &schema); err != nil {
			http.Error(w, "schema: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var reply struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || len(reply.Choices) != 1 {
			http.Error(w, "the fake's reply is not a chat completion", http.StatusInternalServerError)
			return
		}
		var v any
		err := json.Unmarshal([]byte(reply.Choices[0].Message.Content), &v)
		if err == nil {
			err = schema.VisitJSON(v)
		}
		if err != nil {
			t.Logf("constraining fake refuses %s: %v", reply.Choices[0].Message.Content, err)
			http.Error(w, "the reply does not follow the schema", http.StatusInternalServerError)
			return
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}
