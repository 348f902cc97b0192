// Package langchain adapts OpenAI, Anthropic and OpenAI-compatible servers
// (Ollama, vLLM, LM Studio) to the llm seams through
// github.com/tmc/langchaingo; it is the only package that imports langchaingo.
//
// langchaingo (v0.1.14) reports a failed HTTP call only as text ("API
// returned unexpected status code: 429: …"), drops Retry-After, replaces
// network errors by generic messages, ignores the tool choice for Anthropic
// and always sends a temperature. It does not retry. So the adapter wraps the
// HTTP client's transport with a per-call recorder (carried in the request
// context) that notes the response status, Retry-After and body read errors,
// and applies the few request edits langchaingo cannot express. Errors are
// then built with llm.StatusError, llm.TransportError and llm.MalformedError;
// llm.WithRetry is the only retry layer.
//
// Tool calls are asked for with OpenAI's function calling (StructuredTools)
// or, for servers and models whose tool calling is unreliable, as a JSON
// schema in response_format whose reply is read back into tool calls
// (StructuredJSONSchema, see structured.go, sent through the same request
// edits); callers see the same llm.Response either way.
package langchain

import (
	"net/http"
	"strings"

	"github.com/neomem/neomem/graph"
)

// Provider selects the API a Config talks to.
type Provider string

// The supported providers.
const (
	// OpenAI is api.openai.com (chat and embeddings); an API key is required.
	OpenAI Provider = "openai"
	// OpenAICompatible is any server speaking OpenAI's chat and embeddings
	// API (Ollama, vLLM, LM Studio): BaseURL is required, APIKey optional.
	OpenAICompatible Provider = "openai-compatible"
	// Anthropic is api.anthropic.com (chat only); an API key is required.
	Anthropic Provider = "anthropic"
)

// Default base URLs; BaseURL overrides them.
const (
	defaultOpenAIBaseURL    = "https://api.openai.com/v1"
	defaultAnthropicBaseURL = "https://api.anthropic.com/v1"
)

// Config says which provider and models to use. Values come from the
// server's configuration; this package never reads the environment.
type Config struct {
	Provider Provider
	// APIKey authenticates; optional for OpenAICompatible.
	APIKey string
	// BaseURL is the API root including the version path, e.g.
	// "http://localhost:11434/v1" for Ollama. Empty means the provider's
	// public endpoint; required for OpenAICompatible.
	BaseURL string
	// ChatModel names the chat model, e.g. "gpt-4o-mini".
	ChatModel string
	// EmbeddingModel names the embedding model, e.g. "text-embedding-3-small".
	EmbeddingModel string
	// Dimensions is the length of every embedding vector. For OpenAI it is
	// also sent as the request's "dimensions" (text-embedding-3 models
	// shorten their vectors to it); OpenAI-compatible servers do not all
	// accept that field, so for them it is only checked.
	Dimensions int
	// Structured says how chat calls ask for tool calls: StructuredTools
	// (empty means it) or StructuredJSONSchema, which Anthropic does not
	// have. Embedders ignore it.
	Structured Structured
	// HTTPClient is used for every call (nil: a client over
	// http.DefaultTransport). Its Transport is wrapped, not modified.
	HTTPClient *http.Client
}

// baseURL returns the configured or default API root, without a trailing
// slash.
func (c Config) baseURL() string {
	u := strings.TrimRight(c.BaseURL, "/")
	switch {
	case u != "":
		return u
	case c.Provider == Anthropic:
		return defaultAnthropicBaseURL
	default:
		return defaultOpenAIBaseURL
	}
}

// check validates what every constructor needs: a known provider, a key
// where one is required, a base URL for compatible servers.
func (c Config) check(op string) error {
	switch c.Provider {
	case OpenAI, Anthropic:
		if c.APIKey == "" {
			return graph.E(graph.Invalid, op, "%s needs an API key", c.Provider)
		}
	case OpenAICompatible:
		if c.BaseURL == "" {
			return graph.E(graph.Invalid, op, "%s needs a base URL (e.g. http://localhost:11434/v1)", c.Provider)
		}
	default:
		return graph.E(graph.Invalid, op, "unknown provider %q (want %q, %q or %q)", c.Provider, OpenAI, OpenAICompatible, Anthropic)
	}
	switch c.Structured {
	case "", StructuredTools:
	case StructuredJSONSchema:
		if c.Provider == Anthropic {
			return graph.E(graph.Invalid, op, "%s has no JSON schema response format; use structured output %q", c.Provider, StructuredTools)
		}
	default:
		return graph.E(graph.Invalid, op, "unknown structured output %q (want %q or %q)", c.Structured, StructuredTools, StructuredJSONSchema)
	}
	return nil
}

// httpClient returns a copy of the configured client whose transport records
// each call for error mapping.
func (c Config) httpClient() *http.Client {
	var hc http.Client
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &recorder{base: base}
	return &hc
}

// token returns the key to hand langchaingo, which refuses to build an
// OpenAI client without one. Keyless compatible servers get a placeholder
// that the recorder strips before the request leaves.
func (c Config) token() string {
	if c.APIKey == "" {
		return keylessToken
	}
	return c.APIKey
}

// keylessToken stands in for a missing API key; see Config.token.
const keylessToken = "neomem-no-api-key"
