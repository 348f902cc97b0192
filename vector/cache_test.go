package vector_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neomem/neomem/vector"
)

func TestCacheKeepsMostRecentlyUsed(t *testing.T) {
	c := vector.NewCache(2)
	v := []float32{1, 2}
	c.Put("a", v)
	v[0] = 9 // the cache keeps its own copy
	c.Put("b", []float32{3})
	if got, ok := c.Get("a"); !ok || got[0] != 1 {
		t.Fatalf("Get(a) = %v, %v; want [1 2]", got, ok)
	}
	c.Put("c", []float32{4}) // "b" is the least recently used now
	if _, ok := c.Get("b"); ok {
		t.Error("b kept past the bound")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s dropped", k)
		}
	}
	c.Put("c", []float32{5}) // replacing does not grow it
	if got, _ := c.Get("c"); c.Len() != 2 || got[0] != 5 {
		t.Errorf("after replacing c: len %d, c = %v", c.Len(), got)
	}
}

func TestCacheOffAndConcurrent(t *testing.T) {
	off := vector.NewCache(0)
	off.Put("a", []float32{1})
	if _, ok := off.Get("a"); ok || off.Len() != 0 {
		t.Fatal("a cache of size 0 kept a vector")
	}
	c := vector.NewCache(50)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprint((w*7 + i) % 80)
				if v, ok := c.Get(k); ok && len(v) != 1 {
					t.Errorf("Get(%s) = %v", k, v)
				}
				c.Put(k, []float32{float32(i)})
			}
		})
	}
	wg.Wait()
	if c.Len() != 50 {
		t.Errorf("len %d after concurrent use, want the bound 50", c.Len())
	}
}

// BenchmarkCacheHit is what a repeated query costs instead of the embedder
// (go test -bench CacheHit ./vector/; the local model takes about 6 ms a
// query, docs/benchmarks.md).
func BenchmarkCacheHit(b *testing.B) {
	c := vector.NewCache(vector.DefaultQueryCache)
	for i := range vector.DefaultQueryCache {
		c.Put(fmt.Sprintf("query number %d about something", i), make([]float32, 384))
	}
	q := "query number 500 about something"
	for b.Loop() {
		if _, ok := c.Get(q); !ok {
			b.Fatal("miss")
		}
	}
}
