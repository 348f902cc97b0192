package llmtest

import (
	"context"
	"math"
	"testing"
)

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestHashEmbedder(t *testing.T) {
	h := NewHashEmbedder(64)
	vs, err := h.Embed(context.Background(), []string{"Alice likes cheese pizza", "alice likes cheese pizza!", "The rocket launched at dawn", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || len(vs[0]) != 64 || h.Dimensions() != 64 {
		t.Fatalf("Embed returned %d vectors of %d", len(vs), len(vs[0]))
	}
	if c := cosine(vs[0], vs[1]); c < 0.999 {
		t.Errorf("same words, cosine %.3f, want ~1", c)
	}
	if c := cosine(vs[0], vs[2]); c > 0.5 {
		t.Errorf("unrelated texts, cosine %.3f, want low", c)
	}
	for i, v := range vs {
		if n := cosine(v, v); math.Abs(n-1) > 1e-6 {
			t.Errorf("vector %d is degenerate (self-cosine %v)", i, n)
		}
	}
	again := h.Vector("Alice likes cheese pizza")
	for i := range again {
		if again[i] != vs[0][i] {
			t.Fatal("HashEmbedder is not deterministic")
		}
	}
}
