// Package llm declares the seams between neomem and models: an Embedder
// (texts in, vectors out) and, with the models issue, a chat model that calls
// tools. Everything else depends on these interfaces, never on a provider SDK.
package llm

import "context"

// Embedder turns texts into vectors of a fixed dimension.
type Embedder interface {
	// Embed returns one vector per text, in order, each of length
	// Dimensions(). Errors: graph.Invalid for unusable input,
	// graph.Unavailable when the model cannot serve now. Safe for concurrent
	// use.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dimensions is the length of every vector Embed returns.
	Dimensions() int
}
