package langchain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

const embeddingsReply = `{
  "object": "list", "model": "embed-test",
  "data": [
    {"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]},
    {"object": "embedding", "index": 1, "embedding": [0.4, 0.5, 0.6]}
  ],
  "usage": {"prompt_tokens": 4, "total_tokens": 4}
}`

var wantVectors = [][]float32{{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}}

func newEmbedder(t *testing.T, f *fake, p Provider, key string) *Embedder {
	t.Helper()
	e, err := NewEmbedder(Config{Provider: p, APIKey: key, BaseURL: f.URL + "/v1", EmbeddingModel: "embed-test", Dimensions: 3, HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmbed(t *testing.T) {
	tests := []struct {
		name     string
		provider Provider
		key      string
		wantAuth string
		wantBody string
	}{
		{
			name: "openai", provider: OpenAI, key: "sk-test", wantAuth: "Bearer sk-test",
			wantBody: `{"model":"embed-test","input":["a","b"],"dimensions":3}`,
		},
		{
			// Ollama-style: no key, and no "dimensions" field, which not
			// every compatible server accepts.
			name: "openai-compatible", provider: OpenAICompatible,
			wantBody: `{"model":"embed-test","input":["a","b"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, reply{body: embeddingsReply})
			e := newEmbedder(t, f, tt.provider, tt.key)
			if got, want := e.Name(), string(tt.provider)+"/embed-test"; got != want {
				t.Errorf("Name() = %q, want %q", got, want)
			}
			if got := e.Dimensions(); got != 3 {
				t.Errorf("Dimensions() = %d, want 3", got)
			}
			got, err := e.Embed(context.Background(), []string{"a", "b"})
			if err != nil {
				t.Fatalf("Embed: %v", err)
			}
			if diff := cmp.Diff(wantVectors, got); diff != "" {
				t.Errorf("Embed vectors (-want +got):\n%s", diff)
			}
			req := f.only(t)
			if req.method != "POST" || req.path != "/v1/embeddings" {
				t.Errorf("request = %s %s, want POST /v1/embeddings", req.method, req.path)
			}
			if got := req.header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			if diff := cmp.Diff(jsonOf(t, tt.wantBody), req.JSON(t)); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmbedErrors(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want llm.ProviderError
	}{
		{
			name: "wrong dimension",
			rep:  reply{body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}]}`},
			want: llm.ProviderError{Provider: "openai", Kind: graph.Other, Msg: "malformed reply"},
		},
		{
			name: "too few vectors",
			rep:  reply{body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}]}`},
			want: llm.ProviderError{Provider: "openai", Kind: graph.Other, Msg: "malformed reply"},
		},
		{
			name: "invalid JSON",
			rep:  reply{body: `{"data": [`},
			want: llm.ProviderError{Provider: "openai", Kind: graph.Other, Msg: "malformed reply"},
		},
		{
			name: "rate limited",
			rep:  reply{status: 429, header: map[string]string{"Retry-After": "2"}, body: errorBody},
			want: llm.ProviderError{Provider: "openai", Status: 429, RetryAfter: 2 * time.Second, Kind: graph.Unavailable, Msg: "rate limited"},
		},
		{
			name: "bad key",
			rep:  reply{status: 401, body: errorBody},
			want: llm.ProviderError{Provider: "openai", Status: 401, Kind: graph.Other, Msg: "authentication failed; check the API key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.rep)
			_, err := newEmbedder(t, f, OpenAI, "sk-test").Embed(context.Background(), []string{"a", "b"})
			pe, ok := llm.AsProviderError(err)
			if !ok {
				t.Fatalf("Embed error = %v, want a *llm.ProviderError", err)
			}
			if diff := cmp.Diff(&tt.want, pe, ignoreCause); diff != "" {
				t.Errorf("Embed error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestEmbedRetriesRateLimit(t *testing.T) {
	f := newFake(t, reply{status: 429, header: map[string]string{"Retry-After": "1"}, body: errorBody}, reply{body: embeddingsReply})
	e := llm.WithRetryEmbedder(newEmbedder(t, f, OpenAI, "sk-test"), llm.RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	got, err := e.Embed(context.Background(), []string{"a", "b"})
	if err != nil {
		t.Fatalf("Embed with retry: %v", err)
	}
	if diff := cmp.Diff(wantVectors, got); diff != "" {
		t.Errorf("Embed vectors (-want +got):\n%s", diff)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("fake received %d requests, want 2", n)
	}
}

func TestEmbedNothing(t *testing.T) {
	f := newFake(t, reply{body: embeddingsReply})
	got, err := newEmbedder(t, f, OpenAI, "sk-test").Embed(context.Background(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Embed(nil) = %v, %v, want no vectors and no error", got, err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("fake received %d requests, want 0", n)
	}
}

func TestConfigErrors(t *testing.T) {
	good := Config{Provider: OpenAI, APIKey: "k", ChatModel: "m", EmbeddingModel: "e", Dimensions: 3}
	with := func(edit func(*Config)) Config {
		c := good
		edit(&c)
		return c
	}
	tests := []struct {
		name            string
		cfg             Config
		chatOK, embedOK bool
	}{
		{name: "openai", cfg: good, chatOK: true, embedOK: true},
		{name: "compatible without key", cfg: with(func(c *Config) { c.Provider, c.APIKey, c.BaseURL = OpenAICompatible, "", "http://localhost:11434/v1" }), chatOK: true, embedOK: true},
		{name: "anthropic", cfg: with(func(c *Config) { c.Provider = Anthropic }), chatOK: true, embedOK: false},
		{name: "unknown provider", cfg: with(func(c *Config) { c.Provider = "gemini" })},
		{name: "empty provider", cfg: with(func(c *Config) { c.Provider = "" })},
		{name: "openai without key", cfg: with(func(c *Config) { c.APIKey = "" })},
		{name: "anthropic without key", cfg: with(func(c *Config) { c.Provider, c.APIKey = Anthropic, "" })},
		{name: "compatible without base URL", cfg: with(func(c *Config) { c.Provider = OpenAICompatible })},
		{name: "no chat model", cfg: with(func(c *Config) { c.ChatModel = "" }), embedOK: true},
		{name: "no embedding model", cfg: with(func(c *Config) { c.EmbeddingModel = "" }), chatOK: true},
		{name: "no dimension", cfg: with(func(c *Config) { c.Dimensions = 0 }), chatOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewChatModel(tt.cfg)
			if (err == nil) != tt.chatOK || err != nil && !errors.Is(err, graph.Invalid) {
				t.Errorf("NewChatModel(%+v) error = %v, want ok=%v or Invalid", tt.cfg, err, tt.chatOK)
			}
			_, err = NewEmbedder(tt.cfg)
			if (err == nil) != tt.embedOK || err != nil && !errors.Is(err, graph.Invalid) {
				t.Errorf("NewEmbedder(%+v) error = %v, want ok=%v or Invalid", tt.cfg, err, tt.embedOK)
			}
		})
	}
}
