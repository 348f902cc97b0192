package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/gemini"
	"github.com/neomem/neomem/llm/langchain"
	"github.com/neomem/neomem/vector"
	"github.com/neomem/neomem/vector/local"
)

// Defaults per provider; every one can be overridden by configuration.
const (
	ollamaBaseURL         = "http://localhost:11434/v1"
	defaultGeminiChat     = "gemini-2.5-flash"
	defaultGeminiEmbed    = "text-embedding-004"
	defaultGeminiDims     = 768
	defaultOpenAIChat     = "gpt-4.1-mini"
	defaultOpenAIEmbed    = "text-embedding-3-small"
	defaultOpenAIDims     = 1536
	defaultAnthropicChat  = "claude-sonnet-4-5"
	probeText             = "neomem start-up probe"
	providerNone          = "none"
	providerOllama        = "ollama"
	providerLocalEmbedder = "local"
)

// models are the chat model (nil when none is configured) and the embedder,
// both wrapped with the retry policy.
type models struct {
	chat llm.ChatModel
	// vision describes images; nil when no vision-capable model is set.
	vision   llm.ChatModel
	embedder vector.Embedder
	closers  []io.Closer
}

func (m *models) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// chatProvider resolves the chat provider: the configured one, else the first
// provider whose key is set, else none.
func chatProvider(cfg config) string {
	switch {
	case cfg.LLMProvider != "":
		return cfg.LLMProvider
	case cfg.GeminiAPIKey != "":
		return "gemini"
	case cfg.OpenAIAPIKey != "":
		return "openai"
	case cfg.AnthropicAPIKey != "":
		return "anthropic"
	}
	return providerNone
}

// embedderProvider resolves the embedder: the configured one, else Gemini or
// OpenAI when their key is set (Anthropic has no embeddings), else the local
// model, which needs neither a key nor a network.
func embedderProvider(cfg config) string {
	switch {
	case cfg.Embedder != "":
		return cfg.Embedder
	case cfg.GeminiAPIKey != "":
		return "gemini"
	case cfg.OpenAIAPIKey != "":
		return "openai"
	}
	return providerLocalEmbedder
}

// newModels builds the configured models. Errors name the setting to fix.
func newModels(ctx context.Context, cfg config) (*models, error) {
	m := &models{}
	policy := llm.RetryPolicy{Timeout: cfg.ModelTimeout, Attempts: cfg.ModelAttempts,
		BaseDelay: llm.DefaultRetryPolicy.BaseDelay, MaxDelay: llm.DefaultRetryPolicy.MaxDelay}
	chat, err := newChat(ctx, cfg, m)
	if err != nil {
		m.Close()
		return nil, err
	}
	if chat != nil {
		m.chat = llm.WithRetry(chat, policy)
	}
	vision, err := newVision(ctx, cfg, chat, m)
	if err != nil {
		m.Close()
		return nil, err
	}
	if vision != nil {
		m.vision = llm.WithRetry(vision, policy)
	}
	emb, err := newEmbedder(ctx, cfg, m)
	if err != nil {
		m.Close()
		return nil, err
	}
	m.embedder = llm.WithRetryEmbedder(emb, policy)
	return m, nil
}

func newChat(ctx context.Context, cfg config, m *models) (llm.ChatModel, error) {
	p := chatProvider(cfg)
	model := cfg.LLMModel
	structured := langchain.Structured(cfg.LLMStructured)
	if structured == langchain.StructuredJSONSchema && (p == "gemini" || p == "anthropic") {
		return nil, fmt.Errorf("NEOMEM_LLM_STRUCTURED=%s is for openai, ollama and openai-compatible; %s calls tools natively (use tools)", structured, p)
	}
	switch p {
	case providerNone:
		return nil, nil
	case "gemini":
		if cfg.GeminiAPIKey == "" {
			return nil, errors.New("NEOMEM_LLM_PROVIDER=gemini needs GEMINI_API_KEY")
		}
		c, err := gemini.New(ctx, gemini.Config{APIKey: cfg.GeminiAPIKey, ChatModel: orDefault(model, defaultGeminiChat), Endpoint: cfg.LLMBaseURL})
		if err != nil {
			return nil, fmt.Errorf("gemini chat model: %w", err)
		}
		m.closers = append(m.closers, c)
		return c, nil
	case "openai":
		if cfg.OpenAIAPIKey == "" {
			return nil, errors.New("NEOMEM_LLM_PROVIDER=openai needs OPENAI_API_KEY")
		}
		return chatModel(langchain.Config{Provider: langchain.OpenAI, APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.LLMBaseURL, ChatModel: orDefault(model, defaultOpenAIChat),
			Structured: structured})
	case "anthropic":
		if cfg.AnthropicAPIKey == "" {
			return nil, errors.New("NEOMEM_LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY")
		}
		return chatModel(langchain.Config{Provider: langchain.Anthropic, APIKey: cfg.AnthropicAPIKey, BaseURL: cfg.LLMBaseURL, ChatModel: orDefault(model, defaultAnthropicChat)})
	case providerOllama, "openai-compatible":
		base := cfg.LLMBaseURL
		if base == "" && p == providerOllama {
			base = ollamaBaseURL
		}
		if base == "" || model == "" {
			return nil, fmt.Errorf("NEOMEM_LLM_PROVIDER=%s needs NEOMEM_LLM_MODEL and NEOMEM_LLM_BASE_URL", p)
		}
		return chatModel(langchain.Config{Provider: langchain.OpenAICompatible, APIKey: cfg.LLMAPIKey, BaseURL: base, ChatModel: model,
			Structured: structured})
	}
	return nil, fmt.Errorf("NEOMEM_LLM_PROVIDER=%q is not a provider", p)
}

// newVision returns the model that describes images: NEOMEM_VISION_MODEL of
// the chat provider, else the chat model itself where the provider's models
// see images (Gemini, OpenAI, Anthropic), else none.
func newVision(ctx context.Context, cfg config, chat llm.ChatModel, m *models) (llm.ChatModel, error) {
	if chat == nil {
		if cfg.VisionModel != "" {
			return nil, errors.New("NEOMEM_VISION_MODEL needs a chat provider (NEOMEM_LLM_PROVIDER or a provider key)")
		}
		return nil, nil
	}
	p := chatProvider(cfg)
	if cfg.VisionModel == "" {
		switch p {
		case "gemini", "openai", "anthropic":
			return chat, nil
		}
		return nil, nil
	}
	vcfg := cfg
	vcfg.LLMModel = cfg.VisionModel
	return newChat(ctx, vcfg, m)
}

func chatModel(c langchain.Config) (llm.ChatModel, error) {
	m, err := langchain.NewChatModel(c)
	if err != nil {
		return nil, fmt.Errorf("%s chat model: %w", c.Provider, err)
	}
	return m, nil
}

func newEmbedder(ctx context.Context, cfg config, m *models) (vector.Embedder, error) {
	p := embedderProvider(cfg)
	dims := cfg.EmbeddingDims
	switch p {
	case providerLocalEmbedder:
		if dims != 0 && dims != local.Dimensions {
			return nil, fmt.Errorf("NEOMEM_EMBEDDING_DIMS=%d, but the local embedder (all-MiniLM-L6-v2) has %d dimensions", dims, local.Dimensions)
		}
		e, err := local.New(local.Config{ModelDir: cfg.LocalModelDir, LibraryPath: cfg.ONNXRuntimeLib})
		if err != nil {
			return nil, fmt.Errorf("%w; or set NEOMEM_LOCAL_MODEL_DIR and NEOMEM_ONNXRUNTIME_LIB, or choose another NEOMEM_EMBEDDER", err)
		}
		m.closers = append(m.closers, e)
		return e, nil
	case "gemini":
		if cfg.GeminiAPIKey == "" {
			return nil, errors.New("NEOMEM_EMBEDDER=gemini needs GEMINI_API_KEY")
		}
		c, err := gemini.New(ctx, gemini.Config{APIKey: cfg.GeminiAPIKey, EmbeddingModel: orDefault(cfg.EmbeddingModel, defaultGeminiEmbed),
			Dimensions: orDefaultInt(dims, defaultGeminiDims), Endpoint: cfg.EmbeddingBaseURL})
		if err != nil {
			return nil, fmt.Errorf("gemini embedder: %w", err)
		}
		m.closers = append(m.closers, c)
		e, err := c.Embedder()
		if err != nil {
			return nil, fmt.Errorf("gemini embedder: %w", err)
		}
		return e, nil
	case "openai":
		if cfg.OpenAIAPIKey == "" {
			return nil, errors.New("NEOMEM_EMBEDDER=openai needs OPENAI_API_KEY")
		}
		return embedder(langchain.Config{Provider: langchain.OpenAI, APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.EmbeddingBaseURL,
			EmbeddingModel: orDefault(cfg.EmbeddingModel, defaultOpenAIEmbed), Dimensions: orDefaultInt(dims, defaultOpenAIDims)})
	case providerOllama, "openai-compatible":
		base := orDefault(cfg.EmbeddingBaseURL, cfg.LLMBaseURL)
		if base == "" && p == providerOllama {
			base = ollamaBaseURL
		}
		if base == "" || cfg.EmbeddingModel == "" || dims == 0 {
			return nil, fmt.Errorf("NEOMEM_EMBEDDER=%s needs NEOMEM_EMBEDDING_MODEL, NEOMEM_EMBEDDING_DIMS and NEOMEM_EMBEDDING_BASE_URL (or NEOMEM_LLM_BASE_URL)", p)
		}
		return embedder(langchain.Config{Provider: langchain.OpenAICompatible, APIKey: cfg.LLMAPIKey, BaseURL: base,
			EmbeddingModel: cfg.EmbeddingModel, Dimensions: dims})
	}
	return nil, fmt.Errorf("NEOMEM_EMBEDDER=%q is not an embedder", p)
}

func embedder(c langchain.Config) (vector.Embedder, error) {
	e, err := langchain.NewEmbedder(c)
	if err != nil {
		return nil, fmt.Errorf("%s embedder: %w", c.Provider, err)
	}
	return e, nil
}

// probe embeds one text at start-up: a wrong dimension (a misconfigured
// NEOMEM_EMBEDDING_DIMS) stops start-up; a provider that is only unreachable
// now is logged, and requests will retry it.
func (m *models) probe(ctx context.Context, log *slog.Logger) error {
	vs, err := m.embedder.Embed(ctx, []string{probeText})
	switch {
	case errors.Is(err, graph.Unavailable):
		log.Warn("embedder not reachable at start-up; requests will retry it", "embedder", m.embedder.Name(), "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("embedder %s: %w", m.embedder.Name(), err)
	case len(vs) != 1:
		return fmt.Errorf("embedder %s returned %d vectors for one text", m.embedder.Name(), len(vs))
	case len(vs[0]) != m.embedder.Dimensions():
		return fmt.Errorf("embedder %s returned a vector of %d dimensions, configured %d (NEOMEM_EMBEDDING_DIMS)", m.embedder.Name(), len(vs[0]), m.embedder.Dimensions())
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDefaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
