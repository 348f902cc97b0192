// Package llmtest holds deterministic, hand-written fakes of the llm seams for
// tests and benchmarks.
package llmtest

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// HashEmbedder is a deterministic Embedder for tests: feature hashing of
// lower-cased words and character trigrams into Dims buckets, L2-normalised.
// Texts that share words get similar vectors, identical texts identical ones,
// so similarity search behaves plausibly without a model. Not for production.
type HashEmbedder struct {
	Dims int
}

// NewHashEmbedder returns a HashEmbedder of the given dimension.
func NewHashEmbedder(dims int) *HashEmbedder { return &HashEmbedder{Dims: dims} }

// Name identifies the fake.
func (h *HashEmbedder) Name() string { return "llmtest/hash" }

// Dimensions returns Dims.
func (h *HashEmbedder) Dimensions() int { return h.Dims }

// Embed returns one vector per text. It never fails. Safe for concurrent use.
func (h *HashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.Vector(t)
	}
	return out, nil
}

// Vector embeds one text.
func (h *HashEmbedder) Vector(text string) []float32 {
	v := make([]float32, h.Dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		h.add(v, "w:"+w, 2)
		padded := []rune(" " + w + " ")
		for i := 0; i+3 <= len(padded); i++ {
			h.add(v, "t:"+string(padded[i:i+3]), 1)
		}
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		// An empty text still needs a valid (non-zero) vector for cosine.
		v[0] = 1
		return v
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range v {
		v[i] *= inv
	}
	return v
}

func (h *HashEmbedder) add(v []float32, feature string, weight float32) {
	f := fnv.New64a()
	f.Write([]byte(feature))
	sum := f.Sum64()
	idx := int(sum % uint64(len(v)))
	if sum>>63 == 1 {
		weight = -weight
	}
	v[idx] += weight
}
