// Package vector owns what is about vectors and not Cypher text: the
// Embedder seam (the in-process all-MiniLM-L6-v2 model is vector/local; the
// provider adapters are in llm/), the checks of an embedder's answer, the
// settings the HNSW vector indexes are built with, the policy that picks an
// exact scan, the vector index or Neo4j 2026's filtered SEARCH with its
// over-fetch arithmetic, and the fusion settings of a search. cypher keeps
// every Cypher text and reads its numbers from here.
package vector

import (
	"context"
	"fmt"

	"github.com/neomem/neomem/graph"
)

// Embedder turns texts into vectors of a fixed dimension.
type Embedder interface {
	// Embed returns one vector per text, in order, each of length
	// Dimensions(). Errors: Unavailable (the provider, retryable), Invalid
	// (what the provider rejects), Other. Safe for concurrent use.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dimensions is the length of every vector Embed returns.
	Dimensions() int
	// Name identifies the provider and model.
	Name() string
}

// CheckBatch verifies an embedder's answer to texts: one vector per text,
// each of dims values (dims 0: any length, all equal). Errors: Other (the
// embedder broke its contract).
func CheckBatch(op string, vs [][]float32, texts, dims int) error {
	if len(vs) != texts {
		return graph.E(graph.Other, op, "embedder returned %d vectors for %d texts", len(vs), texts)
	}
	if dims == 0 && len(vs) > 0 {
		dims = len(vs[0])
	}
	for _, v := range vs {
		if len(v) != dims {
			return graph.E(graph.Other, op, "embedder returned a vector of %d dimensions, want %d", len(v), dims)
		}
	}
	return nil
}

// CheckDims returns the field error of a vector at path that does not have
// the store's dims values, or nil.
func CheckDims(path string, v []float32, dims int) *graph.FieldError {
	if len(v) == dims {
		return nil
	}
	return &graph.FieldError{Path: path, Message: fmt.Sprintf("has %d dimensions, the store is configured for %d", len(v), dims)}
}
