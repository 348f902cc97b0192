package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The model and runtime come from fetch.sh; the reference Python from
// reference/setup.sh. `make test` sets these variables; CI also sets
// NEOMEM_MODELS_REQUIRED=1 so that a missing model fails instead of skipping.
func modelConfig(t testing.TB) Config {
	t.Helper()
	cfg := Config{ModelDir: os.Getenv("NEOMEM_LOCAL_MODEL_DIR"), LibraryPath: os.Getenv("NEOMEM_ONNXRUNTIME_LIB")}
	if cfg.ModelDir == "" || cfg.LibraryPath == "" {
		out, err := exec.Command("bash", "fetch.sh", "env").Output()
		if err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "export NEOMEM_LOCAL_MODEL_DIR="); ok && cfg.ModelDir == "" {
					cfg.ModelDir = v
				}
				if v, ok := strings.CutPrefix(line, "export NEOMEM_ONNXRUNTIME_LIB="); ok && cfg.LibraryPath == "" {
					cfg.LibraryPath = v
				}
			}
		}
	}
	for _, p := range []string{filepath.Join(cfg.ModelDir, "model.onnx"), cfg.LibraryPath} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("NEOMEM_MODELS_REQUIRED") == "1" {
				t.Fatalf("NEOMEM_MODELS_REQUIRED=1 but %s is missing (run bash vector/local/fetch.sh)", p)
			}
			t.Skipf("%s is missing: run `bash vector/local/fetch.sh` (make test does)", p)
		}
	}
	return cfg
}

var (
	shared     *Embedder
	sharedErr  error
	sharedOnce sync.Once
)

func embedder(t testing.TB) *Embedder {
	cfg := modelConfig(t)
	sharedOnce.Do(func() { shared, sharedErr = New(cfg) })
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return shared
}

func sentences(t testing.TB) []string {
	f, err := os.Open("testdata/sentences.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

func cosine(a []float32, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * b[i]
		na += float64(a[i]) * float64(a[i])
		nb += b[i] * b[i]
	}
	return dot / math.Sqrt(na*nb)
}

// TestMatchesReference compares token ids and vectors with Python's
// tokenizers + onnxruntime (reference/reference.py) on every sentence of
// testdata/sentences.txt: ids equal, mean cosine ≥ 0.99, minimum ≥ 0.98.
func TestMatchesReference(t *testing.T) {
	e := embedder(t)
	py := os.Getenv("NEOMEM_REFERENCE_PYTHON")
	if py == "" {
		if os.Getenv("NEOMEM_MODELS_REQUIRED") == "1" {
			t.Fatal("NEOMEM_MODELS_REQUIRED=1 but NEOMEM_REFERENCE_PYTHON is not set (bash vector/local/reference/setup.sh prints it)")
		}
		t.Skip("NEOMEM_REFERENCE_PYTHON is not set: `bash vector/local/reference/setup.sh` creates it (make test does)")
	}
	ss := sentences(t)
	if len(ss) < 50 {
		t.Fatalf("only %d sentences", len(ss))
	}
	cmd := exec.Command(py, "reference/reference.py", modelConfig(t).ModelDir)
	cmd.Stdin = strings.NewReader(strings.Join(ss, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference: %v\n%s", err, stderr.String())
	}
	var ref struct {
		IDs     [][]int64   `json:"ids"`
		Vectors [][]float64 `json:"vectors"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Vectors) != len(ss) {
		t.Fatalf("reference returned %d vectors for %d sentences", len(ref.Vectors), len(ss))
	}
	for i, s := range ss {
		if got := e.tok.Encode(s); !slices.Equal(got, ref.IDs[i]) {
			t.Errorf("Encode(%q) = %v, reference %v", s, got, ref.IDs[i])
		}
	}
	vecs, err := e.Embed(context.Background(), ss)
	if err != nil {
		t.Fatal(err)
	}
	sum, minCos := 0.0, 1.0
	for i := range ss {
		c := cosine(vecs[i], ref.Vectors[i])
		sum += c
		if c < minCos {
			minCos = c
		}
		if c < 0.98 {
			t.Errorf("sentence %d %q: cosine %.5f with the reference", i, ss[i], c)
		}
	}
	mean := sum / float64(len(ss))
	t.Logf("%d sentences: mean cosine %.6f, minimum %.6f", len(ss), mean, minCos)
	if mean < 0.99 || minCos < 0.98 {
		t.Fatalf("mean cosine %.5f (want ≥ 0.99), minimum %.5f (want ≥ 0.98)", mean, minCos)
	}
}

// TestBatchingDoesNotChangeVectors: a text's vector is the same alone and in
// a padded batch with longer texts.
func TestBatchingDoesNotChangeVectors(t *testing.T) {
	e := embedder(t)
	ss := sentences(t)
	all, err := e.Embed(context.Background(), ss)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 3, 20, len(ss) - 1} {
		one, err := e.Embed(context.Background(), []string{ss[i]})
		if err != nil {
			t.Fatal(err)
		}
		ref := make([]float64, len(one[0]))
		for k, x := range one[0] {
			ref[k] = float64(x)
		}
		if c := cosine(all[i], ref); c < 0.99999 {
			t.Errorf("sentence %d alone vs in a batch: cosine %.6f", i, c)
		}
	}
	if e.Dimensions() != 384 || len(all[0]) != 384 {
		t.Fatalf("dimensions %d, vector %d", e.Dimensions(), len(all[0]))
	}
}

func TestSimilarTextsAreClose(t *testing.T) {
	e := embedder(t)
	v, err := e.Embed(context.Background(), []string{"Alice likes cheese pizza.", "Alice enjoys pizza with cheese.", "The rocket launched at dawn."})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(x []float32) []float64 {
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	}
	near, far := cosine(v[0], ref(v[1])), cosine(v[0], ref(v[2]))
	if near < 0.7 || far > 0.3 || near <= far {
		t.Fatalf("paraphrase cosine %.3f, unrelated %.3f", near, far)
	}
}

func TestMissingModelSaysHowToFetch(t *testing.T) {
	_, err := New(Config{ModelDir: t.TempDir(), LibraryPath: "/nonexistent/libonnxruntime.so"})
	if err == nil || !strings.Contains(err.Error(), "fetch.sh") {
		t.Fatalf("New with no model = %v", err)
	}
}

// BenchmarkEmbedBatch32 measures throughput for batches of 32 sentences;
// it reports sentences/s.
func BenchmarkEmbedBatch32(b *testing.B) {
	e := embedder(b)
	ss := sentences(b)[:32]
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Embed(ctx, ss); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "sentences/s")
}

// BenchmarkLoad measures loading the tokenizer and creating the session.
func BenchmarkLoad(b *testing.B) {
	cfg := modelConfig(b)
	for b.Loop() {
		e, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}

func TestDefaultPathsMatchFetchScript(t *testing.T) {
	out, err := exec.Command("bash", "-c", "NEOMEM_CACHE=/c bash fetch.sh env").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir, lib := DefaultPaths("/c")
	want := "export NEOMEM_LOCAL_MODEL_DIR=" + dir + "\nexport NEOMEM_ONNXRUNTIME_LIB=" + lib + "\n"
	if string(out) != want {
		t.Fatalf("fetch.sh env = %q, DefaultPaths = %q", out, want)
	}
}
