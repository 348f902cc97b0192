package langchain

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// providers are the two wire formats with a model constructor and a good
// reply each.
var providers = []struct {
	name  string
	new   func(*testing.T, *fake) *ChatModel
	ok    string // a successful reply
	empty string // a 200 reply without content
}{
	{name: "openai", new: newOpenAI, ok: openaiToolReply,
		empty: `{"id":"chatcmpl-4","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0}}`},
	{name: "anthropic", new: newAnthropic, ok: anthropicToolReply,
		empty: `{"id":"msg_4","type":"message","role":"assistant","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}`},
}

var hi = llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}}

// errorBody is a provider's error reply (both use {"error": {"message"}}).
const errorBody = `{"type":"error","error":{"type":"some_error","message":"the provider says no"}}`

// ignoreCause compares ProviderErrors without their wrapped cause.
var ignoreCause = cmpopts.IgnoreFields(llm.ProviderError{}, "Err")

func TestChatErrors(t *testing.T) {
	tests := []struct {
		name  string
		rep   reply
		empty bool              // reply with the provider's empty 200 instead of rep
		want  llm.ProviderError // Provider is filled in per provider
	}{
		{
			name: "rate limited",
			rep:  reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: errorBody},
			want: llm.ProviderError{Status: 429, RetryAfter: 7 * time.Second, Kind: graph.Unavailable, Msg: "rate limited"},
		},
		{
			name: "server error",
			rep:  reply{status: 503, body: errorBody},
			want: llm.ProviderError{Status: 503, Kind: graph.Unavailable, Msg: "provider error"},
		},
		{
			name: "bad key",
			rep:  reply{status: 401, body: errorBody},
			want: llm.ProviderError{Status: 401, Kind: graph.Other, Msg: "authentication failed; check the API key"},
		},
		{
			name: "rejected",
			rep:  reply{status: 400, body: errorBody},
			want: llm.ProviderError{Status: 400, Kind: graph.Invalid, Msg: "request rejected"},
		},
		{
			name: "error without JSON body",
			rep:  reply{status: 502, body: "<html>bad gateway</html>"},
			want: llm.ProviderError{Status: 502, Kind: graph.Unavailable, Msg: "provider error"},
		},
		{
			name: "invalid JSON",
			rep:  reply{body: `{"choices": [`},
			want: llm.ProviderError{Kind: graph.Other, Msg: "malformed reply"},
		},
		{
			name:  "no content",
			empty: true,
			want:  llm.ProviderError{Kind: graph.Other, Msg: "malformed reply"},
		},
	}
	for _, p := range providers {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				rep := tt.rep
				if tt.empty {
					rep = reply{body: p.empty}
				}
				f := newFake(t, rep)
				_, err := p.new(t, f).Chat(context.Background(), hi)
				pe, ok := llm.AsProviderError(err)
				if !ok {
					t.Fatalf("Chat error = %v, want a *llm.ProviderError", err)
				}
				want := tt.want
				want.Provider = p.name
				if diff := cmp.Diff(&want, pe, ignoreCause); diff != "" {
					t.Errorf("Chat error %v (-want +got):\n%s", err, diff)
				}
				if !errors.Is(err, want.Kind) {
					t.Errorf("errors.Is(%v, %v) = false", err, want.Kind)
				}
				if n := len(f.requests()); n != 1 {
					t.Errorf("fake received %d requests, want 1 (langchaingo must not retry)", n)
				}
			})
		}
	}
}

func TestChatRetriesRateLimit(t *testing.T) {
	policy := llm.RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			f := newFake(t,
				reply{status: 429, header: map[string]string{"Retry-After": "1"}, body: errorBody},
				reply{body: p.ok},
			)
			m := p.new(t, f)

			got, err := llm.WithRetry(m, policy).Chat(context.Background(), hi)
			if err != nil {
				t.Fatalf("Chat with retry: %v", err)
			}
			if n := len(f.requests()); n != 2 {
				t.Errorf("fake received %d requests, want 2", n)
			}
			if len(got.ToolCalls) != 1 || got.ToolCalls[0].Name != "add_facts" || got.Usage.PromptTokens == 0 {
				t.Errorf("Chat with retry = %+v, want the add_facts call with usage", got)
			}
		})
		t.Run(p.name+"/no retry", func(t *testing.T) {
			f := newFake(t, reply{status: 429, header: map[string]string{"Retry-After": "1"}, body: errorBody}, reply{body: p.ok})
			_, err := p.new(t, f).Chat(context.Background(), hi)
			if !errors.Is(err, graph.Unavailable) {
				t.Errorf("Chat error = %v, want Unavailable", err)
			}
			pe, ok := llm.AsProviderError(err)
			if !ok || pe.Status != http.StatusTooManyRequests || pe.RetryAfter != time.Second || !pe.Retryable() {
				t.Errorf("Chat error = %#v, want a retryable ProviderError with status 429 and Retry-After 1s", pe)
			}
		})
	}
}

func TestChatTransportErrors(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name+"/server gone", func(t *testing.T) {
			f := newFake(t, reply{body: p.ok})
			m := p.new(t, f)
			f.Close()
			_, err := m.Chat(context.Background(), hi)
			pe, ok := llm.AsProviderError(err)
			if !ok || pe.Kind != graph.Unavailable || pe.Status != 0 || !pe.Retryable() {
				t.Errorf("Chat error = %v, want a retryable Unavailable ProviderError without status", err)
			}
		})
		t.Run(p.name+"/cancelled", func(t *testing.T) {
			f := newFake(t, reply{body: p.ok})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := p.new(t, f).Chat(ctx, hi)
			if !errors.Is(err, graph.Unavailable) || !errors.Is(err, context.Canceled) {
				t.Errorf("Chat error = %v, want Unavailable wrapping context.Canceled", err)
			}
		})
		t.Run(p.name+"/truncated body", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, `{"id":`)
			}))
			defer srv.Close()
			_, err := p.new(t, &fake{Server: srv}).Chat(context.Background(), hi)
			pe, ok := llm.AsProviderError(err)
			if !ok || pe.Kind != graph.Unavailable || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Chat error = %v, want Unavailable wrapping io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestChatInvalidRequests(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
	}{
		{name: "unknown role", req: llm.Request{Messages: []llm.Message{{Role: "narrator", Content: "x"}}}},
		{name: "image on assistant", req: llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Images: []llm.Image{{URL: "https://example.com/a.png"}}}}}},
		{name: "empty image", req: llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Images: []llm.Image{{}}}}}},
		{name: "force unknown tool", req: llm.Request{Messages: hi.Messages, Tools: factTools, ToolChoice: llm.ToolChoice{Mode: llm.ToolForce, Name: "nope"}}},
		{name: "required without tools", req: llm.Request{Messages: hi.Messages, ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired}}},
		{name: "unknown mode", req: llm.Request{Messages: hi.Messages, Tools: factTools, ToolChoice: llm.ToolChoice{Mode: "sometimes"}}},
		{name: "bad schema", req: llm.Request{Messages: hi.Messages, Tools: []llm.Tool{{Name: "t", Parameters: []byte("{")}}}},
	}
	for _, p := range providers {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				f := newFake(t, reply{body: p.ok})
				_, err := p.new(t, f).Chat(context.Background(), tt.req)
				if pe, ok := llm.AsProviderError(err); !ok || pe.Kind != graph.Invalid || pe.Retryable() {
					t.Errorf("Chat error = %v, want a non-retryable Invalid ProviderError", err)
				}
				if n := len(f.requests()); n != 0 {
					t.Errorf("fake received %d requests, want 0", n)
				}
			})
		}
	}
}

func TestChatMalformedToolArguments(t *testing.T) {
	f := newFake(t, reply{body: `{"id":"chatcmpl-5","object":"chat.completion",
	  "choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[
	    {"id":"call_1","type":"function","function":{"name":"add_facts","arguments":"{\"facts\": [\"unterminated"}}]},
	    "finish_reason":"tool_calls"}]}`})
	_, err := newOpenAI(t, f).Chat(context.Background(), hi)
	if pe, ok := llm.AsProviderError(err); !ok || pe.Kind != graph.Other || pe.Msg != "malformed reply" {
		t.Errorf("Chat error = %v, want a malformed reply", err)
	}
}

func TestChatConcurrent(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			f := newFake(t, reply{body: p.ok})
			m := p.new(t, f)
			errs := make(chan error, 8)
			for range 8 {
				go func() {
					_, err := m.Chat(context.Background(), llm.Request{Messages: hi.Messages, Tools: factTools, ToolChoice: llm.ToolChoice{Mode: llm.ToolRequired}})
					errs <- err
				}()
			}
			for range 8 {
				if err := <-errs; err != nil {
					t.Errorf("Chat: %v", err)
				}
			}
			if n := len(f.requests()); n != 8 {
				t.Errorf("fake received %d requests, want 8", n)
			}
			if _, wrapped := f.Client().Transport.(*recorder); wrapped {
				t.Error("the caller's http.Client was modified; want a wrapped copy")
			}
		})
	}
}
