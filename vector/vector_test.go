package vector_test

import (
	"errors"
	"testing"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

func TestCheckBatch(t *testing.T) {
	v := func(n int) []float32 { return make([]float32, n) }
	tests := []struct {
		name  string
		vs    [][]float32
		texts int
		dims  int
		ok    bool
	}{
		{"one per text", [][]float32{v(3), v(3)}, 2, 3, true},
		{"too few", [][]float32{v(3)}, 2, 3, false},
		{"wrong dimension", [][]float32{v(3), v(4)}, 2, 3, false},
		{"any dimension, all equal", [][]float32{v(5), v(5)}, 2, 0, true},
		{"any dimension, unequal", [][]float32{v(5), v(4)}, 2, 0, false},
		{"nothing asked", nil, 0, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vector.CheckBatch("embed", tt.vs, tt.texts, tt.dims)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, graph.Other)) {
				t.Fatalf("CheckBatch = %v, want ok %v", err, tt.ok)
			}
		})
	}
	if fe := vector.CheckDims("memories[0].embedding", make([]float32, 2), 3); fe == nil || fe.Path != "memories[0].embedding" {
		t.Fatalf("CheckDims = %+v", fe)
	}
	if fe := vector.CheckDims("v", make([]float32, 3), 3); fe != nil {
		t.Fatalf("CheckDims of a right vector = %+v", fe)
	}
}

func TestIndexConfigDefaults(t *testing.T) {
	c, err := vector.IndexConfig{}.WithDefaults()
	if err != nil || c.M != vector.DefaultHNSWM || c.EfConstruction != vector.DefaultHNSWEfConstruction || c.Quantization {
		t.Fatalf("defaults = %+v, %v", c, err)
	}
	for _, bad := range []vector.IndexConfig{{M: 513}, {M: -1}, {EfConstruction: 3201}, {EfConstruction: -5}} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPolicyAndFusion(t *testing.T) {
	p := vector.Policy{}.WithDefaults()
	if p.ExactMax != 0 || p.SearchExactMax != vector.DefaultSearchExactMax || p.ANNMax <= vector.ExactMaxBySize(1<<40) {
		t.Fatalf("policy defaults = %+v", p)
	}
	if p.Fetch(10) != 30 || p.TextFetch(10) != 120 || p.SearchLimit(10) != 1920 {
		t.Fatalf("fetch sizes for 10: %d %d %d", p.Fetch(10), p.TextFetch(10), p.SearchLimit(10))
	}
	// The breadth is capped by ANNMax (default 20,000): top 100 asks for
	// 19,200, a smaller cap wins.
	if got := p.SearchLimit(100); got != 19200 {
		t.Errorf("SearchLimit(100) = %d, want 19200", got)
	}
	if got := (vector.Policy{ANNMax: 1000}).SearchLimit(10); got != 1000 {
		t.Errorf("SearchLimit(10) with ANNMax 1000 = %d, want 1000", got)
	}
	if got := p.SearchKeep(10); got != 240 {
		t.Errorf("SearchKeep(10) = %d, want 240", got)
	}
	if got := (vector.Policy{ANNMax: 100}).SearchKeep(10); got != 100 {
		t.Errorf("SearchKeep(10) with ANNMax 100 = %d, want 100 (never above SearchLimit)", got)
	}
	f, err := vector.Fusion{}.WithDefaults()
	if err != nil || f != vector.DefaultFusion {
		t.Fatalf("fusion defaults = %+v, %v", f, err)
	}
	if f, _ := (vector.Fusion{TextWeight: 1}).WithDefaults(); f.VectorWeight != 0 || f.K != vector.DefaultFusion.K {
		t.Fatalf("text-only fusion = %+v", f)
	}
	if _, err := (vector.Fusion{VectorWeight: -1}).WithDefaults(); err == nil {
		t.Fatal("a negative weight is accepted")
	}
}

// TestExactMaxPerPath: each path has its measured switch — 5.26's grows
// with the index (a tenth of it, from 1,000 to 10,000), 2026's is one
// number; a switch set explicitly applies to both.
func TestExactMaxPerPath(t *testing.T) {
	p := vector.Policy{}.WithDefaults()
	for _, c := range []struct {
		size int64
		want int
	}{{0, 1000}, {5000, 1000}, {10000, 1000}, {30000, 3000}, {100000, 10000}, {1000000, 10000}, {1 << 40, 10000}} {
		if got := p.ExactMaxFor(false, c.size); got != c.want {
			t.Errorf("5.26, index of %d: %d, want %d", c.size, got, c.want)
		}
		if got := p.ExactMaxFor(true, c.size); got != vector.DefaultSearchExactMax {
			t.Errorf("2026, index of %d: %d, want %d", c.size, got, vector.DefaultSearchExactMax)
		}
	}
	p = vector.Policy{ExactMax: 700}.WithDefaults()
	if p.ExactMaxFor(false, 1000000) != 700 || p.ExactMaxFor(true, 1000000) != 700 {
		t.Errorf("ExactMax 700: %d (5.26), %d (2026)", p.ExactMaxFor(false, 1000000), p.ExactMaxFor(true, 1000000))
	}
	p = vector.Policy{ExactMax: 700, SearchExactMax: 50}.WithDefaults()
	if p.ExactMaxFor(false, 10) != 700 || p.ExactMaxFor(true, 10) != 50 {
		t.Errorf("both set: %d (5.26), %d (2026)", p.ExactMaxFor(false, 10), p.ExactMaxFor(true, 10))
	}
	// Without WithDefaults too (the benchmark asks a zero Policy).
	if got := (vector.Policy{}).ExactMaxFor(true, 0); got != vector.DefaultSearchExactMax {
		t.Errorf("zero policy, 2026: %d", got)
	}
}
