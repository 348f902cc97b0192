// Package gemini adapts Google's Gemini API to the llm seams: Client is an
// llm.ChatModel (tools, tool choice, images, usage) and Client.Embedder an
// vector.Embedder over batch embeddings. Provider failures come back as
// *llm.ProviderError; nothing here retries (wrap with llm.WithRetry).
//
// It is the only package that imports github.com/google/generative-ai-go and
// google.golang.org/api. That SDK is deprecated upstream in favour of
// google.golang.org/genai; when moving to the new SDK, this package is the one
// place to change.
//
// The SDK speaks REST (JSON over HTTP, enums as numbers) to the endpoint, so
// tests point Config.Endpoint at an httptest.Server.
package gemini

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/google/generative-ai-go/genai"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
)

// provider names this adapter in errors and model names.
const provider = "gemini"

// Config configures a Client. Model names come from configuration; this
// package has no defaults.
type Config struct {
	// APIKey authenticates every call; required.
	APIKey string
	// ChatModel is the chat model, e.g. "gemini-2.5-flash"; empty when the
	// client only embeds.
	ChatModel string
	// EmbeddingModel is the embedding model, e.g. "text-embedding-004"; empty
	// when the client only chats.
	EmbeddingModel string
	// Dimensions is the length of the embedding model's vectors; required
	// with EmbeddingModel. The SDK cannot ask for a reduced output
	// dimensionality, so it must be the model's native length.
	Dimensions int
	// Endpoint overrides the API's base URL (scheme and host, e.g. an
	// httptest.Server's URL); empty for Google's.
	Endpoint string
	// HTTPClient is the client to send requests with; nil for a default one.
	// Its Transport is wrapped, never modified.
	HTTPClient *http.Client
}

func (c Config) validate() error {
	var fields []graph.FieldError
	if c.APIKey == "" {
		fields = append(fields, graph.FieldError{Path: "APIKey", Message: "required"})
	}
	if c.ChatModel == "" && c.EmbeddingModel == "" {
		fields = append(fields, graph.FieldError{Path: "ChatModel", Message: "a chat or an embedding model is required"})
	}
	if c.EmbeddingModel != "" && c.Dimensions <= 0 {
		fields = append(fields, graph.FieldError{Path: "Dimensions", Message: "must be positive with an embedding model"})
	}
	if len(fields) > 0 {
		return graph.InvalidFields("gemini config", fields...)
	}
	return nil
}

// Client talks to Gemini. It implements llm.ChatModel; Embedder returns its
// vector.Embedder. Safe for concurrent use.
type Client struct {
	sdk *genai.Client
	cfg Config
}

// New returns a Client for cfg. It makes no network call. A Config that
// lacks the key or a model is Invalid.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &transport{base: base, apiKey: cfg.APIKey}
	// With WithHTTPClient the REST clients use hc as it is, so the key goes
	// in a header set by transport (never in the URL, which errors quote).
	// WithAPIKey is still needed: the SDK insists on an auth option, and its
	// (unused) gRPC cache client is built without the HTTP client.
	opts := []option.ClientOption{option.WithAPIKey(cfg.APIKey), option.WithHTTPClient(hc)}
	if cfg.Endpoint != "" {
		// A URL with a scheme is used verbatim as the REST base URL.
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	sdk, err := genai.NewClient(ctx, opts...)
	if err != nil {
		return nil, graph.Wrap(graph.Invalid, "gemini client", err)
	}
	return &Client{sdk: sdk, cfg: cfg}, nil
}

// Close releases the SDK's connections.
func (c *Client) Close() error { return c.sdk.Close() }

// Name is "gemini/" and the chat model.
func (c *Client) Name() string { return provider + "/" + c.cfg.ChatModel }

// transport authenticates requests and keeps the SDK from retrying: the
// SDK's default call options for unary calls (batchEmbedContents among them)
// retry 503 responses with second-long backoff until the context ends, which
// would hide them from llm.WithRetry. A 503 therefore comes back as a
// transport-level error the SDK does not recognise as retryable.
type transport struct {
	base   http.RoundTripper
	apiKey string
}

// RoundTrip sends req with the API key header.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("x-goog-api-key", t.apiKey)
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		return resp, err
	}
	defer resp.Body.Close()
	var gerr *googleapi.Error
	if !errors.As(googleapi.CheckResponse(resp), &gerr) {
		gerr = &googleapi.Error{Code: resp.StatusCode, Header: resp.Header}
	}
	return nil, &unavailableError{gerr}
}

// unavailableError carries a 503 past the SDK's retry logic. It deliberately
// does not unwrap to the *googleapi.Error, which is what the SDK's retryer
// looks for.
type unavailableError struct {
	apiErr *googleapi.Error
}

func (e *unavailableError) Error() string { return e.apiErr.Error() }

// providerError maps an SDK error to an *llm.ProviderError: HTTP statuses by
// llm.StatusError, no response by llm.TransportError, safety blocks as
// Invalid, anything else (an unparsable reply) by llm.MalformedError.
func providerError(err error) error {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return llm.StatusError(provider, ue.apiErr.Code, ue.apiErr.Header.Get("Retry-After"), ue.apiErr)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return llm.StatusError(provider, ge.Code, ge.Header.Get("Retry-After"), err)
	}
	var be *genai.BlockedError
	if errors.As(err, &be) {
		return &llm.ProviderError{Provider: provider, Kind: graph.Invalid, Msg: "blocked by safety filters", Err: err}
	}
	var (
		urlErr *url.Error
		netErr net.Error
	)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &urlErr) || errors.As(err, &netErr) {
		return llm.TransportError(provider, err)
	}
	return llm.MalformedError(provider, err)
}

// invalid is the error for a request this adapter cannot express to Gemini.
func invalid(msg string, err error) *llm.ProviderError {
	return &llm.ProviderError{Provider: provider, Kind: graph.Invalid, Msg: msg, Err: err}
}
