package gemini

import (
	"context"
	"fmt"

	"github.com/google/generative-ai-go/genai"

	"github.com/neomem/neomem/llm"
)

// maxBatch is the most texts Gemini embeds in one batchEmbedContents call.
const maxBatch = 100

// Embedder is the vector.Embedder of a Client's embedding model. Safe for
// concurrent use.
type Embedder struct {
	model *genai.EmbeddingModel
	name  string
	dims  int
}

// Embedder returns the embedder of the configured embedding model; Invalid
// when the Config named none.
func (c *Client) Embedder() (*Embedder, error) {
	if c.cfg.EmbeddingModel == "" {
		return nil, invalid("no embedding model configured", nil)
	}
	return &Embedder{model: c.sdk.EmbeddingModel(c.cfg.EmbeddingModel), name: c.cfg.EmbeddingModel, dims: c.cfg.Dimensions}, nil
}

// Name is "gemini/" and the embedding model.
func (e *Embedder) Name() string { return provider + "/" + e.name }

// Dimensions is the configured vector length.
func (e *Embedder) Dimensions() int { return e.dims }

// Embed returns one vector per text, in order, in batches of up to 100
// texts. Errors are *llm.ProviderError as for Client.Chat; a reply with the
// wrong number of vectors or a vector of the wrong length is Other.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += maxBatch {
		chunk := texts[start:min(start+maxBatch, len(texts))]
		b := e.model.NewBatch()
		for _, t := range chunk {
			b.AddContent(genai.Text(t))
		}
		res, err := e.model.BatchEmbedContents(ctx, b)
		if err != nil {
			return nil, providerError(err)
		}
		if len(res.Embeddings) != len(chunk) {
			return nil, llm.MalformedError(provider, fmt.Errorf("%d embeddings for %d texts", len(res.Embeddings), len(chunk)))
		}
		for i, emb := range res.Embeddings {
			if emb == nil || len(emb.Values) != e.dims {
				n := 0
				if emb != nil {
					n = len(emb.Values)
				}
				return nil, llm.MalformedError(provider, fmt.Errorf("embedding %d has %d dimensions, want %d", start+i, n, e.dims))
			}
			out = append(out, emb.Values)
		}
	}
	return out, nil
}
