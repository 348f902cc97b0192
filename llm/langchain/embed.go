package langchain

import (
	"context"
	"fmt"

	"github.com/tmc/langchaingo/llms/openai"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/vector"
)

// Embedder is an vector.Embedder over langchaingo's OpenAI client, for OpenAI
// and OpenAI-compatible servers. It is safe for concurrent use.
type Embedder struct {
	provider Provider
	model    string
	dims     int
	keyless  bool
	llm      *openai.LLM
}

var _ vector.Embedder = (*Embedder)(nil)

// NewEmbedder returns the embedder cfg describes. Errors are Invalid: an
// Anthropic provider (Anthropic has no embeddings API), a missing key, base
// URL, model name or dimension.
func NewEmbedder(cfg Config) (*Embedder, error) {
	const op = "langchain: new embedder"
	if cfg.Provider == Anthropic {
		return nil, graph.E(graph.Invalid, op, "anthropic has no embeddings API; use %q or %q for embeddings", OpenAI, OpenAICompatible)
	}
	if err := cfg.check(op); err != nil {
		return nil, err
	}
	if cfg.EmbeddingModel == "" {
		return nil, graph.E(graph.Invalid, op, "%s needs an embedding model name", cfg.Provider)
	}
	if cfg.Dimensions <= 0 {
		return nil, graph.E(graph.Invalid, op, "%s needs the embedding dimension", cfg.Provider)
	}
	opts := []openai.Option{
		openai.WithToken(cfg.token()),
		openai.WithModel(cfg.EmbeddingModel),
		openai.WithEmbeddingModel(cfg.EmbeddingModel),
		openai.WithBaseURL(cfg.baseURL()),
		openai.WithOrganization(""),
		openai.WithHTTPClient(cfg.httpClient()),
	}
	if cfg.Provider == OpenAI {
		opts = append(opts, openai.WithEmbeddingDimensions(cfg.Dimensions))
	}
	c, err := openai.New(opts...)
	if err != nil {
		return nil, graph.Wrap(graph.Invalid, op, err)
	}
	return &Embedder{provider: cfg.Provider, model: cfg.EmbeddingModel, dims: cfg.Dimensions, keyless: cfg.APIKey == "", llm: c}, nil
}

// Name returns "provider/model", e.g. "openai/text-embedding-3-small".
func (e *Embedder) Name() string { return string(e.provider) + "/" + e.model }

// Dimensions is the configured vector length.
func (e *Embedder) Dimensions() int { return e.dims }

// Embed returns one vector per text, in order, in one request. Errors are
// *llm.ProviderError as for ChatModel.Chat; a reply with another number of
// vectors or a vector of another length is a malformed reply (Other).
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	provider := string(e.provider)
	c := &call{provider: provider, keyless: e.keyless}
	vecs, err := e.llm.CreateEmbedding(withCall(ctx, c), texts)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	if len(vecs) != len(texts) {
		return nil, llm.MalformedError(provider, fmt.Errorf("%d vectors for %d texts", len(vecs), len(texts)))
	}
	for i, v := range vecs {
		if len(v) != e.dims {
			return nil, llm.MalformedError(provider, fmt.Errorf("vector %d has %d dimensions, want %d", i, len(v), e.dims))
		}
	}
	return vecs, nil
}
